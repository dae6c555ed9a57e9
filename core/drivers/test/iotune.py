"""The test driver's checks of new block I/O throttling values, as libvirt
9.0's testDomainSetBlockIoTune makes them (the <iotune> element and the
typed parameters: drivers/iotune.py)."""

from __future__ import annotations

from typing import Any

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ..iotune import FIELDS, TYPES, check_limit, read, store, typed

__all__ = ["FIELDS", "TYPES", "apply", "read", "store", "typed"]

T = ErrorDomain.VIR_FROM_TEST
P_STRING = 7
_TOTAL_VS_RW = ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max")
_MAX_CHECKS = (("total_bytes_sec", "total_bytes_sec_max"),
               ("read_bytes_sec", "read_bytes_sec_max"),
               ("write_bytes_sec", "write_bytes_sec_max"),
               ("total_iops_sec", "total_iops_sec_max"),
               ("read_iops_sec", "read_iops_sec_max"),
               ("write_iops_sec", "write_iops_sec_max"))


def apply(info: dict[str, Any], params: list[tuple[str, int, Any]]) -> dict[str, Any]:
    """`info` updated with `params`, checked as testDomainSetBlockIoTune checks."""
    new = dict(info)
    for name, ptype, value in params:
        if ptype != P_STRING:
            check_limit(int(value), T)
        new[name] = value
    for kind in _TOTAL_VS_RW:
        if new["total_" + kind] and (new["read_" + kind] or new["write_" + kind]):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                f"total and read/write of {kind} cannot be set at the same time")
    for field, field_max in _MAX_CHECKS:
        if new[field] > new[field_max]:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                f"{field} cannot be set higher than {field_max} ")
    return new
