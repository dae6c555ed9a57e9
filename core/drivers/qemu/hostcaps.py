"""The QEMU driver's capabilities document (virConnectGetCapabilities), laid
out as libvirt 9.0 writes it: <host> from this host's facts (core/host,
cpux86) and the security drivers, one <guest> per emulator found, its
machine types in the order QEMU listed them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Optional
from xml.sax.saxutils import escape

from ...host import cpus, facts, memory
from . import capabilities, cpux86, qmpprobe, security

HOST_ARCH = "x86_64"
# guest arch -> word size and the features libvirt adds for it, in libvirt's order
GUESTS = (("i686", 32, ("<pae/>", "<nonpae/>")), ("x86_64", 64, ()))
X86_FEATURES = ("<acpi default='on' toggle='yes'/>", "<apic default='on' toggle='no'/>",
                "<cpuselection/>", "<deviceboot/>", "<disksnapshot default='on' toggle='no'/>")
PREFERRED_MACHINE = "pc"        # libvirt's own default for x86, ahead of QEMU's
PM_TARGETS = (("CanSuspend", "suspend_mem"), ("CanHibernate", "suspend_disk"),
              ("CanHybridSleep", "suspend_hybrid"))
SYSTEM_BUS = "/run/dbus/system_bus_socket"


class _Doc:
    """Lines indented two spaces a level, as libvirt's buffer writes them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.depth = 0

    def add(self, line: str) -> None:
        self.lines.append("  " * self.depth + line)

    def open(self, tag: str) -> None:
        self.add(tag)
        self.depth += 1

    def close(self, tag: str) -> None:
        self.depth -= 1
        self.add(tag)

    def blank(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def _attrs(**values: Any) -> str:
    return "".join(f" {k}='{escape(str(v), {chr(39): '&apos;'})}'" for k, v in values.items())


def document(root: Path) -> str:
    """The whole <capabilities> document for the embed root `root`."""
    doc = _Doc()
    doc.open("<capabilities>")
    doc.blank()
    _host(doc, root)
    for arch, wordsize, features in GUESTS:
        _guest(doc, arch, wordsize, features)
    doc.close("</capabilities>")
    return doc.text()


# -- <host>
def _host(doc: _Doc, root: Path) -> None:
    doc.open("<host>")
    doc.add(f"<uuid>{facts.host_uuid()}</uuid>")
    _host_cpu(doc)
    pm = power_targets()
    if pm:
        doc.open("<power_management>")
        for target in pm:
            doc.add(f"<{target}/>")
        doc.close("</power_management>")
    else:
        doc.add("<power_management/>")
    doc.add(f"<iommu support='{'yes' if facts.has_iommu() else 'no'}'/>")
    doc.open("<migration_features>")
    doc.add("<live/>")
    doc.open("<uri_transports>")
    for transport in ("tcp", "rdma"):
        doc.add(f"<uri_transport>{transport}</uri_transport>")
    doc.close("</uri_transports>")
    doc.close("</migration_features>")
    _cells(doc)
    _caches(doc)
    for model, doi, labels in security.models(root):
        doc.open("<secmodel>")
        doc.add(f"<model>{model}</model>")
        doc.add(f"<doi>{doi}</doi>")
        for virt, label in labels:
            doc.add(f"<baselabel type='{virt}'>{label}</baselabel>")
        doc.close("</secmodel>")
    doc.close("</host>")
    doc.blank()


def _host_cpu(doc: _Doc) -> None:
    cpu = cpux86.host_cpu()     # None where CPUID cannot be asked: arch and topology only
    doc.open("<cpu>")
    doc.add(f"<arch>{HOST_ARCH}</arch>")
    if cpu is not None and cpu.model:
        doc.add(f"<model>{cpu.model}</model>")
    if cpu is not None and cpu.vendor:
        doc.add(f"<vendor>{cpu.vendor}</vendor>")
    microcode = cpus.microcode_version()
    if microcode:
        doc.add(f"<microcode version='{microcode}'/>")
    if cpu is not None and cpu.family:
        doc.add("<signature" + _attrs(family=cpu.family, model=cpu.model_number,
                                      stepping=cpu.stepping) + "/>")
    # libvirt asks KVM for the TSC rate only when the TSC is invariant
    tsc = facts.tsc() if cpu is not None and "invtsc" in cpu.features else None
    if tsc is not None:
        doc.add(f"<counter name='tsc' frequency='{tsc[0]}' "
                f"scaling='{'yes' if tsc[1] else 'no'}'/>")
    sockets, dies, cores, threads = cpus.capabilities_topology()
    doc.add("<topology" + _attrs(sockets=sockets, dies=dies, cores=cores, threads=threads) + "/>")
    if cpu is not None and cpu.phys_bits:
        doc.add(f"<maxphysaddr mode='emulate' bits='{cpu.phys_bits}'/>")
    for feature in cpu.features if cpu is not None else ():
        doc.add(f"<feature name='{feature}'/>")
    for size in memory.page_sizes():
        doc.add(f"<pages unit='KiB' size='{size}'/>")
    doc.close("</cpu>")


def _cells(doc: _Doc) -> None:
    cells = facts.numa_cells()
    doc.open("<topology>")
    doc.open(f"<cells num='{len(cells)}'>")
    for cell in cells:
        doc.open(f"<cell id='{cell.id}'>")
        if cell.memory_kib:
            doc.add(f"<memory unit='KiB'>{cell.memory_kib}</memory>")
        for size, count in cell.pages:
            doc.add(f"<pages unit='KiB' size='{size}'>{count}</pages>")
        if cell.distances:
            doc.open("<distances>")
            for sibling, value in cell.distances:
                doc.add(f"<sibling id='{sibling}' value='{value}'/>")
            doc.close("</distances>")
        if not cell.cpus:
            doc.add("<cpus num='0'/>")
        else:
            doc.open(f"<cpus num='{len(cell.cpus)}'>")
            for c in cell.cpus:
                doc.add("<cpu" + _attrs(id=c.id, socket_id=c.socket_id, die_id=c.die_id,
                                        core_id=c.core_id, siblings=c.siblings) + "/>")
            doc.close("</cpus>")
        doc.close("</cell>")
    doc.close("</cells>")
    doc.close("</topology>")


def _caches(doc: _Doc) -> None:
    banks = facts.cache_banks()
    if not banks:
        return
    doc.open("<cache>")
    for b in banks:
        size, unit = facts.pretty_size(b.size)
        doc.add("<bank" + _attrs(id=b.id, level=b.level, type=b.type, size=size, unit=unit,
                                 cpus=b.cpus) + "/>")
    doc.close("</cache>")


def power_targets() -> list[str]:
    """What systemd-logind says the host can do; libvirt (built without
    pm-utils) reports nothing when logind cannot be asked, or any answer fails."""
    busctl = shutil.which("busctl")
    if busctl is None or not os.path.exists(os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")
                                            .removeprefix("unix:path=") or SYSTEM_BUS):
        return []
    out = []
    for method, target in PM_TARGETS:
        try:
            done = subprocess.run([busctl, "--system", "call", "org.freedesktop.login1",
                                   "/org/freedesktop/login1", "org.freedesktop.login1.Manager",
                                   method], capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return []
        if done.returncode != 0:
            return []
        if done.stdout.split()[-1:] in (['"yes"'], ['"challenge"']):
            out.append(target)
    return out


# -- <guest>
def _emulator(arch: str) -> Optional[str]:
    """libvirt's search: qemu-system-<arch>, then the host's own binary
    (an i686 guest runs natively on x86_64)."""
    return capabilities.emulator_path(arch) or capabilities.emulator_path(HOST_ARCH)


def machines(probe: qmpprobe.Probe) -> list[tuple[str, Optional[str], int, bool]]:
    """(name, canonical, maxCpus, deprecated) in QEMU's order, libvirt's
    preferred machine first, each canonical machine just before its alias."""
    listed = [m for m in probe.machines if m["name"] != "none"]
    first = next((i for i, m in enumerate(listed)
                  if PREFERRED_MACHINE in (m["name"], m.get("alias"))), None)
    if first is None:
        first = next((i for i, m in enumerate(listed) if m.get("is-default")), None)
    if first is not None:
        listed.insert(0, listed.pop(first))
    out: list[tuple[str, Optional[str], int, bool]] = []
    names = {m.get("alias") or m["name"] for m in listed}
    for m in listed:
        max_cpus, deprecated = m.get("cpu-max", 0), bool(m.get("deprecated"))
        if m.get("alias") and m["name"] not in names:
            out.append((m["name"], None, max_cpus, deprecated))
            names.add(m["name"])
        out.append((m.get("alias") or m["name"], m.get("alias") and m["name"], max_cpus,
                    deprecated))
    return out


def _guest(doc: _Doc, arch: str, wordsize: int, arch_features: tuple[str, ...]) -> None:
    path = _emulator(arch)
    if path is None:
        return
    accel = "kvm" if capabilities.kvm_usable() else "tcg"
    try:
        probe = qmpprobe.probe(path, accel)
    except qmpprobe.ProbeError:
        return      # libvirt leaves out a binary it cannot probe
    kvm = accel == "kvm" and bool(probe.kvm and probe.kvm.get("enabled")
                                  and probe.kvm.get("present"))
    doc.open("<guest>")
    doc.add("<os_type>hvm</os_type>")
    doc.open(f"<arch name='{arch}'>")
    doc.add(f"<wordsize>{wordsize}</wordsize>")
    doc.add(f"<emulator>{path}</emulator>")
    for name, canonical, max_cpus, deprecated in machines(probe):
        attrs = _attrs(canonical=canonical) if canonical else ""
        attrs += _attrs(maxCpus=max_cpus) if max_cpus > 0 else ""
        attrs += " deprecated='yes'" if deprecated else ""
        doc.add(f"<machine{attrs}>{name}</machine>")
    if "tcg-accel" in probe.types:
        doc.add("<domain type='qemu'/>")
    if kvm:
        doc.add("<domain type='kvm'/>")
    doc.close("</arch>")
    doc.open("<features>")
    for feature in arch_features + X86_FEATURES:
        doc.add(feature)
    doc.close("</features>")
    doc.close("</guest>")
    doc.blank()
