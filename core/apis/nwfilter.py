"""Public network-filter functions (libvirt-nwfilter.c, VIR_FROM_NWFILTER)
that take a connection: their argument checks, then the driver (the test
driver has no filters, so it answers VIR_ERR_NO_SUPPORT)."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ErrorDomain
from ..objects import Connect
from . import _common as c

NWF = ErrorDomain.VIR_FROM_NWFILTER

__all__ = [
    "virConnectNumOfNWFilters", "virConnectListNWFilters", "virConnectListAllNWFilters",
    "virNWFilterLookupByName", "virNWFilterLookupByUUID", "virNWFilterLookupByUUIDString",
    "virNWFilterDefineXML", "virNWFilterDefineXMLFlags", "virNWFilterBindingLookupByPortDev",
    "virConnectListAllNWFilterBindings", "virNWFilterBindingCreateXML",
]


def virConnectNumOfNWFilters(conn: Connect) -> int:
    fn = "virConnectNumOfNWFilters"
    return int(c.call(c.conn(conn, fn, NWF), fn, NWF))


def virConnectListNWFilters(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListNWFilters"
    cn = c.conn(conn, fn, NWF)
    c.non_negative(maxnames, "maxnames", fn, NWF)
    return list(c.call(cn, fn, NWF, maxnames))


def virConnectListAllNWFilters(conn: Connect, flags: int) -> list[Any]:
    fn = "virConnectListAllNWFilters"
    cn = c.conn(conn, fn, NWF)
    return list(c.call(cn, fn, NWF, cn, flags))


def virNWFilterLookupByName(conn: Connect, name: Optional[str]) -> Any:
    fn = "virNWFilterLookupByName"
    cn = c.conn(conn, fn, NWF)
    c.non_null(name, "name", fn, NWF)
    return c.call(cn, fn, NWF, cn, name)


def virNWFilterLookupByUUID(conn: Connect, uuid: Optional[bytes]) -> Any:
    fn = "virNWFilterLookupByUUID"
    cn = c.conn(conn, fn, NWF)
    c.non_null(uuid, "uuid", fn, NWF)
    return c.call(cn, fn, NWF, cn, uuid)


def virNWFilterLookupByUUIDString(conn: Connect, uuidstr: Optional[str]) -> Any:
    # the string is parsed here, then virNWFilterLookupByUUID answers (and is
    # the name a driver without filters reports)
    fn = "virNWFilterLookupByUUIDString"
    cn = c.conn(conn, fn, NWF)
    raw = c.uuid_string(uuidstr, "uuidstr", fn, NWF)
    return virNWFilterLookupByUUID(cn, raw)


def _define(conn: Connect, fn: str, xmlDesc: Optional[str], flags: int) -> Any:
    cn = c.conn(conn, fn, NWF)
    c.non_null(xmlDesc, "xmlDesc", fn, NWF)
    c.writable(cn, fn, NWF)
    return c.call(cn, fn, NWF, cn, xmlDesc, flags, entry_name="virNWFilterDefineXMLFlags")


def virNWFilterDefineXML(conn: Connect, xmlDesc: Optional[str]) -> Any:
    return _define(conn, "virNWFilterDefineXML", xmlDesc, 0)


def virNWFilterDefineXMLFlags(conn: Connect, xmlDesc: Optional[str], flags: int) -> Any:
    return _define(conn, "virNWFilterDefineXMLFlags", xmlDesc, flags)


def virNWFilterBindingLookupByPortDev(conn: Connect, portdev: Optional[str]) -> Any:
    fn = "virNWFilterBindingLookupByPortDev"
    cn = c.conn(conn, fn, NWF)
    c.non_null(portdev, "portdev", fn, NWF)
    return c.call(cn, fn, NWF, cn, portdev)


def virConnectListAllNWFilterBindings(conn: Connect, flags: int) -> list[Any]:
    fn = "virConnectListAllNWFilterBindings"
    cn = c.conn(conn, fn, NWF)
    return list(c.call(cn, fn, NWF, cn, flags))


def virNWFilterBindingCreateXML(conn: Connect, xml: Optional[str], flags: int) -> Any:
    fn = "virNWFilterBindingCreateXML"
    cn = c.conn(conn, fn, NWF)
    c.non_null(xml, "xml", fn, NWF)
    c.writable(cn, fn, NWF)
    return c.call(cn, fn, NWF, cn, xml, flags)
