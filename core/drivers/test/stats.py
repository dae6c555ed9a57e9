"""The test driver's statistics and the entry points it answers through
others: host CPU time and free pages, a domain's CPU time, bulk domain
statistics (only the "state" group, as libvirt's test driver), memory
peeking, and starting with passed files (the files are ignored)."""

from __future__ import annotations

from typing import Any, Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, Domain
from ...structs import DomainStatsRecord, NodeCPUStats
from ..listing import matches

T = ErrorDomain.VIR_FROM_TEST
P_INT, P_ULLONG = 1, 4
NODE_CPU_STATS = (("user", 9797400000), ("kernel", 34678723400000),
                  ("idle", 87264900000), ("iowait", 763600000))
# A domain's CPU time (ns): the total, and the parts split over its vCPUs.
DOMAIN_CPU_TIME, DOMAIN_VCPU_TIME = 48772617035, 46303481255
DOMAIN_USER_TIME, DOMAIN_SYSTEM_TIME = 5540000000, 6460000000
VIR_TYPED_PARAM_STRING_OKAY = 4
VIR_MEMORY_VIRTUAL, VIR_MEMORY_PHYSICAL = 1, 2
STATS_STATE = 1
# VIR_CONNECT_LIST_DOMAINS_* filters, NOWAIT, BACKING and ENFORCE_STATS.
STATS_FLAGS = 0xFF | (1 << 29) | (1 << 30) | (1 << 31)
ENFORCE_STATS = 1 << 31


def _share(total: int, n: int, i: int) -> int:
    """CPU i's part of `total` split over n CPUs, the remainder on the last."""
    base, rest = divmod(total, n)
    return base + (1 if i >= n - rest else 0)


class StatsMixin:
    """Entry points of TestDriver; `lock`, `domains`, `_obj` and `_handle` are its."""

    lock: Any
    domains: Any

    def node_get_cpu_stats(self, cpu_num: int, flags: int) -> list[NodeCPUStats]:
        errors.check_flags(flags, 0, "testNodeGetCPUStats")
        return [NodeCPUStats(field, value) for field, value in NODE_CPU_STATS]

    def node_get_free_pages(self, pages: list[int], start_cell: int, cell_count: int,
                            flags: int) -> tuple[int, list[int]]:
        """(result, counts): libvirt's test driver fills the counts but returns 0."""
        errors.check_flags(flags, 0, "testNodeGetFreePages")
        counts, x = [], 6
        for _ in range(cell_count * len(pages)):
            x = x * 2 + 7
            counts.append(x)
        return 0, counts

    def domain_get_cpu_stats(self, dom: Domain, start_cpu: int, ncpus: int,
                             flags: int) -> list[Any]:
        errors.check_flags(flags, VIR_TYPED_PARAM_STRING_OKAY, "testDomainGetCPUStats")
        with self.lock:
            obj = self._obj(dom)  # type: ignore[attr-defined]
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                    ErrorDomain.VIR_FROM_DOMAIN, "domain is not running")
            n = obj.def_.vcpus
        if start_cpu == -1:
            return [("cpu_time", P_ULLONG, DOMAIN_CPU_TIME),
                    ("user_time", P_ULLONG, DOMAIN_USER_TIME),
                    ("system_time", P_ULLONG, DOMAIN_SYSTEM_TIME)]
        if start_cpu >= n:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                f"start_cpu {start_cpu} larger than maximum of {n - 1}")
        return [[("cpu_time", P_ULLONG, _share(DOMAIN_CPU_TIME, n, i)),
                 ("vcpu_time", P_ULLONG, _share(DOMAIN_VCPU_TIME, n, i))]
                for i in range(start_cpu, min(start_cpu + ncpus, n))]

    def connect_get_all_domain_stats(self, conn: Connect, doms: Optional[list[Domain]],
                                     stats: int, flags: int) -> list[DomainStatsRecord]:
        errors.check_flags(flags, STATS_FLAGS, "testConnectGetAllDomainStats")
        unsupported = stats & ~STATS_STATE
        if flags & ENFORCE_STATS and unsupported:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, T,
                                f"Stats types bits {unsupported:#x} are not supported "
                                "by this daemon")
        want_state = not stats or stats & STATS_STATE
        with self.lock:
            objs = self.stats_targets(doms)  # type: ignore[attr-defined]
            return [DomainStatsRecord(self._handle(conn, o),  # type: ignore[attr-defined]
                                      [("state.state", P_INT, int(o.state)),
                                       ("state.reason", P_INT, o.reason)]
                                      if want_state else [])
                    for o in objs if matches(o, flags & 0xFF)]

    def domain_memory_peek(self, dom: Domain, start: int, size: int, flags: int) -> bytes:
        errors.check_flags(flags, VIR_MEMORY_VIRTUAL | VIR_MEMORY_PHYSICAL,
                           "testDomainMemoryPeek")
        if flags not in (VIR_MEMORY_VIRTUAL, VIR_MEMORY_PHYSICAL):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                "flags parameter must be VIR_MEMORY_VIRTUAL or "
                                "VIR_MEMORY_PHYSICAL")
        with self.lock:
            if not self._obj(dom).is_active():  # type: ignore[attr-defined]
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                    ErrorDomain.VIR_FROM_DOMAIN, "domain is not running")
        return bytes((start + i) & 0xFF for i in range(size))

    def domain_create_with_files(self, dom: Domain, files: list[int], flags: int) -> None:
        self.domain_create_with_flags(dom, flags)  # type: ignore[attr-defined]

    def domain_create_xml_with_files(self, conn: Connect, xml: str, files: list[int],
                                     flags: int) -> Domain:
        result: Domain = self.domain_create_xml(conn, xml, flags)  # type: ignore[attr-defined]
        return result
