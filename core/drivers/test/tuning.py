"""The test driver's tuning parameters (typed parameters) on the
definition that the flags pick, with tuneparams' tables, and node
memory/CPU queries."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ... import errors
from ...conf import domain_tune
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain
from ...objects import Domain
from ..tuneparams import (BANDWIDTH, BLKIO, MEMORY, NUMA, PERF, Getter,
                          Setter, get_bandwidth, get_blkio, get_memory, get_numa, get_perf,
                          set_bandwidth, set_blkio, set_memory, set_numa, set_perf)
from . import defaults
from .domain_extra import AFFECT_CONFIG, AFFECT_LIVE, TypedParams, check_params, find_interface

_FLAGS = AFFECT_LIVE | AFFECT_CONFIG
STRING_OKAY = 4   # VIR_TYPED_PARAM_STRING_OKAY, which pyvirt.api adds as libvirt.c does


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
            setter(work, {name: value for name, _, value in params}, is_live, device,
                   ErrorDomain.VIR_FROM_TEST)
            d.tune = work.tune
            if device:
                old, new = find_interface(d, device), find_interface(work, device)
                assert old is not None and new is not None
                domain_tune.set_bandwidth(old, domain_tune.bandwidth_values(new))

    def domain_get_memory_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetMemoryParameters", get_memory)

    def domain_set_memory_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetMemoryParameters", MEMORY, set_memory)

    def domain_get_numa_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetNumaParameters", get_numa)

    def domain_set_numa_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetNumaParameters", NUMA, set_numa)

    def domain_get_blkio_parameters(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetBlkioParameters", get_blkio)

    def domain_set_blkio_parameters(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetBlkioParameters", BLKIO, set_blkio)

    def domain_get_interface_parameters(self, dom: Domain, device: str,
                                        flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetInterfaceParameters", get_bandwidth,
                         device)

    def domain_set_interface_parameters(self, dom: Domain, device: str, params: TypedParams,
                                        flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetInterfaceParameters", BANDWIDTH,
                  set_bandwidth, device)

    def _check_iface(self, d: DomainDef, device: str) -> None:
        if find_interface(d, device) is None:
            raise errors.report(errors.ErrorNumber.VIR_ERR_INVALID_ARG,
                                errors.ErrorDomain.VIR_FROM_DOMAIN,
                                f"'{device}' is not a known interface")

    def domain_get_perf_events(self, dom: Domain, flags: int) -> TypedParams:
        return self._get(dom, flags, "testDomainGetPerfEvents", get_perf)

    def domain_set_perf_events(self, dom: Domain, params: TypedParams, flags: int) -> None:
        self._set(dom, params, flags, "testDomainSetPerfEvents", PERF, set_perf)

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
