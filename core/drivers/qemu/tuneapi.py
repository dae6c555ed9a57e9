"""Metadata, rename, lifecycle actions and the tuning entry points of the
QEMU driver, as libvirt 9.0's behave in embed mode with qemu.conf's
`cgroup_controllers = [ ]`: the parts libvirt keeps in cgroups (scheduler,
blkio, memory, cpuset, cpuacct) give its "not mounted" errors on a running
domain, their config parts change the persistent definition.  A config
change is saved atomically; a live one goes into the status file."""

from __future__ import annotations

import ctypes
import os
import threading
from typing import TYPE_CHECKING, Any, Callable, Optional

from lxml import etree

from ... import errors, events
from ...conf import domain_tune
from ...conf.domain import LIFECYCLE_ACTIONS, DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventType as E
from ...objects import Domain
from ...structs import DomainControlInfo, SecurityLabel
from .. import tuneparams as tp
from ..metadata import find_interface, get_metadata, set_metadata
from ..typedparams import check_params
from . import affect, security, validate
from .paths import remove_durably
if TYPE_CHECKING:
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
STRING_OKAY = 4
_LIFECYCLE = ("poweroff", "reboot", "crash")
# cputune's scheduler parameters, in libvirt's order: (name, type, element)
_SCHED = (("cpu_shares", tp.P_ULLONG, "shares"), ("vcpu_period", tp.P_ULLONG, "period"),
          ("vcpu_quota", tp.P_LLONG, "quota"), ("emulator_period", tp.P_ULLONG, "emulator_period"),
          ("emulator_quota", tp.P_LLONG, "emulator_quota"),
          ("global_period", tp.P_ULLONG, "global_period"),
          ("global_quota", tp.P_LLONG, "global_quota"),
          ("iothread_period", tp.P_ULLONG, "iothread_period"),
          ("iothread_quota", tp.P_LLONG, "iothread_quota"))
_PERIOD, _QUOTA = (1000, 1000000), (1000, 17592186044415)
# interface types whose bandwidth libvirt can set (virNetDevSupportsBandwidth)
_BANDWIDTH_TYPES = ("bridge", "network", "direct", "ethernet")
# perf events: (perf type, config); cmt/mbmt/mbml need Intel CQM's PMU
_PERF_HW, _PERF_SW = 0, 1
_PERF_ATTR = {**{n: (_PERF_HW, i) for i, n in enumerate((
    "cpu_cycles", "instructions", "cache_references", "cache_misses", "branch_instructions",
    "branch_misses", "bus_cycles", "stalled_cycles_frontend", "stalled_cycles_backend",
    "ref_cpu_cycles"))}, **{n: (_PERF_SW, i) for i, n in enumerate((
        "cpu_clock", "task_clock", "page_faults", "context_switches", "cpu_migrations",
        "page_faults_min", "page_faults_maj", "alignment_faults", "emulation_faults"))}}
_CQM = {"cmt": 1, "mbmt": 2, "mbml": 3}
_NR_PERF_EVENT_OPEN, _PERF_EVENT_IOC_ENABLE = 298, 0x2400


def _not_mounted(what: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q, what)


def _perf_error(code: int, detail: str) -> errors.VirtError:
    return errors.report(code, ErrorDomain.VIR_FROM_PERF, detail)


def _perf_open(name: str, pid: int) -> int:
    """An enabled perf counter of `name` on `pid` (virPerfEventEnable)."""
    if name in _CQM:
        try:
            with open("/sys/devices/intel_cqm/type") as f:
                ptype, config = int(f.read()), _CQM[name]
        except (OSError, ValueError):
            raise _perf_error(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED,
                              f"unable to enable host cpu perf event for {name}") from None
    else:
        ptype, config = _PERF_ATTR[name]
    attr = (ctypes.c_uint64 * 16)()   # perf_event_attr, version 0's 64 bytes + room
    attr[0] = ptype | (64 << 32)
    attr[1] = config
    attr[5] = 1 << 1 | 1             # inherit, disabled (enabled below)
    libc = ctypes.CDLL(None, use_errno=True)
    fd = libc.syscall(_NR_PERF_EVENT_OPEN, ctypes.byref(attr), pid, -1, -1, 0)
    if fd < 0:
        err = ctypes.get_errno()
        raise _perf_error(ErrorNumber.VIR_ERR_SYSTEM_ERROR, f"unable to open host cpu perf "
                          f"event for {name}: {os.strerror(err)}")
    if libc.ioctl(fd, _PERF_EVENT_IOC_ENABLE) < 0:
        os.close(fd)
        raise _perf_error(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED,
                          f"unable to enable host cpu perf event for {name}")
    return fd


class TuneAPI:
    """Mixed into QemuDriver (lock, _obj, job, runtime, save_status, ...)."""

    lock: threading.RLock
    if TYPE_CHECKING:
        runtime: dict[bytes, Runtime]
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _save_config(self, d: DomainDef) -> None: ...
        def save_status(self, obj: DomainObj, text: Optional[str] = None) -> None: ...
        def job(self, uuid: bytes) -> Any: ...
        def event(self, obj: DomainObj, event: int, detail: int) -> None: ...
        def rename_snapshots(self, obj: DomainObj, old_name: str) -> None: ...
        def _monitor_call(self, rt: Runtime, cmd: str, args: Any = None) -> Any: ...
        domains: Any
        layout: Any

    # -- which definitions the flags pick (virDomainObjGetDefs, GetOneDef)
    def _active(self, obj: DomainObj) -> bool:
        return obj.is_active() and obj.uuid in self.runtime

    def _tune_defs(self, obj: DomainObj, flags: int
                   ) -> tuple[Optional[DomainDef], Optional[DomainDef]]:
        """(the live definition, the persistent one) that a change affects,
        kept apart from each other on a running domain (lock held)."""
        live, config = affect.defs(obj, flags, self._active(obj))
        if live:
            affect.keep_apart(obj)   # a live change leaves the config as it was
        if config is not None:
            config = affect.keep_apart(obj)
        return (obj.def_ if live else None), config

    def _one_def(self, obj: DomainObj, flags: int) -> tuple[DomainDef, bool]:
        """(the one definition a query reads, whether it is the live one)."""
        return affect.one_def(obj, flags)

    def _store(self, obj: DomainObj, live: Optional[DomainDef],
               config: Optional[DomainDef]) -> None:
        if live is not None:
            self.save_status(obj)
        if config is not None:
            self._save_config(config)

    # -- metadata
    def domain_set_metadata(self, dom: Domain, type: int, metadata: Optional[str],
                            key: Optional[str], uri: Optional[str], flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainSetMetadata", Q)
        with self.job(dom.uuid), self.lock:
            obj = self._obj(dom)
            live, config = self._tune_defs(obj, flags)
            for d in (live, config):
                if d is not None:
                    set_metadata(d, type, metadata, key, uri)
            self._store(obj, live, config)
            events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                      obj.name, obj.uuid, obj.id, type, uri)

    def domain_get_metadata(self, dom: Domain, type: int, uri: Optional[str],
                            flags: int) -> str:
        # libvirt checks these flags in its shared virDomainObjGetMetadata
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "virDomainObjGetMetadata", D)
        with self.lock:
            return get_metadata(self._one_def(self._obj(dom), flags)[0], type, uri)

    # -- rename
    def domain_rename(self, dom: Domain, new_name: str, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainRename", Q)
        with self.job(dom.uuid), self.lock:
            obj = self._obj(dom)
            if obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "cannot rename active domain")
            if not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "cannot rename a transient domain")
            if self.layout.managed_save_file(obj.name).exists():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "domain with a managed saved state can't be renamed")
            if new_name == obj.name:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "Can't rename domain to itself")
            if self.domains.find_by_name(new_name) is not None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    f"domain with name '{new_name}' already exists")
            if "/" in new_name:
                raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, Q,
                                    f"name {new_name} cannot contain '/'")
            old_name, autostart = obj.name, obj.autostart
            self.event(obj, E.VIR_DOMAIN_EVENT_UNDEFINED, 1)   # RENAMED
            self.domains.rename(obj, new_name)
            self.rename_snapshots(obj, old_name)
            self._save_config(obj.def_)
            if autostart:
                link = self.layout.autostart_link(new_name)
                os.symlink(self.layout.config_file(new_name), link)
                remove_durably(self.layout.autostart_link(old_name))
            remove_durably(self.layout.config_file(old_name))
            self.event(obj, E.VIR_DOMAIN_EVENT_DEFINED, 2)     # RENAMED

    # -- lifecycle actions
    def domain_set_lifecycle_action(self, dom: Domain, type: int, action: int,
                                    flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainSetLifecycleAction", Q)
        if not 0 <= type < len(_LIFECYCLE):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                f"invalid lifecycle type '{type}'")
        if not 0 <= action < len(LIFECYCLE_ACTIONS):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                f"invalid lifecycle action '{action}'")
        event, name = _LIFECYCLE[type], LIFECYCLE_ACTIONS[action]
        if event != "crash" and name.startswith("coredump-"):
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, D,
                                f"Lifecycle event '{event}' doesn't support '{name}' action")
        attr = f"on_{event}"
        with self.job(dom.uuid):
            with self.lock:
                obj = self._obj(dom)
                live, config = self._tune_defs(obj, flags)
                for d in (live, config):
                    if d is not None:
                        old = getattr(d, attr)
                        setattr(d, attr, name)
                        try:
                            validate.check(d)
                        except errors.VirtError:
                            setattr(d, attr, old)
                            raise
                        setattr(d, attr, old)
                rt = self.runtime[obj.uuid] if live is not None else None
            if (rt is not None and live is not None and event == "reboot"
                    and live.on_reboot != name and name in ("destroy", "restart")):
                # QEMU resets or shuts down on a guest's reboot (set-action); asked
                # without the driver's lock, which QEMU's events take meanwhile
                self._monitor_call(rt, "set-action", {
                    "reboot": "shutdown" if name == "destroy" else "reset"})
            with self.lock:
                if live is not None:
                    setattr(live, attr, name)
                if config is not None:
                    setattr(config, attr, name)
                self._store(obj, live, config)

    # -- what libvirt knows without cgroups
    def domain_get_control_info(self, dom: Domain, flags: int) -> DomainControlInfo:
        errors.check_flags(flags, 0, "qemuDomainGetControlInfo", Q)
        with self.lock:
            if not self._active(self._obj(dom)):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            return DomainControlInfo(state=0, details=0, stateTime=0)

    def _labels(self, obj: DomainObj) -> list[SecurityLabel]:
        """One label per stacked security driver of a running domain: the
        LSM's (none here: empty) and DAC's user:group; none when inactive."""
        if not self._active(obj):
            return []
        return [SecurityLabel(label="", enforcing=0),
                SecurityLabel(label=security.dac_label(self.layout.root), enforcing=0)]

    def domain_get_security_label(self, dom: Domain) -> SecurityLabel:
        with self.lock:
            labels = self._labels(self._obj(dom))
            return labels[0] if labels else SecurityLabel(label="", enforcing=0)

    def domain_get_security_label_list(self, dom: Domain) -> list[SecurityLabel]:
        with self.lock:
            return self._labels(self._obj(dom))

    def domain_get_launch_security_info(self, dom: Domain, flags: int) -> tp.TypedParams:
        with self.lock:
            self._obj(dom)
            return []   # no SEV guest

    def domain_get_cpu_stats(self, dom: Domain, start_cpu: int, ncpus: int,
                             flags: int) -> list[Any]:
        errors.check_flags(flags, STRING_OKAY, "qemuDomainGetCPUStats", Q)
        with self.lock:
            if not self._active(self._obj(dom)):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
        raise _not_mounted("cgroup CPUACCT controller is not mounted")

    # -- scheduler (cputune)
    def domain_get_scheduler_type(self, dom: Domain) -> tuple[str, int]:
        with self.lock:
            if self._active(self._obj(dom)):
                raise _not_mounted("cgroup CPU controller is not mounted")
            return "posix", len(_SCHED)

    def domain_get_scheduler_parameters_flags(self, dom: Domain,
                                              flags: int) -> tp.TypedParams:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | STRING_OKAY,
                           "qemuDomainGetSchedulerParametersFlags", Q)
        with self.lock:
            obj = self._obj(dom)
            d, live = self._one_def(obj, flags)
            if live or obj.is_active():   # libvirt 9.0 asks the cgroup for CONFIG too
                raise _not_mounted("cgroup CPU controller is not mounted")
            cputune = d.cputune if d.cputune is not None else etree.Element("cputune")
            return [(name, ptype, int(cputune.findtext(tag) or 0))
                    for name, ptype, tag in _SCHED]

    def domain_get_scheduler_parameters(self, dom: Domain) -> tp.TypedParams:
        return self.domain_get_scheduler_parameters_flags(dom, 0)

    def domain_set_scheduler_parameters_flags(self, dom: Domain, params: tp.TypedParams,
                                              flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainSetSchedulerParametersFlags", Q)
        check_params(params, {name: ptype for name, ptype, _ in _SCHED})
        with self.job(dom.uuid), self.lock:
            live, config = self._tune_defs(self._obj(dom), flags)
            if live is not None:
                raise _not_mounted("cgroup CPU controller is not mounted")
            assert config is not None
            for name, _, value in params:
                low, high = _PERIOD if name.endswith("_period") else _QUOTA
                if name != "cpu_shares" and value > 0 and not low <= value <= high:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                        f"value of '{name}' is out of range [{low}, {high}]")
            cputune = config.cputune if config.cputune is not None else etree.Element("cputune")
            for name, value in ((n, v) for n, _, v in params):
                _set_sched(cputune, name, value)
            config.cputune = cputune if len(cputune) or cputune.attrib else None
            self._save_config(config)

    def domain_set_scheduler_parameters(self, dom: Domain, params: tp.TypedParams) -> None:
        self.domain_set_scheduler_parameters_flags(dom, params, 0)

    # -- blkio, memory, numa, perf, interface bandwidth
    def _get_tune(self, dom: Domain, flags: int, fn: str, getter: tp.Getter,
                  cgroup: Optional[str], device: str = "") -> tp.TypedParams:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | STRING_OKAY, fn, Q)
        with self.lock:
            d, live = self._one_def(self._obj(dom), flags)
            if live and cgroup:
                raise _not_mounted(cgroup)
            if device and find_interface(d, device) is None:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                    f"'{device}' is not a known interface")
            return getter(d, device)

    def _set_tune(self, dom: Domain, params: tp.TypedParams, flags: int, fn: str,
                  table: dict[str, int], setter: tp.Setter, origin: int,
                  live_part: Callable[[DomainObj, DomainDef, dict[str, Any]], None],
                  device: str = "", check_first: bool = False) -> None:
        """`live_part`: what a change of the running domain does (raises
        libvirt's error where it needs cgroups); `check_first`: the
        setter's checks come before it (numa)."""
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, fn, Q)
        check_params(params, table)
        values = {name: value for name, _, value in params}
        with self.job(dom.uuid), self.lock:
            obj = self._obj(dom)
            live, config = self._tune_defs(obj, flags)
            for d in (live, config):
                if d is not None and device:
                    self._check_bandwidth(d, device)
            if check_first and live is not None:
                setter(_scratch(live), dict(values), True, device, origin)
            if live is not None:
                live_part(obj, live, values)
            if config is not None:
                work = _scratch(config)
                setter(work, values, False, device, origin)
                config.tune = work.tune
                if device:
                    old, new = find_interface(config, device), find_interface(work, device)
                    assert old is not None and new is not None
                    domain_tune.set_bandwidth(old, domain_tune.bandwidth_values(new))
            self._store(obj, live, config)

    def _check_bandwidth(self, d: DomainDef, device: str) -> None:
        iface = find_interface(d, device)
        if iface is None:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                f"'{device}' is not a known interface")
        kind = iface.get("type", "")
        if kind not in _BANDWIDTH_TYPES:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                f"setting bandwidth on interfaces of type '{kind}' is not "
                                "implemented yet")

    def domain_get_blkio_parameters(self, dom: Domain, flags: int) -> tp.TypedParams:
        return self._get_tune(dom, flags, "qemuDomainGetBlkioParameters", tp.get_blkio,
                              "blkio cgroup isn't mounted")

    def domain_set_blkio_parameters(self, dom: Domain, params: tp.TypedParams,
                                    flags: int) -> None:
        self._set_tune(dom, params, flags, "qemuDomainSetBlkioParameters", tp.BLKIO,
                       tp.set_blkio, D, _cgroup("blkio cgroup isn't mounted"))

    def domain_get_memory_parameters(self, dom: Domain, flags: int) -> tp.TypedParams:
        return self._get_tune(dom, flags, "qemuDomainGetMemoryParameters", tp.get_memory,
                              "cgroup memory controller is not mounted")

    def domain_set_memory_parameters(self, dom: Domain, params: tp.TypedParams,
                                     flags: int) -> None:
        self._set_tune(dom, params, flags, "qemuDomainSetMemoryParameters", tp.MEMORY,
                       tp.set_memory, D, _cgroup("cgroup memory controller is not mounted"))

    def domain_get_numa_parameters(self, dom: Domain, flags: int) -> tp.TypedParams:
        return self._get_tune(dom, flags, "qemuDomainGetNumaParameters", tp.get_numa, None)

    def domain_set_numa_parameters(self, dom: Domain, params: tp.TypedParams,
                                   flags: int) -> None:
        self._set_tune(dom, params, flags, "qemuDomainSetNumaParameters", tp.NUMA,
                       _set_numa_values, Q,
                       _cgroup("cgroup cpuset controller is not mounted"), check_first=True)

    def domain_get_perf_events(self, dom: Domain, flags: int) -> tp.TypedParams:
        return self._get_tune(dom, flags, "qemuDomainGetPerfEvents", tp.get_perf, None)

    def domain_set_perf_events(self, dom: Domain, params: tp.TypedParams, flags: int) -> None:
        self._set_tune(dom, params, flags, "qemuDomainSetPerfEvents", tp.PERF, tp.set_perf,
                       Q, self._perf_live)

    def _perf_live(self, obj: DomainObj, live: DomainDef, values: dict[str, Any]) -> None:
        """Open (or close) the counters on QEMU's process as libvirt does;
        they stay open while it runs."""
        rt = self.runtime[obj.uuid]
        fds: dict[str, int] = obj.private.setdefault("perf_fds", {})
        pid = rt.process.pid if rt.process is not None else 0
        for name, on in values.items():
            if on and name not in fds:
                fds[name] = _perf_open(name, pid)
            elif not on and name in fds:
                os.close(fds.pop(name))
            live.tune = domain_tune.owned(live.tune)
            live.tune.perf[name] = bool(on)

    def domain_get_interface_parameters(self, dom: Domain, device: str,
                                        flags: int) -> tp.TypedParams:
        return self._get_tune(dom, flags, "qemuDomainGetInterfaceParameters",
                              tp.get_bandwidth, None, device)

    def domain_set_interface_parameters(self, dom: Domain, device: str,
                                        params: tp.TypedParams, flags: int) -> None:
        self._set_tune(dom, params, flags, "qemuDomainSetInterfaceParameters", tp.BANDWIDTH,
                       tp.set_bandwidth, Q, _bandwidth_live_unsupported, device)


def _scratch(d: DomainDef) -> DomainDef:
    """A copy to change, so that a refused change leaves `d` as it was."""
    work = d.copy()
    work.tune = domain_tune.owned(work.tune)
    return work


def _cgroup(message: str) -> Callable[[DomainObj, DomainDef, dict[str, Any]], None]:
    def refuse(obj: DomainObj, live: DomainDef, values: dict[str, Any]) -> None:
        raise _not_mounted(message)
    return refuse


def _bandwidth_live_unsupported(obj: DomainObj, live: DomainDef,
                                values: dict[str, Any]) -> None:
    # libvirt sets tc rules on the host side of the tap: not done by pyvirt yet
    raise errors.report(ErrorNumber.VIR_ERR_NO_SUPPORT, Q,
                        "this function is not supported by the connection driver: "
                        "virDomainSetInterfaceParameters")


def _set_numa_values(d: DomainDef, values: dict[str, Any], is_live: bool, device: str,
                     origin: int) -> None:
    if is_live:   # only the checks of the values: the cpuset part needs cgroups
        mode = values.get("numa_mode")
        if mode is not None and not 0 <= mode < len(domain_tune.NUMA_MODES):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, origin,
                                f"unsupported numatune mode: '{mode}'")
        if "numa_nodeset" in values:
            from ...conf.domain_iothreads import parse_cpuset
            if not parse_cpuset(values["numa_nodeset"]):
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                    f"Failed to parse bitmap '{values['numa_nodeset']}'")
        return
    tp.set_numa(d, values, is_live, device, origin)


def _set_sched(cputune: etree._Element, name: str, value: int) -> None:
    """Set (or, for a period or quota of 0, drop) one cputune value, in
    libvirt's order of elements."""
    tags = ["shares", "period", "quota", "global_period", "global_quota", "emulator_period",
            "emulator_quota", "iothread_period", "iothread_quota"]   # libvirt writes them so
    tag = dict((n, t) for n, _, t in _SCHED)[name]
    for old in cputune.findall(tag):
        cputune.remove(old)
    if name != "cpu_shares" and value == 0:
        return
    elem = etree.Element(tag)
    elem.text = str(value)
    at = 0
    for i, child in enumerate(cputune):
        if child.tag in tags and tags.index(child.tag) < tags.index(tag):
            at = i + 1
    cputune.insert(at, elem)
