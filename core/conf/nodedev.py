"""Node device XML (<device>): the name, the parent and the capabilities,
kept as written and formatted back in libvirt's layout."""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil

ND = ErrorDomain.VIR_FROM_NODEDEV

# Capability names in the order of the virConnectListAllNodeDevices cap flags.
CAP_NAMES = ("system", "pci", "usb_device", "usb", "net", "scsi_host", "scsi_target",
             "scsi", "storage", "fc_host", "vports", "scsi_generic", "drm", "mdev_types",
             "mdev", "ccw", "css", "vdpa", "ap_card", "ap_queue", "ap_matrix", "vpd")


@dataclasses.dataclass
class NodeDeviceDef:
    """<device>; ex) name='scsi_host1' parent='computer' caps=[<capability>...]"""
    name: str
    parent: Optional[str]
    caps: list[etree._Element] = dataclasses.field(default_factory=list)

    def cap_names(self) -> list[str]:
        """Top-level capabilities, as virNodeDeviceListCaps reports them."""
        return [c.get("type", "") for c in self.caps]

    def all_cap_names(self) -> set[str]:
        """Every capability a list filter matches, nested ones included
        (a vHBA's fc_host, a vport-capable host's 'vports')."""
        names = set(self.cap_names())
        for cap in self.caps:
            for sub in cap.iter("capability"):
                kind = sub.get("type", "")
                names.add("vports" if kind == "vport_ops" else kind)
        return names

    def sub_cap(self, kind: str) -> Optional[etree._Element]:
        for cap in self.caps:
            for sub in cap.iter("capability"):
                if sub.get("type") == kind:
                    return sub
        return None


def parse_nodedev_xml(text: Optional[str], name_required: bool = True) -> NodeDeviceDef:
    root = xmlutil.parse_document(text, "(node_device_definition)", "device", domain=ND)
    name = (root.findtext("name") or "").strip()
    if not name and name_required:
        raise errors.report(ErrorNumber.VIR_ERR_NO_NAME, ND)
    parent = root.findtext("parent")
    caps = [xmlutil.copy_element(c) for c in root.findall("capability")]
    if not caps:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ND,
                            f"no device capabilities for '{name or 'new device'}'")
    for cap in caps:
        if cap.get("type") == "system" and not (cap.findtext("hardware/uuid") or "").strip():
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ND,
                                f"no system UUID supplied for '{name or 'new device'}'")
    return NodeDeviceDef(name=name or "new device",
                         parent=parent.strip() if parent else None, caps=caps)


def format_nodedev_xml(dev: NodeDeviceDef) -> str:
    lines = ["<device>", f"  <name>{xmlutil.escape(dev.name)}</name>"]
    if dev.parent is not None:
        lines.append(f"  <parent>{xmlutil.escape(dev.parent)}</parent>")
    for cap in dev.caps:
        cap_lines = xmlutil.element_lines(cap, 2)
        if cap.get("type") == "system" and cap.find("firmware") is None:
            # libvirt always writes the system's <firmware>, even empty.
            cap_lines[-1:-1] = ["    <firmware>", "    </firmware>"]
        lines.extend(cap_lines)
    lines.append("</device>")
    return "\n".join(lines) + "\n"
