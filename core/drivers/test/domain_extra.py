"""The test driver's other domain entry points: vCPUs and pinning,
metadata, scheduler and tuning parameters, statistics, guest time and
hostname, and the small guest actions.  Mixed into TestDriver."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING, Any, Optional

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventID
from ...objects import Domain
from ...structs import (DomainBlockInfo, DomainBlockStats, DomainInterfaceStats, MemoryStat,
                        SecurityLabel, SecurityModel, VcpuInfo)
from ..typedparams import check_params
from ..metadata import find_disk, find_interface, get_metadata, set_metadata  # noqa: F401
from . import defaults

T = ErrorDomain.VIR_FROM_TEST
D = ErrorDomain.VIR_FROM_DOMAIN
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
VCPU_MAXIMUM, VCPU_GUEST = 4, 8
META_DESCRIPTION, META_TITLE, META_ELEMENT = 0, 1, 2
P_INT, P_UINT, P_LLONG, P_ULLONG, P_DOUBLE, P_BOOLEAN, P_STRING = range(1, 8)
HOST_CPUS = defaults.DEFAULT_NODE_INFO.cpus
# The guest clock every test domain starts with (seconds since the epoch).
INITIAL_GUEST_TIME = 627319920
TypedParams = list[tuple[str, int, Any]]


def _invalid_arg(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T, detail)


def _not_running() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D, "domain is not running")


def _stats_base() -> tuple[int, int]:
    """(microseconds, seconds) of the wall clock: the simulated counters."""
    now = time.time_ns() // 1000
    return now, now // 1_000_000


def _cpus_of(cpumap: bytes) -> list[int]:
    return [i for i in range(min(len(cpumap) * 8, HOST_CPUS)) if cpumap[i // 8] >> (i % 8) & 1]


def _cpumap(cpus: list[int], maplen: int) -> bytes:
    raw = bytearray(maplen)
    for cpu in cpus:
        if cpu // 8 < maplen:
            raw[cpu // 8] |= 1 << (cpu % 8)
    return bytes(raw)


class DomainExtraMixin:
    """More domain entry points of the test driver."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...

    # -- which definition a call with LIVE/CONFIG flags affects
    def _defs(self, obj: DomainObj, flags: int) -> list[DomainDef]:
        live, config = bool(flags & AFFECT_LIVE), bool(flags & AFFECT_CONFIG)
        if not live and not config:
            live, config = obj.is_active(), not obj.is_active()
        if live and not obj.is_active():
            raise _not_running()
        if config and not obj.persistent:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                "transient domains do not have any persistent config")
        defs = []
        if live:
            if obj.persistent and obj.new_def is None:
                obj.new_def = obj.def_.copy()  # keep the config apart from live changes
            defs.append(obj.def_)
        if config:
            if obj.is_active():
                if obj.new_def is None:
                    obj.new_def = obj.def_.copy()
                defs.append(obj.new_def)
            else:
                defs.append(obj.def_)
        return defs

    def _one_def(self, obj: DomainObj, flags: int) -> DomainDef:
        if flags & AFFECT_LIVE and flags & AFFECT_CONFIG:
            raise errors.invalid_arg(D, "virDomainObjGetOneDef", "flags",
                                     "Flags 'VIR_DOMAIN_AFFECT_LIVE' and "
                                     "'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
        if flags & AFFECT_LIVE and not obj.is_active():
            raise _not_running()  # virDomainObjUpdateModificationImpact
        if not obj.is_active() or flags & AFFECT_CONFIG:
            return obj.persistent_def()
        return self._defs(obj, flags)[0]

    # -- vCPUs
    def domain_get_vcpus_flags(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST,
                           "testDomainGetVcpusFlags")
        with self.lock:
            obj = self._obj(dom)
            if flags & VCPU_GUEST:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "guest agent is not available")
            d = self._one_def(obj, flags)
            return d.vcpus if flags & VCPU_MAXIMUM else (d.vcpus_current or d.vcpus)

    def domain_set_vcpus_flags(self, dom: Domain, nvcpus: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM,
                           "testDomainSetVcpusFlags")
        with self.lock:
            obj = self._obj(dom)
            if nvcpus > defaults.MAX_VCPUS:
                raise _invalid_arg(f"requested cpu amount exceeds maximum supported amount "
                                   f"({nvcpus} > {defaults.MAX_VCPUS})")
            if flags & VCPU_MAXIMUM and not flags & AFFECT_CONFIG:
                raise errors.invalid_arg(D, "testDomainSetVcpusFlags", "flags",
                                         "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required by "
                                         "flag 'VIR_DOMAIN_VCPU_MAXIMUM'")
            defs = self._defs(obj, flags)
            for d in defs:
                if not flags & VCPU_MAXIMUM and nvcpus > d.vcpus:
                    raise _invalid_arg(f"requested cpu amount exceeds maximum "
                                       f"({nvcpus} > {d.vcpus})")
            for d in defs:
                if flags & VCPU_MAXIMUM:
                    current = d.vcpus_current or d.vcpus
                    d.vcpus = nvcpus
                    d.vcpus_current = min(current, nvcpus)
                else:
                    d.vcpus_current = nvcpus
                if d.vcpus_current == d.vcpus:
                    d.vcpus_current = None

    def domain_set_vcpus(self, dom: Domain, nvcpus: int) -> None:
        self.domain_set_vcpus_flags(dom, nvcpus, AFFECT_LIVE)  # as testDomainSetVcpus

    def _pins(self, obj: DomainObj) -> dict[int, list[int]]:
        pins: dict[int, list[int]] = obj.private.setdefault("vcpupin", {})
        return pins

    def domain_get_vcpus(self, dom: Domain, maxinfo: int,
                         maplen: int) -> tuple[list[VcpuInfo], bytes]:
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot list vcpus for an inactive domain")
            micros, _ = _stats_base()
            count = min(maxinfo, obj.def_.vcpus_current or obj.def_.vcpus)
            pins = self._pins(obj)
            infos, maps = [], b""
            for vcpu in range(count):
                cpus = pins.get(vcpu, list(range(HOST_CPUS)))
                infos.append(VcpuInfo(number=vcpu, state=1, cpuTime=micros // 10,
                                      cpu=cpus[-1] if cpus else 0))
                maps += _cpumap(cpus, maplen)
            return infos, maps

    def domain_pin_vcpu_flags(self, dom: Domain, vcpu: int, cpumap: bytes, flags: int) -> None:
        # libvirt's test driver pins live vCPUs only, and takes no flags.
        errors.check_flags(flags, 0, "testDomainPinVcpuFlags")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot pin vcpus on an inactive domain")
            if vcpu >= (obj.def_.vcpus_current or obj.def_.vcpus):
                raise _invalid_arg(f"requested vcpu '{vcpu}' is not present in the domain")
            self._pins(obj)[vcpu] = _cpus_of(cpumap)

    def domain_pin_vcpu(self, dom: Domain, vcpu: int, cpumap: bytes) -> None:
        self.domain_pin_vcpu_flags(dom, vcpu, cpumap, 0)

    def domain_get_vcpu_pin_info(self, dom: Domain, ncpumaps: int, maplen: int,
                                 flags: int) -> bytes:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainGetVcpuPinInfo")
        with self.lock:
            obj = self._obj(dom)
            d = self._one_def(obj, flags)
            pins = self._pins(obj)
            count = min(ncpumaps, d.vcpus_current or d.vcpus)
            return b"".join(_cpumap(pins.get(v, list(range(HOST_CPUS))), maplen)
                            for v in range(count))

    def domain_get_emulator_pin_info(self, dom: Domain, maplen: int, flags: int) -> bytes:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainGetEmulatorPinInfo")
        with self.lock:
            obj = self._obj(dom)
            self._one_def(obj, flags)
            return _cpumap(obj.private.get("emulatorpin", list(range(HOST_CPUS))), maplen)

    def domain_pin_emulator(self, dom: Domain, cpumap: bytes, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainPinEmulator")
        with self.lock:
            obj = self._obj(dom)
            self._one_def(obj, flags)
            obj.private["emulatorpin"] = _cpus_of(cpumap)

    # -- metadata
    def domain_set_metadata(self, dom: Domain, type: int, metadata: Optional[str],
                            key: Optional[str], uri: Optional[str], flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainSetMetadata")
        with self.lock:
            obj = self._obj(dom)
            for d in self._defs(obj, flags):
                set_metadata(d, type, metadata, key, uri)
            # one event per call, whatever the flags, as libvirt's test driver
            events.queue_domain_event(self, DomainEventID.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                      obj.name, obj.uuid, obj.id, type, uri)

    def domain_get_metadata(self, dom: Domain, type: int, uri: Optional[str],
                            flags: int) -> str:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainGetMetadata")
        with self.lock:
            return get_metadata(self._one_def(self._obj(dom), flags), type, uri)

    # -- scheduler
    def domain_get_scheduler_type(self, dom: Domain) -> tuple[str, int]:
        with self.lock:
            self._obj(dom)
            return "fair", 1

    def domain_get_scheduler_parameters_flags(self, dom: Domain, flags: int) -> TypedParams:
        # libvirt's test driver takes no flags here, and virDomainGet-
        # SchedulerParametersFlags always adds VIR_TYPED_PARAM_STRING_OKAY: only
        # virDomainGetSchedulerParameters (flags 0) gets an answer.
        errors.check_flags(flags, 0, "testDomainGetSchedulerParametersFlags")
        with self.lock:
            self._obj(dom)
            return [("weight", P_UINT, 50)]

    def domain_get_scheduler_parameters(self, dom: Domain) -> TypedParams:
        return self.domain_get_scheduler_parameters_flags(dom, 0)

    def domain_set_scheduler_parameters_flags(self, dom: Domain, params: TypedParams,
                                              flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainSetSchedulerParametersFlags")
        check_params(params, {"weight": P_UINT})
        with self.lock:
            self._obj(dom)  # the simulated scheduler keeps its weight of 50

    def domain_set_scheduler_parameters(self, dom: Domain, params: TypedParams) -> None:
        self.domain_set_scheduler_parameters_flags(dom, params, 0)

    # -- statistics
    def domain_block_stats(self, dom: Domain, disk: str, size: int) -> DomainBlockStats:
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            if find_disk(obj.def_, disk) is None:
                raise _invalid_arg(f"invalid path: {disk}")
            micros, secs = _stats_base()
            return DomainBlockStats(rd_req=micros // 10, rd_bytes=micros // 20,
                                    wr_req=micros // 30, wr_bytes=micros // 40, errs=secs // 2)

    def domain_interface_stats(self, dom: Domain, device: str,
                               size: int) -> DomainInterfaceStats:
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            if find_interface(obj.def_, device) is None:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                    f"'{device}' is not a known interface")
            micros, secs = _stats_base()
            return DomainInterfaceStats(
                rx_bytes=micros // 10, rx_packets=micros // 100, rx_errs=secs,
                rx_drop=secs // 2, tx_bytes=micros // 20, tx_packets=micros // 110,
                tx_errs=secs // 3, tx_drop=secs // 4)

    def domain_get_block_info(self, dom: Domain, disk: str, flags: int) -> DomainBlockInfo:
        errors.check_flags(flags, 0, "testDomainGetBlockInfo")
        with self.lock:
            obj = self._obj(dom)
            if find_disk(obj.def_, disk) is None:
                raise _invalid_arg(f"invalid path {disk} not assigned to domain")
            return DomainBlockInfo(capacity=1099506450432, allocation=1099511627776,
                                   physical=1099511627776)

    def domain_memory_stats(self, dom: Domain, nr_stats: int, flags: int) -> list[MemoryStat]:
        errors.check_flags(flags, 0, "testDomainMemoryStats")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            if not any(d.tag == "memballoon" and d.get("model") != "none"
                       for d in obj.def_.devices):
                return []  # no balloon, no statistics
            cur = obj.def_.current_memory
            seconds = obj.private.get("time", (INITIAL_GUEST_TIME, 0))[0]
            values = (0, 0, 0, 0, cur // 2, cur, cur, cur // 2, cur // 2, seconds, cur // 8,
                      0, 0)
            order = (6, 0, 1, 2, 3, 4, 5, 8, 9, 10, 11, 12, 7)
            return [MemoryStat(tag, values[tag]) for tag in order][:nr_stats]

    # -- guest time and name
    def domain_get_time(self, dom: Domain, flags: int) -> tuple[int, int]:
        errors.check_flags(flags, 0, "testDomainGetTime")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            seconds, nseconds = obj.private.get("time", (INITIAL_GUEST_TIME, 0))
            return seconds, nseconds

    def domain_set_time(self, dom: Domain, seconds: int, nseconds: int, flags: int) -> None:
        errors.check_flags(flags, 1, "testDomainSetTime")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            obj.private["time"] = (seconds, nseconds)

    def domain_get_hostname(self, dom: Domain, flags: int) -> str:
        errors.check_flags(flags, 3, "testDomainGetHostname")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            return f"{obj.name}host"

    # -- small guest actions: the domain must run, nothing else happens
    def _running(self, dom: Domain) -> DomainObj:
        obj = self._obj(dom)
        if not obj.is_active():
            raise _not_running()
        return obj

    def domain_inject_nmi(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainInjectNMI")
        with self.lock:
            self._running(dom)

    def domain_send_key(self, dom: Domain, codeset: int, holdtime: int, keycodes: list[int],
                        flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainSendKey")
        with self.lock:
            self._running(dom)

    def domain_send_process_signal(self, dom: Domain, pid_value: int, signum: int,
                                   flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainSendProcessSignal")
        if pid_value != 1:
            raise _invalid_arg("only sending a signal to pid 1 is supported")
        with self.lock:
            self._running(dom)

    def domain_reset(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainReset")
        with self.lock:
            self._running(dom)

    def domain_set_user_password(self, dom: Domain, user: str, password: str,
                                 flags: int) -> None:
        errors.check_flags(flags, 1, "testDomainSetUserPassword")
        with self.lock:
            self._running(dom)

    def domain_fs_trim(self, dom: Domain, mountpoint: Optional[str], minimum: int,
                       flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainFSTrim")
        with self.lock:
            self._running(dom)

    def domain_get_security_label(self, dom: Domain) -> SecurityLabel:
        with self.lock:
            self._obj(dom)
            return SecurityLabel(label="libvirt-test", enforcing=1)

    def node_get_security_model(self) -> SecurityModel:
        return SecurityModel(model="testSecurity", doi="")

    def domain_get_messages(self, dom: Domain, flags: int) -> list[str]:
        errors.check_flags(flags, 3, "testDomainGetMessages")
        with self.lock:
            self._obj(dom)
            return []

    def domain_set_lifecycle_action(self, dom: Domain, type: int, action: int,
                                    flags: int) -> None:
        from ...conf.domain import LIFECYCLE_ACTIONS
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "testDomainSetLifecycleAction")
        events = ("poweroff", "reboot", "crash")
        if not 0 <= type < len(events) or not 0 <= action < len(LIFECYCLE_ACTIONS):
            raise _invalid_arg("invalid lifecycle type or action")
        with self.lock:
            for d in self._defs(self._obj(dom), flags):
                setattr(d, f"on_{events[type]}", LIFECYCLE_ACTIONS[action])

    def domain_set_memory_flags(self, dom: Domain, memory: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | 4, "testDomainSetMemoryFlags")
        with self.lock:
            obj = self._obj(dom)
            for d in [self._one_def(obj, flags & 3)]:
                if flags & 4:
                    if obj.is_active() and d is obj.def_:
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                            "cannot resize the maximum memory on an "
                                            "active domain")
                    d.memory = memory
                    d.current_memory = min(d.current_memory, memory)
                elif memory > d.memory:
                    raise _invalid_arg("cannot set memory higher than max memory")
                else:
                    d.current_memory = memory

    def domain_set_memory_stats_period(self, dom: Domain, period: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "testDomainSetMemoryStatsPeriod")
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            if not any(dev.tag == "memballoon" and dev.get("model") != "none"
                       for dev in d.devices):
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                                    "No memory balloon device configured, can not set "
                                    "the collection period")
