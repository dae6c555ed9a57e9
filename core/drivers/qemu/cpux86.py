"""x86 CPUs named in libvirt 9.0's vocabulary for the QEMU driver: the
host's CPU for the capabilities document, the host-model CPU of domain
capabilities, and the CPU models libvirt's map knows (pyvirt.cpu.x86)."""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import os
import struct
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ...cpu import cpuid as host_cpuid
from ...cpu.x86 import Policies, X86Map, decode, x86_map

if TYPE_CHECKING:
    from .qmpprobe import Probe

ARCH_CAPABILITIES = 0x10a
_KVM_GET_MSRS = 0xC008AE88   # _IOWR(KVMIO, 0x88, struct kvm_msrs), on /dev/kvm: feature MSRs


@dataclasses.dataclass(frozen=True)
class HostCPU:
    """The host's CPU as libvirt's capabilities show it.  ex) vendor='AMD'
    model='kvm64' features=('vme', 'ht', ...) family=26 model_number=2
    stepping=1 phys_bits=48"""
    vendor: str                  # '' when libvirt's map knows no such vendor
    model: str                   # '' when no model describes the CPU
    features: tuple[str, ...]    # beyond the model's, in the map's order
    family: int
    model_number: int
    stepping: int
    phys_bits: int               # <maxphysaddr mode='emulate' bits=.../>, 0: unknown


@functools.lru_cache(maxsize=None)
def host_cpu() -> Optional[HostCPU]:
    """This host's CPU, read with CPUID (once per process); None when CPUID
    cannot be asked here."""
    leaf0 = host_cpuid.cpuid(0)
    if leaf0 is None:
        return None
    cpu_map = x86_map()
    vendor = cpu_map.vendor_of_string(_vendor_string(leaf0))
    eax1 = (host_cpuid.cpuid(1) or (0, 0, 0, 0))[0]
    family, model, stepping = _signature(eax1)
    data = _cpuid_features(cpu_map, leaf0[0])
    if "arch-capabilities" in data:   # best effort, as libvirt: the MSR may be unreadable
        data |= _msr_features(cpu_map, ARCH_CAPABILITIES)
    _filter_tsx(data, vendor, family, model, stepping)
    found = decode(data, vendor, cpu_map, host=True, signature=(family, model))
    extended = host_cpuid.cpuid(0x80000000)
    bits = 0
    if extended is not None and extended[0] >= 0x80000008:
        bits = (host_cpuid.cpuid(0x80000008) or (0, 0, 0, 0))[0] & 0xff
    return HostCPU(vendor or "", found[0] if found else "",
                   tuple(name for _, name in found[1]) if found else (),
                   family, model, stepping, bits)


def host_cpu_def() -> Optional[tuple[str, Optional[str], Policies]]:
    """The host's CPU as the CPU comparison takes it (model, vendor,
    features), or None when it is unknown."""
    cpu = host_cpu()
    if cpu is None or not cpu.model:
        return None
    return cpu.model, cpu.vendor or None, [("require", f) for f in cpu.features]


def _vendor_string(leaf0: tuple[int, int, int, int]) -> str:
    return struct.pack("<3I", leaf0[1], leaf0[3], leaf0[2]).decode("ascii", "replace")


def _signature(eax: int) -> tuple[int, int, int]:
    """CPUID 1's eax -> (family, model, stepping), extended fields added."""
    family = (eax >> 8) & 0xf
    model = (eax >> 4) & 0xf
    if family == 0xf:
        family += (eax >> 20) & 0xff
    if family >= 6:
        model += ((eax >> 16) & 0xf) << 4
    return family, model, eax & 0xf


def _cpuid_features(cpu_map: X86Map, max_basic: int) -> set[str]:
    """The map's CPUID features this host has (leaves past the maximum unasked)."""
    max_ext = (host_cpuid.cpuid(0x80000000) or (0, 0, 0, 0))[0]
    answers: dict[tuple[int, int], tuple[int, int, int, int]] = {}
    found = set()
    for f in cpu_map.features:
        kind, leaf, subleaf, reg, bit = f.bit
        if kind != "cpuid" or leaf > (max_ext if leaf >= 0x80000000 else max_basic):
            continue
        if (leaf, subleaf) not in answers:
            answers[leaf, subleaf] = host_cpuid.cpuid(leaf, subleaf) or (0, 0, 0, 0)
        if answers[leaf, subleaf]["eax ebx ecx edx".split().index(reg)] >> bit & 1:
            found.add(f.name)
    return found


def _msr_features(cpu_map: X86Map, index: int) -> set[str]:
    value = _read_msr(index)
    if value is None:
        return set()
    return {f.name for f in cpu_map.features if f.bit[0] == "msr" and f.bit[1] == index
            and (value >> (f.bit[4] + (32 if f.bit[3] == "edx" else 0))) & 1}


def _read_msr(index: int) -> Optional[int]:
    """An MSR of CPU 0 (the msr module), else KVM's value of a feature MSR."""
    try:
        fd = os.open("/dev/cpu/0/msr", os.O_RDONLY)
        try:
            data = os.pread(fd, 8, index)
        finally:
            os.close(fd)
        if len(data) == 8:
            return int(struct.unpack("<Q", data)[0])
    except OSError:
        pass
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        buf = bytearray(struct.pack("<IIIIQ", 1, 0, index, 0, 0))
        if fcntl.ioctl(fd, _KVM_GET_MSRS, buf) != 1:
            return None
        return int(struct.unpack_from("<Q", buf, 16)[0])
    except OSError:
        return None
    finally:
        os.close(fd)


def _filter_tsx(data: set[str], vendor: Optional[str], family: int, model: int,
                stepping: int) -> None:
    """Intel CPUs whose TSX was disabled by microcode still report it."""
    if vendor == "Intel" and family == 6 and (
            (model == 63 and stepping < 4) or model in (60, 69, 70)):
        data.discard("hle")
        data.discard("rtm")


@dataclasses.dataclass(frozen=True)
class HostModel:
    """The host-model CPU of one emulator and accelerator; ex) model='kvm64'
    vendor='AMD' features=[('require', 'vme'), ..., ('disable', 'pni')]"""
    model: str
    vendor: Optional[str]
    features: Policies


# (id of the probe, migratable) -> (that probe, its host model): decoding
# takes about 0.6 ms, and a start of a host-model domain asks more than once
_DECODED: dict[tuple[int, bool], tuple["Probe", Optional[HostModel]]] = {}


def host_model_cpu(probe: "Probe", migratable: bool = False) -> Optional[HostModel]:
    """QEMU's expansion of its host CPU decoded among QEMU's own models;
    `migratable` leaves out what cannot migrate (QEMU's migratable=on
    expansion lacks it: invtsc, say), as a started domain gets it.  None
    when QEMU could not expand its host CPU."""
    known = _DECODED.get((id(probe), migratable))
    if known is not None and known[0] is probe:
        return known[1]
    found = _decode_host_model(probe, migratable)
    _DECODED[id(probe), migratable] = (probe, found)
    return found


def _decode_host_model(probe: "Probe", migratable: bool) -> Optional[HostModel]:
    expansion = probe.host_cpu
    if not expansion or not expansion.get("props"):
        return None
    cpu_map = x86_map()
    props: dict[str, Any] = expansion["props"]
    on = {name for name, value in props.items() if value is True} - _unmigratable(probe, migratable)
    data = {cpu_map.from_qemu[name] for name in on if name in cpu_map.from_qemu}
    vendor = cpu_map.vendor_of_string(str(props.get("vendor", "")))
    family, model = int(props.get("family", 0)), int(props.get("model", 0))
    _filter_tsx(data, vendor, family, model, int(props.get("stepping", 0)))
    found = decode(data, vendor, cpu_map, allowed=qemu_models(probe),
                   signature=(family, model))
    return None if found is None else HostModel(found[0], vendor, found[1])


def _unmigratable(probe: "Probe", migratable: bool) -> set[str]:
    """QEMU's properties its host CPU has only when migration need not work
    (none unless `migratable`)."""
    if not migratable or not probe.host_cpu or not probe.host_cpu_migratable:
        return set()
    kept = probe.host_cpu_migratable["props"]
    return {name for name, value in probe.host_cpu["props"].items()
            if value is True and kept.get(name) is not True}


def qemu_models(probe: "Probe") -> dict[str, frozenset[str]]:
    """QEMU's CPU models, each with the features (map names) this
    accelerator cannot give it."""
    cpu_map = x86_map()
    return {d["name"]: frozenset(cpu_map.from_qemu[f] for f in d.get("unavailable-features", [])
                                 if f in cpu_map.from_qemu)
            for d in probe.cpu_definitions}


def qemu_features(probe: "Probe", migratable: bool) -> frozenset[str]:
    """The map's features QEMU knows (its host CPU's properties), less the
    unmigratable ones when `migratable`."""
    if not probe.host_cpu:
        return frozenset()
    cpu_map = x86_map()
    skip = _unmigratable(probe, migratable)
    return frozenset(cpu_map.from_qemu[name] for name, value in probe.host_cpu["props"].items()
                     if isinstance(value, bool) and name in cpu_map.from_qemu and name not in skip)


def host_model(probe: "Probe") -> Optional[etree._Element]:
    """<mode name='host-model' supported='yes'> with its model, vendor and
    features for the accelerator of `probe`; None when QEMU could not
    expand its host CPU (then libvirt writes supported='no')."""
    found = host_model_cpu(probe)
    if found is None:
        return None
    mode = etree.Element("mode", name="host-model", supported="yes")
    etree.SubElement(mode, "model", fallback="forbid").text = found.model
    if found.vendor is not None:
        etree.SubElement(mode, "vendor").text = found.vendor
    for policy, name in found.features:
        etree.SubElement(mode, "feature", policy=policy, name=name)
    return mode


def model_vendor(name: str) -> str:
    """The vendor of a map model: 'Intel', 'AMD', 'Hygon', or 'unknown'."""
    model = x86_map().models.get(name)
    return (model.vendor if model is not None else None) or "unknown"


def known_model(name: str) -> bool:
    """Whether libvirt 9.0's x86 map has the model `name`."""
    return name in x86_map().models


def model_names() -> list[str]:
    """The map's x86 models in its order (virConnectGetCPUModelNames)."""
    return list(x86_map().models)
