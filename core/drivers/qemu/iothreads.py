"""IOThreads of the QEMU driver, as libvirt 9.0's: each <iothreads> entry
is a QEMU iothread object `iothreadN` made at start (-object) or by
virDomainAddIOThread (object-add), listed live from query-iothreads with
each thread's affinity, pinned by sched_setaffinity (no cgroups) and
tuned by qom-set; the config's entries are the definition's."""

from __future__ import annotations

import json
import os
from typing import TYPE_CHECKING, Any, Optional

from ... import errors
from ...conf import domain_iothreads
from ...conf.domain import DomainDef
from ...conf.domain_iothreads import IOThreadDef, format_cpuset
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainIOThreadInfo
from ..cpumaps import cpumap_bytes, cpus_of, host_cpu_count, host_cpus
from ..typedparams import check_params
from . import affect
from .affect import AFFECT_CONFIG, AFFECT_LIVE, one_def, tunable_event
from .pinning import set_affinity
if TYPE_CHECKING:   # runtime -> command -> iothreads: no import at run time
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
P_INT, P_UINT, P_ULLONG = 1, 2, 4
# qemuDomainSetIOThreadParams' parameters -> QEMU's iothread properties
_PARAMS = {"poll_max_ns": P_ULLONG, "poll_grow": P_UINT, "poll_shrink": P_UINT,
           "thread_pool_min": P_INT, "thread_pool_max": P_INT}
_POOL = ("thread_pool_min", "thread_pool_max")


def command_args(d: DomainDef) -> list[str]:
    """-object for each IOThread, in the definition's order."""
    out: list[str] = []
    for t in d.iothreads:
        props: dict[str, Any] = {"qom-type": "iothread", "id": f"iothread{t.id}"}
        for name, value in t.pool.items():
            props[name.replace("_", "-")] = int(value)
        out += ["-object", json.dumps(props, separators=(",", ":"))]
    return out


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def _qemu_id(alias: str) -> Optional[int]:
    rest = alias[len("iothread"):] if alias.startswith("iothread") else ""
    return int(rest) if rest.isdigit() else None


class IOThreads:
    """Mixed into QemuDriver (lock, job, _obj, _defs, _monitor_call,
    _save_config, save_status)."""

    def _iothread_tids(self, rt: Runtime) -> list[tuple[int, int]]:
        """(IOThread id, thread id), in QEMU's order (lock not held)."""
        out = []
        for t in self._monitor_call(rt, "query-iothreads"):  # type: ignore[attr-defined]
            iothread_id = _qemu_id(str(t.get("id", "")))
            if iothread_id is not None:
                out.append((iothread_id, int(t["thread-id"])))
        return out

    def domain_get_io_thread_info(self, dom: Domain, flags: int) -> list[DomainIOThreadInfo]:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainGetIOThreadInfo", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            d, live = one_def(obj, flags)
            rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
            if not live or rt is None:
                everywhere = frozenset(range(host_cpu_count()))
                return [DomainIOThreadInfo(t.id, cpumap_bytes(t.cpumask or everywhere))
                        for t in d.iothreads]
        # live: QEMU's threads and where they may run now
        out = []
        for iothread_id, tid in self._iothread_tids(rt):
            try:
                cpus = frozenset(os.sched_getaffinity(tid))
            except OSError as exc:
                raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, ErrorDomain.VIR_FROM_NONE,
                                    f"cannot get CPU affinity of process {tid}: "
                                    f"{os.strerror(exc.errno or 0)}") from None
            out.append(DomainIOThreadInfo(iothread_id, cpumap_bytes(cpus)))
        return out

    def domain_add_io_thread(self, dom: Domain, iothread_id: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainAddIOThread", Q)
        if iothread_id == 0:
            raise _invalid("invalid value of 0 for iothread_id")
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if rt is not None:
                    domain_iothreads.check_new(obj.def_.iothreads, iothread_id)
            if rt is not None:
                before = len(self._iothread_tids(rt))
                self._monitor_call(rt, "object-add", {  # type: ignore[attr-defined]
                    "qom-type": "iothread", "id": f"iothread{iothread_id}"})
                now = self._iothread_tids(rt)
                tid = dict(now).get(iothread_id)
                if len(now) != before + 1 or tid is None:
                    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                        f"got wrong number of IOThread ids from QEMU monitor. "
                                        f"got {len(now)}, wanted {before + 1}")
                set_affinity(tid, host_cpus())
                with self.lock:  # type: ignore[attr-defined]
                    affect.keep_apart(obj)
                    obj.def_.iothreads.append(IOThreadDef(iothread_id))
                    self.save_status(obj)  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    domain_iothreads.check_new(config.iothreads, iothread_id)
                    config.iothreads.append(IOThreadDef(iothread_id))
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_del_io_thread(self, dom: Domain, iothread_id: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainDelIOThread", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if rt is not None:
                    domain_iothreads.check_known(obj.def_.iothreads, iothread_id)
            if rt is not None:
                before = len(self._iothread_tids(rt))
                self._monitor_call(rt, "object-del",  # type: ignore[attr-defined]
                                   {"id": f"iothread{iothread_id}"})
                now = self._iothread_tids(rt)
                if len(now) != before - 1:
                    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                        f"got wrong number of IOThread ids from QEMU monitor. "
                                        f"got {len(now)}, wanted {before - 1}")
                with self.lock:  # type: ignore[attr-defined]
                    affect.keep_apart(obj)
                    threads = obj.def_.iothreads
                    threads.remove(domain_iothreads.check_known(threads, iothread_id))
                    self.save_status(obj)  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    threads = config.iothreads
                    threads.remove(domain_iothreads.check_known(threads, iothread_id))
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_pin_io_thread(self, dom: Domain, iothread_id: int, cpumap: bytes,
                             flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainPinIOThread", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                cpus = cpus_of(cpumap)
                if not cpus:
                    raise _invalid("Empty iothread cpumap list for pinning")
                if rt is not None and domain_iothreads.find(obj.def_.iothreads,
                                                            iothread_id) is None:
                    raise _invalid(f"iothread {iothread_id} not found")
            if rt is not None:
                tid = dict(self._iothread_tids(rt)).get(iothread_id)
                if tid is not None:
                    set_affinity(tid, cpus)
                with self.lock:  # type: ignore[attr-defined]
                    affect.keep_apart(obj)
                    _pin(obj.def_, iothread_id, cpus)
                    self.save_status(obj)  # type: ignore[attr-defined]
                    tunable_event(self, obj, f"cputune.iothreadpin{iothread_id}",
                                  format_cpuset(cpus))
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    if domain_iothreads.find(config.iothreads, iothread_id) is None:
                        raise _invalid(f"iothreadid {iothread_id} not found")
                    _pin(config, iothread_id, cpus)
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_set_io_thread_params(self, dom: Domain, iothread_id: int,
                                    params: list[tuple[str, int, Any]], flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainSetIOThreadParams", Q)
        if iothread_id == 0:
            raise _invalid("invalid value of 0 for iothread_id")
        check_params(params, _PARAMS)
        values = {name: value for name, _, value in params}
        for name in _POOL:
            if name in values and values[name] < -1:
                raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                    f"{name} ({values[name]}) must be equal to or greater "
                                    f"than -1")
        unknown = f"cannot find IOThread '{iothread_id}' in iothreadids"
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if rt is not None:
                    t = domain_iothreads.find(obj.def_.iothreads, iothread_id)
                    if t is None:
                        raise _invalid(unknown)
                    pool = {**{k: int(v) for k, v in t.pool.items()},
                            **{k: v for k, v in values.items() if k in _POOL}}
                    low, high = pool.get("thread_pool_min", -1), pool.get("thread_pool_max", -1)
                    if low != -1 and high != -1 and low > high:
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                            f"thread_pool_min ({low}) can't be greater than "
                                            f"thread_pool_max ({high})")
            if rt is not None:
                for name, value in values.items():
                    self._monitor_call(rt, "qom-set", {  # type: ignore[attr-defined]
                        "path": f"/objects/iothread{iothread_id}",
                        "property": name.replace("_", "-"), "value": value})
                with self.lock:  # type: ignore[attr-defined]
                    affect.keep_apart(obj)
                    t = domain_iothreads.find(obj.def_.iothreads, iothread_id)
                    if t is not None:
                        for name in _POOL:
                            if name in values:
                                _set_pool(t, name, values[name])
                    self.save_status(obj)  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    if domain_iothreads.find(config.iothreads, iothread_id) is None:
                        raise _invalid(unknown)
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                    "configuring persistent polling values is not supported")


def _pin(d: DomainDef, iothread_id: int, cpus: frozenset[int]) -> None:
    t = domain_iothreads.find(d.iothreads, iothread_id)
    if t is not None:
        t.cpumask, t.autofill = cpus, False


def _set_pool(t: IOThreadDef, name: str, value: int) -> None:
    """-1 is QEMU's default: no attribute then."""
    if value == -1:
        t.pool.pop(name, None)
    else:
        t.pool[name] = str(value)
    # the attributes are written in this order, whatever order they came in
    t.pool = {k: t.pool[k] for k in _POOL if k in t.pool}
