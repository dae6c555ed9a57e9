"""Tuning parameters as typed parameters, read from and written to a domain
definition (<memtune>, <blkiotune>, <numatune>, <perf> and an interface's
<bandwidth>): what virDomainGet/Set{Memory,Numa,Blkio,Interface}Parameters
and Get/SetPerfEvents do to a definition, the same in every driver.  A
setter changes `d` in place; `origin` is the error domain of the driver's
own checks (is_live: `d` is a running domain's)."""

from __future__ import annotations

from typing import Any, Callable

from .. import errors
from ..conf import domain_tune
from ..conf.domain import DomainDef
from ..conf.domain_iothreads import format_cpuset, parse_cpuset
from ..conf.domain_tune import UNLIMITED, BlkioDevice
from ..errors import ErrorDomain, ErrorNumber
from .metadata import find_interface

P_INT, P_UINT, P_LLONG, P_ULLONG, P_DOUBLE, P_BOOLEAN, P_STRING = range(1, 8)
TypedParams = list[tuple[str, int, Any]]
PERF_EVENTS = domain_tune.PERF_EVENTS
MEMORY = {"hard_limit": P_ULLONG, "soft_limit": P_ULLONG, "swap_hard_limit": P_ULLONG}
NUMA = {"numa_mode": P_INT, "numa_nodeset": P_STRING}
BLKIO_DEVICE = {"device_weight": "weight", "device_read_iops_sec": "read_iops_sec",
                 "device_write_iops_sec": "write_iops_sec",
                 "device_read_bytes_sec": "read_bytes_sec",
                 "device_write_bytes_sec": "write_bytes_sec"}
BLKIO = {"weight": P_UINT, **{name: P_STRING for name in BLKIO_DEVICE}}
BANDWIDTH = {f"{d}.{a}": P_UINT for d, attrs in (
    ("inbound", ("average", "peak", "burst", "floor")),
    ("outbound", ("average", "peak", "burst"))) for a in attrs}
PERF = {name: P_BOOLEAN for name in PERF_EVENTS}


def _invalid(domain: int, detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, domain, detail)



def get_memory(d: DomainDef, device: str) -> TypedParams:
    return [(n, P_ULLONG, d.tune.memtune.get(n, UNLIMITED)) for n in MEMORY]


def set_memory(d: DomainDef, params: dict[str, Any], is_live: bool, device: str,
                origin: int) -> None:
    memtune = d.tune.memtune
    if "hard_limit" in params or "swap_hard_limit" in params:
        hard = params.get("hard_limit", memtune.get("hard_limit", UNLIMITED))
        swap = params.get("swap_hard_limit", memtune.get("swap_hard_limit", UNLIMITED))
        if hard > swap:
            raise _invalid(origin, "memory hard_limit tunable value must "
                           "be lower than or equal to swap_hard_limit")
    for name, value in params.items():
        memtune[name] = min(value, UNLIMITED)


def get_numa(d: DomainDef, device: str) -> TypedParams:
    t = d.tune
    mode = domain_tune.NUMA_MODES.index(t.numa_mode) if t.numa_mode else 0
    nodeset = format_cpuset(t.numa_nodeset) if t.numa_nodeset else ""
    return [("numa_mode", P_INT, mode), ("numa_nodeset", P_STRING, nodeset)]


def set_numa(d: DomainDef, params: dict[str, Any], is_live: bool, device: str,
                origin: int) -> None:
    t = d.tune
    mode = params.get("numa_mode")
    if mode is not None and not 0 <= mode < len(domain_tune.NUMA_MODES):
        raise _invalid(origin, f"unsupported numatune mode: '{mode}'")
    nodeset = None
    if "numa_nodeset" in params:
        text = params["numa_nodeset"]
        nodeset = parse_cpuset(text)
        if not nodeset:
            raise _invalid(ErrorDomain.VIR_FROM_NONE, f"Failed to parse bitmap '{text}'")
    current = domain_tune.NUMA_MODES.index(t.numa_mode) if t.numa_mode else 0
    if is_live and mode is not None and t.numa_mode is not None and mode != current:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, origin,
                            "can't change numatune mode for running domain")
    new_nodeset = nodeset if nodeset is not None else t.numa_nodeset
    placement = "static" if nodeset is not None else (t.numa_placement or "static")
    if mode is None and nodeset is None:
        return
    if placement == "static" and not new_nodeset:
        raise domain_tune.numa_static_without_nodeset()
    t.numa_mode = domain_tune.NUMA_MODES[mode] if mode is not None else (t.numa_mode or "strict")
    t.numa_placement, t.numa_nodeset = placement, new_nodeset


def get_blkio(d: DomainDef, device: str) -> TypedParams:
    out: TypedParams = [("weight", P_UINT, d.tune.blkio_weight)]
    for param, field in BLKIO_DEVICE.items():
        text = ",".join(f"{dev.path},{dev.values[field]}" for dev in d.tune.blkio_devices
                        if dev.values.get(field))
        out.append((param, P_STRING, text))
    return out


def _parse_blkio_devices(param: str, text: str) -> list[tuple[str, int]]:
    """'/dev/sda,500,/dev/sdb,0' -> [('/dev/sda', 500), ('/dev/sdb', 0)]."""
    if not text:
        return []
    parts = text.split(",")
    if len(parts) % 2 or any(not p for p in parts[0::2]):
        raise _invalid(ErrorDomain.VIR_FROM_DOMAIN,
                       f"unable to parse blkio device '{param}' '{text}'")
    out = []
    for path, value in zip(parts[0::2], parts[1::2]):
        if not value.isdigit():
            raise _invalid(ErrorDomain.VIR_FROM_DOMAIN, f"invalid value '{value}' for "
                           f"parameter '{param}' of device '{path}'")
        out.append((path, int(value)))
    return out


def set_blkio(d: DomainDef, params: dict[str, Any], is_live: bool, device: str,
                origin: int) -> None:
    parsed = {param: _parse_blkio_devices(param, params[param])
              for param in BLKIO_DEVICE if param in params}
    if "weight" in params:
        d.tune.blkio_weight = params["weight"]
    for param, entries in parsed.items():
        field = BLKIO_DEVICE[param]
        for path, value in entries:
            dev = next((x for x in d.tune.blkio_devices if x.path == path), None)
            if dev is None:
                if not value:
                    continue
                dev = BlkioDevice(path)
                d.tune.blkio_devices.append(dev)
            if value:
                dev.values[field] = value
            else:
                dev.values.pop(field, None)
    d.tune.blkio_devices = [x for x in d.tune.blkio_devices if any(x.values.values())]


def get_bandwidth(d: DomainDef, device: str) -> TypedParams:
    iface = find_interface(d, device)
    values = domain_tune.bandwidth_values(iface) if iface is not None else {}
    return [(name, P_UINT, values.get(name.split(".")[0], {}).get(name.split(".")[1], 0))
            for name in BANDWIDTH]


def set_bandwidth(d: DomainDef, params: dict[str, Any], is_live: bool, device: str,
                origin: int) -> None:
    iface = find_interface(d, device)
    assert iface is not None
    values = domain_tune.bandwidth_values(iface)
    for direction, keep in (("inbound", ("average", "floor")), ("outbound", ("average",))):
        new = {name.split(".")[1]: value for name, value in params.items()
               if name.startswith(direction + ".") and value}
        if any(new.get(k) for k in keep):
            values[direction] = new
        elif f"{direction}.average" in params:
            values.pop(direction, None)
    domain_tune.set_bandwidth(iface, values)


def get_perf(d: DomainDef, device: str) -> TypedParams:
    return [(name, P_BOOLEAN, d.tune.perf.get(name, False)) for name in PERF_EVENTS]


def set_perf(d: DomainDef, params: dict[str, Any], is_live: bool, device: str,
                origin: int) -> None:
    for name, value in params.items():
        d.tune.perf[name] = bool(value)


Getter = Callable[[DomainDef, str], TypedParams]
Setter = Callable[[DomainDef, dict[str, Any], bool, str, int], None]


