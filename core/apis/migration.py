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
    "virDomainMigrateGetCompressionCache", "virDomainMigrateSetCompressionCache",
    "virDomainMigrate", "virDomainMigrate2", "virDomainMigrate3", "virDomainMigrateToURI",
    "virDomainMigrateToURI2", "virDomainMigrateToURI3", "virDomainGetJobInfo",
    "virDomainGetJobStats", "virDomainAbortJob", "virDomainAbortJobFlags",
    "virDomainMigrateStartPostCopy", "virDomainMigrateSetMaxDowntime",
    "virDomainMigrateGetMaxDowntime", "virDomainMigrateSetMaxSpeed",
    "virDomainMigrateGetMaxSpeed",
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
    result: Domain = mig.migrate_managed(d, dc, params, flags & ~mig.VIR_MIGRATE_PEER2PEER, fn)
    return result


def virDomainMigrate(domain: Domain, dconn: Connect, flags: int, dname: Optional[str],
                     uri: Optional[str], bandwidth: int) -> Domain:
    return _managed(domain, dconn, _params(None, dname, uri, bandwidth), flags,
                    "virDomainMigrate")


def virDomainMigrate2(domain: Domain, dconn: Connect, dxml: Optional[str], flags: int,
                      dname: Optional[str], uri: Optional[str], bandwidth: int) -> Domain:
    return _managed(domain, dconn, _params(dxml, dname, uri, bandwidth), flags,
                    "virDomainMigrate2")


# What virDomainMigrate3 can pass on to the older protocols (libvirt-domain.c).
_COMPAT_PARAMS = frozenset({"migrate_uri", "destination_name", "destination_xml",
                            "bandwidth"})


def _without_migration_features(d: Domain, dc: Connect, params: TypedParams,
                                flags: int) -> None:
    """virDomainMigrate3's checks when a side's driver has no migration
    features (VIR_DRV_FEATURE_MIGRATION_*): the test driver's case."""
    src = d.conn.driver.entry_point("virDomainMigrateBegin3Params") is not None
    dst = dc.driver.entry_point("virDomainMigrateBegin3Params") is not None
    if src and dst:
        return
    unsupported = ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED
    if flags & mig.VIR_MIGRATE_OFFLINE:
        side = "destination" if src else "source"
        raise errors.report(unsupported, D, f"offline migration is not supported by the "
                                            f"{side} host")
    if flags & mig.VIR_MIGRATE_CHANGE_PROTECTION and not src:
        raise errors.report(unsupported, D, "cannot enforce change protection")
    if any(name not in _COMPAT_PARAMS for name, _, _ in params):
        raise errors.report(unsupported, D, "Migration APIs with extensible parameters are "
                                            "not supported but extended parameters were passed")


def virDomainMigrate3(domain: Domain, dconn: Connect, params: TypedParams,
                      flags: int) -> Domain:
    fn = "virDomainMigrate3"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    dc = c.conn(dconn, fn, D)
    c.writable(dc, fn, D)
    _check_flags(flags, fn)
    _without_migration_features(d, dc, list(params or []), flags)
    return _managed(domain, dconn, list(params or []), flags, fn)


def _to_uri(domain: Any, dconnuri: Optional[str], params: TypedParams, flags: int,
            fn: str) -> None:
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _check_flags(flags, fn)
    if d.conn.driver.entry_point("virDomainMigrateBegin3Params") is None:
        # a driver with no migration features at all (the test driver)
        kind = "p2p" if flags & mig.VIR_MIGRATE_PEER2PEER else "direct"
        raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, D,
                            f"{kind} migration is not supported by the source host")
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


def virDomainMigrateStartPostCopy(domain: Domain, flags: int) -> None:
    fn = "virDomainMigrateStartPostCopy"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, flags, write=True)


def virDomainMigrateSetMaxDowntime(domain: Domain, downtime: int, flags: int) -> None:
    fn = "virDomainMigrateSetMaxDowntime"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, downtime, flags, write=True)


def virDomainMigrateGetMaxDowntime(domain: Domain, flags: int) -> int:
    fn = "virDomainMigrateGetMaxDowntime"
    d = _dom(domain, fn)
    result: int = c.call(d.conn, fn, D, d, flags)
    return result


def virDomainMigrateGetCompressionCache(domain: Domain, flags: int) -> int:
    fn = "virDomainMigrateGetCompressionCache"
    d = _dom(domain, fn)
    result: int = c.call(d.conn, fn, D, d, flags)
    return result


def virDomainMigrateSetCompressionCache(domain: Domain, cacheSize: int, flags: int) -> None:
    fn = "virDomainMigrateSetCompressionCache"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, cacheSize, flags, write=True)


def virDomainMigrateSetMaxSpeed(domain: Domain, bandwidth: int, flags: int) -> None:
    fn = "virDomainMigrateSetMaxSpeed"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, bandwidth, flags, write=True)


def virDomainMigrateGetMaxSpeed(domain: Domain, flags: int) -> int:
    fn = "virDomainMigrateGetMaxSpeed"
    d = _dom(domain, fn)
    result: int = c.call(d.conn, fn, D, d, flags)
    return result
