"""What only the capabilities document reports of the host, read the way
libvirt 9.0 reads it: the NUMA cells (from cpus and memory), the L3+
caches from sysfs, KVM itself for the TSC, DMI (or a random UUID, once per
process) for the host UUID, the IOMMU groups.

Nothing here is cached except what libvirt also computes once per
process (the UUID) or what cannot change while we run (the TSC rate).
"""

from __future__ import annotations

import dataclasses
import fcntl
import functools
import os
import re
import uuid
from pathlib import Path
from typing import Optional

from .cpus import format_cpu_list, online_cpus, parse_cpu_list, siblings, topology_id
from .memory import node_dir, node_memory, node_page_pools, numa_nodes
from .sysfs import SYSTEM, numbered

DMI_UUID_FILES = ("/sys/devices/virtual/dmi/id/product_uuid", "/sys/class/dmi/id/product_uuid")
MIN_CACHE_LEVEL = 3        # libvirt reports L3 and beyond only
CACHE_TYPES = {"Data": "data", "Instruction": "code", "Unified": "both"}
# KVM ioctls (all _IO(0xAE, n): no argument struct)
KVM_CHECK_EXTENSION, KVM_CREATE_VM, KVM_CREATE_VCPU, KVM_GET_TSC_KHZ = \
    0xAE03, 0xAE01, 0xAE41, 0xAEA3
KVM_CAP_TSC_CONTROL = 60


@dataclasses.dataclass(frozen=True)
class CellCPU:
    """<cell><cpus><cpu>; ex) id=1 socket_id=0 die_id=0 core_id=1 siblings='1'"""
    id: int
    socket_id: int
    die_id: int
    core_id: int
    siblings: str


@dataclasses.dataclass(frozen=True)
class Cell:
    """<topology><cells><cell>; ex) id=0 memory_kib=7563476
    pages=((4, 1890869), (2048, 0)) distances=((0, 10),)"""
    id: int
    memory_kib: int
    pages: tuple[tuple[int, int], ...]       # (size KiB, pool size)
    distances: tuple[tuple[int, int], ...]   # (sibling node, distance)
    cpus: tuple[CellCPU, ...]


@dataclasses.dataclass(frozen=True)
class CacheBank:
    """<cache><bank>; ex) id=0 level=3 type='both' size=33554432 cpus='0-1'"""
    id: int
    level: int
    type: str
    size: int             # bytes
    cpus: str


def _read(path: Path | str) -> str:
    with open(path) as f:
        return f.read().strip()


# -- host UUID
@functools.lru_cache(maxsize=1)
def host_uuid() -> str:
    """The DMI system UUID when valid, else a random one kept for the process."""
    for path in DMI_UUID_FILES:
        try:
            raw = bytes.fromhex(_read(path).replace("-", "")[:32])
        except (OSError, ValueError):
            continue
        if len(raw) == 16 and len(set(raw)) > 1:   # all-same bytes are placeholders
            return str(uuid.UUID(bytes=raw))
    return str(uuid.uuid4())


# -- TSC
@functools.lru_cache(maxsize=1)
def tsc() -> Optional[tuple[int, bool]]:
    """(frequency in Hz, whether KVM can scale it), asked of a vCPU of a
    scratch VM as libvirt does; None without KVM."""
    fds: list[int] = []
    try:
        kvm = os.open("/dev/kvm", os.O_RDONLY | os.O_CLOEXEC)
        fds.append(kvm)
        fds.append(fcntl.ioctl(kvm, KVM_CREATE_VM, 0))
        fds.append(fcntl.ioctl(fds[-1], KVM_CREATE_VCPU, 0))
        khz = fcntl.ioctl(fds[-1], KVM_GET_TSC_KHZ, 0)
        scaling = fcntl.ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_TSC_CONTROL)
    except OSError:
        return None
    finally:
        for fd in reversed(fds):
            os.close(fd)
    return khz * 1000, bool(scaling)


# -- NUMA cells
def _distances(node: int, online_nodes: list[int]) -> tuple[tuple[int, int], ...]:
    try:
        values = [int(v) for v in _read(node_dir(node) / "distance").split()]
    except (OSError, ValueError):
        return ()
    return tuple((n, d) for n, d in zip(online_nodes, values) if d)


def _cell_cpu(cpu: int) -> CellCPU:
    return CellCPU(cpu, topology_id(cpu, "physical_package_id"), topology_id(cpu, "die_id"),
                   topology_id(cpu, "core_id"), format_cpu_list(siblings(cpu)))


def numa_cells() -> list[Cell]:
    """One cell per node that sysfs lists with a cpumap; a node whose memory
    cannot be read shows none (libvirt ignores that failure here)."""
    online_nodes = sorted(parse_cpu_list(_read(SYSTEM / "node" / "online")))
    cells = []
    for node in range(max(numa_nodes() or [-1]) + 1):
        try:
            cpus = sorted(parse_cpu_list(_read(node_dir(node) / "cpulist")))
        except FileNotFoundError:
            continue       # a hole in the node numbers
        memory_kib = (node_memory(node) or (0, 0))[0] // 1024
        cells.append(Cell(node, memory_kib, node_page_pools(node, memory_kib),
                          _distances(node, online_nodes),
                          tuple(_cell_cpu(c) for c in cpus)))
    return cells


# -- caches
def _scaled(text: str) -> int:
    """sysfs cache sizes: '32768K' -> bytes."""
    m = re.fullmatch(r"(\d+)\s*([KMG]?)i?B?", text, re.IGNORECASE)
    if not m:
        raise ValueError(text)
    return int(m[1]) * 1024 ** " KMG".index((m[2] or " ").upper())


def cache_banks() -> list[CacheBank]:
    """Level 3+ caches of the online CPUs, one bank per distinct cache,
    by level then id."""
    banks: list[CacheBank] = []
    for cpu in sorted(online_cpus()):
        folder = SYSTEM / "cpu" / f"cpu{cpu}" / "cache"
        for index in numbered(folder, "index"):
            d = folder / f"index{index}"
            try:
                level = int(_read(d / "level"))
                if level < MIN_CACHE_LEVEL:
                    continue
                bank = CacheBank(int(_read(d / "id")), level, CACHE_TYPES[_read(d / "type")],
                                 _scaled(_read(d / "size")),
                                 format_cpu_list(parse_cpu_list(_read(d / "shared_cpu_list"))))
            except (OSError, ValueError, KeyError):
                return banks      # libvirt stops at the first unreadable one, unsorted
            if bank not in banks:
                banks.append(bank)
    return sorted(banks, key=lambda b: (b.level, b.id))


def pretty_size(size: int) -> tuple[int, str]:
    """Bytes in the largest unit that divides them: 33554432 -> (32, 'MiB')."""
    unit = "B"
    for name in ("KiB", "MiB", "GiB", "TiB", "PiB", "EiB"):
        if size == 0 or size % 1024:
            break
        size, unit = size // 1024, name
    return size, unit


def has_iommu() -> bool:
    """Any IOMMU group at all."""
    try:
        return bool(os.listdir("/sys/kernel/iommu_groups"))
    except OSError:
        return False
