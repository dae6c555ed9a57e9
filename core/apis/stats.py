"""Statistics entry points: host CPU time and free pages, a domain's CPU
time, bulk domain statistics (virConnectGetAllDomainStats and
virDomainListGetStats), and a domain's I/O threads."""

from __future__ import annotations

from typing import Any, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from ..structs import DomainIOThreadInfo, DomainStatsRecord, NodeCPUStats
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
HOST = ErrorDomain.VIR_FROM_DOMAIN  # the VIR_FROM_THIS of libvirt-host.c (vir{Connect,Node}*)
VIR_NODE_CPU_STATS_ALL_CPUS = -1
Params = list[tuple[str, int, Any]]

__all__ = ["virNodeGetCPUStats", "virNodeGetFreePages", "virDomainGetCPUStats",
           "virConnectGetAllDomainStats", "virDomainListGetStats",
           "virDomainAddIOThread", "virDomainDelIOThread", "virDomainGetIOThreadInfo",
           "virDomainPinIOThread", "virDomainSetIOThreadParams"]


def _dom(dom: Any, fn: str) -> Domain:
    d: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return d


def virNodeGetCPUStats(conn: Connect, cpuNum: int, flags: int) -> list[NodeCPUStats]:
    fn = "virNodeGetCPUStats"
    cn = c.conn(conn, fn, HOST)
    if cpuNum < 0 and cpuNum != VIR_NODE_CPU_STATS_ALL_CPUS:
        raise errors.invalid_arg(HOST, fn, "cpuNum", f"cpuNum in {fn} only accepts "
                                 f"{VIR_NODE_CPU_STATS_ALL_CPUS} as a negative value")
    return list(c.call(cn, fn, HOST, cpuNum, flags))


def virNodeGetFreePages(conn: Connect, pages: Optional[list[int]], startcell: int,
                        cellcount: int, flags: int) -> tuple[int, list[int]]:
    """Free pages of each size in `pages` on each cell: (the driver's result,
    cellcount * len(pages) counts, cell by cell)."""
    fn = "virNodeGetFreePages"
    cn = c.conn(conn, fn, HOST)
    if not pages:
        raise errors.invalid_arg(HOST, fn, "npages", f"npages in {fn} must not be zero")
    if cellcount == 0:
        raise errors.invalid_arg(HOST, fn, "cellCount", f"cellCount in {fn} must not be zero")
    result, counts = c.call(cn, fn, HOST, list(pages), startcell, cellcount, flags)
    return result, list(counts)


def virDomainGetCPUStats(domain: Domain, start_cpu: int, ncpus: int, flags: int) -> list[Any]:
    """One list of (name, type, value) per CPU from start_cpu (at most ncpus);
    for start_cpu -1 (ncpus 1), the domain's total as a single list."""
    fn = "virDomainGetCPUStats"
    d = _dom(domain, fn)
    if start_cpu < -1:
        raise errors.invalid_arg(D, fn, "start_cpu", f"start_cpu in {fn} must be zero or greater")
    if start_cpu == -1 and ncpus != 1:
        raise errors.invalid_arg(D, fn, "ncpus", "ncpus must be 1 when start_cpu is -1")
    return list(c.call(d.conn, fn, D, d, start_cpu, ncpus, flags))


def virConnectGetAllDomainStats(conn: Connect, stats: int, flags: int) -> list[DomainStatsRecord]:
    fn = "virConnectGetAllDomainStats"
    cn = c.conn(conn, fn, D)
    return list(c.entry(cn, fn, fn, D)(cn, None, stats, flags))


def virDomainListGetStats(doms: Optional[list[Domain]], stats: int,
                          flags: int) -> list[DomainStatsRecord]:
    fn = "virDomainListGetStats"
    c.non_null(doms, "doms", fn, D)
    if not doms:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                            f"doms array in {fn} must contain at least one domain")
    first = doms[0]
    cn = c.conn(getattr(first, "conn", None), fn, D)
    entry = c.entry(cn, "virConnectGetAllDomainStats", fn, D)
    for dom in doms:
        d = _dom(dom, fn)
        if d.conn is not cn:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                "domains in 'doms' array must belong to a single connection")
    return list(entry(cn, list(doms), stats, flags))


def virDomainAddIOThread(domain: Domain, iothread_id: int, flags: int) -> None:
    fn = "virDomainAddIOThread"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, iothread_id, flags, write=True)


def virDomainDelIOThread(domain: Domain, iothread_id: int, flags: int) -> None:
    fn = "virDomainDelIOThread"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    if iothread_id == 0:
        raise errors.invalid_arg(D, fn, "iothread_id",
                                 f"iothread_id in {fn} must not be zero")
    c.call(d.conn, fn, D, d, iothread_id, flags)


def virDomainGetIOThreadInfo(domain: Domain, flags: int) -> list[DomainIOThreadInfo]:
    fn = "virDomainGetIOThreadInfo"
    d = _dom(domain, fn)
    if flags & 1 and flags & 2:
        raise errors.invalid_arg(D, fn, "flags", "Flags 'VIR_DOMAIN_AFFECT_LIVE' and "
                                 "'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
    return list(c.call(d.conn, fn, D, d, flags))


def virDomainPinIOThread(domain: Domain, iothread_id: int, cpumap: Optional[bytes],
                         flags: int) -> None:
    fn = "virDomainPinIOThread"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(cpumap, "cpumap", fn, D)
    if not cpumap:
        raise errors.invalid_arg(D, fn, "maplen", f"maplen in {fn} must be greater than zero")
    c.call(d.conn, fn, D, d, iothread_id, bytes(cpumap), flags)


def virDomainSetIOThreadParams(domain: Domain, iothread_id: int, params: Optional[Params],
                               flags: int) -> None:
    fn = "virDomainSetIOThreadParams"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.call(d.conn, fn, D, d, iothread_id, c.typed_in(params, fn, D, nonempty=True), flags)
