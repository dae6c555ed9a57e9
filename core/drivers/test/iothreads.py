"""The test driver's IOThread entry points (add, delete, pin, tune, list),
kept in the domain definition as libvirt 9.0's test driver keeps them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from ... import errors
from ...conf import domain_iothreads
from ...conf.domain_iothreads import IOThreadDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainIOThreadInfo
from ..cpumaps import cpumap_bytes, cpus_of, host_cpus
from .domain_extra import check_params

T = ErrorDomain.VIR_FROM_TEST
D = ErrorDomain.VIR_FROM_DOMAIN
N = ErrorDomain.VIR_FROM_NONE
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
# testDomainSetIOThreadParams' virTypedParamsValidate list: name -> type.
_PARAMS = {"poll_max_ns": 4, "poll_grow": 2, "poll_shrink": 2}


class IOThreadMixin:
    """virDomain{Add,Del,Pin}IOThread, virDomainSetIOThreadParams, virDomainGetIOThreadInfo."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _one_def(self, obj: DomainObj, flags: int) -> Any: ...

    def domain_get_io_thread_info(self, dom: Domain, flags: int) -> list[DomainIOThreadInfo]:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainGetIOThreadInfo")
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            everywhere = host_cpus()
            return [DomainIOThreadInfo(t.id, cpumap_bytes(t.cpumask or everywhere))
                    for t in d.iothreads]

    def domain_add_io_thread(self, dom: Domain, iothread_id: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainAddIOThread")
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            if iothread_id == 0:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    "invalid value of 0 for iothread_id")
            domain_iothreads.check_new(d.iothreads, iothread_id)
            d.iothreads.append(IOThreadDef(iothread_id, added=True))

    def domain_del_io_thread(self, dom: Domain, iothread_id: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainDelIOThread")
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            d.iothreads.remove(domain_iothreads.check_known(d.iothreads, iothread_id))

    def domain_pin_io_thread(self, dom: Domain, iothread_id: int, cpumap: bytes,
                             flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainPinIOThread")
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            found = [t for t in d.iothreads if t.id == iothread_id]
            if not found:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    f"iothreadid {iothread_id} not found")
            cpus = cpus_of(cpumap)
            if not cpus:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    "Empty iothread cpumap list for pinning")
            found[0].cpumask = cpus
            found[0].autofill = False

    def domain_set_io_thread_params(self, dom: Domain, iothread_id: int,
                                    params: list[tuple[str, int, Any]], flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE, "testDomainSetIOThreadParams")
        check_params(params, _PARAMS)
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            if not any(t.id == iothread_id for t in d.iothreads):
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    f"cannot find IOThread '{iothread_id}' in iothreadids")
            if not next(t for t in d.iothreads if t.id == iothread_id).added:
                raise errors.VirtError(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N,
                                       "An error occurred, but the cause is unknown")
            # The polling values are not part of the definition: nothing to keep.
