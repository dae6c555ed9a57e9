"""Public network functions (virNetwork*, virConnect*Networks*), network
ports and DHCP leases, and network event registration."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from ..events import KIND_NETWORK, dispatcher
from ..objects import Connect, Network
from . import _common as c

NET = ErrorDomain.VIR_FROM_NETWORK
VIR_NETWORK_EVENT_ID_LAST = 1

__all__ = [
    "virConnectNumOfNetworks", "virConnectListNetworks", "virConnectNumOfDefinedNetworks",
    "virConnectListDefinedNetworks", "virConnectListAllNetworks", "virNetworkLookupByName",
    "virNetworkLookupByUUID", "virNetworkLookupByUUIDString", "virNetworkCreateXML",
    "virNetworkCreateXMLFlags", "virNetworkDefineXML", "virNetworkDefineXMLFlags",
    "virNetworkUndefine", "virNetworkUpdate", "virNetworkCreate", "virNetworkDestroy",
    "virNetworkGetXMLDesc", "virNetworkGetBridgeName", "virNetworkGetAutostart",
    "virNetworkSetAutostart", "virNetworkIsActive", "virNetworkIsPersistent",
    "virNetworkGetName", "virNetworkGetUUID", "virNetworkGetUUIDString",
    "virNetworkGetConnect", "virNetworkGetDHCPLeases", "virNetworkListAllPorts",
    "virNetworkPortCreateXML", "virNetworkPortLookupByUUID",
    "virNetworkPortLookupByUUIDString", "virConnectNetworkEventRegisterAny",
    "virConnectNetworkEventDeregisterAny",
]


def _conn(conn: Any, fn: str) -> Connect:
    return c.conn(conn, fn, NET)


def _net(net: Any, fn: str) -> Network:
    result: Network = c.handle(net, Network, ErrorNumber.VIR_ERR_INVALID_NETWORK, NET, fn)
    return result


def _on_net(net: Any, fn: str, *args: Any, write: bool = False,
            entry: Optional[str] = None) -> Any:
    n = _net(net, fn)
    return c.call(n.conn, fn, NET, n, *args, write=write, entry_name=entry)


# -- listing

def virConnectNumOfNetworks(conn: Connect) -> int:
    fn = "virConnectNumOfNetworks"
    return int(c.call(_conn(conn, fn), fn, NET))


def virConnectListNetworks(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListNetworks"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, NET)
    return list(c.call(cn, fn, NET))[:maxnames]


def virConnectNumOfDefinedNetworks(conn: Connect) -> int:
    fn = "virConnectNumOfDefinedNetworks"
    return int(c.call(_conn(conn, fn), fn, NET))


def virConnectListDefinedNetworks(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListDefinedNetworks"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, NET)
    return list(c.call(cn, fn, NET))[:maxnames]


def virConnectListAllNetworks(conn: Connect, flags: int) -> list[Network]:
    fn = "virConnectListAllNetworks"
    cn = _conn(conn, fn)
    return list(c.call(cn, fn, NET, cn, flags))


# -- lookups

def virNetworkLookupByName(conn: Connect, name: Optional[str]) -> Network:
    fn = "virNetworkLookupByName"
    cn = _conn(conn, fn)
    c.non_null(name, "name", fn, NET)
    result: Network = c.call(cn, fn, NET, cn, name)
    return result


def virNetworkLookupByUUID(conn: Connect, uuid: Optional[bytes]) -> Network:
    fn = "virNetworkLookupByUUID"
    cn = _conn(conn, fn)
    c.non_null(uuid, "uuid", fn, NET)
    assert uuid is not None
    result: Network = c.call(cn, fn, NET, cn, bytes(uuid[:viruuid.VIR_UUID_BUFLEN]))
    return result


def virNetworkLookupByUUIDString(conn: Connect, uuidstr: Optional[str]) -> Network:
    fn = "virNetworkLookupByUUIDString"
    cn = _conn(conn, fn)
    c.non_null(uuidstr, "uuidstr", fn, NET)
    assert uuidstr is not None
    raw = viruuid.parse(uuidstr)
    if raw is None:
        raise errors.invalid_arg(NET, fn, "uuidstr", f"uuidstr in {fn} must be a valid UUID")
    result: Network = c.call(cn, fn, NET, cn, raw, entry_name="virNetworkLookupByUUID")
    return result


# -- define, create, undefine

def virNetworkCreateXMLFlags(conn: Connect, xmlDesc: Optional[str], flags: int) -> Network:
    fn = "virNetworkCreateXMLFlags"
    cn = _conn(conn, fn)
    c.non_null(xmlDesc, "xmlDesc", fn, NET)
    result: Network = c.call(cn, fn, NET, cn, xmlDesc, flags, write=True)
    return result


def virNetworkCreateXML(conn: Connect, xmlDesc: Optional[str]) -> Network:
    fn = "virNetworkCreateXML"
    cn = _conn(conn, fn)
    c.non_null(xmlDesc, "xmlDesc", fn, NET)
    result: Network = c.call(cn, fn, NET, cn, xmlDesc, 0, write=True,
                             entry_name="virNetworkCreateXMLFlags")
    return result


def virNetworkDefineXMLFlags(conn: Connect, xml: Optional[str], flags: int) -> Network:
    fn = "virNetworkDefineXMLFlags"
    cn = _conn(conn, fn)
    c.writable(cn, fn, NET)
    c.non_null(xml, "xml", fn, NET)
    result: Network = c.call(cn, fn, NET, cn, xml, flags)
    return result


def virNetworkDefineXML(conn: Connect, xml: Optional[str]) -> Network:
    fn = "virNetworkDefineXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, NET)
    c.non_null(xml, "xml", fn, NET)
    result: Network = c.call(cn, fn, NET, cn, xml, 0, entry_name="virNetworkDefineXMLFlags")
    return result


def virNetworkUndefine(network: Network) -> None:
    _on_net(network, "virNetworkUndefine", write=True)


def virNetworkUpdate(network: Network, command: int, section: int, parentIndex: int,
                     xml: Optional[str], flags: int) -> None:
    fn = "virNetworkUpdate"
    n = _net(network, fn)
    c.writable(n.conn, fn, NET)
    c.non_null(xml, "xml", fn, NET)
    c.call(n.conn, fn, NET, n, command, section, parentIndex, xml, flags)


def virNetworkCreate(network: Network) -> None:
    _on_net(network, "virNetworkCreate", write=True)


def virNetworkDestroy(network: Network) -> None:
    _on_net(network, "virNetworkDestroy", write=True)


# -- queries

def virNetworkGetXMLDesc(network: Network, flags: int) -> str:
    return str(_on_net(network, "virNetworkGetXMLDesc", flags))


def virNetworkGetBridgeName(network: Network) -> str:
    return str(_on_net(network, "virNetworkGetBridgeName"))


def virNetworkGetAutostart(network: Network) -> int:
    return int(_on_net(network, "virNetworkGetAutostart"))


def virNetworkSetAutostart(network: Network, autostart: int) -> None:
    _on_net(network, "virNetworkSetAutostart", autostart, write=True)


def virNetworkIsActive(net: Network) -> int:
    return int(_on_net(net, "virNetworkIsActive"))


def virNetworkIsPersistent(net: Network) -> int:
    return int(_on_net(net, "virNetworkIsPersistent"))


def virNetworkGetName(network: Network) -> str:
    return _net(network, "virNetworkGetName").name


def virNetworkGetUUID(network: Network) -> bytes:
    return _net(network, "virNetworkGetUUID").uuid


def virNetworkGetUUIDString(network: Network) -> str:
    return _net(network, "virNetworkGetUUIDString").uuid_string


def virNetworkGetConnect(net: Network) -> Connect:
    return _net(net, "virNetworkGetConnect").conn


# -- leases and ports (the test driver has none: NO_SUPPORT, as libvirt's)

def virNetworkGetDHCPLeases(network: Network, mac: Optional[str], flags: int) -> list[Any]:
    return list(_on_net(network, "virNetworkGetDHCPLeases", mac, flags))


def virNetworkListAllPorts(network: Network, flags: int) -> list[Any]:
    return list(_on_net(network, "virNetworkListAllPorts", flags))


def virNetworkPortCreateXML(net: Network, xmldesc: Optional[str], flags: int) -> Any:
    fn = "virNetworkPortCreateXML"
    n = _net(net, fn)
    c.writable(n.conn, fn, NET)
    c.non_null(xmldesc, "xmldesc", fn, NET)
    return c.call(n.conn, fn, NET, n, xmldesc, flags)


def virNetworkPortLookupByUUID(net: Network, uuid: Optional[bytes]) -> Any:
    fn = "virNetworkPortLookupByUUID"
    n = _net(net, fn)
    c.non_null(uuid, "uuid", fn, NET)
    return c.call(n.conn, fn, NET, n, uuid)


def virNetworkPortLookupByUUIDString(net: Network, uuidstr: Optional[str]) -> Any:
    fn = "virNetworkPortLookupByUUIDString"
    n = _net(net, fn)
    c.non_null(uuidstr, "uuidstr", fn, NET)
    assert uuidstr is not None
    raw = viruuid.parse(uuidstr)
    if raw is None:
        raise errors.invalid_arg(NET, fn, "uuidstr", f"uuidstr in {fn} must be a valid UUID")
    return c.call(n.conn, fn, NET, n, raw, entry_name="virNetworkPortLookupByUUID")


# -- events

def virConnectNetworkEventRegisterAny(conn: Connect, net: Optional[Network], eventID: int,
                                      cb: Optional[Callable[..., Any]],
                                      freecb: Optional[Callable[[], None]]) -> int:
    fn = "virConnectNetworkEventRegisterAny"
    cn = _conn(conn, fn)
    if net is not None:
        _net(net, fn)
        if net.conn is not cn:
            raise errors.invalid_arg(NET, fn, "net", f"net in {fn} must match connection")
    c.non_null(cb, "cb", fn, NET)
    c.non_negative(eventID, "eventID", fn, NET)
    if eventID >= VIR_NETWORK_EVENT_ID_LAST:
        raise errors.invalid_arg(NET, fn, "eventID",
                                 f"eventID in {fn} must be less than "
                                 f"{VIR_NETWORK_EVENT_ID_LAST}")
    assert cb is not None
    c.entry(cn, fn, fn, NET)
    return dispatcher.register(cn, None, eventID, cb, freecb, legacy=False,
                               kind=KIND_NETWORK, key=net.uuid if net is not None else None)


def virConnectNetworkEventDeregisterAny(conn: Connect, callbackID: int) -> None:
    fn = "virConnectNetworkEventDeregisterAny"
    cn = _conn(conn, fn)
    c.non_negative(callbackID, "callbackID", fn, NET)
    dispatcher.deregister_any(cn, callbackID)
