"""Where a running domain's consoles ended up: the pty QEMU opened for each
pty serial port and the VNC port it chose for an autoport display.  Asked
of QEMU once it is up (and again by a driver that takes the domain over),
only for a domain that has such a console, and shown in the live XML as
libvirt 9.0 shows them: <source path=...> on the serial and its console
(which also gets tty=), port= on the graphics."""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, Optional

from lxml import etree

from ...conf.domain import DomainDef

Call = Callable[[str, Optional[dict[str, Any]]], Any]


@dataclasses.dataclass(frozen=True)
class Consoles:
    ptys: dict[int, str]          # serial port index -> /dev/pts/N
    vnc_port: Optional[int]


def _serials(d: DomainDef) -> list[etree._Element]:
    """The serial ports as command.py numbers them (a lone serial console
    stands for serial0)."""
    serials = [dev for dev in d.devices if dev.tag == "serial"]
    if serials:
        return serials
    return [dev for dev in d.devices if dev.tag == "console" and (
        dev.find("target") is None
        or dev.find("target").get("type", "serial") == "serial")][:1]


def _vnc_autoport(d: DomainDef) -> bool:
    return any(dev.tag == "graphics" and dev.get("type") == "vnc"
               and (dev.get("autoport") == "yes" or int(dev.get("port", "-1")) < 0)
               for dev in d.devices)


def query(call: Call, d: DomainDef) -> Optional[Consoles]:
    """QEMU's answers, or None when the domain has nothing to ask about."""
    pty = any(dev.get("type", "pty") == "pty" for dev in _serials(d))
    vnc = _vnc_autoport(d)
    if not pty and not vnc:
        return None
    ptys: dict[int, str] = {}
    if pty:
        for chardev in call("query-chardev", None):
            label, name = str(chardev.get("label", "")), str(chardev.get("filename", ""))
            if label.startswith("charserial") and name.startswith("pty:"):
                ptys[int(label[len("charserial"):])] = name[len("pty:"):]
    port = None
    if vnc:
        info = call("query-vnc", None)
        if info.get("enabled") and str(info.get("service", "")).isdigit():
            port = int(info["service"])
    return Consoles(ptys, port)


def _source(dev: etree._Element, path: str) -> None:
    if dev.find("source") is None:
        dev.insert(0, etree.Element("source", path=path))


def show(devices: list[etree._Element], consoles: Consoles) -> None:
    """Put QEMU's answers into the live view's (copied) devices."""
    serial_ports = [dev for dev in devices if dev.tag == "serial"]
    for index, dev in enumerate(serial_ports):
        if dev.get("type", "pty") == "pty" and index in consoles.ptys:
            _source(dev, consoles.ptys[index])
    for dev in devices:
        if dev.tag == "console" and dev.get("type", "pty") == "pty":
            target = dev.find("target")
            if target is not None and target.get("type", "serial") != "serial":
                continue
            path = consoles.ptys.get(int(target.get("port", "0")) if target is not None else 0)
            if path is not None:
                dev.set("tty", path)
                _source(dev, path)
        elif dev.tag == "graphics" and dev.get("type") == "vnc" \
                and consoles.vnc_port is not None and int(dev.get("port", "-1")) < 0:
            dev.set("port", str(consoles.vnc_port))
