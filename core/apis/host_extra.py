"""Public host functions (libvirt-host.c, reported under VIR_FROM_DOMAIN)
that the test driver does not implement: libvirt checks their arguments
before it asks the driver, so these do the same, then ask the driver."""

from __future__ import annotations

from typing import Any, Optional

from .. import errors
from ..errors import ErrorDomain
from ..objects import Connect
from . import _common as c

HOST = ErrorDomain.VIR_FROM_DOMAIN
TypedParams = list[tuple[str, int, Any]]

__all__ = [
    "virConnectCompareCPU", "virConnectCompareHypervisorCPU",
    "virConnectBaselineHypervisorCPU", "virNodeAllocPages", "virNodeSetMemoryParameters",
    "virNodeGetMemoryStats", "virNodeGetMemoryParameters", "virNodeSuspendForDuration",
]
STRING_OKAY = 4   # VIR_TYPED_PARAM_STRING_OKAY, added for drivers that take string parameters


def virConnectCompareCPU(conn: Connect, xmlDesc: Optional[str], flags: int) -> int:
    fn = "virConnectCompareCPU"
    cn = c.conn(conn, fn, HOST)
    c.non_null(xmlDesc, "xmlDesc", fn, HOST)
    return int(c.call(cn, fn, HOST, xmlDesc, flags))


def virConnectCompareHypervisorCPU(conn: Connect, emulator: Optional[str], arch: Optional[str],
                                   machine: Optional[str], virttype: Optional[str],
                                   xmlCPU: Optional[str], flags: int) -> int:
    fn = "virConnectCompareHypervisorCPU"
    cn = c.conn(conn, fn, HOST)
    c.non_null(xmlCPU, "xmlCPU", fn, HOST)
    return int(c.call(cn, fn, HOST, emulator, arch, machine, virttype, xmlCPU, flags))


def virConnectBaselineHypervisorCPU(conn: Connect, emulator: Optional[str],
                                    arch: Optional[str], machine: Optional[str],
                                    virttype: Optional[str],
                                    xmlCPUs: Optional[list[str]], flags: int) -> str:
    fn = "virConnectBaselineHypervisorCPU"
    cn = c.conn(conn, fn, HOST)
    c.non_null(xmlCPUs, "xmlCPUs", fn, HOST)
    return str(c.call(cn, fn, HOST, emulator, arch, machine, virttype, list(xmlCPUs or []),
                      flags))


def virNodeAllocPages(conn: Connect, pageSizes: Optional[list[int]],
                      pageCounts: Optional[list[int]], startCell: int, cellCount: int,
                      flags: int) -> int:
    # npages is the length of the two lists
    fn = "virNodeAllocPages"
    cn = c.conn(conn, fn, HOST)
    c.writable(cn, fn, HOST)
    c.non_zero(len(pageSizes or ()), "npages", fn, HOST)
    c.non_null(pageSizes, "pageSizes", fn, HOST)
    c.non_null(pageCounts, "pageCounts", fn, HOST)
    c.non_zero(cellCount, "cellCount", fn, HOST)
    return int(c.call(cn, fn, HOST, pageSizes, pageCounts, startCell, cellCount, flags))


def virNodeSetMemoryParameters(conn: Connect, params: Optional[TypedParams], flags: int) -> None:
    fn = "virNodeSetMemoryParameters"
    cn = c.conn(conn, fn, HOST)
    c.writable(cn, fn, HOST)
    c.non_null(params, "params", fn, HOST)
    c.call(cn, fn, HOST, params, flags)


def virNodeGetMemoryStats(conn: Connect, cellNum: int, flags: int) -> Any:
    fn = "virNodeGetMemoryStats"
    cn = c.conn(conn, fn, HOST)
    if cellNum < 0 and cellNum != -1:
        raise errors.invalid_arg(HOST, fn, "cellNum",
                                 f"cellNum in {fn} only accepts -1 as a negative value")
    return c.call(cn, fn, HOST, cellNum, flags)


def virNodeGetMemoryParameters(conn: Connect, flags: int) -> TypedParams:
    fn = "virNodeGetMemoryParameters"
    cn = c.conn(conn, fn, HOST)
    return list(c.call(cn, fn, HOST, flags | STRING_OKAY))


def virNodeSuspendForDuration(conn: Connect, target: int, duration: int, flags: int) -> None:
    fn = "virNodeSuspendForDuration"
    cn = c.conn(conn, fn, HOST)
    c.writable(cn, fn, HOST)
    c.call(cn, fn, HOST, target, duration, flags)
