"""What libvirt 9.0 adds to a running domain's XML: the resource partition,
device aliases, disk chain ends, the DAC seclabel, pty paths and the
VNC port (consoles.py), the CPU QEMU gave the guest (guestcpu.py).  Built
on a copy: the definition itself stays as defined.

The migratable document (VIR_DOMAIN_XML_MIGRATABLE, and Begin's XML) is
the definition again: of the running state only the resource partition and
each disk source's empty <backingStore/> remain; no aliases, labels, ptys,
ports or source indexes; and what libvirt adds to a definition on its own,
unknown to older libvirt, goes: the PS/2 keyboard, a lone <audio type='none'>,
and on an i440fx machine a lone default USB controller and a lone pci-root
(tests/qemu/data/domxml/*.migratable.xml)."""

from __future__ import annotations

import copy
import dataclasses
from typing import Optional

from lxml import etree

from ...conf import domain_disk
from ...conf.domain import DomainDef
from . import channels as channels_mod, command, consoles as consoles_mod, pciaddr

_CHILD_BEFORE_ALIAS = ("address", "acpi")


def _set_alias(dev: etree._Element, name: str) -> None:
    if dev.find("alias") is not None:
        return
    children = list(dev)
    at = next((i for i, c in enumerate(children) if c.tag in _CHILD_BEFORE_ALIAS),
              len(children))
    dev.insert(at, etree.Element("alias", name=name))


def _controller_alias(d: DomainDef, c: etree._Element) -> str:
    kind, index = c.get("type", ""), int(c.get("index", "0"))
    if kind == "pci":
        return pciaddr.bus_id(d, index)
    if kind == "usb" and index == 0:
        return "usb"
    if kind == "sata" and pciaddr.is_q35(d) and index == 0:
        return "ide"   # q35's built-in AHCI
    if kind == "ide" and index == 0:
        return "ide"
    return f"{kind}{index}"


def _disks(d: DomainDef, devices: list[etree._Element]) -> None:
    disks = [dev for dev in devices if dev.tag == "disk"]
    for index, (disk, node) in enumerate(zip(disks, command.disk_nodes(d))):
        _set_alias(disk, command._disk_alias(disk, index))
        source = disk.find("source")
        if source is None:   # started empty: no media, no format
            driver = disk.find("driver")
            if driver is not None and "type" in driver.attrib:
                del driver.attrib["type"]
            continue
        if domain_disk.empty_source(source):   # emptied while running: both stay
            continue
        if source.get("index") is None:   # a status of an older pyvirt has none
            source.set("index", str(node.index))
        if disk.find("backingStore") is None:
            disk.insert(list(disk).index(source) + 1, etree.Element("backingStore"))


def _backing_stores(devices: list[etree._Element]) -> None:
    """Every disk source's chain closed with an empty <backingStore/>."""
    for disk in (dev for dev in devices if dev.tag == "disk"):
        source = disk.find("source")
        if (source is not None and not domain_disk.empty_source(source)
                and disk.find("backingStore") is None):
            disk.insert(list(disk).index(source) + 1, etree.Element("backingStore"))


def _resource() -> etree._Element:
    resource = etree.Element("resource")
    etree.SubElement(resource, "partition").text = "/machine"
    return resource


def _lone(devices: list[etree._Element], tag: str, kind: str) -> Optional[etree._Element]:
    found = [dev for dev in devices if dev.tag == tag and dev.get("type") == kind]
    return found[0] if len(found) == 1 else None


def _user_alias(dev: etree._Element) -> bool:
    alias = dev.find("alias")
    return alias is not None and alias.get("name", "").startswith("ua-")


def _implicit(d: DomainDef, devices: list[etree._Element]) -> list[etree._Element]:
    """The devices libvirt leaves out of a migratable document."""
    out = [dev for dev in devices if dev.tag == "input" and dev.get("type") == "keyboard"
           and dev.get("bus") == "ps2" and d.os.arch in ("x86_64", "i686")]
    audio = _lone(devices, "audio", "none")
    if audio is not None and len(audio) == 0 and set(audio.attrib) <= {"id", "type"} \
            and len([dev for dev in devices if dev.tag == "audio"]) == 1:
        out.append(audio)
    machine = d.os.machine or ""
    if "i440fx" in machine or machine == "pc":
        usb, pci = _lone(devices, "controller", "usb"), _lone(devices, "controller", "pci")
        if usb is not None and usb.get("index", "0") == "0" \
                and usb.get("model") in (None, "piix3-uhci") and not _user_alias(usb):
            out.append(usb)
        if pci is not None and pci.get("index", "0") == "0" and pci.get("model") == "pci-root" \
                and not _user_alias(pci) and pci.find("pcihole64") is None:
            out.append(pci)
    return out


def migratable_view(d: DomainDef, running: bool) -> DomainDef:
    """The definition as VIR_DOMAIN_XML_MIGRATABLE shows it (see above); to be
    formatted as an inactive document (no id, no tap names)."""
    dropped = _implicit(d, d.devices)
    devices = [copy.deepcopy(dev) for dev in d.devices if dev not in dropped]
    for dev in devices:
        alias = dev.find("alias")
        if alias is not None and not _user_alias(dev):
            dev.remove(alias)   # the balloon's, from its live view
    verbatim = dict(d.verbatim)
    if running:
        _backing_stores(devices)
        verbatim.setdefault("resource", _resource())
    return dataclasses.replace(d, devices=devices, verbatim=verbatim)


def live_view(d: DomainDef, consoles: Optional[consoles_mod.Consoles] = None,
              cpu: Optional[etree._Element] = None,
              channels: Optional[channels_mod.ChannelState] = None,
              inactive: bool = False) -> DomainDef:
    """`inactive`: as libvirt formats a live definition with the INACTIVE
    flag (a running domain created transient has no other): no id, no
    backing chains, no console paths or ports (the callers pass none)."""
    devices = [copy.deepcopy(dev) for dev in d.devices]
    if consoles is not None:
        consoles_mod.show(devices, consoles)
    if channels is not None:
        channels_mod.live_view(devices, d, channels)
    counters: dict[str, int] = {}
    for dev in devices:
        if dev.tag == "controller":
            _set_alias(dev, _controller_alias(d, dev))
        elif dev.tag in ("serial", "input", "video"):
            n = counters.get(dev.tag, 0)
            counters[dev.tag] = n + 1
            _set_alias(dev, f"{dev.tag}{n}")
        elif dev.tag == "console":
            target = dev.find("target")
            if target is not None and target.get("type", "serial") == "serial":
                _set_alias(dev, f"serial{target.get('port', '0')}")
        elif dev.tag == "graphics" and dev.get("type") == "vnc" and dev.get("listen") is None:
            listen = dev.find("listen")
            if listen is not None and listen.get("type") == "address" \
                    and listen.get("address") is None:
                listen.set("address", "127.0.0.1")
                dev.set("listen", "127.0.0.1")
    _disks(d, devices)
    if inactive:
        for disk in (dev for dev in devices if dev.tag == "disk"):
            for chain in disk.findall("backingStore"):
                disk.remove(chain)
    verbatim = dict(d.verbatim)
    if cpu is not None:
        verbatim["cpu"] = cpu
    verbatim.setdefault("resource", _resource())
    if "seclabel" not in verbatim:
        label = etree.Element("seclabel", type="dynamic", model="dac", relabel="yes")
        etree.SubElement(label, "label").text = "+0:+0"
        etree.SubElement(label, "imagelabel").text = "+0:+0"
        verbatim["seclabel"] = label
    return dataclasses.replace(d, devices=devices, verbatim=verbatim,
                               id=-1 if inactive else d.id)
