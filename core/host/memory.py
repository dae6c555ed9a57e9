"""The host's memory as libvirt 9.0's virhostmem and virnuma read it: NUMA
nodes and their meminfo from /sys/devices/system/node, the page sizes and
pools from the hugepages folders, KSM tuning from /sys/kernel/mm/ksm."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Optional

from ..errors import ErrorNumber
from .errors import error, system_error, unknown_error
from .sysfs import SYSTEM, numbered

HUGEPAGES = Path("/sys/kernel/mm/hugepages")
KSM = Path("/sys/kernel/mm/ksm")
PROC_MEMINFO = "/proc/meminfo"


def page_size_kib() -> int:
    """The system page size, in KiB as page sizes are given everywhere."""
    return os.sysconf("SC_PAGESIZE") // 1024


# -- NUMA nodes

def numa_nodes() -> Optional[list[int]]:
    """The host's NUMA node numbers, or None when it shows no NUMA (libvirt
    then fakes one cell from sysconf)."""
    return numbered(SYSTEM / "node", "node") or None


def node_dir(node: int) -> Path:
    return SYSTEM / "node" / f"node{node}"


def node_memory(node: int) -> Optional[tuple[int, int]]:
    """(total, free) bytes of one node, as libnuma reads them; None if it has none."""
    try:
        text = (node_dir(node) / "meminfo").read_text()
    except OSError:
        return None
    values: dict[str, int] = {}
    for header, value in meminfo_lines(text):
        values.setdefault(header, value)
    if "MemTotal:" not in values:
        return None
    return values["MemTotal:"] * 1024, values.get("MemFree:", 0) * 1024


def host_memory() -> tuple[int, int]:
    """(total, free) bytes: the sum over NUMA nodes (not /proc/meminfo, whose
    total can differ), or sysconf's when there is no NUMA."""
    nodes = numa_nodes()
    if nodes is None:
        size = os.sysconf("SC_PAGESIZE")
        return os.sysconf("SC_PHYS_PAGES") * size, os.sysconf("SC_AVPHYS_PAGES") * size
    total = free = 0
    for node in nodes:
        mem = node_memory(node)
        if mem is None:
            raise unknown_error()
        total, free = total + mem[0], free + mem[1]
    return total, free


def meminfo_lines(text: str) -> list[tuple[str, int]]:
    """(header, value) of each line holding a header and a number, in order
    (a node file's 'Node N ' prefix dropped)."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if line.startswith("Node "):
            words = words[2:]
        if len(words) >= 2 and words[1].isdigit():
            out.append((words[0], int(words[1])))
    return out


# -- page sizes and pools

def hugepage_sizes(folder: Path) -> list[int]:
    """The sizes (KiB) of the hugepages-<N>kB pools in `folder`, unsorted."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []   # no huge pages on this host (or node)
    return [int(m[1]) for n in names if (m := re.fullmatch(r"hugepages-(\d+)kB", n))]


def page_sizes() -> list[int]:
    """The host's page sizes in KiB, smallest first (<cpu><pages>)."""
    return sorted([page_size_kib()] + hugepage_sizes(HUGEPAGES))


def node_page_pools(node: int, memory_kib: int) -> tuple[tuple[int, int], ...]:
    """(size KiB, pool size) of each page size on `node`, smallest first; the
    kernel gives no pool of ordinary pages, so it is what huge pages leave."""
    folder = node_dir(node) / "hugepages"
    pools = {size: _read_count(folder / f"hugepages-{size}kB" / "nr_hugepages")
             for size in hugepage_sizes(folder)}
    huge_kib = sum(size * count for size, count in pools.items())
    pools[page_size_kib()] = (memory_kib - huge_kib) // page_size_kib()
    return tuple(sorted(pools.items()))


def hugepage_file(node: int, size_kib: int, name: str) -> Path:
    """The pool file `name` of `size_kib` pages on `node` (-1: the whole host)."""
    if node == -1:
        base = HUGEPAGES
    else:
        if not node_dir(node).is_dir():
            raise error(ErrorNumber.VIR_ERR_OPERATION_FAILED, f"NUMA node {node} is not available")
        base = node_dir(node) / "hugepages"
    path = base / f"hugepages-{size_kib}kB" / name
    if not path.exists():
        where = "" if node == -1 else f" on node {node}"
        raise error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                    f"page size {size_kib} is not available{where}")
    return path


def free_pages(node: int, size_kib: int) -> int:
    """Free pages of `size_kib` on `node` (-1: the whole host)."""
    system = page_size_kib()
    if size_kib == system:
        if node == -1:
            free = host_memory()[1]
        else:
            mem = node_memory(node)
            if mem is None:
                raise unknown_error()
            free = mem[1]
        return free // (system * 1024)
    return _read_count(hugepage_file(node, size_kib, "free_hugepages"))


def set_page_pool(node: int, size_kib: int, count: int, add: bool) -> None:
    """Make the pool of `size_kib` pages on `node` hold `count` pages (or
    `count` more), and check the kernel found them."""
    if size_kib == page_size_kib():
        raise error(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED,
                    "system pages pool can't be modified")
    path = hugepage_file(node, size_kib, "nr_hugepages")
    current = _read_count(path)
    if add:
        if count == 0:
            return
        count += current
    elif count == current:
        return
    try:
        path.write_text(f"{count}")
    except OSError as exc:
        raise system_error(exc.errno or 0, f"Unable to write to: {path}") from None
    got = _read_count(path)
    if got != count:
        raise error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                    f"Unable to allocate {count} pages. Allocated only {got}")


def _read_count(path: Path) -> int:
    try:
        text = path.read_text()
    except OSError as exc:
        raise system_error(exc.errno or 0, f"Failed to open file '{path}'") from None
    try:
        return int(text.strip())
    except ValueError:
        raise error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                    f"invalid number '{text.strip()}' in '{path}'") from None


# -- KSM

def ksm_value(name: str) -> Optional[int]:
    """A KSM tunable or counter; None when this kernel lacks it."""
    path = KSM / name
    if not path.exists():
        return None
    try:
        return int(path.read_text().split("\n")[0])
    except (OSError, ValueError):
        raise error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"failed to parse {name}") from None
