"""Facts about this host that the capabilities document reports, read the
way libvirt 9.0 reads them: sysfs for NUMA cells, CPU topology, caches
and huge pages, /proc/cpuinfo for the microcode, KVM itself for the TSC,
DMI (or a random UUID, once per process) for the host UUID.

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

SYSTEM = Path("/sys/devices/system")
HUGEPAGES = Path("/sys/kernel/mm/hugepages")
DMI_UUID_FILES = ("/sys/devices/virtual/dmi/id/product_uuid", "/sys/class/dmi/id/product_uuid")
PAGE_KIB = os.sysconf("SC_PAGE_SIZE") // 1024
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


# -- small readers
def _read(path: Path | str) -> str:
    with open(path) as f:
        return f.read().strip()


def _int(path: Path | str, default: Optional[int] = None) -> int:
    try:
        return int(_read(path))
    except FileNotFoundError:
        if default is None:
            raise
        return default


def parse_cpulist(text: str) -> list[int]:
    """'0-2,5' -> [0, 1, 2, 5]"""
    out: list[int] = []
    for part in text.split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.extend(range(int(lo), int(hi or lo) + 1))
    return out


def format_cpulist(cpus: list[int]) -> str:
    """[0, 1, 2, 5] -> '0-2,5', as libvirt prints a bitmap."""
    runs: list[list[int]] = []
    for c in sorted(set(cpus)):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def _numbered(folder: Path, prefix: str) -> list[int]:
    """The N of folder/prefixN entries, sorted."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(n[len(prefix):]) for n in names
                  if n.startswith(prefix) and n[len(prefix):].isdigit())


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


# -- the host CPU's extras
def microcode_version() -> int:
    """/proc/cpuinfo's first 'microcode' value (hex), 0 when absent."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("microcode"):
                    return int(line.split(":", 1)[1].strip(), 16)
    except (OSError, ValueError, IndexError):
        pass
    return 0


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


def _cpu_topology(cpu: int, name: str) -> int:
    value = _int(SYSTEM / "cpu" / f"cpu{cpu}" / "topology" / name, 0)
    return max(value, 0)     # -1 means unknown: libvirt shows 0


def _siblings(cpu: int) -> list[int]:
    try:
        return parse_cpulist(_read(SYSTEM / "cpu" / f"cpu{cpu}" / "topology"
                                   / "thread_siblings_list"))
    except FileNotFoundError:
        return [cpu]


def _cpuset(name: str) -> set[int]:
    return set(parse_cpulist(_read(SYSTEM / "cpu" / name)))


def _node_topology(folder: Path, present: set[int], online: set[int]
                   ) -> tuple[int, int, int, int, int]:
    """(processors, sockets, cores per socket, threads per core, offline) of
    the CPUs listed in `folder` (a node, or the cpu folder itself)."""
    cpus = [c for c in _numbered(folder, "cpu") if c in present]
    cores: dict[int, set[int]] = {}
    threads = processors = offline = 0
    for cpu in cpus:
        if cpu not in online:
            offline += 1
            continue
        processors += 1
        cores.setdefault(_cpu_topology(cpu, "physical_package_id"), set()).add(
            _cpu_topology(cpu, "core_id"))
        threads = max(threads, len(_siblings(cpu)))
    return processors, len(cores), max(map(len, cores.values()), default=0), threads, offline


def topology() -> tuple[int, int, int, int]:
    """<topology sockets dies cores threads> of the host CPU: sockets per
    node, and libvirt's fallback (1, 1, all CPUs, 1) when the counts do not
    multiply up to the CPUs there are."""
    present, online = _cpuset("present"), _cpuset("online")
    nodes = _numbered(SYSTEM / "node", "node")
    per_node = [_node_topology(SYSTEM / "node" / f"node{n}", present, online) for n in nodes]
    if not per_node or not sum(t[0] for t in per_node):
        per_node, nodes = [_node_topology(SYSTEM / "cpu", present, online)], [0]
    cpus = sum(t[0] for t in per_node)
    offline = sum(t[4] for t in per_node)
    sockets, cores, threads = (max(t[i] for t in per_node) for i in (1, 2, 3))
    if len(nodes) * sockets * cores * threads != cpus + offline:
        return 1, 1, cpus + offline, 1
    return sockets, 1, cores, threads


# -- memory pages
def _hugepage_sizes(folder: Path) -> list[int]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return [int(m[1]) for n in names if (m := re.fullmatch(r"hugepages-(\d+)kB", n))]


def page_sizes() -> list[int]:
    """The host's page sizes in KiB, smallest first (<cpu><pages>)."""
    return sorted([PAGE_KIB] + _hugepage_sizes(HUGEPAGES))


def _node_memory_kib(node: int) -> int:
    text = _read(SYSTEM / "node" / f"node{node}" / "meminfo")
    m = re.search(r"MemTotal:\s+(\d+)\s*kB", text)
    return int(m[1]) if m else 0


def _node_pages(node: int, memory_kib: int) -> tuple[tuple[int, int], ...]:
    """Pool size per page size; the ordinary pages are what huge pages leave."""
    folder = SYSTEM / "node" / f"node{node}" / "hugepages"
    pools = {size: _int(folder / f"hugepages-{size}kB" / "nr_hugepages")
             for size in _hugepage_sizes(folder)}
    huge_kib = sum(size * count for size, count in pools.items())
    pools[PAGE_KIB] = (memory_kib - huge_kib) // PAGE_KIB
    return tuple(sorted(pools.items()))


def _distances(node: int, online_nodes: list[int]) -> tuple[tuple[int, int], ...]:
    try:
        values = [int(v) for v in _read(SYSTEM / "node" / f"node{node}" / "distance").split()]
    except (OSError, ValueError):
        return ()
    return tuple((n, d) for n, d in zip(online_nodes, values) if d)


def _cell_cpu(cpu: int) -> CellCPU:
    return CellCPU(cpu, _cpu_topology(cpu, "physical_package_id"),
                   _cpu_topology(cpu, "die_id"), _cpu_topology(cpu, "core_id"),
                   format_cpulist(_siblings(cpu)))


def numa_cells() -> list[Cell]:
    """One cell per node that sysfs lists with a cpumap."""
    online_nodes = parse_cpulist(_read(SYSTEM / "node" / "online"))
    cells = []
    for node in range(max(_numbered(SYSTEM / "node", "node"), default=-1) + 1):
        try:
            cpus = parse_cpulist(_read(SYSTEM / "node" / f"node{node}" / "cpulist"))
        except FileNotFoundError:
            continue       # a hole in the node numbers
        memory = _node_memory_kib(node)
        cells.append(Cell(node, memory, _node_pages(node, memory),
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
    for cpu in sorted(_cpuset("online")):
        folder = SYSTEM / "cpu" / f"cpu{cpu}" / "cache"
        for index in _numbered(folder, "index"):
            d = folder / f"index{index}"
            try:
                level = _int(d / "level")
                if level < MIN_CACHE_LEVEL:
                    continue
                bank = CacheBank(_int(d / "id"), level, CACHE_TYPES[_read(d / "type")],
                                 _scaled(_read(d / "size")),
                                 format_cpulist(parse_cpulist(_read(d / "shared_cpu_list"))))
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
