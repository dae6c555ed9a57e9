"""The running guest's side of hotplug (libvirt 9.0's qemu_hotplug.c) for
file disks on virtio and sata and for user, ethernet and bridge NICs: the
QMP commands, ids and node names libvirt uses, the device's place in the
live definition, DEVICE_ADDED; the cdrom's media change and a NIC's link
state for an update.

Disk images get the numbers after the last one given (libvirt's node name
counter: it goes on even when a plug fails), kept in the status file."""

from __future__ import annotations

import contextlib
import dataclasses
import random
from typing import Any, Optional

from lxml import etree

from ... import errors, events
from ...conf import domain_devices, domain_disk
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from . import command, disknodes, hotplug_conf as conf, netdev, pciaddr
from .runtime import Runtime

Q, D, S = ErrorDomain.VIR_FROM_QEMU, ErrorDomain.VIR_FROM_DOMAIN, ErrorDomain.VIR_FROM_STORAGE
_UNPLUG_BUSES = ("virtio", "scsi", "usb")


def _storage_props(index: int, path: str) -> dict[str, Any]:
    return {"driver": "file", "filename": path, "node-name": disknodes.node_name(index, "storage"),
            "auto-read-only": True, "discard": "unmap"}


def _format_props(index: int, fmt: str, readonly: bool, backing: Optional[str],
                  chained: bool) -> dict[str, Any]:
    props: dict[str, Any] = {"node-name": disknodes.node_name(index), "read-only": readonly,
                             "driver": fmt, "file": disknodes.node_name(index, "storage")}
    if chained:
        props["backing"] = backing
    return props


def _images(index: int, path: str, fmt: str, readonly: bool,
            chain: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
    """blockdev-add of an image and its backing chain, the deepest first."""
    out: list[tuple[str, dict[str, Any]]] = []
    below: Optional[str] = None
    numbered = [(index, path, fmt, readonly)] + [
        (index + 1 + k, p, f, True) for k, (p, f) in enumerate(chain)]
    for number, p, f, ro in reversed(numbered):
        out += [("blockdev-add", _storage_props(number, p)),
                ("blockdev-add", _format_props(number, f, ro, below, f == "qcow2"))]
        below = disknodes.node_name(number)
    return out


def _node_numbers(disk: etree._Element) -> list[int]:
    """The numbers of a plugged disk's images, top down (from its live XML)."""
    source = disk.find("source")
    if (source is None or not source.get("index", "").isdigit()
            or domain_disk.empty_source(source)):
        return []
    out = [int(source.get("index", "0"))]
    elem = disk.find("backingStore")
    while elem is not None and elem.get("index", "").isdigit():
        out.append(int(elem.get("index", "0")))
        elem = elem.find("backingStore")
    return out


def _deletions(numbers: list[int]) -> list[tuple[str, dict[str, Any]]]:
    return [("blockdev-del", {"node-name": disknodes.node_name(n, layer)})
            for n in numbers for layer in ("format", "storage")]


def _insert_disk(d: DomainDef, disk: etree._Element) -> None:
    """Where libvirt's virDomainDiskInsert puts a disk: by bus, then target."""
    at = max((i + 1 for i, dev in enumerate(d.devices) if dev.tag in ("emulator", "disk")),
             default=0)
    d.devices.insert(at, disk)
    domain_devices.order_disks(d.devices)


def _attr(parent: etree._Element, tag: str, attr: str, default: str) -> str:
    """An attribute of a child element (an lxml element without children is false)."""
    child = parent.find(tag)
    return child.get(attr, default) if child is not None else default


def _no_slots() -> errors.VirtError:
    """libvirt's error when a running guest has no free slot (it adds no
    controller then)."""
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, D, "No more available PCI slots")


class HotplugLive:
    """Mixed into QemuDriver through Hotplug."""

    def _next_node(self, obj: DomainObj, rt: Runtime, count: int) -> int:
        """The first of `count` new image numbers (lock held)."""
        if rt.node_index is None:
            used = [len(disknodes.disks_of(obj.def_))]
            for index, layers in disknodes.numbers(obj.def_):
                used += [index] + [layer.index for layer in layers]
            rt.node_index = max(used)
        first = rt.node_index + 1
        rt.node_index += count
        return first

    def _plugged(self, obj: DomainObj, alias: str) -> None:
        """A device is in: the status keeps it, DEVICE_ADDED tells (lock held)."""
        self.save_status(obj)
        events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                  obj.name, obj.uuid, obj.id, alias)

    def _run_all(self, rt: Runtime, cmds: list[tuple[str, dict[str, Any]]]) -> None:
        for cmd, args in cmds:
            self._monitor_call(rt, cmd, args)

    def _undo(self, rt: Runtime, cmds: list[tuple[str, dict[str, Any]]]) -> None:
        for cmd, args in cmds:
            with contextlib.suppress(errors.VirtError):
                self._monitor_call(rt, cmd, args)

    # -- attach
    def attach_live(self, obj: DomainObj, rt: Runtime, dev: etree._Element) -> None:
        if dev.tag == "disk":
            self._attach_disk(obj, rt, dev)
        elif dev.tag == "interface":
            self._attach_nic(obj, rt, dev)
        else:
            raise conf.unsupported("live attach", dev)

    def _attach_disk(self, obj: DomainObj, rt: Runtime, disk: etree._Element) -> None:
        domain_devices.normalise([disk])   # bus from the target's name, drive address
        dst, bus = conf.target_dev(disk), _attr(disk, "target", "bus", "")
        cdrom = disk.get("device", "disk") == "cdrom"
        if cdrom and disk.find("readonly") is None:
            disk.append(etree.Element("readonly"))
        source, driver = disk.find("source"), disk.find("driver")
        path = source.get("file") if source is not None else None
        fmt = driver.get("type", "raw") if driver is not None else "raw"
        with self.lock:
            d = obj.def_
            at = conf.find_disk(d, dst)
            if at is not None:
                other = d.devices[at].find("source")
                raise errors.report(
                    ErrorNumber.VIR_ERR_XML_ERROR, D,
                    f"target '{dst}' duplicated for disk sources '{path or '<null>'}' and "
                    f"'{(other.get('file') if other is not None else None) or '<null>'}'")
        if disk.get("type", "file") != "file":
            raise command._unsupported(f"disk type '{disk.get('type')}' is not supported yet")
        if bus in ("ide", "fdc", "xen", "uml", "sd"):
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"disk bus '{bus}' cannot be hotplugged.")
        if bus not in ("virtio", "sata"):
            raise command._unsupported(f"disk bus '{bus}' is not supported yet")
        if fmt not in disknodes.FORMATS:
            raise command._unsupported(f"unsupported disk format '{fmt}'")
        chain: list[tuple[str, str]] = []
        if path:
            disknodes.check_source(path)
            chain = disknodes.backing_chain(disk)
        elif not cdrom:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, D, "missing source for disk")
        with self.lock:
            d = obj.def_
            if bus == "virtio":
                try:
                    pciaddr.place_hotplug(d, disk)
                except errors.VirtError:
                    raise _no_slots() from None
                alias = f"virtio-disk{command._virtio_index(dst, 0)}"
                place = {"bus": pciaddr.bus_id(d, pciaddr.address_of(disk)[0]),  # type: ignore[index]
                         "addr": pciaddr.devfn(*pciaddr.address_of(disk)[1:])}  # type: ignore[index]
                model = "virtio-blk-pci"
            else:
                unit = command._drive_unit(disk, 0)
                alias = f"sata0-0-{unit}"
                place = {"bus": f"{'ide' if pciaddr.is_q35(d) else 'sata0'}.{unit}"}
                model = "ide-cd" if cdrom else "ide-hd"
            index = self._next_node(obj, rt, 1 + len(chain)) if path else 0
        adds = _images(index, path, fmt, disk.find("readonly") is not None or cdrom,
                       chain) if path else []
        props: dict[str, Any] = {"driver": model, **place}
        if path:
            props["drive"] = disknodes.node_name(index)
        props["id"] = alias
        werror, rerror = command.error_policies(driver)
        props.update({k: v for k, v in (("werror", werror), ("rerror", rerror)) if v})
        done: list[tuple[str, dict[str, Any]]] = []
        try:
            for cmd, args in adds:
                self._monitor_call(rt, cmd, args)
                done.append((cmd, args))
            self._monitor_call(rt, "device_add", props)
        except errors.VirtError:
            self._undo(rt, [("blockdev-del", {"node-name": a["node-name"]})
                            for _, a in reversed(done)])
            raise
        with self.lock:
            if source is not None and path:
                source.set("index", str(index))
                if chain:
                    layers = [disknodes.Layer(index + 1 + k, p, f)
                              for k, (p, f) in enumerate(chain)]
                    disk.insert(list(disk).index(source) + 1, disknodes.backing_element(layers))
            _insert_disk(obj.def_, disk)
            self._plugged(obj, alias)

    def _attach_nic(self, obj: DomainObj, rt: Runtime, nic: etree._Element) -> None:
        kind = nic.get("type")
        if kind not in netdev.SUPPORTED_TYPES:
            raise command._unsupported(f"interface type '{kind}' is not supported yet")
        command.fill_nic(nic)
        model = _attr(nic, "model", "type", command.DEFAULT_NIC_MODEL)
        device = command.NIC_DEVICES.get(model)
        if device is None:
            raise command._unsupported(f"interface model '{model}' is not supported yet")
        with self.lock:
            d = obj.def_
            taken = [int(a.get("name", "")[3:]) for dev in netdev.interfaces(d)
                     if (a := dev.find("alias")) is not None
                     and a.get("name", "").startswith("net") and a.get("name", "")[3:].isdigit()]
            alias = f"net{max(taken, default=-1) + 1}"
            try:
                pciaddr.place_hotplug(d, nic)
            except errors.VirtError:
                raise _no_slots() from None
            addr = pciaddr.address_of(nic)
        nic.insert(len(nic) - 1 if addr is not None else len(nic),
                   etree.Element("alias", name=alias))
        # the tap (and vhost) as at start: netdev.prepare on this NIC alone
        setup = netdev.prepare(dataclasses.replace(obj.def_, devices=[nic]))
        hostnet = f"host{alias}"
        netdev_args: dict[str, Any] = {"type": "user"}
        try:
            if 0 in setup.tap_fds:
                self._monitor_run(rt, "getfd", lambda mon: mon.send_fd(
                    setup.tap_fds[0], f"tapfd-{alias}0"))
                netdev_args = {"type": "tap", "fd": f"tapfd-{alias}0"}
                if 0 in setup.vhost_fds:
                    self._monitor_run(rt, "getfd", lambda mon: mon.send_fd(
                        setup.vhost_fds[0], f"vhostfd-{alias}0"))
                    netdev_args.update(vhost=True, vhostfd=f"vhostfd-{alias}0")
            self._monitor_call(rt, "netdev_add", {**netdev_args, "id": hostnet})
            props: dict[str, Any] = {"driver": device, "netdev": hostnet, "id": alias,
                                     "mac": _attr(nic, "mac", "address", "")}
            if addr is not None:
                props.update(bus=pciaddr.bus_id(obj.def_, addr[0]),
                             addr=pciaddr.devfn(addr[1], addr[2]))
            mtu = nic.find("mtu")
            if mtu is not None and model == "virtio":
                props["host_mtu"] = int(mtu.get("size", "0"))
            try:
                self._monitor_call(rt, "device_add", props)
            except errors.VirtError:
                self._undo(rt, [("netdev_del", {"id": hostnet})])
                raise
        except errors.VirtError:
            self._undo(rt, [("closefd", {"fdname": f"tapfd-{alias}0"})] if setup.tap_fds else [])
            setup.close()
            for tap in setup.created:
                netdev.delete_tap(tap)
            raise
        setup.close()
        with self.lock:
            rt.taps += setup.created
            d = obj.def_
            last = max((i for i, dev in enumerate(d.devices) if dev.tag in (
                "emulator", "disk", "controller", "lease", "filesystem", "interface")),
                default=len(d.devices) - 1)
            d.devices.insert(last + 1, nic)
            self._plugged(obj, alias)

    # -- detach
    @staticmethod
    def check_unpluggable(dev: etree._Element) -> None:
        if dev.tag == "disk":
            if dev.get("device", "disk") in ("cdrom", "floppy"):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                    f"disk device type '{dev.get('device')}' cannot be detached")
            if _attr(dev, "target", "bus", "") not in _UNPLUG_BUSES:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                    "This type of disk cannot be hot unplugged")
        elif dev.tag != "interface":
            raise conf.unsupported("live detach", dev)

    def release_backend(self, obj: DomainObj, rt: Runtime, dev: etree._Element,
                        alias: str) -> None:
        """What stood behind a device QEMU dropped: its images' nodes, its
        netdev and the tap we made (job held, lock not)."""
        if dev.tag == "disk":
            self._undo(rt, _deletions(_node_numbers(dev)))
        elif dev.tag == "interface":
            self._undo(rt, [("netdev_del", {"id": f"host{alias}"})])
            target = dev.find("target")
            tap = target.get("dev", "") if target is not None else ""
            with self.lock:
                ours = tap in rt.taps
                if ours:
                    rt.taps.remove(tap)
            if ours:
                netdev.delete_tap(tap)

    # -- update
    def update_live(self, obj: DomainObj, rt: Runtime, dev: etree._Element) -> None:
        if dev.tag == "disk":
            self._change_media(obj, rt, dev)
        elif dev.tag == "interface":
            self._change_nic(obj, rt, dev)
        else:
            raise conf.unsupported("live update", dev, ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED)

    def _change_media(self, obj: DomainObj, rt: Runtime, new: etree._Element) -> None:
        """A cdrom's medium: open the tray, take the old one out (and its
        nodes), put the new one in, close the tray, as libvirt."""
        dst = conf.target_dev(new)
        with self.lock:
            at = conf.find_disk(obj.def_, dst)
            if at is None:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                    f"disk '{dst}' not found")
            old = obj.def_.devices[at]
            alias = _disk_alias(self.live_def(obj), at)
        if old.get("device", "disk") not in ("cdrom", "floppy"):
            raise command._unsupported("disk source can be changed only in removable drives")
        source, driver = new.find("source"), new.find("driver")
        path = source.get("file") if source is not None else None
        fmt = driver.get("type", "raw") if driver is not None else "raw"
        if path:
            disknodes.check_source(path)
        with self.lock:   # an empty drive's source takes a number too
            index = self._next_node(obj, rt, 1)
        self._monitor_call(rt, "blockdev-open-tray", {"id": alias, "force": False})
        self._monitor_call(rt, "blockdev-remove-medium", {"id": alias})
        self._undo(rt, _deletions(_node_numbers(old)))
        if path:
            self._run_all(rt, _images(index, path, fmt, True, []))
            self._monitor_call(rt, "blockdev-insert-medium",
                               {"id": alias, "node-name": disknodes.node_name(index)})
        self._monitor_call(rt, "blockdev-close-tray", {"id": alias})
        with self.lock:
            for child in [c for c in old if c.tag in ("source", "backingStore")]:
                old.remove(child)
            old_driver = old.find("driver")
            elem = etree.Element("source", file=path, index=str(index)) if path \
                else etree.Element("source", index=str(index))
            old.insert(list(old).index(old_driver) + 1 if old_driver is not None else 0, elem)
            if old_driver is not None:
                old_driver.set("type", fmt)
            self.save_status(obj)

    def _change_nic(self, obj: DomainObj, rt: Runtime, new: etree._Element) -> None:
        """A NIC's link state (set_link); a change of model libvirt refuses."""
        with self.lock:
            at = conf.find_nic(obj.def_, new)
            old = obj.def_.devices[at]
            alias = _attr(old, "alias", "name", "")
        old_mac = _attr(old, "mac", "address", "")
        # libvirt gives a NIC without <mac> a new random one, which then differs
        new_mac = _attr(new, "mac", "address", "") or "52:54:00:%02x:%02x:%02x" % tuple(
            random.randrange(256) for _ in range(3))
        if new_mac.lower() != old_mac.lower():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"cannot change network interface mac address from "
                                f"{old_mac} to {new_mac}")
        old_model = _attr(old, "model", "type", command.DEFAULT_NIC_MODEL)
        new_model = _attr(new, "model", "type", old_model)
        if new_model != old_model:
            raise errors.report(ErrorNumber.VIR_ERR_NO_SUPPORT, Q,
                                f"cannot modify network device model from {old_model} "
                                f"to {new_model}")
        link = new.find("link")
        state = link.get("state", "up") if link is not None else "up"
        old_link = old.find("link")
        if state != (old_link.get("state", "up") if old_link is not None else "up"):
            self._monitor_call(rt, "set_link", {"name": alias, "up": state == "up"})
        with self.lock:
            if old_link is not None:
                old.remove(old_link)
            if link is not None:
                children = list(old)
                pos = next((i for i, c in enumerate(children) if c.tag in (
                    "mtu", "coalesce", "rom", "boot", "alias", "address", "acpi")), len(children))
                old.insert(pos, etree.Element("link", state=state))
            self.save_status(obj)


def _disk_alias(live: DomainDef, at: int) -> str:
    alias = live.devices[at].find("alias")
    return alias.get("name", "") if alias is not None else ""


