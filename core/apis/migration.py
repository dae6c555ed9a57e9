"""Public migration and job functions (libvirt-domain.c): the migrate calls
run the v3 protocol of pyvirt.migration between two connections of this
process; peer-to-peer opens the destination URI here, as the source
driver would."""

from __future__ import annotations

from typing import Any, Optional

from .. import errors, migration as mig
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
TypedParams = list[tuple[str, int, Any]]

__all__ = [
    "virDomainMigrate", "virDomainMigrate2", "virDomainMigrate3", "virDomainMigrateToURI",
    "virDomainMigrateToURI2", "virDomainMigrateToURI3", "virDomainGetJobInfo",
    "virDomainGetJobStats", "virDomainAbortJob", "virDomainAbortJobFlags",
]


def _dom(dom: Any, fn: str) -> Domain:
    result: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return result


def _check_flags(flags: int, fn: str) -> None:
    pairs = ((mig.VIR_MIGRATE_NON_SHARED_DISK, "VIR_MIGRATE_NON_SHARED_DISK",
              mig.VIR_MIGRATE_NON_SHARED_INC, "VIR_MIGRATE_NON_SHARED_INC"),
             (mig.VIR_MIGRATE_OFFLINE, "VIR_MIGRATE_OFFLINE",
              mig.VIR_MIGRATE_LIVE, "VIR_MIGRATE_LIVE"),
             (mig.VIR_MIGRATE_PAUSED, "VIR_MIGRATE_PAUSED",
              mig.VIR_MIGRATE_POSTCOPY_RESUME, "VIR_MIGRATE_POSTCOPY_RESUME"))
    for a, an, b, bn in pairs:
        if flags & a and flags & b:
            raise errors.invalid_arg(D, fn, "flags",
                                     f"Flags '{an}' and '{bn}' are mutually exclusive")


def _params(dxml: Optional[str], dname: Optional[str], uri: Optional[str],
            bandwidth: int) -> TypedParams:
    out: TypedParams = []
    if dxml is not None:
        out.append(("destination_xml", mig.P_STRING, dxml))
    if dname is not None:
        out.append(("destination_name", mig.P_STRING, dname))
    if uri is not None:
        out.append(("migrate_uri", mig.P_STRING, uri))
    if bandwidth:
        out.append(("bandwidth", mig.P_ULLONG, bandwidth))
    return out


def _managed(domain: Any, dconn: Any, params: TypedParams, flags: int, fn: str) -> Domain:
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    dc = c.conn(dconn, fn, D)
    c.writable(dc, fn, D)
    _check_flags(flags, fn)
    result: Domain = mig.migrate_managed(d, dc, params, flags & ~mig.VIR_MIGRATE_PEER2PEER)
    return result


def virDomainMigrate(domain: Domain, dconn: Connect, flags: int, dname: Optional[str],
                     uri: Optional[str], bandwidth: int) -> Domain:
    return _managed(domain, dconn, _params(None, dname, uri, bandwidth), flags,
                    "virDomainMigrate")


def virDomainMigrate2(domain: Domain, dconn: Connect, dxml: Optional[str], flags: int,
                      dname: Optional[str], uri: Optional[str], bandwidth: int) -> Domain:
    return _managed(domain, dconn, _params(dxml, dname, uri, bandwidth), flags,
                    "virDomainMigrate2")


def virDomainMigrate3(domain: Domain, dconn: Connect, params: TypedParams,
                      flags: int) -> Domain:
    return _managed(domain, dconn, list(params or []), flags, "virDomainMigrate3")


def _to_uri(domain: Any, dconnuri: Optional[str], params: TypedParams, flags: int,
            fn: str) -> None:
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _check_flags(flags, fn)
    if not flags & mig.VIR_MIGRATE_PEER2PEER:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                            "direct migration is not supported by the connection driver")
    if dconnuri is None:
        raise errors.invalid_arg(D, fn, "dconnuri",
                                 f"dconnuri in {fn} must not be NULL")
    from .. import api
    dconn = api.virConnectOpen(dconnuri)
    try:
        mig.migrate_managed(d, dconn, params, flags & ~mig.VIR_MIGRATE_PEER2PEER)
    finally:
        api.virConnectClose(dconn)


def virDomainMigrateToURI(domain: Domain, duri: Optional[str], flags: int,
                          dname: Optional[str], bandwidth: int) -> None:
    _to_uri(domain, duri, _params(None, dname, None, bandwidth), flags,
            "virDomainMigrateToURI")


def virDomainMigrateToURI2(domain: Domain, dconnuri: Optional[str], miguri: Optional[str],
                           dxml: Optional[str], flags: int, dname: Optional[str],
                           bandwidth: int) -> None:
    _to_uri(domain, dconnuri, _params(dxml, dname, miguri, bandwidth), flags,
            "virDomainMigrateToURI2")


def virDomainMigrateToURI3(domain: Domain, dconnuri: Optional[str], params: TypedParams,
                           flags: int) -> None:
    _to_uri(domain, dconnuri, list(params or []), flags, "virDomainMigrateToURI3")


def virDomainGetJobInfo(dom: Domain) -> mig.DomainJobInfo:
    fn = "virDomainGetJobInfo"
    d = _dom(dom, fn)
    result: mig.DomainJobInfo = c.call(d.conn, fn, D, d)
    return result


def virDomainGetJobStats(domain: Domain, flags: int) -> tuple[int, TypedParams]:
    fn = "virDomainGetJobStats"
    d = _dom(domain, fn)
    result: tuple[int, TypedParams] = c.call(d.conn, fn, D, d, flags)
    return result


def virDomainAbortJob(domain: Domain) -> None:
    fn = "virDomainAbortJob"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, write=True)


def virDomainAbortJobFlags(domain: Domain, flags: int) -> None:
    fn = "virDomainAbortJobFlags"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, flags, write=True)
