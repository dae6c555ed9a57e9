"""Public secret functions (libvirt-secret.c, VIR_FROM_SECRET) that take a
connection: their argument checks, then the driver (the test driver has no
secrets, so it answers VIR_ERR_NO_SUPPORT)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain
from ..objects import Connect
from . import _common as c

SEC = ErrorDomain.VIR_FROM_SECRET
VIR_SECRET_EVENT_ID_LAST = 2

__all__ = [
    "virConnectNumOfSecrets", "virConnectListSecrets", "virConnectListAllSecrets",
    "virSecretLookupByUUID", "virSecretLookupByUUIDString", "virSecretLookupByUsage",
    "virSecretDefineXML", "virConnectSecretEventRegisterAny",
    "virConnectSecretEventDeregisterAny",
]


def virConnectNumOfSecrets(conn: Connect) -> int:
    fn = "virConnectNumOfSecrets"
    return int(c.call(c.conn(conn, fn, SEC), fn, SEC))


def virConnectListSecrets(conn: Connect, maxuuids: int) -> list[str]:
    fn = "virConnectListSecrets"
    cn = c.conn(conn, fn, SEC)
    c.non_negative(maxuuids, "maxuuids", fn, SEC)
    return list(c.call(cn, fn, SEC, maxuuids))


def virConnectListAllSecrets(conn: Connect, flags: int) -> list[Any]:
    fn = "virConnectListAllSecrets"
    cn = c.conn(conn, fn, SEC)
    return list(c.call(cn, fn, SEC, cn, flags))


def virSecretLookupByUUID(conn: Connect, uuid: Optional[bytes]) -> Any:
    fn = "virSecretLookupByUUID"
    cn = c.conn(conn, fn, SEC)
    c.non_null(uuid, "uuid", fn, SEC)
    return c.call(cn, fn, SEC, cn, uuid)


def virSecretLookupByUUIDString(conn: Connect, uuidstr: Optional[str]) -> Any:
    # libvirt parses the string, then goes through virSecretLookupByUUID:
    # a driver without secrets is reported under that name
    fn = "virSecretLookupByUUIDString"
    cn = c.conn(conn, fn, SEC)
    raw = c.uuid_string(uuidstr, "uuidstr", fn, SEC)
    return virSecretLookupByUUID(cn, raw)


def virSecretLookupByUsage(conn: Connect, usageType: int, usageID: Optional[str]) -> Any:
    fn = "virSecretLookupByUsage"
    cn = c.conn(conn, fn, SEC)
    c.non_null(usageID, "usageID", fn, SEC)
    return c.call(cn, fn, SEC, cn, usageType, usageID)


def virSecretDefineXML(conn: Connect, xml: Optional[str], flags: int) -> Any:
    fn = "virSecretDefineXML"
    cn = c.conn(conn, fn, SEC)
    c.writable(cn, fn, SEC)
    c.non_null(xml, "xml", fn, SEC)
    return c.call(cn, fn, SEC, cn, xml, flags)


def virConnectSecretEventRegisterAny(conn: Connect, secret: Any, eventID: int,
                                     cb: Optional[Callable[..., Any]],
                                     freecb: Optional[Callable[[], None]]) -> int:
    # no core object is a secret: any `secret` given is not a live handle
    fn = "virConnectSecretEventRegisterAny"
    cn = c.conn(conn, fn, SEC)
    if secret is not None:
        raise errors.report(errors.ErrorNumber.VIR_ERR_INVALID_SECRET, SEC, fn)
    c.non_null(cb, "cb", fn, SEC)
    c.non_negative(eventID, "eventID", fn, SEC)
    if eventID >= VIR_SECRET_EVENT_ID_LAST:
        raise errors.invalid_arg(SEC, fn, "eventID",
                                 f"eventID in {fn} must be less than {VIR_SECRET_EVENT_ID_LAST}")
    return int(c.call(cn, fn, SEC, cn, secret, eventID, cb, freecb))


def virConnectSecretEventDeregisterAny(conn: Connect, callbackID: int) -> None:
    fn = "virConnectSecretEventDeregisterAny"
    cn = c.conn(conn, fn, SEC)
    c.non_negative(callbackID, "callbackID", fn, SEC)
    c.call(cn, fn, SEC, cn, callbackID)
