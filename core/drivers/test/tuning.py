"""The test driver's tuning parameters (typed parameters, all at their
defaults: the simulated host enforces none) and node memory/CPU queries."""

from __future__ import annotations

import copy
import threading
from typing import TYPE_CHECKING, Any

from ... import errors
from ...domainobj import DomainObj
from ...objects import Domain
from . import defaults
from .domain_extra import (AFFECT_CONFIG, AFFECT_LIVE, P_BOOLEAN, P_INT, P_STRING, P_UINT,
                           P_ULLONG, TypedParams, check_params, find_interface)

UNLIMITED = 9007199254740991   # VIR_DOMAIN_MEMORY_PARAM_UNLIMITED
_MEMORY = (("hard_limit", P_ULLONG, UNLIMITED), ("soft_limit", P_ULLONG, UNLIMITED),
           ("swap_hard_limit", P_ULLONG, UNLIMITED))
_NUMA = (("numa_mode", P_INT, 0), ("numa_nodeset", P_STRING, ""))
_BLKIO = (("weight", P_UINT, 0), ("device_weight", P_STRING, ""),
          ("device_read_iops_sec", P_STRING, ""), ("device_write_iops_sec", P_STRING, ""),
          ("device_read_bytes_sec", P_STRING, ""), ("device_write_bytes_sec", P_STRING, ""))
_BANDWIDTH = tuple((name, P_UINT, 0) for name in (
    "inbound.average", "inbound.peak", "inbound.burst", "inbound.floor",
    "outbound.average", "outbound.peak", "outbound.burst"))
PERF_EVENTS = ("cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references",
               "cache_misses", "branch_instructions", "branch_misses", "bus_cycles",
               "stalled_cycles_frontend", "stalled_cycles_backend", "ref_cpu_cycles",
               "cpu_clock", "task_clock", "page_faults", "context_switches",
               "cpu_migrations", "page_faults_min", "page_faults_maj", "alignment_faults",
               "emulation_faults")
_FLAGS = AFFECT_LIVE | AFFECT_CONFIG
STRING_OKAY = 4   # VIR_TYPED_PARAM_STRING_OKAY, which pyvirt.api adds as libvirt.c does


# The values set so far, per table key, of the persistent definition
# (private["tune:config"]) and, while the domain runs, of the live one
# (private["tune:live"], a copy of the persistent values made at start).
def _values(obj: DomainObj, flags: int) -> dict[str, dict[str, Any]]:
    live = obj.is_active() and not flags & AFFECT_CONFIG
    values: dict[str, dict[str, Any]] = obj.private.setdefault(
        "tune:live" if live else "tune:config", {})
    return values


def start_live_values(obj: DomainObj) -> None:
    """A starting domain's live values begin as its persistent ones."""
    obj.private["tune:live"] = copy.deepcopy(obj.private.get("tune:config", {}))


def _table(obj: DomainObj, flags: int, key: str,
           defaults_: tuple[tuple[str, int, Any], ...]) -> TypedParams:
    stored = _values(obj, flags).get(key, {})
    return [(name, ptype, stored.get(name, value)) for name, ptype, value in defaults_]


def _store(obj: DomainObj, flags: int, key: str, params: TypedParams) -> None:
    _values(obj, flags).setdefault(key, {}).update({name: value for name, _, value in params})


class TuningMixin:
    """Typed-parameter getters and setters, and node memory/CPU queries."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _defs(self, obj: DomainObj, flags: int) -> list[Any]: ...
        def _one_def(self, obj: DomainObj, flags: int) -> Any: ...

    def _get(self, dom: Domain, flags: int, fn: str, key: str,
             table: tuple[tuple[str, int, Any], ...], device: str = "") -> TypedParams:
        errors.check_flags(flags, _FLAGS | STRING_OKAY, fn)
        with self.lock:
            obj = self._obj(dom)
            # One definition, as virDomainObjGetOneDef: LIVE with CONFIG is
            # invalid, LIVE on an inactive domain "is not running".
            self._one_def(obj, flags)
            if device:
                self._check_iface(obj, device)
            return _table(obj, flags, key, table)

    def _set(self, dom: Domain, params: TypedParams, flags: int, fn: str, key: str,
             table: tuple[tuple[str, int, Any], ...], device: str = "") -> None:
        errors.check_flags(flags, _FLAGS, fn)
        check_params(params, {name: ptype for name, ptype, _ in table})
        with self.lock:
            obj = self._obj(dom)
            self._one_def(obj, flags)
            if device:
                self._check_iface(obj, device)
            _store(obj, flags, key, params)

    def domain_get_memory_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetMemoryParameters", "memtune", _MEMORY)

    def domain_set_memory_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetMemoryParameters", "memtune", _MEMORY)

    def domain_get_numa_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetNumaParameters", "numatune", _NUMA)

    def domain_set_numa_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetNumaParameters", "numatune", _NUMA)

    def domain_get_blkio_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetBlkioParameters", "blkiotune", _BLKIO)

    def domain_set_blkio_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetBlkioParameters", "blkiotune", _BLKIO)

    def domain_get_interface_parameters(self, dom: Domain, device: str,
                                        flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetInterfaceParameters", f"bw:{device}",
                         _BANDWIDTH, device)

    def domain_set_interface_parameters(self, dom: Domain, device: str, params: TypedParams,
                                        flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetInterfaceParameters", f"bw:{device}",
                  _BANDWIDTH, device)

    def _check_iface(self, obj: DomainObj, device: str) -> None:
        if find_interface(obj.def_, device) is None:
            raise errors.report(errors.ErrorNumber.VIR_ERR_INVALID_ARG,
                                errors.ErrorDomain.VIR_FROM_DOMAIN,
                                f"'{device}' is not a known interface")

    def domain_get_perf_events(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetPerfEvents", "perf",
                         tuple((name, P_BOOLEAN, False) for name in PERF_EVENTS))

    def domain_set_perf_events(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetPerfEvents", "perf",
                  tuple((name, P_BOOLEAN, False) for name in PERF_EVENTS))

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
