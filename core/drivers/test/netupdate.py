"""virNetworkUpdate on a test network: the sections and commands, with
libvirt's errors for the sections it cannot change."""

from __future__ import annotations

from typing import TYPE_CHECKING

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.network import NetworkDef
from ...errors import ErrorDomain, ErrorNumber

if TYPE_CHECKING:
    from .network import NetworkObj

NET = ErrorDomain.VIR_FROM_NETWORK
CMD_MODIFY, CMD_DELETE, CMD_ADD_LAST, CMD_ADD_FIRST = 1, 2, 3, 4
VIR_NETWORK_UPDATE_AFFECT_LIVE, VIR_NETWORK_UPDATE_AFFECT_CONFIG = 1, 2

# section number -> (name in errors, element expected) ; None: cannot be updated
_SECTIONS: dict[int, tuple[str, str | None]] = {
    1: ("bridge", None), 2: ("domain", None), 3: ("ip", None), 4: ("ip dhcp host", "host"),
    5: ("ip dhcp range", "range"), 6: ("forward", None), 7: ("forward interface", "interface"),
    8: ("forward pf", None), 9: ("portgroup", "portgroup"), 10: ("dns host", "host"),
    11: ("dns txt", "txt"), 12: ("dns srv", "srv"),
}


def _parse_item(xml: str, expected: str, net_name: str) -> etree._Element:
    elem = _parse_any(xml)
    if elem.tag != expected:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, NET,
                            f"unexpected element <{elem.tag}>, expecting <{expected}>, "
                            f"while updating network '{net_name}'")
    return elem


def _parse_any(xml: str) -> etree._Element:
    try:
        return etree.fromstring(xml.encode())
    except etree.XMLSyntaxError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, NET, str(exc)) from None


def _dhcp(net: NetworkDef) -> etree._Element:
    for ip in net.kept.get("ip", []):
        if ip.get("family", "ipv4") == "ipv4":
            dhcp = ip.find("dhcp")
            if dhcp is None:
                dhcp = etree.SubElement(ip, "dhcp")
            return dhcp
    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, NET,
                        f"can't update 'ip dhcp host' section of network '{net.name}' "
                        f"- no IPv4 address")


def _same_host(a: etree._Element, b: etree._Element) -> bool:
    return any(a.get(k) is not None and a.get(k) == b.get(k) for k in ("mac", "name", "ip"))


def _apply(net: NetworkDef, command: int, item: etree._Element, section: str,
           text: str) -> None:
    dhcp = _dhcp(net)
    tag = item.tag
    matches = [e for e in dhcp.findall(tag)
               if (_same_host(e, item) if tag == "host"
                   else dict(e.attrib) == dict(item.attrib))]
    if command in (CMD_ADD_LAST, CMD_ADD_FIRST):
        if matches:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, NET,
                                f"there is an existing dhcp {tag} entry in network "
                                f"'{net.name}' that matches \"{text}\"")
        xmlutil.reorder_attrs(item, {"host": ("mac", "id", "name", "ip"),
                                     "range": ("start", "end")})
        if command == CMD_ADD_LAST:
            dhcp.append(item)
        else:
            siblings = dhcp.findall(tag)
            if siblings:
                siblings[0].addprevious(item)
            else:
                dhcp.append(item)
        return
    if not matches:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, NET,
                            f"couldn't locate a matching dhcp {tag} entry in network "
                            f"'{net.name}'")
    if command == CMD_DELETE:
        dhcp.remove(matches[0])
    elif command == CMD_MODIFY:
        matches[0].attrib.clear()
        for k, v in item.attrib.items():
            matches[0].set(k, v)
    else:
        raise errors.report(ErrorNumber.VIR_ERR_NO_SUPPORT, NET,
                            f"can't update '{section}' section of network '{net.name}'")


def update_network(obj: "NetworkObj", command: int, section: int, parent_index: int,
                   xml: str, flags: int) -> None:
    errors.check_flags(flags, VIR_NETWORK_UPDATE_AFFECT_LIVE | VIR_NETWORK_UPDATE_AFFECT_CONFIG,
                       "testNetworkUpdate")
    name, expected = _SECTIONS.get(section, (None, None))
    if name is None:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, NET,
                            "can't update unrecognized section of network")
    if expected is None:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, NET,
                            f"can't update '{name}' section of network '{obj.name}'")
    item = _parse_item(xml, expected, obj.name)
    if section not in (4, 5):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, NET,
                            f"can't update '{name}' section of network '{obj.name}'")
    targets = [obj.def_]
    if obj.new_def is not None:
        targets.append(obj.new_def)
    for net in targets:
        _apply(net, command, item if net is targets[-1] else xmlutil.copy_element(item), name,
               xml)
