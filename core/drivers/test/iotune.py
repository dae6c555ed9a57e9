"""A disk's block I/O throttling (<disk><iotune>), read and written as
libvirt 9.0's test driver does for virDomainGet/SetBlockIoTune."""

from __future__ import annotations

from typing import Any, Optional

from lxml import etree

from ... import errors
from ...errors import ErrorDomain, ErrorNumber

T = ErrorDomain.VIR_FROM_TEST
P_ULLONG, P_STRING = 4, 7
# libvirt's order, both for the typed parameters and for the XML children.
FIELDS = (
    "total_bytes_sec", "read_bytes_sec", "write_bytes_sec", "total_iops_sec",
    "read_iops_sec", "write_iops_sec", "total_bytes_sec_max", "read_bytes_sec_max",
    "write_bytes_sec_max", "total_iops_sec_max", "read_iops_sec_max", "write_iops_sec_max",
    "size_iops_sec", "group_name", "total_bytes_sec_max_length",
    "read_bytes_sec_max_length", "write_bytes_sec_max_length", "total_iops_sec_max_length",
    "read_iops_sec_max_length", "write_iops_sec_max_length",
)
TYPES = {name: P_STRING if name == "group_name" else P_ULLONG for name in FIELDS}
LIMIT_MAX = 1000000000000000   # TEST_BLOCK_IOTUNE_MAX
_TOTAL_VS_RW = ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max")
_MAX_CHECKS = (("total_bytes_sec", "total_bytes_sec_max"),
               ("read_bytes_sec", "read_bytes_sec_max"),
               ("write_bytes_sec", "write_bytes_sec_max"),
               ("total_iops_sec", "total_iops_sec_max"),
               ("read_iops_sec", "read_iops_sec_max"),
               ("write_iops_sec", "write_iops_sec_max"))


def read(disk: etree._Element) -> dict[str, Any]:
    """The disk's settings: every number (0 when unset) and group_name (None when unset)."""
    info: dict[str, Any] = {name: 0 for name in FIELDS}
    info["group_name"] = None
    elem = disk.find("iotune")
    if elem is None:
        return info
    for child in elem:
        if not isinstance(child.tag, str) or child.tag not in TYPES:
            continue
        text = (child.text or "").strip()
        if child.tag == "group_name":
            info["group_name"] = child.text or ""
        elif text.isdigit():
            info[child.tag] = int(text)
    return info


def typed(info: dict[str, Any]) -> list[tuple[str, int, Any]]:
    """The 20 typed parameters virDomainGetBlockIoTune returns."""
    return [(name, TYPES[name], (info[name] or "") if name == "group_name" else info[name])
            for name in FIELDS]


def apply(info: dict[str, Any], params: list[tuple[str, int, Any]]) -> dict[str, Any]:
    """`info` updated with `params`, checked as testDomainSetBlockIoTune checks."""
    new = dict(info)
    for name, ptype, value in params:
        if ptype != P_STRING and int(value) > LIMIT_MAX:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, T,
                                "block I/O throttle limit value must be no more than "
                                f"{LIMIT_MAX}")
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


def store(disk: etree._Element, info: dict[str, Any]) -> None:
    """Write `info` as the disk's <iotune>, right after <target>, as libvirt formats it."""
    old = disk.find("iotune")
    elem: Optional[etree._Element] = None
    if any(info[n] for n in FIELDS if n != "group_name") or info["group_name"] is not None:
        elem = etree.Element("iotune")
        for name in FIELDS:
            value = info[name]
            if name == "group_name" and value is not None:
                etree.SubElement(elem, name).text = value
            elif name != "group_name" and value:
                etree.SubElement(elem, name).text = str(value)
    if old is not None:
        if elem is None:
            disk.remove(old)
        else:
            disk.replace(old, elem)
        return
    if elem is None:
        return
    target = disk.find("target")
    pos = list(disk).index(target) + 1 if target is not None else len(disk)
    disk.insert(pos, elem)
