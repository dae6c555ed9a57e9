"""vCPU and emulator pinning of the QEMU driver (qemuDomainPinVcpuFlags,
GetVcpuPinInfo, PinEmulator, GetEmulatorPinInfo) and the threads' affinity
set at start, as libvirt 9.0 does without cgroups: sched_setaffinity on
QEMU's threads.  The pins live in <cputune> (domain_cputune.py): a running
domain's in its live definition, kept in the status file; the config's in
its file.  A change of a live pin sends VIR_DOMAIN_EVENT_ID_TUNABLE."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Optional

from ... import errors
from ...conf import domain_cputune as cputune
from ...conf.domain import DomainDef
from ...conf.domain_iothreads import format_cpuset
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ..cpumaps import cpumap_bytes, cpus_of, host_cpu_count, host_cpus
from . import affect
from .affect import AFFECT_CONFIG, AFFECT_LIVE, one_def, tunable_event

if TYPE_CHECKING:
    from ...domainobj import DomainObj
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
N = ErrorDomain.VIR_FROM_NONE


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def set_affinity(tid: int, cpus: frozenset[int]) -> None:
    """virProcessSetAffinity, with its error."""
    try:
        os.sched_setaffinity(tid, cpus)
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, N,
                            f"cannot set CPU affinity on process {tid}: "
                            f"{os.strerror(exc.errno or 0)}") from None


def current_vcpus(d: DomainDef) -> int:
    return d.vcpus_current or d.vcpus


class Pinning:
    """Mixed into QemuDriver (lock, job, _obj, _defs,
    _save_config, save_status, _monitor_call come from it)."""

    def vcpu_threads(self, rt: Runtime) -> dict[int, int]:
        """vCPU id -> thread id of the vCPUs QEMU has now (lock not held)."""
        cpus = self._monitor_call(rt, "query-cpus-fast")  # type: ignore[attr-defined]
        return {int(c.get("cpu-index", 0)): int(c["thread-id"]) for c in cpus}

    def pin_threads(self, obj: DomainObj, rt: Runtime) -> None:
        """At start, before the guest runs: every thread where the definition
        pins it, the others on every online CPU, as qemuProcessSetupPid
        and qemuProcessInitCpuAffinity (which sets it before exec: the
        threads QEMU made meanwhile inherit it, as here)."""
        if rt.process is None:
            return
        d, everywhere = obj.def_, host_cpus()
        if (not cputune.vcpu_pins(d.cputune) and cputune.emulator_pin(d.cputune) is None
                and not any(t.cpumask for t in d.iothreads)
                and os.sched_getaffinity(0) >= everywhere):
            return   # QEMU inherited every CPU and nothing is pinned: two QMP calls saved
        pid = rt.process.pid
        vcpus = self.vcpu_threads(rt)
        iothreads = {t["id"]: int(t["thread-id"]) for t in self._monitor_call(  # type: ignore[attr-defined]
            rt, "query-iothreads")}
        own = set(vcpus.values()) | set(iothreads.values())
        emulator = cputune.emulator_pin(d.cputune) or everywhere
        for name in os.listdir(f"/proc/{pid}/task"):
            if int(name) not in own:
                _try_affinity(int(name), emulator)
        pins = cputune.vcpu_pins(d.cputune)
        for vcpu, tid in vcpus.items():
            _try_affinity(tid, pins.get(vcpu, everywhere))
        for t in d.iothreads:
            tid = iothreads.get(f"iothread{t.id}")
            if tid is not None:
                _try_affinity(tid, t.cpumask or everywhere)


    # -- vCPUs
    def domain_get_vcpu_pin_info(self, dom: Domain, ncpumaps: int, maplen: int,
                                 flags: int) -> bytes:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainGetVcpuPinInfo", Q)
        with self.lock:  # type: ignore[attr-defined]
            d, _ = one_def(self._obj(dom), flags)  # type: ignore[attr-defined]
            pins = cputune.vcpu_pins(d.cputune)
            everywhere = frozenset(range(host_cpu_count()))
            return b"".join(cpumap_bytes(pins.get(vcpu, everywhere), maplen)
                            for vcpu in range(min(ncpumaps, d.vcpus)))

    def domain_pin_vcpu(self, dom: Domain, vcpu: int, cpumap: bytes) -> None:
        self._pin_vcpu(dom, vcpu, cpumap, AFFECT_LIVE)

    def domain_pin_vcpu_flags(self, dom: Domain, vcpu: int, cpumap: bytes, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainPinVcpuFlags", Q)
        self._pin_vcpu(dom, vcpu, cpumap, flags)

    def _pin_vcpu(self, dom: Domain, vcpu: int, cpumap: bytes, flags: int) -> None:
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if config is not None and vcpu >= config.vcpus:
                    raise _invalid(f"vcpu {vcpu} is out of range of persistent cpu count "
                                   f"{current_vcpus(config)}")
                cpus = cpus_of(cpumap)
                if not cpus:
                    raise _invalid("Empty cpu list for pinning")
                if rt is not None and vcpu >= obj.def_.vcpus:
                    raise _invalid(f"vcpu {vcpu} is out of range of live cpu count "
                                   f"{obj.def_.vcpus}")
            if rt is not None:
                # an offline vCPU has no thread: its pin waits for its hotplug
                tid = self.vcpu_threads(rt).get(vcpu)
                if tid is not None:
                    set_affinity(tid, cpus)
                with self.lock:  # type: ignore[attr-defined]
                    affect.keep_apart(obj)
                    _set_vcpu_pin(obj.def_, vcpu, cpus)
                    self.save_status(obj)  # type: ignore[attr-defined]
                    tunable_event(self, obj, f"cputune.vcpupin{vcpu}", format_cpuset(cpus))
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    _set_vcpu_pin(config, vcpu, cpus)
                    self._save_config(config)  # type: ignore[attr-defined]

    # -- the emulator
    def domain_get_emulator_pin_info(self, dom: Domain, maplen: int, flags: int) -> bytes:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainGetEmulatorPinInfo", Q)
        with self.lock:  # type: ignore[attr-defined]
            d, _ = one_def(self._obj(dom), flags)  # type: ignore[attr-defined]
            cpus = cputune.emulator_pin(d.cputune) or frozenset(range(host_cpu_count()))
            return cpumap_bytes(cpus, maplen)

    def domain_pin_emulator(self, dom: Domain, cpumap: bytes, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainPinEmulator", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                cpus = cpus_of(cpumap)
                if not cpus:
                    raise _invalid("Empty cpu list for pinning")
                if rt is not None and rt.process is not None:
                    # QEMU's main thread only, as libvirt: the others keep theirs
                    set_affinity(rt.process.pid, cpus)
                    affect.keep_apart(obj)
                    obj.def_.cputune = cputune.with_emulator_pin(obj.def_.cputune, cpus)
                    self.save_status(obj)  # type: ignore[attr-defined]
                    tunable_event(self, obj, "cputune.emulatorpin", format_cpuset(cpus))
                if config is not None:
                    config = affect.keep_apart(obj)
                    config.cputune = cputune.with_emulator_pin(config.cputune, cpus)
                    self._save_config(config)  # type: ignore[attr-defined]


def _set_vcpu_pin(d: DomainDef, vcpu: int, cpus: Optional[frozenset[int]]) -> None:
    pins = cputune.vcpu_pins(d.cputune)
    if cpus:
        pins[vcpu] = cpus
    else:
        pins.pop(vcpu, None)
    d.cputune = cputune.with_vcpu_pins(d.cputune, pins)


def _try_affinity(tid: int, cpus: frozenset[int]) -> None:
    try:
        os.sched_setaffinity(tid, cpus)
    except OSError:
        pass   # a thread gone meanwhile, or a pin to CPUs this host lacks
