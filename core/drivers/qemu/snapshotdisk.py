"""What a snapshot of the QEMU driver keeps outside QEMU: its metadata file
(qemuDomainSnapshotWriteMetadata, read back by qemuDomainSnapshotLoad) and
the internal snapshots of a shut-off domain's qcow2 images, made, applied
and deleted with ``qemu-img snapshot -c|-a|-d NAME FILE`` on each disk, as
qemuDomainSnapshotForEachQcow2 does."""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
from typing import Optional

from ... import errors
from ...conf.domain import DomainDef
from lxml import etree

from ...conf.snapshot import (PARSE_INTERNAL, PARSE_REDEFINE, SnapshotDef, SnapshotDisk,
                              format_snapshot, parse_snapshot_xml)
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



# -- external snapshots of a shut-off domain
def check_external_target(disk: SnapshotDisk, dev: Optional[etree._Element], reuse: bool) -> None:
    """qemuSnapshotPrepareDiskExternal for a shut-off domain: the disk and
    the new image are local, and the image is new (or, `reuse`, there)."""
    kind = dev.get("type", "file") if dev is not None else "file"
    if kind == "network":
        source = dev.find("source") if dev is not None else None
        proto = source.get("protocol", "") if source is not None else ""
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                            f"external inactive snapshots are not supported on 'network' "
                            f"disks using '{proto}' protocol")
    for what in (kind, disk.kind):
        if what not in ("file", "block"):
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"external inactive snapshots are not supported on "
                                f"'{what}' disks")
    assert disk.path is not None
    try:
        st = os.stat(disk.path)
    except FileNotFoundError:
        if reuse:
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                f"missing existing file for disk {disk.name}: {disk.path}: "
                                f"No such file or directory") from None
        if disk.kind == "block":
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"block device snapshot target '{disk.path}' doesn't exist"
                                ) from None
        return
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                            f"unable to stat for disk {disk.name}: {disk.path}: "
                            f"{os.strerror(exc.errno or 0)}") from None
    if (disk.kind == "block") != stat.S_ISBLK(st.st_mode) or (
            disk.kind == "file" and not stat.S_ISREG(st.st_mode)):
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                            f"mismatch between configured type for snapshot disk "
                            f"'{disk.name}' and the type of existing file '{disk.path}'")
    if not reuse and disk.kind == "file" and st.st_size > 0:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                            f"external snapshot file for disk {disk.name} already exists and "
                            f"is not a block device: {disk.path}")


def _disk_elem(d: DomainDef, target: str) -> etree._Element:
    return next(dev for dev in d.devices if dev.tag == "disk" and dev.find("target") is not None
                and dev.find("target").get("dev") == target)  # type: ignore[union-attr]


def make_overlay(d: DomainDef, disk: SnapshotDisk) -> bool:
    """``qemu-img create`` the new image of `disk` over the disk's current
    one; True if the file was not there before (ours to remove on failure)."""
    assert disk.path is not None
    _, _, fmt, backing = next(x for x in _disks(d) if x[0] == disk.name)
    fresh = not os.path.exists(disk.path)
    esc = lambda p: p.replace(",", ",,")   # noqa: E731  qemu's option escaping
    _run([qemu_img(), "create", "-f", disk.fmt or "qcow2", "-o",
          f"backing_fmt={fmt or 'raw'},backing_file={esc(backing)}", esc(disk.path)])
    return fresh


def use_overlay(d: DomainDef, disk: SnapshotDisk) -> None:
    """The definition's disk on its new image (lock held)."""
    dev = _disk_elem(d, disk.name)
    driver, source = dev.find("driver"), dev.find("source")
    if driver is None:
        driver = etree.Element("driver", name="qemu")
        dev.insert(0, driver)
    driver.set("type", disk.fmt or "qcow2")
    if source is None:
        source = etree.Element("source")
        dev.insert(list(dev).index(driver) + 1, source)
    for attr in ("file", "dev"):
        source.attrib.pop(attr, None)
    source.set("dev" if disk.kind == "block" else "file", disk.path or "")
    if disk.kind != dev.get("type", "file"):
        dev.set("type", disk.kind)


def unlink_all(paths: list[str]) -> None:
    for path in paths:
        with contextlib.suppress(OSError):
            os.unlink(path)
