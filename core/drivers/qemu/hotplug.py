"""Device hotplug entry points (libvirt 9.0's qemuDomainAttachDeviceFlags,
DetachDeviceFlags, DetachDeviceAlias, UpdateDeviceFlags).

AFFECT_CONFIG edits a copy of the persistent definition, completed by the
post-parse a define runs (but no spare root port), saved once the live part
(if any) succeeded.  AFFECT_LIVE plugs file disks (virtio, sata) and user,
ethernet and bridge NICs (hotplug_live.py).  An unplug is device_del and a
wait of up to 5 s for QEMU's DEVICE_DELETED, as libvirt's: a guest that
never answers (no ACPI or PCIe hotplug driver) keeps the device, the call
still returns success, and the device goes when QEMU does drop it (QEMU
completes a pending unplug at the guest's next reset): then its nodes or
netdev go, the live XML drops it and DEVICE_REMOVED is emitted.
"""

from __future__ import annotations

import copy
import threading
from typing import Any, Callable

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef, format_domain_xml, parse_domain_xml
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import affect, hotplug_conf as conf
from .hotplug_live import HotplugLive
from .runtime import Runtime

Q, D = ErrorDomain.VIR_FROM_QEMU, ErrorDomain.VIR_FROM_DOMAIN
AFFECT_LIVE, AFFECT_CONFIG = 1, 2
UNPLUG_WAIT = 5.0          # libvirt's qemuDomainRemoveDeviceWaitTime
UNPLUG_WAITS = "unplug_waits"    # obj.private: alias -> Event of a detach waiting for it


class Hotplug(HotplugLive):
    """Mixed into QemuDriver (which supplies lock, job, _obj, _parse, ...)."""

    # -- entry points
    def domain_attach_device(self, dom: Domain, xml: str) -> None:
        self.domain_attach_device_flags(dom, xml, AFFECT_LIVE)

    def domain_attach_device_flags(self, dom: Domain, xml: str, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainAttachDeviceLiveAndConfig", Q)
        self._device_call(dom, xml, flags, conf.attach, self.attach_live)

    def domain_detach_device(self, dom: Domain, xml: str) -> None:
        self.domain_detach_device_flags(dom, xml, AFFECT_LIVE)

    def domain_detach_device_flags(self, dom: Domain, xml: str, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG,
                           "qemuDomainDetachDeviceLiveAndConfig", Q)
        self._device_call(dom, xml, flags, conf.detach, self._detach_live)

    def domain_update_device_flags(self, dom: Domain, xml: str, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | 4,   # 4: FORCE (the tray)
                           "qemuDomainUpdateDeviceFlags", Q)
        self._device_call(dom, xml, flags & ~4, conf.update, self.update_live)

    def domain_detach_device_alias(self, dom: Domain, alias: str, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainDetachDeviceAlias", Q)
        with self.job(dom.uuid):
            obj, live, config = self._impact(dom, flags)
            new = None
            if config:
                new = self._edit_config(obj, lambda d: d.devices.pop(_by_alias(d, alias)))
            if live:
                rt = self._live_runtime(obj)
                with self.lock:
                    at = _by_alias(self.live_def(obj), alias)
                    dev = obj.def_.devices[at]
                self._unplug(obj, rt, dev, alias)
            if new is not None:
                self._commit_config(obj, new)

    # -- the common part
    def _impact(self, dom: Domain, flags: int) -> tuple[DomainObj, bool, bool]:
        """The domain and which of its definitions a call changes
        (virDomainObjUpdateModificationImpact)."""
        with self.lock:
            obj = self._obj(dom)  # type: ignore[attr-defined]
            live, config = bool(flags & AFFECT_LIVE), bool(flags & AFFECT_CONFIG)
            if not live and not config:
                live, config = obj.is_active(), not obj.is_active()
            if live and not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            if config and not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "transient domains do not have any persistent config")
            return obj, live, config

    def _device_call(self, dom: Domain, xml: str, flags: int,
                     on_config: Callable[[DomainDef, etree._Element], None],
                     on_live: Callable[[DomainObj, Runtime, etree._Element], None]) -> None:
        with self.job(dom.uuid):
            obj, live, config = self._impact(dom, flags)
            dev = conf.parse_device(xml)
            new = self._edit_config(obj, lambda d: on_config(d, copy.deepcopy(dev))) \
                if config else None
            if live:
                on_live(obj, self._live_runtime(obj), dev)
            if new is not None:
                self._commit_config(obj, new)

    def _live_runtime(self, obj: DomainObj) -> Runtime:
        with self.lock:
            rt = self.runtime.get(obj.uuid)
            if rt is None or not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            return rt

    def _edit_config(self, obj: DomainObj, edit: Callable[[DomainDef], Any]) -> DomainDef:
        """A copy of the persistent definition, edited and completed again."""
        with self.lock:
            text = format_domain_xml(obj.persistent_def(), inactive=True)
        d = parse_domain_xml(text, default_arch=obj.def_.os.arch, keep_interfaces=True)
        edit(d)
        return self._parse(format_domain_xml(d, inactive=True),  # type: ignore[attr-defined]
                           new_domain=False)

    def _commit_config(self, obj: DomainObj, new: DomainDef) -> None:
        with self.lock:
            self._save_config(new)  # type: ignore[attr-defined]
            obj.private.pop(affect.AS_DEFINED, None)   # a copy, as libvirt's
            if obj.is_active():
                obj.new_def = new
            else:
                obj.def_ = new

    # -- unplug
    def _detach_live(self, obj: DomainObj, rt: Runtime, dev: etree._Element) -> None:
        with self.lock:
            d = obj.def_
            if dev.tag == "disk":
                dst = conf.target_dev(dev)
                at = conf.find_disk(d, dst)
                if at is None:
                    raise errors.report(ErrorNumber.VIR_ERR_DEVICE_MISSING, Q,
                                        f"disk {dst} not found")
                self.check_disk_job_inactive(rt, d.devices[at])  # type: ignore[attr-defined]
            elif dev.tag == "interface":
                at = conf.find_nic(d, dev)
            else:
                raise conf.unsupported("live detach", dev)
            found = d.devices[at]
            alias = _alias_at(self.live_def(obj), at)
        self._unplug(obj, rt, found, alias)

    def _unplug(self, obj: DomainObj, rt: Runtime, dev: etree._Element, alias: str) -> None:
        """device_del and the wait for QEMU to let it go (job held)."""
        self.check_unpluggable(dev)
        done = threading.Event()
        with self.lock:
            obj.private.setdefault(UNPLUG_WAITS, {})[alias] = done
        try:
            self._monitor_call(rt, "device_del", {"id": alias})
            done.wait(UNPLUG_WAIT)
        finally:
            with self.lock:
                obj.private.get(UNPLUG_WAITS, {}).pop(alias, None)
        if done.is_set():
            self.remove_device(obj, rt, alias)

    def on_device_deleted(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """QEMU let a device go (QMP thread, lock held): the detach waiting
        for it removes it, else a thread of its own does (it needs the job)."""
        alias = data.get("device")
        if not alias:
            return   # a device's part (its virtio backend), not a device
        waiting = obj.private.get(UNPLUG_WAITS, {}).get(alias)
        if waiting is not None:
            waiting.set()
            return

        def remove() -> None:
            try:
                with self.job(obj.uuid):
                    self.remove_device(obj, rt, alias)
            except errors.VirtError:
                pass   # the domain went meanwhile
        threading.Thread(target=remove, name="pyvirt-device-deleted", daemon=True).start()

    def remove_device(self, obj: DomainObj, rt: Runtime, alias: str) -> None:
        """QEMU dropped the device `alias`: its back end goes, and the live
        definition and status forget it (job held)."""
        with self.lock:
            if rt.stopped or self.runtime.get(obj.uuid) is not rt:
                return
            try:
                at = _by_alias(self.live_def(obj), alias)
            except errors.VirtError:
                return   # not ours, or gone already
            dev = obj.def_.devices[at]
        self.release_backend(obj, rt, dev, alias)
        with self.lock:
            if dev in obj.def_.devices:
                obj.def_.devices.remove(dev)
            self.save_status(obj)
            events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                      obj.name, obj.uuid, obj.id, alias)


def _alias_at(d: DomainDef, at: int) -> str:
    alias = d.devices[at].find("alias")
    return alias.get("name", "") if alias is not None else ""


def _by_alias(d: DomainDef, alias: str) -> int:
    """Index in d.devices of the device named `alias` (in a live view: every
    device's; in a definition: the user's ua- aliases)."""
    for i, dev in enumerate(d.devices):
        a = dev.find("alias")
        if a is not None and a.get("name") == alias:
            return i
    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, D,
                        f"no device found with alias {alias}")
