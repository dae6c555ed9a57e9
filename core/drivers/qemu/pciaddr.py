"""PCI addresses as libvirt 9.0's QEMU driver assigns them (x86 pc and q35).

pc (i440fx): one bus, slot 1 the PIIX3 (IDE 01.1, USB 01.2), the primary
video at slot 2, then the first free slot for each device in turn.

q35: endpoints never go on pcie-root (but video 01.0 and SATA 1f.2); each
PCIe device sits in a pcie-root-port of its own, each conventional PCI
device (rtl8139, e1000) in a slot of a pcie-to-pci-bridge.  As libvirt, a
dry run first counts the buses the devices need (plus one spare root port
for hotplug) and adds those controllers; the real pass then places the new
controllers first (root ports packed as functions of one bus-0 slot), then
the devices, each in the first free slot that fits it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber

_CONVENTIONAL_NICS = ("rtl8139", "e1000")
ROOT_PORT, BRIDGE = "pcie-root-port", "pcie-to-pci-bridge"


def is_q35(d: DomainDef) -> bool:
    return "q35" in (d.os.machine or "")


def bus_id(d: DomainDef, bus: int) -> str:
    """QEMU's id of PCI bus `bus` (libvirt's controller aliases)."""
    if bus == 0:
        return "pcie.0" if is_q35(d) else "pci.0"
    return f"pci.{bus}"


def props(d: DomainDef, dev: etree._Element) -> list[str]:
    """bus= and addr= of a device's -device, from its <address>."""
    addr = address_of(dev)
    if addr is None:
        return []
    out = [f"bus={bus_id(d, addr[0])}", f"addr={devfn(addr[1], addr[2])}"]
    a = dev.find("address")
    if a is not None and a.get("multifunction") == "on":
        out.insert(1, "multifunction=on")
    return out


def controller_args(d: DomainDef) -> list[str]:
    """-device for the PCI controllers after the root, the USB controller
    and a pc's AHCI, as libvirt orders them."""
    out: list[str] = []
    for c in _pci_controllers(d):
        index = int(c.get("index", "0"))
        if c.get("model") == ROOT_PORT:
            t = c.find("target")
            port = int(t.get("port", "0"), 0) if t is not None else 0
            chassis = t.get("chassis", str(index)) if t is not None else str(index)
            out += ["-device", ",".join([ROOT_PORT, f"port={port}", f"chassis={chassis}",
                                         f"id=pci.{index}"] + props(d, c))]
        elif c.get("model") == BRIDGE:
            out += ["-device", ",".join(["pcie-pci-bridge", f"id=pci.{index}"] + props(d, c))]
    for c in d.devices:
        if c.tag != "controller" or c.get("index", "0") != "0":
            continue
        if c.get("type") == "usb" and c.get("model") in _USB_DEVICES:
            out += ["-device", ",".join([_USB_DEVICES[c.get("model", "")], "id=usb"]
                                        + props(d, c))]
        elif c.get("type") == "sata" and not is_q35(d):
            out += ["-device", ",".join(["ahci", "id=sata0"] + props(d, c))]
    for c in d.devices:   # after USB and SATA, as libvirt orders the controllers
        if c.tag == "controller" and c.get("type") == "virtio-serial":
            out += ["-device", ",".join(["virtio-serial-pci",
                                         f"id=virtio-serial{c.get('index', '0')}"]
                                        + props(d, c))]
    return out


_USB_DEVICES = {"qemu-xhci": "qemu-xhci", "piix3-uhci": "piix3-usb-uhci"}


def address_of(dev: etree._Element) -> Optional[tuple[int, int, int]]:
    a = dev.find("address")
    if a is None or a.get("type") != "pci":
        return None
    return (int(a.get("bus", "0"), 0), int(a.get("slot", "0"), 0),
            int(a.get("function", "0"), 0))


def devfn(slot: int, function: int) -> str:
    return f"0x{slot:x}" + (f".0x{function:x}" if function else "")


def _set_address(dev: etree._Element, bus: int, slot: int, function: int,
                 multifunction: bool = False) -> None:
    attrs = {"type": "pci", "domain": "0x0000", "bus": f"0x{bus:02x}",
             "slot": f"0x{slot:02x}", "function": f"0x{function:x}"}
    if multifunction:
        attrs["multifunction"] = "on"
    dev.append(etree.Element("address", attrs))


def _pcie(dev: etree._Element) -> bool:
    """Whether a device is PCI Express (else conventional PCI)."""
    if dev.tag == "interface":
        model = dev.find("model")
        return (model.get("type") if model is not None else "rtl8139") not in _CONVENTIONAL_NICS
    return True


def _wants_address(dev: etree._Element, q35: bool) -> bool:
    if dev.find("address") is not None:
        return False
    if dev.tag == "interface":
        return True
    if dev.tag == "disk":
        t = dev.find("target")
        return t is not None and t.get("bus") == "virtio"
    if dev.tag == "memballoon":
        return dev.get("model") == "virtio"
    if dev.tag == "controller":
        return (dev.get("type") in ("usb", "sata", "virtio-serial") and dev.get("model") != "none"
                and (q35, dev.get("type", ""), dev.get("model")) not in _FIXED)
    return False


def _endpoints(d: DomainDef) -> list[etree._Element]:
    """Devices to place, in libvirt's order: NICs, controllers, disks, balloon."""
    order = ("interface", "controller", "disk", "memballoon")
    return [dev for tag in order for dev in d.devices
            if dev.tag == tag and _wants_address(dev, is_q35(d))]


@dataclasses.dataclass
class _Bus:
    index: int
    model: str                      # pcie-root, pci-root, pcie-root-port, pcie-to-pci-bridge
    used: set[tuple[int, int]] = dataclasses.field(default_factory=set)
    ports: dict[int, set[int]] = dataclasses.field(default_factory=dict)   # root ports' slots

    def free_slot(self, pcie: bool) -> Optional[int]:
        if self.model == ROOT_PORT and pcie:
            slots: range = range(0, 1)
        elif self.model == BRIDGE and not pcie:
            slots = range(1, 32)
        elif self.model == "pci-root":
            slots = range(1, 32)
        else:
            return None
        return next((s for s in slots if (s, 0) not in self.used), None)


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU, detail)


def _pci_controllers(d: DomainDef) -> list[etree._Element]:
    return sorted((dev for dev in d.devices if dev.tag == "controller" and dev.get("type") == "pci"),
                  key=lambda c: int(c.get("index", "0")))


def _buses(d: DomainDef) -> list[_Bus]:
    buses = [_Bus(int(c.get("index", "0")), c.get("model", "")) for c in _pci_controllers(d)]
    for dev in d.devices:
        addr = address_of(dev)
        if addr is not None:
            bus = next((b for b in buses if b.index == addr[0]), None)
            if bus is None:
                raise _unsupported(f"no PCI controller with index {addr[0]}")
            bus.used.add((addr[1], addr[2]))
    return buses


def _reserve_fixed(d: DomainDef, buses: list[_Bus]) -> None:
    """The chipset's own slots and the primary video's."""
    root = buses[0]
    video = any(dev.tag == "video" for dev in d.devices)
    if is_q35(d):
        root.used |= {(0, 0)} | {(0x1f, f) for f in range(8)}
        if video:
            root.used.add((1, 0))
    else:
        root.used |= {(0, 0)} | {(1, f) for f in range(8)}
        if video:
            root.used.add((2, 0))


def _dry_run(d: DomainDef, buses: list[_Bus], spare: bool) -> list[str]:
    """The models of the controllers q35 needs added, by index order."""
    added: list[str] = []

    def grow(model: str) -> _Bus:
        bus = _Bus(len(buses), model)
        buses.append(bus)
        added.append(model)
        return bus

    def place(pcie: bool) -> None:
        for bus in buses:
            slot = bus.free_slot(pcie)
            if slot is not None:
                bus.used.add((slot, 0))
                return
        grow(ROOT_PORT).used.add((0, 0))   # taken by the device or by a new bridge
        if not pcie:
            grow(BRIDGE).used.add((1, 0))

    for dev in _endpoints(d):
        place(_pcie(dev))
    if added and spare:
        place(True)   # a spare root port for hotplug
    return added


def _new_controller(index: int, model: str) -> etree._Element:
    c = etree.Element("controller", type="pci", index=str(index), model=model)
    _fill_options(c)
    return c


def _fill_options(c: etree._Element) -> None:
    """QEMU's device name and a root port's chassis, as libvirt gives every
    such controller, listed or added; the port follows from its address."""
    model = c.get("model")
    if model not in (ROOT_PORT, BRIDGE):
        return
    if c.find("model") is None:
        c.insert(0, etree.Element("model", name="pcie-pci-bridge" if model == BRIDGE else model))
    if model == ROOT_PORT:
        target = c.find("target")
        if target is None:
            target = etree.Element("target")
            c.insert(1, target)
        if target.get("chassis") is None:
            attrs = [("chassis", c.get("index", "0")), *target.attrib.items()]
            target.attrib.clear()
            target.attrib.update(attrs)


def assign(d: DomainDef, spare: bool = True) -> None:
    """Give every PCI device of `d` without an address libvirt's address,
    adding the root ports and bridges q35 needs (post-parse); `spare`: and
    a root port for hotplug, which libvirt adds to a new definition only
    (not to one a device is added to)."""
    buses = _buses(d)
    if not buses:
        return
    _reserve_fixed(d, buses)
    controllers = _pci_controllers(d)
    # the spare port is for definitions that leave PCI controllers to libvirt
    spare = spare and max(int(c.get("index", "0")) for c in controllers) <= 0
    for c in controllers:
        _fill_options(c)
    if is_q35(d):
        dry = [dataclasses.replace(b, used=set(b.used)) for b in buses]
        for offset, model in enumerate(_dry_run(d, dry, spare)):
            index = len(buses) + offset
            c = _new_controller(index, model)
            last = max(i for i, dev in enumerate(d.devices) if dev.tag == "controller")
            d.devices.insert(last + 1, c)
            controllers.append(c)
        buses += [_Bus(int(c.get("index", "0")), c.get("model", ""))
                  for c in controllers[len(buses):]]
    for c in controllers:   # root ports placed before: new ones join their slot
        addr = address_of(c)
        if c.get("model") == ROOT_PORT and addr is not None and addr[0] == 0:
            buses[0].ports.setdefault(addr[1], set()).add(addr[2])
    for c in controllers:
        if c.find("address") is None and c.get("model") == ROOT_PORT:
            _place_root_port(c, buses[0])
        elif c.find("address") is None and c.get("model") == BRIDGE:
            _place(c, buses, True)
        target, addr = c.find("target"), address_of(c)
        if (c.get("model") == ROOT_PORT and target is not None and addr is not None
                and target.get("port") is None):
            target.set("port", f"0x{addr[1] * 8 + addr[2]:x}")
    for dev in _endpoints(d):
        _place(dev, buses, _pcie(dev))
    video = next((dev for dev in d.devices if dev.tag == "video"), None)
    if video is not None and video.find("address") is None:
        _set_address(video, 0, 1 if is_q35(d) else 2, 0)
    for dev in d.devices:
        if dev.tag == "controller" and dev.find("address") is None:
            fixed = _FIXED.get((is_q35(d), dev.get("type", ""), dev.get("model")))
            if fixed is not None:
                _set_address(dev, 0, *fixed)


def place_hotplug(d: DomainDef, dev: etree._Element) -> None:
    """An address for a device plugged into running `d`: the first free slot
    that fits it; no controller is added while the guest runs."""
    buses = _buses(d)
    if buses:
        _reserve_fixed(d, buses)
        _place(dev, buses, _pcie(dev))


# chipset controllers at fixed places: (q35?, type, model) -> (slot, function)
_FIXED = {(True, "sata", None): (0x1f, 2), (False, "ide", None): (1, 1),
          (False, "usb", "piix3-uhci"): (1, 2)}


def _place(dev: etree._Element, buses: list[_Bus], pcie: bool) -> None:
    for bus in buses[1:] if buses[0].model == "pcie-root" else buses:
        slot = bus.free_slot(pcie)
        if slot is not None:
            bus.used.add((slot, 0))
            _set_address(dev, bus.index, slot, 0)
            return
    raise _unsupported("No more available PCI slots")


def _place_root_port(c: etree._Element, root: _Bus) -> None:
    """Root ports share one bus-0 slot as its functions, 8 to a slot."""
    for slot in range(1, 32):
        taken = {f for s, f in root.used if s == slot}
        ours = root.ports.get(slot, set())
        if taken and taken != ours:
            continue
        function = next((f for f in range(8) if f not in taken), None)
        if function is None:
            continue
        root.used.add((slot, function))
        root.ports.setdefault(slot, set()).add(function)
        _set_address(c, 0, slot, function, multifunction=function == 0)
        return
    raise _unsupported("No more available PCI slots")
