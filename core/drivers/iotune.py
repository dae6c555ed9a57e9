"""A disk's block I/O throttling (<disk><iotune>) as libvirt 9.0 keeps it,
shared by the drivers' virDomainGet/SetBlockIoTune: the 20 typed
parameters in libvirt's order, and the <iotune> element read and written
(the checks on new values differ per driver: test/iotune.py, qemu/blockinfo.py)."""

from __future__ import annotations

from typing import Any, Optional

from lxml import etree

from .. import errors
from ..errors import ErrorNumber

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
NUMBERS = tuple(name for name in FIELDS if name != "group_name")
TYPES = {name: P_STRING if name == "group_name" else P_ULLONG for name in FIELDS}
LIMIT_MAX = 1000000000000000   # libvirt's highest accepted limit (both drivers)


def check_limit(value: int, domain: int) -> None:
    if value > LIMIT_MAX:
        raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, domain,
                            f"block I/O throttle limit value must be no more than {LIMIT_MAX}")


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


def store(disk: etree._Element, info: dict[str, Any]) -> None:
    """Write `info` as the disk's <iotune>, right after <target>, as libvirt formats it."""
    old = disk.find("iotune")
    elem: Optional[etree._Element] = None
    if any(info[n] for n in NUMBERS) or info["group_name"] is not None:
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
