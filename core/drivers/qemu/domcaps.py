"""Domain capabilities (virConnectGetDomainCapabilities) of the QEMU driver:
which emulator, machine type and accelerator serve the arguments, and the
document libvirt 9.0 writes for them.  QEMU's facts come from qmpprobe
(machine types, CPU models, QOM types, QAPI schema), the firmware from the
descriptors (firmware.py); the devices part is in domcaps_devices.py.
"""

from __future__ import annotations

import dataclasses
import errno
import fcntl
import functools
import os
import re
from typing import Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...errors import ErrorDomain, ErrorNumber
from . import capabilities, cpux86, domcaps_devices, firmware, qmpprobe

Q = ErrorDomain.VIR_FROM_QEMU
FN = "qemuConnectGetDomainCapabilities"
# virDomainVirtType's names: any of them parses, only qemu and kvm are served
VIRT_TYPES = ("none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test",
              "vmware", "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "hvf")
ARCHES = frozenset((
    "alpha armv6l armv7l armv7b aarch64 cris i686 ia64 lm32 loongarch64 m68k microblaze "
    "microblazeel mips mipsel mips64 mips64el openrisc parisc parisc64 ppc ppcle ppc64 "
    "ppc64le ppcemb riscv32 riscv64 s390 s390x sh4 sh4eb sparc sparc64 unicore32 x86_64 "
    "xtensa xtensaeb").split())
# a binary of the key's architecture also serves the values'
_ALSO_SERVES = {"x86_64": ("i686",), "aarch64": ("armv7l",), "armv7l": ("armv6l",),
                "ppc64": ("ppc64le",), "ppc64le": ("ppc64",)}
_QEMU_TARGET_ARCH = {"i386": "i686", "arm": "armv7l"}
KVM_CHECK_EXTENSION = 0xAE03
KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS = 9, 66


@dataclasses.dataclass(frozen=True)
class Target:
    """What the arguments resolve to.  ex) path='/usr/bin/qemu-system-x86_64'
    arch='x86_64' virttype='kvm' machine='pc-q35-7.2'"""
    path: str
    arch: str
    virttype: str
    machine: str
    probe: qmpprobe.Probe


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def binary_arch(path: str) -> str:
    """The target of qemu-system-TARGET[-variant], in libvirt's names."""
    m = re.match(r"qemu-system-([^-]+)", os.path.basename(path))
    target = m[1] if m else os.uname().machine
    return _QEMU_TARGET_ARCH.get(target, target)


def _emulator_for(arch: str) -> str:
    # a binary of the arch itself first, then the host's when it runs arch natively
    path = capabilities.emulator_path(arch)
    if path is None and arch in _ALSO_SERVES.get(os.uname().machine, ()):
        path = capabilities.emulator_path(os.uname().machine)
    if path is None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                            f"unable to find any emulator to serve '{arch}' architecture")
    return path


def _probe(path: str, accel: str) -> Optional[qmpprobe.Probe]:
    try:
        return qmpprobe.probe(path, accel)
    except qmpprobe.ProbeError:
        return None


def _kvm_probe(path: str) -> Optional[qmpprobe.Probe]:
    if not capabilities.kvm_usable():
        return None
    p = _probe(path, "kvm")
    return p if p is not None and (p.kvm or {}).get("enabled") else None


def resolve(emulatorbin: Optional[str], arch: Optional[str], machine: Optional[str],
            virttype: Optional[str], flags: int) -> Target:
    """The emulator, arch, accelerator and machine type the arguments
    name, with libvirt's defaults and errors, checked in libvirt's order."""
    errors.check_flags(flags, 0, FN, Q)
    if virttype is not None and virttype not in VIRT_TYPES:
        raise _invalid(f"unknown virttype: {virttype}")
    if arch is not None and arch not in ARCHES:
        raise _invalid(f"unknown architecture: {arch}")
    arch = arch or os.uname().machine
    if emulatorbin is not None:
        if not os.path.exists(emulatorbin):
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                f"Cannot check QEMU binary {emulatorbin}: "
                                f"{os.strerror(errno.ENOENT)}")
        own = binary_arch(emulatorbin)
        if arch != own and arch not in _ALSO_SERVES.get(own, ()):
            raise _invalid(f"Emulator '{emulatorbin}' does not support arch '{arch}'")
        path = emulatorbin
    else:
        path = _emulator_for(arch)
    kvm, tcg = _kvm_probe(path), _probe(path, "tcg")
    if kvm is None and tcg is None:
        # libvirt's message names its probe's pid file; ours names the binary
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                            f"Failed to probe QEMU binary {path}")
    if virttype in (None, "none"):
        virttype = "kvm" if kvm is not None else "qemu"
    probe = {"kvm": kvm, "qemu": tcg}.get(virttype)
    if probe is None:
        raise _invalid(f"Emulator '{path}' does not support virt type '{virttype}'")
    return Target(path, arch, virttype, _machine(probe, machine), probe)


def _machine(probe: qmpprobe.Probe, machine: Optional[str]) -> str:
    """The canonical name of `machine`, or the emulator's default machine."""
    known = [m for m in probe.machines if m["name"] != "none"]
    if machine is None:
        default = next((m for m in known if m.get("is-default")), known[0] if known else None)
        if default is None:
            raise _invalid(f"the machine '' is not supported by emulator '{probe.path}'")
        return str(default["name"])
    for m in known:
        if machine in (m["name"], m.get("alias")):
            return str(m["name"])
    raise _invalid(f"the machine '{machine}' is not supported by emulator '{probe.path}'")


@functools.lru_cache(maxsize=None)
def kvm_max_vcpus() -> int:
    """The host kernel's vCPU limit per guest (0 when KVM cannot say)."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return 0
    try:
        for cap in (KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS):
            n = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, cap)
            if n > 0:
                return n
        return 4   # what KVM allowed before it could report a limit
    except OSError:
        return 0
    finally:
        os.close(fd)


def _sub(parent: etree._Element, tag: str, text: Optional[str] = None,
         **attrs: str) -> etree._Element:
    e = etree.SubElement(parent, tag, attrs)
    e.text = text
    return e


def _enum(parent: etree._Element, name: str, values: list[str]) -> None:
    e = _sub(parent, "enum", name=name)
    for v in values:
        _sub(e, "value", v)


def _vcpu_max(t: Target) -> int:
    limit = next((int(m.get("cpu-max", 0)) for m in t.probe.machines
                  if m["name"] == t.machine), 0)
    if t.virttype == "kvm" and kvm_max_vcpus():
        limit = min(limit, kvm_max_vcpus())
    return limit


def _os(root: etree._Element, t: Target) -> None:
    offer = firmware.supported(t.machine, t.arch, os.geteuid() == 0)
    os_el = _sub(root, "os", supported="yes")
    _enum(os_el, "firmware", [f for f in ("bios", "efi") if f in offer.interfaces])
    loader = _sub(os_el, "loader", supported="yes")
    for image in firmware.loader_values(offer):
        _sub(loader, "value", image)
    _enum(loader, "type", ["rom", "pflash"])
    _enum(loader, "readonly", ["yes", "no"])
    _enum(loader, "secure", ["yes", "no"] if offer.secure else ["no"])


def _cpu(root: etree._Element, t: Target) -> None:
    cpu = _sub(root, "cpu")
    p = t.probe
    # migratable=on needs the 'migratable' property of QEMU's x86_64 host CPU
    migratable = ["on", "off"] if "max-x86_64-cpu" in p.types else ["off"]
    if t.virttype == "kvm":
        _enum(_sub(cpu, "mode", name="host-passthrough", supported="yes"),
              "hostPassthroughMigratable", migratable)
    else:
        _sub(cpu, "mode", name="host-passthrough", supported="no")
    names = {d["name"] for d in p.cpu_definitions}
    if "max" in names:
        _enum(_sub(cpu, "mode", name="maximum", supported="yes"), "maximumMigratable",
              ["on", "off"])
    else:
        _sub(cpu, "mode", name="maximum", supported="no")
    host = cpux86.host_model(p)
    cpu.append(host if host is not None else
               etree.Element("mode", {"name": "host-model", "supported": "no"}))
    models = [d for d in p.cpu_definitions if cpux86.known_model(d["name"])]
    custom = _sub(cpu, "mode", name="custom", supported="yes" if models else "no")
    for d in models:
        _sub(custom, "model", d["name"], usable="no" if d.get("unavailable-features") else "yes",
             vendor=cpux86.model_vendor(d["name"]))


def _features(root: etree._Element, t: Target) -> None:
    p = t.probe
    feats = _sub(root, "features")
    _sub(feats, "gic", supported="no")
    _sub(feats, "vmcoreinfo", supported="yes" if "vmcoreinfo" in p.types else "no")
    _sub(feats, "genid", supported="yes" if "vmgenid" in p.types else "no")
    _sub(feats, "backingStoreInput", supported="yes")
    _sub(feats, "backup", supported="yes")
    if p.sev and "sev-guest" in p.types:
        sev = _sub(feats, "sev", supported="yes")
        _sub(sev, "cbitpos", str(p.sev.get("cbitpos")))
        _sub(sev, "reducedPhysBits", str(p.sev.get("reduced-phys-bits")))
    else:
        _sub(feats, "sev", supported="no")
    if p.sgx and "sgx-epc" in p.types:
        sgx = _sub(feats, "sgx", supported="yes")
        for key in ("flc", "sgx1", "sgx2"):
            _sub(sgx, key, "yes" if p.sgx.get(key) else "no")
        size = sum(int(s.get("size", 0)) for s in p.sgx.get("sections", ()))
        _sub(sgx, "section_size", str(size // 1024), unit="KiB")
    else:
        _sub(feats, "sgx", supported="no")
    if t.arch in ("x86_64", "i686"):
        _enum(_sub(feats, "hyperv", supported="yes"), "features", ["spinlocks", "vendor_id"])
    else:
        _sub(feats, "hyperv", supported="no")


def document(t: Target) -> str:
    """The <domainCapabilities> document for `t`."""
    root = etree.Element("domainCapabilities")
    _sub(root, "path", t.path)
    _sub(root, "domain", t.virttype)
    _sub(root, "machine", t.machine)
    _sub(root, "arch", t.arch)
    _sub(root, "vcpu", max=str(_vcpu_max(t)))
    _sub(root, "iothreads", supported="yes" if "iothread" in t.probe.types else "no")
    _os(root, t)
    _cpu(root, t)
    domcaps_devices.memory_backing(root, t.probe)
    domcaps_devices.devices(root, t.probe, t.machine)
    _features(root, t)
    lines: list[str] = []
    xmlutil.write_element(root, 0, lines)
    return "\n".join(lines) + "\n"
