"""Public host interface functions (virInterface*, virConnect*Interfaces*)
and interface change transactions."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Interface
from . import _common as c

IF = ErrorDomain.VIR_FROM_INTERFACE

__all__ = [
    "virConnectNumOfInterfaces", "virConnectListInterfaces",
    "virConnectNumOfDefinedInterfaces", "virConnectListDefinedInterfaces",
    "virConnectListAllInterfaces", "virInterfaceLookupByName", "virInterfaceLookupByMACString",
    "virInterfaceGetXMLDesc", "virInterfaceDefineXML", "virInterfaceUndefine",
    "virInterfaceCreate", "virInterfaceDestroy", "virInterfaceIsActive",
    "virInterfaceGetName", "virInterfaceGetMACString", "virInterfaceGetConnect",
    "virInterfaceChangeBegin", "virInterfaceChangeCommit", "virInterfaceChangeRollback",
]


def _conn(conn: Any, fn: str) -> Connect:
    return c.conn(conn, fn, IF)


def _iface(iface: Any, fn: str) -> Interface:
    result: Interface = c.handle(iface, Interface, ErrorNumber.VIR_ERR_INVALID_INTERFACE,
                                 IF, fn)
    return result


def _on_iface(iface: Any, fn: str, *args: Any, write: bool = False) -> Any:
    i = _iface(iface, fn)
    return c.call(i.conn, fn, IF, i, *args, write=write)


def virConnectNumOfInterfaces(conn: Connect) -> int:
    fn = "virConnectNumOfInterfaces"
    return int(c.call(_conn(conn, fn), fn, IF))


def virConnectListInterfaces(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListInterfaces"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, IF)
    return list(c.call(cn, fn, IF))[:maxnames]


def virConnectNumOfDefinedInterfaces(conn: Connect) -> int:
    fn = "virConnectNumOfDefinedInterfaces"
    return int(c.call(_conn(conn, fn), fn, IF))


def virConnectListDefinedInterfaces(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListDefinedInterfaces"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, IF)
    return list(c.call(cn, fn, IF))[:maxnames]


def virConnectListAllInterfaces(conn: Connect, flags: int) -> list[Interface]:
    fn = "virConnectListAllInterfaces"
    cn = _conn(conn, fn)
    return list(c.call(cn, fn, IF, cn, flags))


def virInterfaceLookupByName(conn: Connect, name: Optional[str]) -> Interface:
    fn = "virInterfaceLookupByName"
    cn = _conn(conn, fn)
    c.non_null(name, "name", fn, IF)
    result: Interface = c.call(cn, fn, IF, cn, name)
    return result


def virInterfaceLookupByMACString(conn: Connect, macstr: Optional[str]) -> Interface:
    fn = "virInterfaceLookupByMACString"
    cn = _conn(conn, fn)
    c.non_null(macstr, "macstr", fn, IF)
    result: Interface = c.call(cn, fn, IF, cn, macstr)
    return result


def virInterfaceGetXMLDesc(iface: Interface, flags: int) -> str:
    return str(_on_iface(iface, "virInterfaceGetXMLDesc", flags))


def virInterfaceDefineXML(conn: Connect, xml: Optional[str], flags: int) -> Interface:
    fn = "virInterfaceDefineXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, IF)
    c.non_null(xml, "xml", fn, IF)
    result: Interface = c.call(cn, fn, IF, cn, xml, flags)
    return result


def virInterfaceUndefine(iface: Interface) -> None:
    _on_iface(iface, "virInterfaceUndefine", write=True)


def virInterfaceCreate(iface: Interface, flags: int) -> None:
    _on_iface(iface, "virInterfaceCreate", flags, write=True)


def virInterfaceDestroy(iface: Interface, flags: int) -> None:
    _on_iface(iface, "virInterfaceDestroy", flags, write=True)


def virInterfaceIsActive(iface: Interface) -> int:
    return int(_on_iface(iface, "virInterfaceIsActive"))


def virInterfaceGetName(iface: Interface) -> str:
    return _iface(iface, "virInterfaceGetName").name


def virInterfaceGetMACString(iface: Interface) -> str:
    return _iface(iface, "virInterfaceGetMACString").mac


def virInterfaceGetConnect(iface: Interface) -> Connect:
    return _iface(iface, "virInterfaceGetConnect").conn


def virInterfaceChangeBegin(conn: Connect, flags: int) -> None:
    fn = "virInterfaceChangeBegin"
    c.call(_conn(conn, fn), fn, IF, flags, write=True)


def virInterfaceChangeCommit(conn: Connect, flags: int) -> None:
    fn = "virInterfaceChangeCommit"
    c.call(_conn(conn, fn), fn, IF, flags, write=True)


def virInterfaceChangeRollback(conn: Connect, flags: int) -> None:
    fn = "virInterfaceChangeRollback"
    c.call(_conn(conn, fn), fn, IF, flags, write=True)
