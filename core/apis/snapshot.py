"""Public domain snapshot functions (virDomainSnapshot*, virDomain*Snapshot*)."""

from __future__ import annotations

from typing import Any, Optional

from .. import errors
from ..drivers import snapshots as sn
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain, DomainSnapshot
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
SN = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT

__all__ = [
    "virDomainSnapshotCreateXML", "virDomainSnapshotNum", "virDomainSnapshotListNames",
    "virDomainListAllSnapshots", "virDomainSnapshotGetXMLDesc", "virDomainSnapshotNumChildren",
    "virDomainSnapshotListChildrenNames", "virDomainSnapshotListAllChildren",
    "virDomainSnapshotLookupByName", "virDomainHasCurrentSnapshot",
    "virDomainSnapshotGetParent", "virDomainSnapshotCurrent", "virDomainSnapshotIsCurrent",
    "virDomainSnapshotHasMetadata", "virDomainRevertToSnapshot", "virDomainSnapshotDelete",
    "virDomainSnapshotGetName", "virDomainSnapshotGetDomain", "virDomainSnapshotGetConnect",
]


def _dom(dom: Any, fn: str) -> Domain:
    result: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return result


def _snap(snap: Any, fn: str) -> DomainSnapshot:
    result: DomainSnapshot = c.handle(snap, DomainSnapshot,
                                      ErrorNumber.VIR_ERR_INVALID_DOMAIN_SNAPSHOT, SN, fn)
    return result


def exclusive_flags(flags: int, a: tuple[int, str], b: tuple[int, str], fn: str,
                    domain: int = SN) -> None:
    """VIR_EXCLUSIVE_FLAGS_RET: `a` and `b` are (bit, name)."""
    if flags & a[0] and flags & b[0]:
        raise errors.invalid_arg(domain, fn, "flags",
                                 f"Flags '{a[1]}' and '{b[1]}' are mutually exclusive")


def require_flag(flags: int, needs: tuple[int, str], by: tuple[int, str], fn: str,
                 domain: int = SN) -> None:
    """VIR_REQUIRE_FLAG_RET: the bit `by` needs the bit `needs`."""
    if flags & by[0] and not flags & needs[0]:
        raise errors.invalid_arg(domain, fn, "flags",
                                 f"Flag '{needs[1]}' is required by flag '{by[1]}'")


_REDEFINE = (sn.CREATE_REDEFINE, "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE")


def _on_dom(dom: Any, fn: str, *args: Any, write: bool = False) -> Any:
    d = _dom(dom, fn)
    return c.call(d.conn, fn, SN, d, *args, write=write)


def _on_snap(snap: Any, fn: str, *args: Any, write: bool = False) -> Any:
    s = _snap(snap, fn)
    return c.call(s.conn, fn, SN, s, *args, write=write)


def virDomainSnapshotCreateXML(domain: Domain, xmlDesc: Optional[str],
                               flags: int) -> DomainSnapshot:
    fn = "virDomainSnapshotCreateXML"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, SN)
    c.non_null(xmlDesc, "xmlDesc", fn, SN)
    require_flag(flags, _REDEFINE, (sn.CREATE_CURRENT, "VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT"), fn)
    exclusive_flags(flags, _REDEFINE,
                    (sn.CREATE_NO_METADATA, "VIR_DOMAIN_SNAPSHOT_CREATE_NO_METADATA"), fn)
    exclusive_flags(flags, _REDEFINE, (sn.CREATE_HALT, "VIR_DOMAIN_SNAPSHOT_CREATE_HALT"), fn)
    result: DomainSnapshot = c.call(d.conn, fn, SN, d, xmlDesc, flags)
    return result


def virDomainSnapshotNum(domain: Domain, flags: int) -> int:
    return int(_on_dom(domain, "virDomainSnapshotNum", flags))


def virDomainSnapshotListNames(domain: Domain, nameslen: int, flags: int) -> list[str]:
    fn = "virDomainSnapshotListNames"
    d = _dom(domain, fn)
    c.non_negative(nameslen, "nameslen", fn, SN)
    return list(c.call(d.conn, fn, SN, d, flags))[:nameslen]


def virDomainListAllSnapshots(domain: Domain, flags: int) -> list[DomainSnapshot]:
    return list(_on_dom(domain, "virDomainListAllSnapshots", flags))


def virDomainSnapshotGetXMLDesc(snapshot: DomainSnapshot, flags: int) -> str:
    return str(_on_snap(snapshot, "virDomainSnapshotGetXMLDesc", flags))


def virDomainSnapshotNumChildren(snapshot: DomainSnapshot, flags: int) -> int:
    return int(_on_snap(snapshot, "virDomainSnapshotNumChildren", flags))


def virDomainSnapshotListChildrenNames(snapshot: DomainSnapshot, nameslen: int,
                                       flags: int) -> list[str]:
    fn = "virDomainSnapshotListChildrenNames"
    s = _snap(snapshot, fn)
    c.non_negative(nameslen, "nameslen", fn, SN)
    return list(c.call(s.conn, fn, SN, s, flags))[:nameslen]


def virDomainSnapshotListAllChildren(snapshot: DomainSnapshot,
                                     flags: int) -> list[DomainSnapshot]:
    return list(_on_snap(snapshot, "virDomainSnapshotListAllChildren", flags))


def virDomainSnapshotLookupByName(domain: Domain, name: Optional[str],
                                  flags: int) -> DomainSnapshot:
    fn = "virDomainSnapshotLookupByName"
    d = _dom(domain, fn)
    c.non_null(name, "name", fn, SN)
    result: DomainSnapshot = c.call(d.conn, fn, SN, d, name, flags)
    return result


def virDomainHasCurrentSnapshot(domain: Domain, flags: int) -> int:
    return int(_on_dom(domain, "virDomainHasCurrentSnapshot", flags))


def virDomainSnapshotGetParent(snapshot: DomainSnapshot, flags: int) -> DomainSnapshot:
    result: DomainSnapshot = _on_snap(snapshot, "virDomainSnapshotGetParent", flags)
    return result


def virDomainSnapshotCurrent(domain: Domain, flags: int) -> DomainSnapshot:
    result: DomainSnapshot = _on_dom(domain, "virDomainSnapshotCurrent", flags)
    return result


def virDomainSnapshotIsCurrent(snapshot: DomainSnapshot, flags: int) -> int:
    return int(_on_snap(snapshot, "virDomainSnapshotIsCurrent", flags))


def virDomainSnapshotHasMetadata(snapshot: DomainSnapshot, flags: int) -> int:
    return int(_on_snap(snapshot, "virDomainSnapshotHasMetadata", flags))


def virDomainRevertToSnapshot(snapshot: DomainSnapshot, flags: int) -> None:
    fn = "virDomainRevertToSnapshot"
    s = _snap(snapshot, fn)
    c.writable(s.conn, fn, SN)
    exclusive_flags(flags, (sn.REVERT_RUNNING, "VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING"),
                    (sn.REVERT_PAUSED, "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED"), fn)
    c.call(s.conn, fn, SN, s, flags)


def virDomainSnapshotDelete(snapshot: DomainSnapshot, flags: int) -> None:
    fn = "virDomainSnapshotDelete"
    s = _snap(snapshot, fn)
    c.writable(s.conn, fn, SN)
    exclusive_flags(flags, (sn.DELETE_CHILDREN, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN"),
                    (sn.DELETE_CHILDREN_ONLY, "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY"), fn)
    c.call(s.conn, fn, SN, s, flags)


def virDomainSnapshotGetName(snapshot: DomainSnapshot) -> str:
    return _snap(snapshot, "virDomainSnapshotGetName").name


def virDomainSnapshotGetDomain(snapshot: DomainSnapshot) -> Domain:
    return _snap(snapshot, "virDomainSnapshotGetDomain").domain


def virDomainSnapshotGetConnect(snapshot: DomainSnapshot) -> Connect:
    return _snap(snapshot, "virDomainSnapshotGetConnect").conn
