"""The vCPU and emulator pins of <cputune> (<vcpupin vcpu='N' cpuset=''/>,
<emulatorpin cpuset=''/>), read from and written into the element a
DomainDef keeps, in the order libvirt 9.0's domain_conf.c writes them:
the vcpupins by vCPU, then the emulatorpin, before the iothreadpins and
the schedulers (domain_iothreads.py puts the iothreadpins back)."""

from __future__ import annotations

from typing import Optional

from lxml import etree

from .domain_iothreads import format_cpuset, parse_cpuset

# children written after the vcpupins and the emulatorpin
_AFTER = ("iothreadpin", "vcpusched", "iothreadsched", "emulatorsched", "cachetune",
          "memorytune")


def vcpu_pins(cputune: Optional[etree._Element]) -> dict[int, frozenset[int]]:
    pins: dict[int, frozenset[int]] = {}
    for pin in cputune.findall("vcpupin") if cputune is not None else []:
        cpus = parse_cpuset(pin.get("cpuset", ""))
        vcpu = pin.get("vcpu", "")
        if cpus and vcpu.isdigit():
            pins[int(vcpu)] = cpus
    return pins


def emulator_pin(cputune: Optional[etree._Element]) -> Optional[frozenset[int]]:
    pin = cputune.find("emulatorpin") if cputune is not None else None
    return parse_cpuset(pin.get("cpuset", "")) or None if pin is not None else None


def _copy(cputune: Optional[etree._Element]) -> etree._Element:
    return etree.Element("cputune") if cputune is None else etree.fromstring(
        etree.tostring(cputune))


def _insert(cputune: etree._Element, elem: etree._Element, before: tuple[str, ...]) -> None:
    children = list(cputune)
    pos = next((i for i, c in enumerate(children) if c.tag in before), len(children))
    cputune.insert(pos, elem)


def _tidy(cputune: etree._Element) -> Optional[etree._Element]:
    for child in cputune:
        child.tail = None
    cputune.text = None
    return cputune if len(cputune) or cputune.attrib else None


def with_vcpu_pins(cputune: Optional[etree._Element],
                   pins: dict[int, frozenset[int]]) -> Optional[etree._Element]:
    """`cputune` with its vcpupins replaced by `pins`."""
    result = _copy(cputune)
    for old in result.findall("vcpupin"):
        result.remove(old)
    for vcpu in sorted(pins):
        _insert(result, etree.Element("vcpupin", vcpu=str(vcpu),
                                      cpuset=format_cpuset(pins[vcpu])),
                ("emulatorpin",) + _AFTER)
    return _tidy(result)


def with_emulator_pin(cputune: Optional[etree._Element],
                      cpus: Optional[frozenset[int]]) -> Optional[etree._Element]:
    result = _copy(cputune)
    for old in result.findall("emulatorpin"):
        result.remove(old)
    if cpus:
        _insert(result, etree.Element("emulatorpin", cpuset=format_cpuset(cpus)), _AFTER)
    return _tidy(result)
