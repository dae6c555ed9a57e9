"""What a snapshot of the QEMU driver keeps outside QEMU: its metadata file
(qemuDomainSnapshotWriteMetadata, read back by qemuDomainSnapshotLoad) and
the internal snapshots of a shut-off domain's qcow2 images, made, applied
and deleted with ``qemu-img snapshot -c|-a|-d NAME FILE`` on each disk, as
qemuDomainSnapshotForEachQcow2 does."""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
from typing import Optional

from ... import errors
from ...conf.domain import DomainDef
from ...conf.snapshot import (PARSE_INTERNAL, PARSE_REDEFINE, SnapshotDef, format_snapshot,
                              parse_snapshot_xml)
from ...errors import ErrorDomain, ErrorNumber
from ..snapshots import SnapshotList
from .paths import RootLayout, remove_durably, write_atomic

Q = ErrorDomain.VIR_FROM_QEMU
log = logging.getLogger(__name__)

# virXMLSaveFile's warning, for "snapshot-edit"
_HEADER = ("<!--\nWARNING: THIS IS AN AUTO-GENERATED FILE. CHANGES TO IT ARE LIKELY TO BE\n"
           "OVERWRITTEN AND LOST. Changes to this xml configuration should be made using:\n"
           "  virsh snapshot-edit\nor other application using the libvirt API.\n-->\n\n")


# -- metadata files
def write(layout: RootLayout, dom_name: str, uuid: str, snaps: SnapshotList,
          snap: SnapshotDef) -> None:
    """Write `snap`'s file, <active> saying whether it is the current one."""
    path = layout.snapshot_file(dom_name, snap.name)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, _HEADER + format_snapshot(snap, uuid, internal=True,
                                                 current=snaps.current == snap.name))


def remove(layout: RootLayout, dom_name: str, name: str) -> None:
    remove_durably(layout.snapshot_file(dom_name, name))


def remove_all(layout: RootLayout, dom_name: str) -> None:
    """A domain's snapshot folder, gone with the domain (qemuDomainRemoveInactive)."""
    shutil.rmtree(layout.snapshot_dir(dom_name), ignore_errors=True)


def load(layout: RootLayout, dom_name: str, arch: str) -> SnapshotList:
    """A domain's snapshots from its folder; a file that cannot be read or
    parsed is skipped, as libvirt does."""
    snaps = SnapshotList()
    folder = layout.snapshot_dir(dom_name)
    current: Optional[str] = None
    for path in sorted(folder.glob("*.xml")) if folder.is_dir() else []:
        try:
            snap, is_current = parse_snapshot_xml(path.read_text(),
                                                  PARSE_REDEFINE | PARSE_INTERNAL, arch)
        except (OSError, errors.VirtError) as exc:
            log.warning("Failed to parse snapshot XML from file '%s': %s", path, exc)
            continue
        if snap.name in snaps:
            continue
        snaps.defs[snap.name] = snap
        if is_current and current is None:
            current = snap.name
    # virDomainSnapshotUpdateRelations: a parent that is not there makes a root
    for snap in snaps:
        if snap.parent is not None and snap.parent not in snaps:
            snap.parent = None
    snaps.current = current
    return snaps


# -- qemu-img on a shut-off domain's disks
def _disks(d: DomainDef) -> list[tuple[str, str, str, str]]:
    """(target, device, format, source path) of each disk, in order."""
    out = []
    for dev in d.devices:
        if dev.tag != "disk":
            continue
        target, driver, source = dev.find("target"), dev.find("driver"), dev.find("source")
        path = ""
        if source is not None:
            path = source.get("file") or source.get("dev") or ""
        out.append((target.get("dev", "") if target is not None else "",
                    dev.get("device", "disk"),
                    driver.get("type", "") if driver is not None else "", path))
    return out


def _run(argv: list[str]) -> None:
    done = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if done.returncode != 0:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                            f"Child process ({' '.join(argv)}) unexpected exit status "
                            f"{done.returncode}: {(done.stderr or done.stdout).strip()}")


def qemu_img() -> str:
    path = shutil.which("qemu-img")
    if path is None:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q, "unable to find qemu-img")
    return path


def for_each_qcow2(d: DomainDef, snap: SnapshotDef, op: str, try_all: bool) -> bool:
    """Run ``qemu-img snapshot OP NAME`` on each disk the snapshot holds
    internally (qemuDomainSnapshotForEachQcow2).  With `try_all` a disk that
    fails is skipped (False is returned); else the error is raised, and a
    creation (-c) already made on the disks before is deleted again."""
    binary = qemu_img()
    modes = {disk.name: disk.snapshot for disk in snap.disks}
    done: list[str] = []
    skipped = False
    for target, device, fmt, path in _disks(d):
        if device != "disk" or modes.get(target) != "internal":
            continue
        try:
            if fmt and fmt != "qcow2":
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    f"Disk device '{target}' does not support snapshotting")
            _run([binary, "snapshot", op, snap.name, path])
        except errors.VirtError:
            if try_all:
                log.warning("skipping snapshot action on %s", target)
                skipped = True
                continue
            if op == "-c":
                for made in done:
                    with contextlib.suppress(errors.VirtError):
                        _run([binary, "snapshot", "-d", snap.name, made])
            raise
        done.append(path)
    return not skipped


def same_sources(snap_def: DomainDef, live: DomainDef, names: list[str]) -> Optional[str]:
    """The first of the disks `names` whose image in `live` differs from the
    one the snapshot was taken of (qemuSnapshotDeleteValidate), or None."""
    taken = {t: p for t, _, _, p in _disks(snap_def)}
    now = {t: p for t, _, _, p in _disks(live)}
    for name in names:
        if taken.get(name) != now.get(name):
            return name
    return None

