"""The defaults libvirt 9.0 fills into a domain's <devices> when it parses a
definition for the test driver, so that GetXMLDesc shows what libvirt's does:
devices in libvirt's order, a disk's bus and drive address and the
controllers they imply, controller indexes, serial/console pairs, parallel
ports, input buses, smartcard slots, a graphics listener and its default video
card, and a few attribute defaults; USB devices on a guest without USB are
refused.

Applied to freshly parsed device elements; running it again on its own
output changes nothing (a definition is copied by reformatting and parsing)."""

from __future__ import annotations

import copy
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

# The order of device kinds in libvirt's formatted XML; others keep their
# place after these.
_ORDER = {tag: i for i, tag in enumerate((
    "emulator", "disk", "controller", "lease", "filesystem", "interface", "smartcard",
    "serial", "parallel", "console", "channel", "input", "tpm", "graphics", "sound",
    "audio", "video", "hostdev", "redirdev", "redirfilter", "hub", "watchdog", "memballoon", "rng",
    "nvram", "panic", "shmem", "memory", "iommu", "vsock", "crypto"))}

# Target name prefix -> default bus, longest prefixes first.
_BUS_BY_PREFIX = (("xvd", "xen"), ("ubd", "uml"), ("hd", "ide"), ("sd", "scsi"),
                  ("vd", "virtio"), ("fd", "fdc"))
# bus -> (units per bus, buses per controller) of its drive addresses
_DRIVE_LAYOUT = {"ide": (2, 2), "fdc": (2, 1), "scsi": (7, 1), "sata": (6, 1)}
# The order in which libvirt adds the controllers that disks imply.
_IMPLICIT_CONTROLLERS = ("scsi", "fdc", "ide", "sata", "virtio-serial")
# the kinds of controller parse adds (the disks' and channels', smartcards')
IMPLIED_CONTROLLERS = _IMPLICIT_CONTROLLERS + ("ccid",)
# <video><model type> -> its default memory attributes, in libvirt's order
_VIDEO_MEMORY = {"vga": (("vram", "16384"),), "cirrus": (("vram", "16384"),),
                 "vmvga": (("vram", "16384"),), "xen": (("vram", "16384"),),
                 "qxl": (("ram", "65536"), ("vram", "65536"))}


def _disk_index(dev: str) -> Optional[int]:
    """'hda' -> 0, 'sdab' -> 27: the letters after the prefix, base 26."""
    for prefix, _ in _BUS_BY_PREFIX:
        if dev.startswith(prefix):
            letters = dev[len(prefix):]
            break
    else:
        return None
    if not letters or not letters.isalpha() or not letters.islower():
        return None
    index = 0
    for ch in letters:
        index = index * 26 + (ord(ch) - ord("a") + 1)
    return index - 1


def _fill_disk(disk: etree._Element) -> None:
    target = disk.find("target")
    if target is None or target.get("dev") is None:
        source = disk.find("source")
        named = None if source is None else next(
            (source.get(a) for a in ("file", "dev", "dir", "name") if source.get(a)), None)
        raise errors.report(ErrorNumber.VIR_ERR_NO_TARGET, ErrorDomain.VIR_FROM_DOMAIN, named)
    dev = target.get("dev", "")
    if target.get("bus") is None:
        bus = next((b for prefix, b in _BUS_BY_PREFIX if dev.startswith(prefix)), None)
        if bus is None:
            return
        target.set("bus", bus)
    bus = target.get("bus", "")
    index = _disk_index(dev)
    if bus not in _DRIVE_LAYOUT or index is None or disk.find("address") is not None:
        return
    units, buses = _DRIVE_LAYOUT[bus]
    per_controller = units * buses
    etree.SubElement(disk, "address", type="drive", controller=str(index // per_controller),
                     bus=str(index % per_controller // units), target="0",
                     unit=str(index % units))


def _order_disks(devices: list[etree._Element]) -> None:
    """The disks as libvirt's parser lays them out, each put in as it comes:
    after the last disk of its bus, or before the first one of its bus with
    a higher target index; a bus not seen yet goes last.  So the buses keep
    the order they first appear in, and the disks of a bus are by target."""
    def key(disk: etree._Element) -> tuple[str, int]:
        target = disk.find("target")
        if target is None:
            return "", -1
        index = _disk_index(target.get("dev", ""))
        return target.get("bus", ""), -1 if index is None else index

    ordered: list[etree._Element] = []
    for disk in (dev for dev in devices if dev.tag == "disk"):
        bus, index = key(disk)
        at = None
        for i in range(len(ordered) - 1, -1, -1):
            other_bus, other_index = key(ordered[i])
            if other_bus != bus:
                continue
            if other_index > index:
                at = i
            elif at is None:
                at = i + 1
        ordered.insert(len(ordered) if at is None else at, disk)
    slots = iter(ordered)
    devices[:] = [next(slots) if dev.tag == "disk" else dev for dev in devices]


order_disks = _order_disks   # for a disk added to a running domain's definition


def _add_controllers(devices: list[etree._Element]) -> None:
    """A controller for every drive address that names a missing one."""
    wanted: dict[str, int] = {}
    for disk in devices:
        target, address = disk.find("target"), disk.find("address")
        if (disk.tag != "disk" or target is None or address is None
                or address.get("type") != "drive"):
            continue
        bus = target.get("bus", "")
        controller = address.get("controller", "0")
        if bus in _DRIVE_LAYOUT and controller.isdigit():
            wanted[bus] = max(wanted.get(bus, -1), int(controller))
    # virtio channels and consoles need a virtio-serial controller
    if any(d.tag in ("channel", "console") and d.find("target") is not None
           and d.find("target").get("type") == "virtio" for d in devices):  # type: ignore[union-attr]
        wanted["virtio-serial"] = max(wanted.get("virtio-serial", -1), 0)
    for kind in _IMPLICIT_CONTROLLERS:
        for index in range(wanted.get(kind, -1) + 1):
            if any(d.tag == "controller" and d.get("type") == kind
                   and d.get("index", "0") == str(index) for d in devices):
                continue
            _insert_controller(devices, etree.Element("controller", type=kind,
                                                      index=str(index)))


def _insert_controller(devices: list[etree._Element], new: etree._Element) -> None:
    """After every controller: libvirt appends the controllers it adds."""
    position = max((i + 1 for i, d in enumerate(devices)
                    if _ORDER.get(d.tag, len(_ORDER)) <= _ORDER["controller"]), default=0)
    devices.insert(position, new)


def order_parsed_controllers(devices: list[etree._Element]) -> None:
    """The controllers in the order libvirt's parser puts them, each in turn
    (unindexed ones count as -1): right after the last one of its type when
    it has no index; otherwise before the earliest of its type with a higher
    index, else after the last of its type with a lower one; a type not seen
    yet goes last.  So a definition read again can change order."""
    def index(c: etree._Element) -> int:
        value = c.get("index", "")
        return int(value) if value.isdigit() else -1

    ordered: list[etree._Element] = []
    for new in (dev for dev in devices if dev.tag == "controller"):
        kind, at = new.get("type"), None
        for i in range(len(ordered) - 1, -1, -1):
            if ordered[i].get("type") != kind:
                continue
            if index(new) == -1:
                at = i + 1
                break
            if index(ordered[i]) > index(new):
                at = i
            elif at is None:
                at = i + 1
        ordered.insert(len(ordered) if at is None else at, new)
    slots = iter(ordered)
    devices[:] = [next(slots) if dev.tag == "controller" else dev for dev in devices]


def _pair_serials_and_consoles(devices: list[etree._Element]) -> None:
    """Serial ports get their port numbers; the first console is the first
    serial port's, and either is made from the other when it is missing."""
    _char_ports(devices, "serial")
    serials = [d for d in devices if d.tag == "serial"]
    consoles = [d for d in devices if d.tag == "console"]
    if consoles:
        first = consoles[0]
        target = first.find("target")
        if target is not None and target.get("type", "serial") != "serial":
            return
        if not serials:
            serial = _char_copy(first, "serial")
            etree.SubElement(serial, "target", port="0")
            devices.append(serial)
            serials = [serial]
        if target is None:
            etree.SubElement(first, "target", type="serial",
                             port=serials[0].find("target").get("port", "0"))  # type: ignore[union-attr]
    elif serials:
        console = _char_copy(serials[0], "console")
        etree.SubElement(console, "target", type="serial",
                         port=serials[0].find("target").get("port", "0"))  # type: ignore[union-attr]
        devices.append(console)


def _char_copy(dev: etree._Element, tag: str) -> etree._Element:
    """The same character device (type and source) under another name."""
    new = etree.Element(tag, dict(dev.attrib))
    for child in dev:
        if isinstance(child.tag, str) and child.tag != "target":
            new.append(copy.deepcopy(child))
    return new


def _fill_graphics(devices: list[etree._Element]) -> None:
    graphics = [d for d in devices if d.tag == "graphics"]
    for g in graphics:
        kind = g.get("type")
        if kind not in ("vnc", "spice"):
            continue
        if kind == "vnc" and g.get("port") is None and g.get("socket") is None:
            _set_after(g, "type", ("port", "-1"), ("autoport", "yes"))
        elif g.get("port") is not None and g.get("autoport") is None:
            _set_after(g, "port", ("autoport", "no"))
        if g.find("listen") is None:
            listen = etree.Element("listen")
            if g.get("listen") is not None:
                listen.set("type", "address")
                listen.set("address", g.get("listen", ""))
            elif kind == "vnc" or g.get("port") is not None or g.get("autoport") == "yes":
                listen.set("type", "address")
            else:
                listen.set("type", "none")
            g.insert(0, listen)
    videos = [d for d in devices if d.tag == "video"]
    if graphics and not videos:
        video = etree.Element("video")
        etree.SubElement(video, "model", type="cirrus")
        devices.append(video)
        videos = [video]
    for i, video in enumerate(videos):
        model = video.find("model")
        if model is None:
            continue
        attrs = [("type", model.get("type", ""))]
        attrs += [(k, model.get(k, v)) for k, v in _VIDEO_MEMORY.get(model.get("type", ""), ())]
        attrs.append(("heads", model.get("heads", "1")))
        if i == 0 and model.get("type") not in ("virtio", "none"):
            attrs.append(("primary", model.get("primary", "yes")))
        rest = [(k, v) for k, v in model.attrib.items() if k not in dict(attrs)]
        model.attrib.clear()
        for k, v in attrs + rest:
            model.set(k, v)


def _controller_indexes(devices: list[etree._Element]) -> None:
    """A controller without an index gets the lowest one its type has free."""
    used: dict[str, set[int]] = {}
    for dev in devices:
        index = dev.get("index", "")
        if dev.tag == "controller" and index.isdigit():
            used.setdefault(dev.get("type", ""), set()).add(int(index))
    for dev in devices:
        if dev.tag == "controller" and dev.get("index") is None:
            taken = used.setdefault(dev.get("type", ""), set())
            free = next(i for i in range(len(taken) + 1) if i not in taken)
            taken.add(free)
            _set_after(dev, "type", ("index", str(free)))


def _input_buses(devices: list[etree._Element]) -> None:
    """An x86 HVM guest's mouse and keyboard sit on PS/2, its tablet on USB."""
    for dev in devices:
        if dev.tag == "input" and dev.get("bus") is None:
            bus = {"mouse": "ps2", "keyboard": "ps2", "tablet": "usb"}.get(dev.get("type", ""))
            if bus is not None:
                dev.set("bus", bus)


def _char_ports(devices: list[etree._Element], tag: str) -> None:
    """A serial or parallel port without a <target> takes the port after the
    highest its kind has anywhere in the list."""
    chars = [d for d in devices if d.tag == tag]
    ports = [int(t.get("port", "")) for d in chars
             if (t := d.find("target")) is not None and t.get("port", "").isdigit()]
    highest = max(ports, default=-1)
    for dev in chars:
        target = dev.find("target")
        if target is None:
            highest += 1
            etree.SubElement(dev, "target", port=str(highest))
        elif target.get("port") is None:
            target.set("port", "0")   # a <target> of its own counts from zero


_CHAR_TAGS = ("serial", "parallel", "console", "channel", "redirdev")


def _tcp_protocols(devices: list[etree._Element]) -> None:
    """A TCP character source always shows its protocol, raw by default."""
    for dev in devices:
        if dev.tag in _CHAR_TAGS and dev.get("type") == "tcp" and dev.find("protocol") is None:
            source = dev.find("source")
            at = list(dev).index(source) + 1 if source is not None else 0
            dev.insert(at, etree.Element("protocol", type="raw"))


def _smartcards(devices: list[etree._Element]) -> None:
    """Smartcards sit in the slots of CCID controller 0, which is added if missing."""
    cards = [d for d in devices if d.tag == "smartcard"]
    if not cards:
        return
    if not any(d.tag == "controller" and d.get("type") == "ccid" and d.get("index") == "0"
               for d in devices):
        _insert_controller(devices, etree.Element("controller", type="ccid", index="0"))
    slots = {a.get("slot") for d in cards if (a := d.find("address")) is not None}
    slot = 0
    for card in cards:
        if card.find("address") is None:
            while str(slot) in slots:
                slot += 1
            slots.add(str(slot))
            etree.SubElement(card, "address", type="ccid", controller="0", slot=str(slot))


def _check_usb(devices: list[etree._Element]) -> None:
    """USB devices need USB: a controller of model 'none' turns it off, and a
    redirected device needs a real USB controller."""
    usb = [d for d in devices if d.tag == "controller" and d.get("type") == "usb"]
    disabled = any(d.get("model") == "none" for d in usb)
    problem = None
    if disabled and any(d.tag == "input" and d.get("bus") == "usb" for d in devices):
        problem = "Can't add USB input device. USB bus is disabled"
    elif disabled and any(d.tag == "hub" and d.get("type") == "usb" for d in devices):
        problem = "Can't add USB hub: USB is disabled for this domain"
    elif (any(d.tag == "redirdev" and d.get("bus", "usb") == "usb" for d in devices)
          and not any(d.get("model") != "none" for d in usb)):
        problem = "cannot add redirected USB device: USB is disabled for this domain"
    if problem is not None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
                            problem)


def _set_after(elem: etree._Element, anchor: str, *pairs: tuple[str, str]) -> None:
    """Set attributes right after `anchor`, keeping the others' order."""
    items = list(elem.attrib.items())
    at = next((i + 1 for i, (k, _) in enumerate(items) if k == anchor), len(items))
    items[at:at] = list(pairs)
    elem.attrib.clear()
    for k, v in items:
        elem.set(k, v)


# A PCI address's parts and their widths in hex digits, as libvirt writes them.
_PCI_WIDTHS = (("domain", 4), ("bus", 2), ("slot", 2), ("function", 1))


def _pci_address(address: etree._Element) -> None:
    for name, width in _PCI_WIDTHS:
        value = address.get(name)
        if value is None:
            continue
        try:
            number = int(value, 0)
        except ValueError:
            continue
        address.set(name, f"0x{number:0{width}x}")


def _fill_attributes(devices: list[etree._Element]) -> None:
    for dev in devices:
        for address in dev.iter("address"):
            if address.get("type", "pci") == "pci" and address.get("slot") is not None:
                _pci_address(address)
        if dev.tag == "watchdog" and dev.get("action") is None:
            dev.set("action", "reset")
        elif (dev.tag == "filesystem" and dev.get("accessmode") is None
              and dev.get("type", "mount") == "mount"):
            dev.set("accessmode", "passthrough")
        elif (dev.tag == "hostdev" and dev.get("mode", "subsystem") == "subsystem"
              and dev.get("managed") is None):
            dev.set("managed", "no")


def normalise(devices: list[etree._Element], hvm: bool = True) -> list[etree._Element]:
    """`devices` with libvirt's defaults filled in, in libvirt's order."""
    for dev in devices:
        if dev.tag == "disk":
            _fill_disk(dev)
    devices = sorted(devices, key=lambda d: _ORDER.get(d.tag, len(_ORDER)))
    _order_disks(devices)
    _controller_indexes(devices)
    if hvm:
        _input_buses(devices)
    _check_usb(devices)
    _add_controllers(devices)
    _smartcards(devices)
    _char_ports(devices, "parallel")
    _tcp_protocols(devices)
    _pair_serials_and_consoles(devices)
    _fill_graphics(devices)
    _fill_attributes(devices)
    return sorted(devices, key=lambda d: _ORDER.get(d.tag, len(_ORDER)))
