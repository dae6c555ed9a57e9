"""Network XML: parse a <network> document into a NetworkDef and format it
back in libvirt's layout.

Modelled: name, uuid, the forward mode and the bridge (whose stp/delay
defaults libvirt fills in).  The other elements libvirt knows are kept as
written, attributes put in libvirt's order, and written at libvirt's place;
unknown elements are dropped, as libvirt drops them.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil

NET = ErrorDomain.VIR_FROM_NETWORK

# Where libvirt writes each kept element ("@forward", "@bridge": modelled).
_LAYOUT = ("metadata", "@forward", "@bridge", "mtu", "mac", "domain", "dns", "vlan",
           "virtualport", "bandwidth", "portgroup", "ip", "route")
_KEPT = tuple(t for t in _LAYOUT if not t.startswith("@"))
_ATTR_ORDER = {
    "ip": ("family", "address", "netmask", "prefix", "localPtr"),
    "range": ("start", "end"),
    "host": ("mac", "id", "name", "ip"),
    "bridge": ("name", "stp", "delay", "macTableManager", "zone"),
    "forward": ("mode", "dev", "managed"),
    "route": ("family", "address", "netmask", "prefix", "gateway", "metric"),
    "domain": ("name", "localOnly"),
}
# Forward modes whose networks have a bridge libvirt manages (stp, delay).
_BRIDGED = (None, "nat", "route", "open")
FORWARD_MODES = ("nat", "route", "open", "bridge", "private", "vepa", "passthrough",
                 "hostdev")


@dataclasses.dataclass
class NetworkDef:
    """<network>; ex) name='default' forward_mode='nat' bridge={'name': 'virbr0'}"""
    name: str
    uuid: bytes
    forward: Optional[etree._Element] = None
    bridge: dict[str, str] = dataclasses.field(default_factory=dict)
    kept: dict[str, list[etree._Element]] = dataclasses.field(default_factory=dict)

    @property
    def forward_mode(self) -> Optional[str]:
        return None if self.forward is None else self.forward.get("mode", "nat")

    @property
    def bridge_name(self) -> Optional[str]:
        return self.bridge.get("name")


def parse_network_xml(text: Optional[str]) -> NetworkDef:
    """Parse and validate a network definition as libvirt's define does."""
    root = xmlutil.parse_document(text, "(network_definition)", "network", domain=NET)
    name = (root.findtext("name") or "").strip()
    if not name:
        raise errors.report(ErrorNumber.VIR_ERR_NO_NAME, NET)
    if "/" in name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, NET,
                            f"name {name} cannot contain '/'")
    uuid = xmlutil.parse_uuid(root, lambda: errors.report(
        ErrorNumber.VIR_ERR_XML_ERROR, NET, f"malformed uuid element for network {name}"))
    forward = root.find("forward")
    if forward is not None:
        forward = xmlutil.copy_element(forward)
        mode = forward.get("mode", "nat")
        if mode not in FORWARD_MODES:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, NET,
                                f"unknown forwarding type '{mode}'")
        forward.set("mode", mode)
        xmlutil.reorder_attrs(forward, _ATTR_ORDER)
    bridge_elem = root.find("bridge")
    bridge = dict(bridge_elem.attrib) if bridge_elem is not None else {}
    kept = xmlutil.collect(root, _KEPT)
    for elems in kept.values():
        for elem in elems:
            xmlutil.reorder_attrs(elem, _ATTR_ORDER)
    net = NetworkDef(name=name, uuid=uuid, forward=forward, bridge=bridge, kept=kept)
    if net.forward_mode in _BRIDGED:
        net.bridge.setdefault("stp", "on")
        net.bridge.setdefault("delay", "0")
    return net


def _bridge_line(net: NetworkDef) -> list[str]:
    if not net.bridge:
        return []
    order = _ATTR_ORDER["bridge"]
    items = sorted(net.bridge.items(),
                   key=lambda kv: order.index(kv[0]) if kv[0] in order else len(order))
    return [f"  <bridge{xmlutil.attrs(items)}/>"]


def _ip_lines(lines: list[str]) -> list[str]:
    """libvirt always writes <ip ...> with a closing tag, even when empty."""
    out = []
    for line in lines:
        if line.startswith("  <ip ") and line.endswith("/>"):
            out += [line[:-2] + ">", "  </ip>"]
        else:
            out.append(line)
    return out


def format_network_xml(net: NetworkDef) -> str:
    """The document virNetworkGetXMLDesc returns."""
    lines = ["<network>", f"  <name>{xmlutil.escape(net.name)}</name>",
             f"  <uuid>{viruuid.format(net.uuid)}</uuid>"]
    for part in _LAYOUT:
        if part == "@forward":
            if net.forward is not None:
                lines.extend(xmlutil.element_lines(net.forward, 2))
        elif part == "@bridge":
            lines.extend(_bridge_line(net))
        elif part == "ip":
            lines.extend(_ip_lines(xmlutil.layout_lines(net.kept, (part,), 2)))
        else:
            lines.extend(xmlutil.layout_lines(net.kept, (part,), 2))
    lines.append("</network>")
    return "\n".join(lines) + "\n"


def copy_network(net: NetworkDef) -> NetworkDef:
    return parse_network_xml(format_network_xml(net))
