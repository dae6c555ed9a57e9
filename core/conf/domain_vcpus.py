"""<vcpus>: each vCPU's own state (libvirt's individualvcpus), beside the
<vcpu current='N'>M</vcpu> counts that DomainDef keeps.

A definition without <vcpus> has vCPUs 0..N-1 online and not hotpluggable,
the rest offline and hotpluggable (what `slots` gives); one with it lists
them, and its current count is how many are enabled, whatever <vcpu>'s
current says.  A vCPU whose hotpluggable is unknown (one that a raised
maximum added) is written without the attribute, as libvirt does."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

if TYPE_CHECKING:
    from .domain import DomainDef


@dataclasses.dataclass
class VcpuSlot:
    """<vcpus/vcpu>; ex) id='2' enabled='yes' hotpluggable='yes' order='3'"""
    online: bool
    hotpluggable: Optional[bool] = None
    order: int = 0


def _xml_error(detail: str, domain: ErrorDomain = ErrorDomain.VIR_FROM_DOMAIN
               ) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, domain, detail)


def _yes_no(vcpu: etree._Element, name: str, required: bool) -> Optional[bool]:
    value = vcpu.get(name)
    if value is None:
        if required:
            raise _xml_error(f"Missing required attribute '{name}' in element 'vcpu'",
                             ErrorDomain.VIR_FROM_XML)
        return None
    if value not in ("yes", "no"):
        raise _xml_error(f"Invalid value for attribute '{name}' in element 'vcpu': "
                         f"'{value}'.", ErrorDomain.VIR_FROM_XML)
    return value == "yes"


def _number(vcpu: etree._Element, name: str, required: bool) -> int:
    value = vcpu.get(name)
    if value is None:
        if required:
            raise _xml_error(f"Missing required attribute '{name}' in element 'vcpu'",
                             ErrorDomain.VIR_FROM_XML)
        return 0
    if not value.strip().isdigit():
        raise _xml_error(f"Invalid value for attribute '{name}' in element 'vcpu': "
                         f"'{value}'. Expected non-negative integer value",
                         ErrorDomain.VIR_FROM_XML)
    return int(value)


def parse(root: etree._Element, maximum: int) -> Optional[list[VcpuSlot]]:
    """The <vcpus> of `root` (None without it), unknown hotpluggable filled in."""
    vcpus = root.find("vcpus")
    if vcpus is None:
        return None
    slots = [VcpuSlot(online=False) for _ in range(maximum)]
    for vcpu in vcpus.findall("vcpu"):
        vid = _number(vcpu, "id", True)
        if vid >= maximum:
            raise _xml_error(f"vcpu id '{vid}' is out of range of maximum vcpu count")
        online = _yes_no(vcpu, "enabled", True)
        slot = slots[vid]
        slot.online = bool(online)
        slot.hotpluggable = _yes_no(vcpu, "hotpluggable", False)
        slot.order = _number(vcpu, "order", False)
    return fill(slots)


def fill(slots: list[VcpuSlot]) -> list[VcpuSlot]:
    for slot in slots:
        if slot.hotpluggable is None:
            slot.hotpluggable = not slot.online
    return slots


def slots(d: DomainDef) -> list[VcpuSlot]:
    """Every vCPU's state: the definition's own, or the one its counts imply
    (a copy: change it and give it back with `store`)."""
    if d.vcpu_slots is not None:
        return [dataclasses.replace(s) for s in d.vcpu_slots]
    current = d.vcpus_current or d.vcpus
    return [VcpuSlot(online=i < current, hotpluggable=i >= current) for i in range(d.vcpus)]


def store(d: DomainDef, new: list[VcpuSlot], individual: bool) -> None:
    """`new` becomes `d`'s vCPUs; `individual`: written as <vcpus>."""
    d.vcpus = len(new)
    current = sum(s.online for s in new)
    d.vcpus_current = None if current == d.vcpus else current
    d.vcpu_slots = new if individual else None


def set_maximum(d: DomainDef, maximum: int) -> None:
    """virDomainDefSetVcpusMax: vCPUs past it go, new ones come offline."""
    new = slots(d)[:maximum]
    new += [VcpuSlot(online=False) for _ in range(maximum - len(new))]
    store(d, new, d.vcpu_slots is not None)


def write(d: DomainDef, out: list[str]) -> None:
    if d.vcpu_slots is None:
        return
    out.append("  <vcpus>")
    for vid, slot in enumerate(d.vcpu_slots):
        line = f"    <vcpu id='{vid}' enabled='{'yes' if slot.online else 'no'}'"
        if slot.hotpluggable is not None:
            line += f" hotpluggable='{'yes' if slot.hotpluggable else 'no'}'"
        if slot.order:
            line += f" order='{slot.order}'"
        out.append(line + "/>")
    out.append("  </vcpus>")
