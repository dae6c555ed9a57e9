"""Domain snapshot and checkpoint XML (<domainsnapshot>, <domaincheckpoint>):
the parts a caller gives, and the document libvirt's test driver writes
back, the domain's definition embedded."""

from __future__ import annotations

import dataclasses
import time
from typing import Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil
from .domain import DomainDef, format_domain_xml


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


def format_snapshot_xml(snap: MomentDef) -> str:
    esc = xmlutil.escape
    lines = ["<domainsnapshot>", f"  <name>{esc(snap.name)}</name>"]
    if snap.description is not None:
        lines.append(f"  <description>{esc(snap.description)}</description>")
    lines.append(f"  <state>{snap.state}</state>")
    if snap.parent is not None:
        lines += ["  <parent>", f"    <name>{esc(snap.parent)}</name>", "  </parent>"]
    lines.append(f"  <creationTime>{snap.creation_time}</creationTime>")
    memory = "no" if snap.state == "shutoff" else "internal"
    lines.append(f"  <memory snapshot='{memory}'/>")
    if snap.disks:
        lines.append("  <disks>")
        lines += [f"    <disk name='{esc(d)}' snapshot='internal'/>" for d in snap.disks]
        lines.append("  </disks>")
    lines += _indent(format_domain_xml(snap.domain, inactive=True), 2)
    lines.append("</domainsnapshot>")
    return "\n".join(lines) + "\n"


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
