"""Public domain checkpoint functions (virDomainCheckpoint*)."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain, DomainCheckpoint
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
CK = ErrorDomain.VIR_FROM_DOMAIN_CHECKPOINT

__all__ = [
    "virDomainCheckpointCreateXML", "virDomainCheckpointGetXMLDesc",
    "virDomainListAllCheckpoints", "virDomainCheckpointListAllChildren",
    "virDomainCheckpointLookupByName", "virDomainCheckpointGetParent",
    "virDomainCheckpointDelete", "virDomainCheckpointGetName", "virDomainCheckpointGetDomain",
    "virDomainCheckpointGetConnect",
]


def _dom(dom: Any, fn: str) -> Domain:
    result: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return result


def _ck(ck: Any, fn: str) -> DomainCheckpoint:
    result: DomainCheckpoint = c.handle(ck, DomainCheckpoint,
                                        ErrorNumber.VIR_ERR_INVALID_DOMAIN_CHECKPOINT, CK, fn)
    return result


def _on_ck(ck: Any, fn: str, *args: Any, write: bool = False) -> Any:
    k = _ck(ck, fn)
    return c.call(k.conn, fn, CK, k, *args, write=write)


def virDomainCheckpointCreateXML(domain: Domain, xmlDesc: Optional[str],
                                 flags: int) -> DomainCheckpoint:
    fn = "virDomainCheckpointCreateXML"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, CK)
    c.non_null(xmlDesc, "xmlDesc", fn, CK)
    result: DomainCheckpoint = c.call(d.conn, fn, CK, d, xmlDesc, flags)
    return result


def virDomainCheckpointGetXMLDesc(checkpoint: DomainCheckpoint, flags: int) -> str:
    return str(_on_ck(checkpoint, "virDomainCheckpointGetXMLDesc", flags))


def virDomainListAllCheckpoints(domain: Domain, flags: int) -> list[DomainCheckpoint]:
    fn = "virDomainListAllCheckpoints"
    d = _dom(domain, fn)
    return list(c.call(d.conn, fn, CK, d, flags))


def virDomainCheckpointListAllChildren(checkpoint: DomainCheckpoint,
                                       flags: int) -> list[DomainCheckpoint]:
    return list(_on_ck(checkpoint, "virDomainCheckpointListAllChildren", flags))


def virDomainCheckpointLookupByName(domain: Domain, name: Optional[str],
                                    flags: int) -> DomainCheckpoint:
    fn = "virDomainCheckpointLookupByName"
    d = _dom(domain, fn)
    c.non_null(name, "name", fn, CK)
    result: DomainCheckpoint = c.call(d.conn, fn, CK, d, name, flags)
    return result


def virDomainCheckpointGetParent(checkpoint: DomainCheckpoint, flags: int) -> DomainCheckpoint:
    result: DomainCheckpoint = _on_ck(checkpoint, "virDomainCheckpointGetParent", flags)
    return result


def virDomainCheckpointDelete(checkpoint: DomainCheckpoint, flags: int) -> None:
    _on_ck(checkpoint, "virDomainCheckpointDelete", flags, write=True)


def virDomainCheckpointGetName(checkpoint: DomainCheckpoint) -> str:
    return _ck(checkpoint, "virDomainCheckpointGetName").name


def virDomainCheckpointGetDomain(checkpoint: DomainCheckpoint) -> Domain:
    return _ck(checkpoint, "virDomainCheckpointGetDomain").domain


def virDomainCheckpointGetConnect(checkpoint: DomainCheckpoint) -> Connect:
    return _ck(checkpoint, "virDomainCheckpointGetConnect").conn
