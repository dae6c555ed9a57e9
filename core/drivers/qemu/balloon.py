"""The memory balloon, as libvirt 9.0's QEMU driver has it: a virtio
memballoon for every x86 guest unless <memballoon model='none'/>, placed
on PCI where libvirt places it; SetMemory*, SetMemoryStatsPeriod and
MemoryStats over QMP; BALLOON_CHANGE -> the domain event of that name.

The balloon's live values (its actual size, the stats period) are kept in
the Runtime, not in the definition, which a running persistent domain
shares with its config: the live XML and GetInfo overlay them.  A driver
opened again asks QEMU for both (query-balloon, qom-get)."""

from __future__ import annotations

import dataclasses
import os
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import MemoryStat
from . import affect, pciaddr
if TYPE_CHECKING:   # runtime -> command -> balloon: no import at run time
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
ALIAS = "balloon0"
QOM_PATH = f"/machine/peripheral/{ALIAS}"
AFFECT_LIVE, AFFECT_CONFIG, MEM_MAXIMUM = 1, 2, 4
_UNKNOWN = 2**64 - 1
_PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
# virDomainMemoryStatTags
STAT_ACTUAL, STAT_RSS, STAT_LAST_UPDATE = 6, 7, 9
# QEMU's guest-stats -> (tag, divisor to KiB), in the order libvirt reports them
_GUEST_STATS = (("stat-swap-in", 0, 1024), ("stat-swap-out", 1, 1024),
                ("stat-major-faults", 2, 1), ("stat-minor-faults", 3, 1),
                ("stat-free-memory", 4, 1024), ("stat-total-memory", 5, 1024),
                ("stat-available-memory", 8, 1024), ("last-update", STAT_LAST_UPDATE, 1),
                ("stat-disk-caches", 10, 1024), ("stat-htlb-pgalloc", 11, 1),
                ("stat-htlb-pgfail", 12, 1))


def balloon_of(d: DomainDef) -> Optional[etree._Element]:
    for dev in d.devices:
        if dev.tag == "memballoon":
            return None if dev.get("model") == "none" else dev
    return None


def period_of(dev: Optional[etree._Element]) -> int:
    stats = dev.find("stats") if dev is not None else None
    try:
        return int(stats.get("period", "0")) if stats is not None else 0
    except ValueError:
        return 0


def _set_period(dev: etree._Element, period: int) -> None:
    for old in dev.findall("stats"):
        dev.remove(old)
    if period:
        dev.insert(0, etree.Element("stats", period=str(period)))


def fill_default(d: DomainDef) -> None:
    """Post-parse: the implicit balloon (pciaddr gives its address); an
    alias is the driver's to give at start, never taken from input."""
    if not any(dev.tag == "memballoon" for dev in d.devices):
        d.devices.append(etree.Element("memballoon", model="virtio"))
    dev = balloon_of(d)
    if dev is None:
        return
    for alias in dev.findall("alias"):
        if not (alias.get("name") or "").startswith("ua-"):
            dev.remove(alias)


def command_args(d: DomainDef) -> list[str]:
    """The balloon's -device, at its address (command.py adds the buses)."""
    dev = balloon_of(d)
    if dev is None:
        return []
    props = ["virtio-balloon-pci", f"id={ALIAS}"]
    if dev.get("autodeflate") == "on":
        props.append("deflate-on-oom=on")
    if dev.get("freePageReporting") == "on":
        props.append("free-page-reporting=on")
    return ["-device", ",".join(props + pciaddr.props(d, dev))]


def live_view(d: DomainDef, rt: Runtime) -> DomainDef:
    """`d` as running: current memory from the balloon, its live period, its alias."""
    dev = balloon_of(d)
    if dev is None:
        return dataclasses.replace(d, current_memory=d.memory)
    live = etree.Element(dev.tag, dict(dev.attrib))
    for child in dev:
        if child.tag not in ("stats", "alias"):
            live.append(etree.fromstring(etree.tostring(child, with_tail=False)))
    live.insert(0, etree.Element("alias", name=ALIAS))
    _set_period(live, rt.balloon_period if rt.balloon_period is not None else period_of(dev))
    current = rt.balloon_actual if rt.balloon_actual is not None else d.current_memory
    return dataclasses.replace(d, current_memory=current,
                               devices=[live if x is dev else x for x in d.devices])


class Balloon:
    """Mixed into QemuDriver (which supplies lock, _obj, _running, _monitor_call)."""

    # -- start, reconnect, events (hooks of runtime.QemuHost)
    def setup_balloon(self, obj: DomainObj, rt: Runtime, incoming: bool) -> None:
        """Before the guest runs: period and target as configured (job held)."""
        dev = balloon_of(obj.def_)
        if dev is None:
            return
        period = period_of(dev)
        if period:
            self._monitor_call(rt, "qom-set", {  # type: ignore[attr-defined]
                "path": QOM_PATH, "property": "guest-stats-polling-interval", "value": period})
        rt.balloon_period = period
        if incoming:
            return   # the balloon's state comes with the stream
        d = obj.def_
        if d.current_memory < d.memory:
            self._monitor_call(rt, "balloon", {"value": d.current_memory * 1024})  # type: ignore[attr-defined]
        self._refresh_balloon(rt)

    def reconnect_balloon(self, obj: DomainObj, rt: Runtime) -> None:
        if balloon_of(obj.def_) is None:
            return
        try:
            self._refresh_balloon(rt)
            rt.balloon_period = int(self._monitor_call(rt, "qom-get", {  # type: ignore[attr-defined]
                "path": QOM_PATH, "property": "guest-stats-polling-interval"}))
        except (errors.VirtError, TypeError, ValueError):
            pass

    def _refresh_balloon(self, rt: Runtime) -> None:
        info = self._monitor_call(rt, "query-balloon")  # type: ignore[attr-defined]
        rt.balloon_actual = int(info["actual"]) // 1024

    def on_balloon_change(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """QEMU's BALLOON_CHANGE (lock held)."""
        actual = int(data.get("actual", 0)) // 1024
        rt.balloon_actual = actual
        events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE,
                                  obj.name, obj.uuid, obj.id, actual)

    # -- entry points
    def _defs(self, dom: Domain, flags: int) -> tuple[DomainObj, Optional[Runtime],
                                                      Optional[DomainDef]]:
        """(obj, its runtime if LIVE applies, its config if CONFIG applies),
        as virDomainObjGetDefs (lock held)."""
        obj = self._obj(dom)  # type: ignore[attr-defined]
        rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
        live, config = affect.defs(obj, flags, obj.is_active() and rt is not None)
        return obj, rt if live else None, config


    def domain_set_memory(self, dom: Domain, memory: int) -> None:
        self.domain_set_memory_flags(dom, memory, AFFECT_LIVE)

    def domain_set_max_memory(self, dom: Domain, memory: int) -> None:
        self.domain_set_memory_flags(dom, memory, MEM_MAXIMUM)

    def domain_set_memory_flags(self, dom: Domain, memory: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | MEM_MAXIMUM,
                           "qemuDomainSetMemoryFlags", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)
                if flags & MEM_MAXIMUM:
                    if rt is not None:
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                            "cannot resize the maximum memory on an "
                                            "active domain")
                    assert config is not None
                    config = affect.keep_apart(obj)
                    config.memory = memory
                    config.current_memory = min(config.current_memory, memory)
                    self._save_config(config)  # type: ignore[attr-defined]
                    return
                for d in ([obj.def_] if rt is not None else []) + ([config] if config else []):
                    if memory > d.memory:
                        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                            "cannot set memory higher than max memory")
                if rt is not None and balloon_of(obj.def_) is None:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "Unable to change memory of active domain without "
                                        "the balloon device and guest OS balloon driver")
            if rt is not None:   # the live size follows QEMU's BALLOON_CHANGE
                self._monitor_call(rt, "balloon", {"value": memory * 1024})  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config.current_memory = memory
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_set_memory_stats_period(self, dom: Domain, period: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainSetMemoryStatsPeriod", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)
                for d in ([obj.def_] if rt is not None else []) + ([config] if config else []):
                    if balloon_of(d) is None:
                        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                            "No memory balloon device configured, can not "
                                            "set the collection period")
            if rt is not None:
                self._monitor_call(rt, "qom-set", {  # type: ignore[attr-defined]
                    "path": QOM_PATH, "property": "guest-stats-polling-interval",
                    "value": period})
                with self.lock:  # type: ignore[attr-defined]
                    rt.balloon_period = period
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    _set_period(balloon_of(config), period)  # type: ignore[arg-type]
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_memory_stats(self, dom: Domain, nr_stats: int, flags: int) -> list[MemoryStat]:
        errors.check_flags(flags, 0, "qemuDomainMemoryStats", Q)
        obj, rt = self._running(dom)  # type: ignore[attr-defined]
        out: list[MemoryStat] = []
        if balloon_of(obj.def_) is not None:
            self._refresh_balloon(rt)
            out.append(MemoryStat(STAT_ACTUAL, rt.balloon_actual or 0))
            try:
                guest = self._monitor_call(rt, "qom-get", {  # type: ignore[attr-defined]
                    "path": QOM_PATH, "property": "guest-stats"})
            except errors.VirtError:
                guest = {}
            stats = dict(guest.get("stats", {}))
            stats["last-update"] = guest.get("last-update", -1)
            for name, tag, divisor in _GUEST_STATS:
                value = stats.get(name, -1)   # QEMU's "unknown": -1, as a uint64 too
                if isinstance(value, int) and 0 <= value < _UNKNOWN:
                    out.append(MemoryStat(tag, value // divisor))
        if rt.process is not None:
            try:
                with open(f"/proc/{rt.process.pid}/stat") as f:
                    rss_pages = int(f.read().rsplit(")", 1)[1].split()[21])
                out.append(MemoryStat(STAT_RSS, rss_pages * _PAGE_KIB))
            except (OSError, IndexError, ValueError):
                pass
        return out[:nr_stats]
