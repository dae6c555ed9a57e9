"""Domain snapshot and checkpoint XML (<domainsnapshot>, <domaincheckpoint>):
the parts a caller gives, and the documents the drivers write back, the
domain's definition embedded.  SnapshotDef is a snapshot as every driver
keeps it, read (a caller's, a redefinition, a driver's own metadata file)
and written as libvirt 9.0's snapshot_conf.c does."""

from __future__ import annotations

import dataclasses
import os
import time
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from . import schema, xmlutil
from .domain import DomainDef, format_domain_xml, parse_domain_xml


@dataclasses.dataclass
class MomentDef:
    """A snapshot or checkpoint; ex) name='s1' state='running' parent=None"""
    name: str
    description: Optional[str]
    creation_time: int
    state: str
    domain: DomainDef
    disks: list[str]
    parent: Optional[str] = None


def parse_moment_xml(text: Optional[str], root_name: str, domain: int) -> MomentDef:
    """The caller's part of a snapshot/checkpoint; the driver fills the rest."""
    root = xmlutil.parse_document(text, f"({root_name}_definition)", root_name, domain=domain)
    now = int(time.time())
    name = (root.findtext("name") or "").strip() or str(now)
    if "/" in name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, domain,
                            f"name {name} cannot contain '/'")
    return MomentDef(name=name, description=root.findtext("description"),
                     creation_time=now, state="", domain=None,  # type: ignore[arg-type]
                     disks=[])


def _indent(text: str, by: int) -> list[str]:
    return [" " * by + line for line in text.rstrip("\n").split("\n")]


def format_checkpoint_xml(ck: MomentDef, no_domain: bool = False) -> str:
    esc = xmlutil.escape
    lines = ["<domaincheckpoint>", f"  <name>{esc(ck.name)}</name>"]
    if ck.description is not None:
        lines.append(f"  <description>{esc(ck.description)}</description>")
    if ck.parent is not None:
        lines += ["  <parent>", f"    <name>{esc(ck.parent)}</name>", "  </parent>"]
    lines.append(f"  <creationTime>{ck.creation_time}</creationTime>")
    lines.append("  <disks>")
    lines += [f"    <disk name='{esc(d)}' checkpoint='bitmap' bitmap='{esc(ck.name)}'/>"
              for d in ck.disks]
    lines.append("  </disks>")
    if not no_domain:
        lines += _indent(format_domain_xml(ck.domain, inactive=True), 2)
    lines.append("</domaincheckpoint>")
    return "\n".join(lines) + "\n"


def disk_targets(d: DomainDef) -> list[str]:
    out = []
    for dev in d.devices:
        if dev.tag == "disk" and dev.get("device", "disk") == "disk":
            target = dev.find("target")
            if target is not None and target.get("dev"):
                out.append(target.get("dev", ""))
    return out


SNAPSHOT_DOMAIN = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
CHECKPOINT_DOMAIN = ErrorDomain.VIR_FROM_DOMAIN_CHECKPOINT


# -- <domainsnapshot>, as libvirt 9.0's snapshot_conf.c reads and writes it

SNAPSHOT_STATES = ("running", "blocked", "paused", "shutdown", "shutoff", "crashed",
                   "pmsuspended", "disk-snapshot")
LOCATIONS = ("no", "internal", "external", "manual")
PARSE_REDEFINE, PARSE_INTERNAL, PARSE_OFFLINE, PARSE_VALIDATE = 1, 2, 4, 8


@dataclasses.dataclass
class SnapshotDisk:
    """<disks/disk>; ex) name='vda' snapshot='internal' ('' when not given);
    an external one's new image: ex) kind='file' path='/i/a.s1' fmt='qcow2'."""
    name: str
    snapshot: str = ""
    kind: str = "file"
    path: Optional[str] = None
    fmt: Optional[str] = None


@dataclasses.dataclass
class SnapshotDef:
    """<domainsnapshot>; ex) name='s1' state='running' memory='internal' parent='s0'.
    `domain`/`inactive_domain`: the definitions saved with it (<domain>,
    <inactiveDomain>); `cookie`: the lines inside <cookie> (QEMU's save cookie)."""
    name: str
    description: Optional[str] = None
    state: str = ""
    parent: Optional[str] = None
    creation_time: int = 0
    memory: str = ""
    memory_file: Optional[str] = None
    disks: list[SnapshotDisk] = dataclasses.field(default_factory=list)
    domain: Optional[DomainDef] = None
    inactive_domain: Optional[DomainDef] = None
    cookie: Optional[list[str]] = None

    @property
    def external(self) -> bool:
        return self.memory == "external" or any(d.snapshot == "external" for d in self.disks)

    @property
    def active(self) -> bool:
        """Taken of a running or paused domain (it has memory state)."""
        return self.state in ("running", "paused")


def _snap_error(code: int, detail: str, domain: int = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
                ) -> errors.VirtError:
    return errors.report(code, domain, detail)


def _parse_disk(elem: etree._Element) -> SnapshotDisk:
    name = elem.get("name")
    if name is None:
        raise _snap_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                          "missing name from disk snapshot element")
    mode = elem.get("snapshot", "")
    if mode and mode not in LOCATIONS:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_XML,
                            f"Invalid value for attribute 'snapshot' in element 'disk': "
                            f"'{mode}'.")
    kind = elem.get("type", "file")
    if kind in ("volume", "dir"):
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                          f"unsupported disk snapshot type '{kind}'")
    source, driver = elem.find("source"), elem.find("driver")
    fmt = driver.get("type") if driver is not None else None
    path = None if source is None else (source.get("file") or source.get("dev"))
    if path is not None and not path.startswith("/"):
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                          f"disk snapshot image path '{path}' must be absolute")
    if not mode and (path or fmt):
        mode = "external"
    return SnapshotDisk(name=name, snapshot=mode, kind=kind, path=path, fmt=fmt)


def _parse_embedded(root: etree._Element, tag: str, arch: str) -> DomainDef:
    found = root.find(tag)
    assert found is not None
    elem = xmlutil.copy_element(found)
    elem.tag = "domain"   # <inactiveDomain> is a <domain> by another name
    text = etree.tostring(elem, encoding="unicode", with_tail=False)
    return parse_domain_xml(text, default_arch=arch, keep_interfaces=True)


def parse_snapshot_xml(text: Optional[str], flags: int, arch: str = "x86_64"
                       ) -> tuple[SnapshotDef, Optional[bool]]:
    """virDomainSnapshotDefParseString: the definition, and with PARSE_INTERNAL
    (a driver's own metadata file) whether it is the current one (<active>)."""
    SN = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
    root = xmlutil.parse_document(text, "(domain_snapshot)", "domainsnapshot", domain=SN)
    if flags & PARSE_VALIDATE:   # well formed: parse_document said so
        schema.validate(str(text), "domainsnapshot.rng")
    name = root.findtext("name")
    redefine = bool(flags & PARSE_REDEFINE)
    if name is None and redefine:
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR, "a redefined snapshot must have a name")
    snap = SnapshotDef(name=name or "", description=root.findtext("description"))
    offline = bool(flags & PARSE_OFFLINE)
    if redefine:
        created = (root.findtext("creationTime") or "").strip()
        try:
            snap.creation_time = int(created)
        except ValueError:
            raise _snap_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                              "missing creationTime from existing snapshot") from None
        snap.parent = root.findtext("parent/name")
        state = root.findtext("state")
        if state is None:
            raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR, "missing state from existing snapshot")
        if state not in SNAPSHOT_STATES:
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"Invalid state '{state}' in domain snapshot XML")
        snap.state = state
        offline = state in ("shutoff", "disk-snapshot")
        dom = root.find("domain")
        if dom is not None and dom.get("type"):
            snap.domain = _parse_embedded(root, "domain", arch)
        if root.find("inactiveDomain") is not None:
            snap.inactive_domain = _parse_embedded(root, "inactiveDomain", arch)
    else:   # virDomainMomentDefPostParse
        snap.creation_time = int(time.time())
        snap.name = snap.name or str(snap.creation_time)
    memory = root.find("memory")
    if memory is not None:
        snap.memory_file = memory.get("file")
        mode = memory.get("snapshot", "")
        if mode and mode not in LOCATIONS:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_XML,
                                f"Invalid value for attribute 'snapshot' in element 'memory': "
                                f"'{mode}'.")
        if mode == "manual":
            raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                              "'manual' memory snapshot mode not supported")
        snap.memory = mode
    if not snap.memory:
        if snap.memory_file:
            snap.memory = "external"
        elif redefine:
            snap.memory = "no" if offline else "internal"
    if snap.memory_file and snap.memory != "external":
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                          f"memory filename '{snap.memory_file}' requires external snapshot")
    if not snap.memory_file and snap.memory == "external":
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                          "external memory snapshots require a filename")
    if offline and snap.memory not in ("", "no"):
        raise _snap_error(ErrorNumber.VIR_ERR_XML_ERROR,
                          "memory state cannot be saved with offline or disk-only snapshot")
    snap.disks = [_parse_disk(d) for d in root.findall("disks/*")]
    current = None
    if flags & PARSE_INTERNAL:
        active = (root.findtext("active") or "").strip()
        if not active.lstrip("-").isdigit():
            raise _snap_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, "Could not find 'active' element")
        current = int(active) != 0
    cookie = root.find("cookie")
    if not offline and cookie is not None:
        snap.cookie = [line for child in cookie
                       for line in xmlutil.element_lines(child, 4)]
    return snap, current


def _source_paths(dev: etree._Element) -> tuple[Optional[str], ...]:
    """A disk's image, by which a snapshot may name it too."""
    source = dev.find("source")
    return () if source is None else (source.get("file"), source.get("dev"))


def _own_mode(dev: etree._Element) -> str:
    """A disk's snapshot mode after libvirt's post-parse: 'no' for a read-only
    or vhost-user one that says nothing."""
    mode = dev.get("snapshot", "")
    if not mode and (dev.find("readonly") is not None or dev.get("type") == "vhostuser"):
        return "no"
    return mode


def align_disks(snap: SnapshotDef, domain: DomainDef, default: str) -> None:
    """virDomainSnapshotAlignDisks with uniform internal snapshots: one entry per
    disk of `domain`, in its order, each with its mode."""
    disks = [dev for dev in domain.devices if dev.tag == "disk"]
    if len(snap.disks) > len(disks):
        raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                          "too many disk snapshot requests for domain")
    by_target: dict[str, SnapshotDisk] = {}
    targets = [(dev.find("target").get("dev", "")  # type: ignore[union-attr]
                if dev.find("target") is not None else "") for dev in disks]
    for want in snap.disks:
        target = want.name if want.name in targets else next(
            (t for t, dev in zip(targets, disks) if want.name in _source_paths(dev)), None)
        if target is None:
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"no disk named '{want.name}'")
        if target in by_target:
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"disk '{want.name}' specified twice")
        by_target[target] = want
        dev = disks[targets.index(target)]
        own = _own_mode(dev)
        if not want.snapshot:
            want.snapshot = own if own and (default != "internal" or own == "no") else default
        elif default == "internal" and want.snapshot != default and not (
                want.snapshot == "no" and own == "no"):
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"disk '{want.name}' must use snapshot mode '{default}'")
        if want.path and want.snapshot != "external":
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"file '{want.path}' for disk '{want.name}' requires use of "
                              f"external snapshot mode")
        want.name = target
    out = []
    for target, dev in zip(targets, disks):
        if target in by_target:
            out.append(by_target[target])
            continue
        source = dev.find("source")
        empty = source is None or not any(source.get(a) for a in ("file", "dev", "dir",
                                                                    "name", "volume"))
        mode = "no" if empty else (_own_mode(dev) or default)
        out.append(SnapshotDisk(name=target, snapshot=mode))
    snap.disks = out
    _external_names(snap, disks)


def _external_names(snap: SnapshotDef, disks: list[etree._Element]) -> None:
    """virDomainSnapshotDefAssignExternalNames: an external disk given no
    file gets its image's name, suffix dropped, and the snapshot's."""
    for i, (disk, dev) in enumerate(zip(snap.disks, disks)):
        if disk.snapshot != "external" or disk.path:
            continue
        if disk.kind != "file":
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"cannot generate external snapshot name for disk '{disk.name}' "
                              f"on a '{disk.kind}' device")
        origin = next((p for p in _source_paths(dev) if p), None)
        if origin is None:
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"cannot generate external snapshot name for disk '{disk.name}' "
                              f"without source")
        if not os.path.isfile(origin):
            raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                              f"source for disk '{disk.name}' is not a regular file; refusing "
                              f"to generate external snapshot name")
        base, dot, tail = origin.rpartition(".")
        stem = base if dot and "/" not in tail else origin
        disk.path = f"{stem}.{snap.name}"
        for other in snap.disks[:i]:
            if other.path == disk.path:
                raise _snap_error(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                                  f"cannot generate external snapshot name for disk "
                                  f"'{disk.name}': collision with disk '{other.name}'")


def _embedded_lines(d: DomainDef, tag: str) -> list[str]:
    lines = format_domain_xml(d, inactive=True).rstrip("\n").split("\n")
    if tag != "domain":
        lines[0] = lines[0].replace("<domain", f"<{tag}", 1)
        lines[-1] = f"</{tag}>"
    return _indent("\n".join(lines), 2)


def format_snapshot(snap: SnapshotDef, uuid: Optional[str] = None,
                    internal: bool = False, current: bool = False) -> str:
    """virDomainSnapshotDefFormat; `internal`: the driver's metadata file,
    with <active> saying whether it is the current snapshot."""
    esc = xmlutil.escape
    lines = ["<domainsnapshot>", f"  <name>{esc(snap.name)}</name>"]
    if snap.description is not None:
        lines.append(f"  <description>{esc(snap.description)}</description>")
    if snap.state:
        lines.append(f"  <state>{snap.state}</state>")
    if snap.parent is not None:
        lines += ["  <parent>", f"    <name>{esc(snap.parent)}</name>", "  </parent>"]
    if snap.creation_time:
        lines.append(f"  <creationTime>{snap.creation_time}</creationTime>")
    if snap.memory:
        file = f" file='{esc(snap.memory_file)}'" if snap.memory_file else ""
        lines.append(f"  <memory snapshot='{snap.memory}'{file}/>")
    if snap.disks:
        lines.append("  <disks>")
        for disk in snap.disks:
            mode = f" snapshot='{disk.snapshot}'" if disk.snapshot else ""
            if not disk.path and not disk.fmt:
                lines.append(f"    <disk name='{esc(disk.name)}'{mode}/>")
                continue
            lines.append(f"    <disk name='{esc(disk.name)}'{mode} type='{esc(disk.kind)}'>")
            if disk.fmt:
                lines.append(f"      <driver type='{esc(disk.fmt)}'/>")
            if disk.path:
                attr = "dev" if disk.kind == "block" else "file"
                lines.append(f"      <source {attr}='{esc(disk.path)}'/>")
            lines.append("    </disk>")
        lines.append("  </disks>")
    if snap.domain is not None:
        lines += _embedded_lines(snap.domain, "domain")
    elif uuid is not None:
        lines += ["  <domain>", f"    <uuid>{uuid}</uuid>", "  </domain>"]
    if snap.inactive_domain is not None:
        lines += _embedded_lines(snap.inactive_domain, "inactiveDomain")
    if snap.cookie is not None:
        lines += ["  <cookie>", *snap.cookie, "  </cookie>"]
    if internal:
        lines.append(f"  <active>{int(current)}</active>")
    lines.append("</domainsnapshot>")
    return "\n".join(lines) + "\n"
