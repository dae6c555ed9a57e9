"""Host interface XML (<interface type='ethernet|bridge|bond|vlan'>): parse
into an InterfaceDef and format back in libvirt's layout."""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil

IF = ErrorDomain.VIR_FROM_INTERFACE
IFACE_TYPES = ("ethernet", "bridge", "bond", "vlan")
# libvirt writes start, mtu and the addresses first, then what the type owns.
_LAYOUT = ("start", "mtu", "protocol", "link", "mac", "bridge", "bond", "vlan")


@dataclasses.dataclass
class InterfaceDef:
    """<interface>; ex) type='ethernet' name='eth1' mac='aa:bb:cc:dd:ee:ff'"""
    type: str
    name: str
    mac: Optional[str] = None
    kept: dict[str, list[etree._Element]] = dataclasses.field(default_factory=dict)


def parse_interface_xml(text: Optional[str]) -> InterfaceDef:
    """Parse and validate an interface definition as libvirt's define does."""
    root = xmlutil.parse_document(text, "(interface_definition)", "interface", domain=IF)
    iface_type = root.get("type")
    if iface_type is None:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, IF, "interface has no type")
    if iface_type not in IFACE_TYPES:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                            f"Invalid value for attribute 'type' in element 'interface': "
                            f"'{iface_type}'.")
    name = root.get("name")
    if not name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, IF, "interface has no name")
    mac_elem = root.find("mac")
    mac = mac_elem.get("address") if mac_elem is not None else None
    kept = xmlutil.collect(root, [t for t in _LAYOUT if t != "mac"])
    return InterfaceDef(type=iface_type, name=name, mac=mac, kept=kept)


def format_interface_xml(iface: InterfaceDef) -> str:
    """The document virInterfaceGetXMLDesc returns."""
    lines = [f"<interface{xmlutil.attrs([('type', iface.type), ('name', iface.name)])}>"]
    for tag in _LAYOUT:
        if tag == "mac":
            if iface.mac is not None:
                lines.append(f"  <mac address='{xmlutil.escape(iface.mac)}'/>")
        else:
            lines.extend(xmlutil.layout_lines(iface.kept, (tag,), 2))
    lines.append("</interface>")
    return "\n".join(lines) + "\n"
