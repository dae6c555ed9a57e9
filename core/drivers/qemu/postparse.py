"""libvirt 9.0's QEMU post-parse for x86 pc and q35, beyond the generic
defaults of conf/domain_devices: the default CPU, the machine's implicit
controllers (USB, SATA on q35, the PCI root), PS/2 inputs, ISA serial
targets, virtio channels' ports (channels.py), read-only cdroms, VNC autoport, the 'none' audio backend, PCI addresses
(pciaddr).
Running it on its own output changes nothing."""

from __future__ import annotations

from lxml import etree

from ...conf import domain_devices
from ...conf.domain import DomainDef
from . import channels, pciaddr


def _check(cpu: etree._Element, virt_type: str) -> None:
    """The check= libvirt gives a <cpu> without one: partial where KVM can
    tell the host's CPU short (a model, host-model), none otherwise;
    host-passthrough is also migratable by default."""
    mode = cpu.get("mode", "custom")
    if cpu.get("check") is None:
        partial = mode == "host-model" or (mode == "custom" and virt_type == "kvm")
        if mode != "custom" or cpu.find("model") is not None:
            attrs = list(cpu.attrib.items())
            at = next((i for i, (k, _) in enumerate(attrs) if k not in ("mode", "match")),
                      len(attrs))
            attrs.insert(at, ("check", "partial" if partial else "none"))
            cpu.attrib.clear()
            cpu.attrib.update(attrs)
    if mode == "host-passthrough" and cpu.get("migratable") is None:
        cpu.set("migratable", "on")


def _cpu(d: DomainDef) -> None:
    """QEMU's default model where <cpu> names none (no <cpu>, or one with
    only a topology), check= where it is missing."""
    cpu = d.verbatim.get("cpu")
    if cpu is not None and (cpu.get("mode", "custom") != "custom"
                            or cpu.find("model") is not None):
        _check(cpu, d.virt_type)
        return
    default = etree.Element("cpu", mode="custom", match="exact", check="none")
    etree.SubElement(default, "model", fallback="forbid").text = "qemu64"
    if cpu is not None:
        default.extend(cpu)
    d.verbatim["cpu"] = default


def _controllers(d: DomainDef) -> list[etree._Element]:
    """The machine's own controllers, in libvirt's order: those `d` lacks are
    made, one the disks implied at parse (SATA) is taken out of `d`."""
    q35 = pciaddr.is_q35(d)
    wanted = [("usb", "qemu-xhci" if q35 else "piix3-uhci")]
    if q35:
        wanted.append(("sata", None))
    wanted.append(("pci", "pcie-root" if q35 else "pci-root"))
    out = []
    for kind, model in wanted:
        have = next((dev for dev in d.devices if dev.tag == "controller"
                     and dev.get("type") == kind and dev.get("index", "0") == "0"), None)
        if have is not None:
            if kind == "sata" and have.find("address") is None:
                d.devices.remove(have)
                out.append(have)
            continue
        attrs = {"type": kind, "index": "0"}
        if model is not None:
            attrs["model"] = model
        out.append(etree.Element("controller", attrs))
    return out


def _after_parsed_controllers(devices: list[etree._Element]) -> int:
    """Where libvirt appends the machine's controllers: after those the XML
    listed, before those the disks and channels implied (added after them).
    The implied ones are the trailing bare controllers of the kinds parse
    adds; a bare one the XML itself listed last is taken for implied."""
    at = len(devices)
    for i in range(len(devices) - 1, -1, -1):
        dev = devices[i]
        if dev.tag != "controller":
            continue
        if (len(dev) or set(dev.attrib) != {"type", "index"}
                or dev.get("type") not in domain_devices.IMPLIED_CONTROLLERS):
            return i + 1
        at = i
    return at


def _inputs(d: DomainDef) -> list[etree._Element]:
    have = {(dev.get("type"), dev.get("bus", "ps2")) for dev in d.devices if dev.tag == "input"}
    return [etree.Element("input", type=kind, bus="ps2")
            for kind in ("mouse", "keyboard") if (kind, "ps2") not in have]


def _serial_targets(d: DomainDef) -> None:
    for dev in d.devices:
        target = dev.find("target")
        if dev.tag != "serial" or target is None or target.get("type") is not None:
            continue
        attrs = dict(target.attrib)
        target.attrib.clear()
        target.set("type", "isa-serial")
        for k, v in attrs.items():
            target.set(k, v)
        if target.find("model") is None:
            etree.SubElement(target, "model", name="isa-serial")


# what libvirt writes after a disk's <readonly/>
_AFTER_READONLY = ("shareable", "transient", "serial", "wwn", "vendor", "product",
                   "encryption", "alias", "address")


def _cdroms(d: DomainDef) -> None:
    """A cdrom is read-only; an empty one's format is raw (which the live
    XML leaves out again: livexml.py)."""
    for disk in d.devices:
        if disk.tag != "disk" or disk.get("device") != "cdrom":
            continue
        driver = disk.find("driver")
        if disk.find("source") is None and driver is not None and driver.get("type") is None:
            driver.set("type", "raw")
        if disk.find("readonly") is None:
            children = list(disk)
            at = next((i for i, c in enumerate(children) if c.tag in _AFTER_READONLY),
                      len(children))
            disk.insert(at, etree.Element("readonly"))


def _usb_ports(d: DomainDef) -> None:
    """A USB input without an address gets the next free port of the first
    USB bus, as libvirt's define gives it (<address type='usb' bus port>)."""
    usb = [dev for dev in d.devices if dev.tag == "controller" and dev.get("type") == "usb"]
    if not usb or usb[0].get("model") == "none":
        return
    inputs = [dev for dev in d.devices if dev.tag == "input" and dev.get("bus") == "usb"]
    taken = {a.get("port") for a in (dev.find("address") for dev in inputs)
             if a is not None and a.get("type") == "usb" and a.get("bus", "0") == "0"}
    port = 1
    for dev in inputs:
        if dev.find("address") is not None:
            continue
        while str(port) in taken:
            port += 1
        taken.add(str(port))
        etree.SubElement(dev, "address", type="usb", bus="0", port=str(port))


def fill(d: DomainDef, new_domain: bool = True) -> None:
    """Post-parse of a definition whose machine is already canonical;
    `new_domain`: not one a device is being added to (pciaddr's spare port)."""
    _cpu(d)
    _cdroms(d)
    for g in d.devices:
        if g.tag == "graphics" and g.get("port") == "-1":   # libvirt's "any port"
            g.set("autoport", "yes")
    machine = _controllers(d)
    devices = list(d.devices)
    at = _after_parsed_controllers(devices)
    devices[at:at] = machine
    devices += _inputs(d)
    if not any(dev.tag == "audio" for dev in devices):
        devices.append(etree.Element("audio", id="1", type="none"))
    d.devices[:] = domain_devices.normalise(devices)
    _serial_targets(d)
    channels.assign_ports(d)
    _usb_ports(d)
    pciaddr.assign(d, spare=new_domain)
