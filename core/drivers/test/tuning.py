"""The test driver's tuning parameters (typed parameters), read from and
written to the domain definition that the flags pick (<memtune>,
<blkiotune>, <numatune>, <perf> and an interface's <bandwidth>), and node
memory/CPU queries."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable

from ... import errors
from ...conf import domain_tune
from ...conf.domain import DomainDef
from ...conf.domain_iothreads import format_cpuset, parse_cpuset
from ...conf.domain_tune import UNLIMITED, BlkioDevice
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import defaults
from .domain_extra import (AFFECT_CONFIG, AFFECT_LIVE, P_BOOLEAN, P_INT, P_STRING, P_UINT,
                           P_ULLONG, TypedParams, check_params, find_interface)

PERF_EVENTS = domain_tune.PERF_EVENTS
_MEMORY = {"hard_limit": P_ULLONG, "soft_limit": P_ULLONG, "swap_hard_limit": P_ULLONG}
_NUMA = {"numa_mode": P_INT, "numa_nodeset": P_STRING}
_BLKIO_DEVICE = {"device_weight": "weight", "device_read_iops_sec": "read_iops_sec",
                 "device_write_iops_sec": "write_iops_sec",
                 "device_read_bytes_sec": "read_bytes_sec",
                 "device_write_bytes_sec": "write_bytes_sec"}
_BLKIO = {"weight": P_UINT, **{name: P_STRING for name in _BLKIO_DEVICE}}
_BANDWIDTH = {f"{d}.{a}": P_UINT for d, attrs in (
    ("inbound", ("average", "peak", "burst", "floor")),
    ("outbound", ("average", "peak", "burst"))) for a in attrs}
_PERF = {name: P_BOOLEAN for name in PERF_EVENTS}
_FLAGS = AFFECT_LIVE | AFFECT_CONFIG
STRING_OKAY = 4   # VIR_TYPED_PARAM_STRING_OKAY, which pyvirt.api adds as libvirt.c does


def _invalid(domain: int, detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, domain, detail)


# -- each table: the getter's parameters from a definition, and the setter
# applying parameters to one (is_live: the definition is a running domain's)

def _get_memory(d: DomainDef, device: str) -> TypedParams:
    return [(n, P_ULLONG, d.tune.memtune.get(n, UNLIMITED)) for n in _MEMORY]


def _set_memory(d: DomainDef, params: dict[str, Any], is_live: bool, device: str) -> None:
    memtune = d.tune.memtune
    if "hard_limit" in params or "swap_hard_limit" in params:
        hard = params.get("hard_limit", memtune.get("hard_limit", UNLIMITED))
        swap = params.get("swap_hard_limit", memtune.get("swap_hard_limit", UNLIMITED))
        if hard > swap:
            raise _invalid(ErrorDomain.VIR_FROM_TEST, "memory hard_limit tunable value must "
                           "be lower than or equal to swap_hard_limit")
    for name, value in params.items():
        memtune[name] = min(value, UNLIMITED)


def _get_numa(d: DomainDef, device: str) -> TypedParams:
    t = d.tune
    mode = domain_tune.NUMA_MODES.index(t.numa_mode) if t.numa_mode else 0
    nodeset = format_cpuset(t.numa_nodeset) if t.numa_nodeset else ""
    return [("numa_mode", P_INT, mode), ("numa_nodeset", P_STRING, nodeset)]


def _set_numa(d: DomainDef, params: dict[str, Any], is_live: bool, device: str) -> None:
    t = d.tune
    mode = params.get("numa_mode")
    if mode is not None and not 0 <= mode < len(domain_tune.NUMA_MODES):
        raise _invalid(ErrorDomain.VIR_FROM_TEST, f"unsupported numatune mode: '{mode}'")
    nodeset = None
    if "numa_nodeset" in params:
        text = params["numa_nodeset"]
        nodeset = parse_cpuset(text)
        if not nodeset:
            raise _invalid(ErrorDomain.VIR_FROM_NONE, f"Failed to parse bitmap '{text}'")
    current = domain_tune.NUMA_MODES.index(t.numa_mode) if t.numa_mode else 0
    if is_live and mode is not None and t.numa_mode is not None and mode != current:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, ErrorDomain.VIR_FROM_TEST,
                            "can't change numatune mode for running domain")
    new_nodeset = nodeset if nodeset is not None else t.numa_nodeset
    placement = "static" if nodeset is not None else (t.numa_placement or "static")
    if mode is None and nodeset is None:
        return
    if placement == "static" and not new_nodeset:
        raise domain_tune.numa_static_without_nodeset()
    t.numa_mode = domain_tune.NUMA_MODES[mode] if mode is not None else (t.numa_mode or "strict")
    t.numa_placement, t.numa_nodeset = placement, new_nodeset


def _get_blkio(d: DomainDef, device: str) -> TypedParams:
    out: TypedParams = [("weight", P_UINT, d.tune.blkio_weight)]
    for param, field in _BLKIO_DEVICE.items():
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


def _set_blkio(d: DomainDef, params: dict[str, Any], is_live: bool, device: str) -> None:
    parsed = {param: _parse_blkio_devices(param, params[param])
              for param in _BLKIO_DEVICE if param in params}
    if "weight" in params:
        d.tune.blkio_weight = params["weight"]
    for param, entries in parsed.items():
        field = _BLKIO_DEVICE[param]
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


def _get_bandwidth(d: DomainDef, device: str) -> TypedParams:
    iface = find_interface(d, device)
    values = domain_tune.bandwidth_values(iface) if iface is not None else {}
    return [(name, P_UINT, values.get(name.split(".")[0], {}).get(name.split(".")[1], 0))
            for name in _BANDWIDTH]


def _set_bandwidth(d: DomainDef, params: dict[str, Any], is_live: bool, device: str) -> None:
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


def _get_perf(d: DomainDef, device: str) -> TypedParams:
    return [(name, P_BOOLEAN, d.tune.perf.get(name, False)) for name in PERF_EVENTS]


def _set_perf(d: DomainDef, params: dict[str, Any], is_live: bool, device: str) -> None:
    for name, value in params.items():
        d.tune.perf[name] = bool(value)


Getter = Callable[[DomainDef, str], TypedParams]
Setter = Callable[[DomainDef, dict[str, Any], bool, str], None]


class TuningMixin:
    """Typed-parameter getters and setters, and node memory/CPU queries."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _defs(self, obj: DomainObj, flags: int) -> list[Any]: ...
        def _one_def(self, obj: DomainObj, flags: int) -> Any: ...

    def _get(self, dom: Domain, flags: int, fn: str, getter: Getter,
             device: str = "") -> TypedParams:
        errors.check_flags(flags, _FLAGS | STRING_OKAY, fn)
        with self.lock:
            obj = self._obj(dom)
            # One definition, as virDomainObjGetOneDef: LIVE with CONFIG is
            # invalid, LIVE on an inactive domain "is not running".
            d = self._one_def(obj, flags)
            if device:
                self._check_iface(d, device)
            return getter(d, device)

    def _set(self, dom: Domain, params: TypedParams, flags: int, fn: str,
             table: dict[str, int], setter: Setter, device: str = "") -> None:
        errors.check_flags(flags, _FLAGS, fn)
        check_params(params, table)
        with self.lock:
            obj = self._obj(dom)
            self._one_def(obj, flags)   # the checks; then the one definition to change,
            d = self._defs(obj, flags)[0]   # with a running domain's config kept apart
            if device:
                self._check_iface(d, device)
            is_live = obj.is_active() and not flags & AFFECT_CONFIG
            # changes are made on a copy, so that a refused one leaves nothing behind
            work = d.copy()
            work.tune = domain_tune.owned(work.tune)
            setter(work, {name: value for name, _, value in params}, is_live, device)
            d.tune = work.tune
            if device:
                old, new = find_interface(d, device), find_interface(work, device)
                assert old is not None and new is not None
                domain_tune.set_bandwidth(old, domain_tune.bandwidth_values(new))

    def domain_get_memory_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetMemoryParameters", _get_memory)

    def domain_set_memory_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetMemoryParameters", _MEMORY, _set_memory)

    def domain_get_numa_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetNumaParameters", _get_numa)

    def domain_set_numa_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetNumaParameters", _NUMA, _set_numa)

    def domain_get_blkio_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetBlkioParameters", _get_blkio)

    def domain_set_blkio_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetBlkioParameters", _BLKIO, _set_blkio)

    def domain_get_interface_parameters(self, dom: Domain, device: str,
                                        flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetInterfaceParameters", _get_bandwidth,
                         device)

    def domain_set_interface_parameters(self, dom: Domain, device: str, params: TypedParams,
                                        flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetInterfaceParameters", _BANDWIDTH,
                  _set_bandwidth, device)

    def _check_iface(self, d: DomainDef, device: str) -> None:
        if find_interface(d, device) is None:
            raise errors.report(errors.ErrorNumber.VIR_ERR_INVALID_ARG,
                                errors.ErrorDomain.VIR_FROM_DOMAIN,
                                f"'{device}' is not a known interface")

    def domain_get_perf_events(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetPerfEvents", _get_perf)

    def domain_set_perf_events(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetPerfEvents", _PERF, _set_perf)

    def domain_get_launch_security_info(self, dom: Domain, flags: int) -> TypedParams:
        errors.check_flags(flags, 0, "testDomainGetLaunchSecurityInfo")
        with self.lock:
            self._obj(dom)
            return []

    # -- node
    def node_get_cells_free_memory(self, start_cell: int, max_cells: int) -> list[int]:
        cells = defaults.DEFAULT_CELLS
        if start_cell < 0 or start_cell >= len(cells):
            raise errors.report(errors.ErrorNumber.VIR_ERR_INVALID_ARG,
                                errors.ErrorDomain.VIR_FROM_TEST,
                                "Range exceeds available cells")
        return [c.memory for c in cells[start_cell:start_cell + max_cells]]

    def node_get_free_memory(self) -> int:
        with self.lock:
            return int(self.node_info.memory)  # type: ignore[attr-defined]

    def node_get_cpu_map(self, flags: int) -> tuple[int, bytes, int]:
        errors.check_flags(flags, 0, "testNodeGetCPUMap")
        return 8, bytes([0b10101]), 3
