"""Live vCPU hot(un)plug of the QEMU driver, as libvirt 9.0's (its
qemuDomainSetVcpusLive, qemuDomainHotplugAddVcpu/DelVcpu, SetVcpu and the
boot-time qemuProcessSetupHotpluggableVcpus).

QEMU says which vCPUs can be plugged (query-hotpluggable-cpus: one entity
per x86 thread, sorted by socket, die, core, thread to give the vCPU ids)
and which run (query-cpus-fast: the order they came in, their threads).
A vCPU added here is `device_add`ed with the id 'vcpuN'; only those can
go again (device_del, then up to 5 s for DEVICE_DELETED).  Those online at
boot and hotpluggable are added the same way before the guest runs, after
`-smp` started the others.

The live definition keeps each vCPU's state; the first hotplug makes it
written as <vcpus>, each online vCPU's order the place QEMU lists it at.
No event is emitted, as libvirt emits none."""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import TYPE_CHECKING, Any, Optional

from ... import errors
from ...conf import domain_cputune as cputune
from ...conf import domain_vcpus
from ...conf.domain import DomainDef
from ...conf.domain_vcpus import VcpuSlot
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ..cpumaps import host_cpus
from . import affect
from .hotplug import UNPLUG_WAIT, UNPLUG_WAITS

if TYPE_CHECKING:
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
_PLACE = ("socket-id", "die-id", "core-id", "thread-id")
_PERIPHERAL = "/machine/peripheral/"


@dataclasses.dataclass
class Entity:
    """One entry of query-hotpluggable-cpus: vCPUs vcpu..vcpu+count-1."""
    vcpu: int
    count: int
    type: str
    props: dict[str, Any]
    alias: Optional[str]     # its device id, when it was device_add'ed
    present: bool
    enable: int = 0          # 1 + where query-cpus-fast lists it (0: absent)
    tid: Optional[int] = None


def entities(hotpluggable: list[dict[str, Any]], cpus: list[dict[str, Any]]) -> list[Entity]:
    """QEMU's answers, as the vCPUs they are."""
    where = {c.get("qom-path"): (i, c) for i, c in enumerate(cpus)}
    out, vcpu = [], 0
    for e in sorted(hotpluggable, key=lambda e: tuple(e["props"].get(k, -1) for k in _PLACE)):
        path = e.get("qom-path")
        alias = path[len(_PERIPHERAL):] if path and path.startswith(_PERIPHERAL) else None
        found = where.get(path) if path else None
        ent = Entity(vcpu=vcpu, count=int(e.get("vcpus-count", 1)), type=e["type"],
                     props=dict(e["props"]), alias=alias, present=path is not None)
        if found is not None:
            ent.enable, ent.tid = found[0] + 1, int(found[1]["thread-id"])
        out.append(ent)
        vcpu += ent.count
    return out


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q, detail)


def select(slots: list[VcpuSlot], ents: dict[int, Entity], nvcpus: int) -> tuple[list[int], bool]:
    """The vCPUs (first of each entity) to plug or unplug to get `nvcpus`
    online, and whether they are plugged (qemuDomainSelectHotplugVcpuEntities)."""
    current = sum(s.online for s in slots)
    chosen: list[int] = []
    enable = nvcpus > current
    ids = range(len(slots)) if enable else range(len(slots) - 1, -1, -1)
    for vid in ids:
        if current == nvcpus:
            break
        ent = ents.get(vid)
        if slots[vid].online == enable or ent is None or (not enable and ent.alias is None):
            continue
        current += ent.count if enable else -ent.count
        if (current > nvcpus) if enable else (current < nvcpus):
            raise _unsupported("target vm vcpu granularity does not allow the desired "
                               "vcpu count")
        chosen.append(vid)
    if current != nvcpus:
        raise _unsupported("failed to find appropriate hotpluggable vcpus to reach the "
                           "desired target vcpu count")
    return chosen, enable


class VcpuHotplug:
    """Mixed into QemuDriver before Hotplug (lock, job, runtime,
    _monitor_call(s), save_status come from it)."""

    def vcpu_entities(self, rt: Runtime) -> list[Entity]:
        """QEMU's vCPUs now (lock not held); their threads kept for the stats."""
        plug, cpus = self._monitor_calls(rt, [  # type: ignore[attr-defined]
            ("query-hotpluggable-cpus", None), ("query-cpus-fast", None)])
        ents = entities(plug, cpus)
        rt.vcpu_tids = {e.vcpu: e.tid for e in ents if e.tid is not None}
        return ents

    def setup_vcpus(self, obj: DomainObj, rt: Runtime) -> None:
        """At start, before the guest runs: the hotpluggable vCPUs online at
        boot are plugged, by order then id; a <vcpus> gets QEMU's order."""
        d = obj.def_
        slots = domain_vcpus.slots(d)
        boot = sorted((s.order, vid) for vid, s in enumerate(slots)
                      if s.online and s.hotpluggable)
        if not boot and d.vcpu_slots is None:
            return
        if boot:
            by_id = {e.vcpu: e for e in self.vcpu_entities(rt)}
            for _, vid in boot:
                if vid in by_id:
                    self._device_add_vcpu(rt, vid, by_id[vid])
        self._refresh_vcpus(obj, rt, None)

    def _device_add_vcpu(self, rt: Runtime, vid: int, ent: Entity) -> None:
        props = {"driver": ent.type, "id": f"vcpu{vid}", **ent.props}
        self._monitor_call(rt, "device_add", props)  # type: ignore[attr-defined]

    def _refresh_vcpus(self, obj: DomainObj, rt: Runtime,
                       changed: Optional[tuple[int, bool]], orders: bool = True
                       ) -> list[Entity]:
        """The live definition after QEMU's vCPUs changed (`changed`: the
        entity's first vCPU and whether it came) or were set up: each online
        vCPU's order (unless not `orders`), written as <vcpus> once a vCPU
        was plugged (lock not held)."""
        ents = self.vcpu_entities(rt)
        with self.lock:  # type: ignore[attr-defined]
            slots = domain_vcpus.slots(obj.def_)
            individual = obj.def_.vcpu_slots is not None
            if changed is not None:
                vid, online = changed
                count = next((e.count for e in ents if e.vcpu == vid), 1)
                for i in range(vid, min(vid + count, len(slots))):
                    slots[i].online = online
                individual = individual or online
            enable = {i: e.enable for e in ents for i in range(e.vcpu, e.vcpu + e.count)}
            for vid, slot in enumerate(slots):
                if orders:
                    slot.order = enable.get(vid, 0) if slot.online else 0
            if (individual or changed is not None) and slots != obj.def_.vcpu_slots:
                affect.keep_apart(obj)
                domain_vcpus.store(obj.def_, slots, individual)
            if changed is not None:   # a start's status is written as it ends
                self.save_status(obj)  # type: ignore[attr-defined]
        return ents

    def set_vcpus_live(self, obj: DomainObj, rt: Runtime, nvcpus: int) -> None:
        """Plug or unplug vCPUs until `nvcpus` are online (job held, lock not held)."""
        ents = {e.vcpu: e for e in self.vcpu_entities(rt)}
        with self.lock:  # type: ignore[attr-defined]
            chosen, enable = select(domain_vcpus.slots(obj.def_), ents, nvcpus)
        self.change_vcpus(obj, rt, chosen, enable, ents)

    def change_vcpus(self, obj: DomainObj, rt: Runtime, chosen: list[int], enable: bool,
                     ents: dict[int, Entity]) -> None:
        """Plug (`enable`) or unplug the entities `chosen`, in that order
        (job held, lock not held); the first failure ends it."""
        for vid in chosen:
            if enable:
                self._device_add_vcpu(rt, vid, ents[vid])
                now = self._refresh_vcpus(obj, rt, (vid, True))
                self._pin_new_vcpu(obj, next((e for e in now if e.vcpu == vid), None))
            else:
                self._unplug_vcpu(obj, rt, vid, ents[vid])

    def _pin_new_vcpu(self, obj: DomainObj, ent: Optional[Entity]) -> None:
        """A plugged vCPU's thread runs where its <vcpupin> says, else anywhere."""
        if ent is None or ent.tid is None:
            return
        with self.lock:  # type: ignore[attr-defined]
            cpus = cputune.vcpu_pins(obj.def_.cputune).get(ent.vcpu) or host_cpus()
        try:
            os.sched_setaffinity(ent.tid, cpus)
        except OSError:
            pass   # gone meanwhile, or pinned to CPUs this host lacks

    def _unplug_vcpu(self, obj: DomainObj, rt: Runtime, vid: int, ent: Entity) -> None:
        if ent.alias is None:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"vcpu '{vid}' can't be unplugged")
        done = threading.Event()
        with self.lock:  # type: ignore[attr-defined]
            obj.private.setdefault(UNPLUG_WAITS, {})[ent.alias] = done
        try:
            self._monitor_call(rt, "device_del", {"id": ent.alias})  # type: ignore[attr-defined]
            done.wait(UNPLUG_WAIT)
        finally:
            with self.lock:  # type: ignore[attr-defined]
                obj.private.get(UNPLUG_WAITS, {}).pop(ent.alias, None)
        if not done.is_set():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_TIMEOUT, Q,
                                "vcpu unplug request timed out. Unplug result must be "
                                "manually inspected in the domain")
        self._refresh_vcpus(obj, rt, (vid, False))

    def remove_device(self, obj: DomainObj, rt: Runtime, alias: str) -> None:
        """A vCPU QEMU let go with no unplug waiting for it (one that timed
        out, or a device_del sent behind the driver's back) goes offline
        (job held); other devices are Hotplug's."""
        if not (alias.startswith("vcpu") and alias[4:].isdigit()):
            super().remove_device(obj, rt, alias)  # type: ignore[misc]
            return
        with self.lock:  # type: ignore[attr-defined]
            if rt.stopped or self.runtime.get(obj.uuid) is not rt:  # type: ignore[attr-defined]
                return
        vid = int(alias[4:])
        try:
            with self.lock:  # type: ignore[attr-defined]
                known = vid < obj.def_.vcpus and domain_vcpus.slots(obj.def_)[vid].online
            if known:   # libvirt leaves the orders as they were here
                self._refresh_vcpus(obj, rt, (vid, False), orders=False)
        except errors.VirtError:
            pass   # the domain went meanwhile

    def vcpu_entity_to_change(self, obj: DomainObj, rt: Runtime, vcpus: frozenset[int],
                              state: bool) -> tuple[list[int], dict[int, Entity]]:
        """The one entity virDomainSetVcpu plugs or unplugs, with QEMU's
        entities (job held, lock not held)."""
        ents = {e.vcpu: e for e in self.vcpu_entities(rt)}
        with self.lock:  # type: ignore[attr-defined]
            chosen = filter_entities(domain_vcpus.slots(obj.def_), ents, vcpus, state)
        if len(chosen) != 1:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                "only one hotpluggable entity can be selected")
        return chosen, ents


def filter_entities(slots: list[VcpuSlot], ents: dict[int, Entity], vcpus: frozenset[int],
                    state: bool) -> list[int]:
    for vid in sorted(vcpus):
        if vid >= len(slots):
            continue
        if slots[vid].online == state:
            raise _invalid(f"vcpu '{vid}' is already in requested state")
        # libvirt tests its tristate for 'unset' here, so a vCPU marked
        # non-hotpluggable passes (and fails at the unplug, having no alias)
        if slots[vid].online and slots[vid].hotpluggable is None:
            raise _invalid(f"vcpu '{vid}' can't be hotunplugged")
    chosen, skip = [], set()
    for vid in sorted(vcpus):
        if vid >= len(slots) or vid in skip:
            continue
        ent = ents.get(vid)
        if ent is None:
            raise _invalid(f"vcpu '{vid}' belongs to a larger hotpluggable entity, "
                           f"but siblings were not selected")
        for sub in range(vid + 1, vid + ent.count):
            if sub not in vcpus:
                raise _invalid(f"vcpu '{sub}' was not selected but it belongs to "
                               f"hotpluggable entity '{vid}-{vid + ent.count - 1}' which "
                               f"was partially selected")
            skip.add(sub)
        chosen.append(vid)
    return chosen


def validate_config(d: DomainDef, vcpus: frozenset[int]) -> None:
    """qemuDomainVcpuValidateConfig: vCPU 0 stays, and the fixed vCPUs first."""
    if 0 in vcpus:
        raise _invalid("vCPU '0' can't be modified")
    first = min(vcpus)
    for vid, slot in enumerate(domain_vcpus.slots(d)):
        if vid <= first or vid in vcpus:
            continue
        if slot.online and slot.hotpluggable is False:
            raise _invalid(f"vcpu '{first}' can't be modified as it is followed by "
                           f"non-hotpluggable online vcpus")


def set_vcpu_config(d: DomainDef, vcpus: frozenset[int], state: bool) -> None:
    """qemuDomainSetVcpuConfig: individual vCPUs, hotpluggable, orders forgotten."""
    slots = domain_vcpus.slots(d)
    for slot in slots:
        slot.order = 0
    for vid in vcpus:
        if vid < len(slots):
            slots[vid].online, slots[vid].hotpluggable = state, True
    domain_vcpus.store(d, slots, True)
