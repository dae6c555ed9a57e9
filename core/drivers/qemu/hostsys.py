"""What the host tells about its CPUs and memory, read from /proc and /sys
the way libvirt 9.0's virhostcpu, virhostmem and virnuma do: NUMA cells from
/sys/devices/system/node, CPU topology from /sys/devices/system/cpu, CPU
times from /proc/stat, page pools from the hugepages directories, KSM
tuning from /sys/kernel/mm/ksm.

Failures are raised as libvirt reports them (VIR_FROM_NONE: these are its
util/ helpers, not the QEMU driver)."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber

N = ErrorDomain.VIR_FROM_NONE
SYSTEM = Path("/sys/devices/system")
HUGEPAGES = Path("/sys/kernel/mm/hugepages")
KSM = Path("/sys/kernel/mm/ksm")
PROC_STAT, PROC_MEMINFO, PROC_CPUINFO = "/proc/stat", "/proc/meminfo", "/proc/cpuinfo"


def _error(code: ErrorNumber, detail: str) -> errors.VirtError:
    return errors.report(code, N, detail)


def system_error(err: int, what: str) -> errors.VirtError:
    """virReportSystemError: 'what: strerror'."""
    return errors.VirtError(ErrorNumber.VIR_ERR_SYSTEM_ERROR, N, f"{what}: {os.strerror(err)}")


def unknown_error() -> errors.VirtError:
    """What libvirt reports when a helper failed without saying why."""
    return errors.VirtError(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N,
                            "An error occurred, but the cause is unknown")


def page_size_kib() -> int:
    return os.sysconf("SC_PAGESIZE") // 1024


# -- CPU lists ("0-3,8") and masks ("ff,00000001")

def parse_cpu_list(text: str) -> set[int]:
    out: set[int] = set()
    for part in text.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def read_cpu_list(path: Path) -> Optional[set[int]]:
    try:
        return parse_cpu_list(path.read_text())
    except (OSError, ValueError):
        return None


def present_cpus() -> set[int]:
    return read_cpu_list(SYSTEM / "cpu" / "present") or set(range(os.cpu_count() or 1))


def online_cpus() -> set[int]:
    return read_cpu_list(SYSTEM / "cpu" / "online") or present_cpus()


# -- NUMA cells

def numa_nodes() -> Optional[list[int]]:
    """The host's NUMA node numbers, or None when it shows no NUMA (libvirt
    then fakes one cell from sysconf)."""
    try:
        names = os.listdir(SYSTEM / "node")
    except OSError:
        return None
    nodes = sorted(int(n[4:]) for n in names if n.startswith("node") and n[4:].isdigit())
    return nodes or None


def node_memory(node: int) -> Optional[tuple[int, int]]:
    """(total, free) bytes of one node, as libnuma reads them; None if it has none."""
    try:
        text = (SYSTEM / "node" / f"node{node}" / "meminfo").read_text()
    except OSError:
        return None
    values = _meminfo_values(text)
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


def _meminfo_values(text: str) -> dict[str, int]:
    """'Header:' -> number of each line (a node file's 'Node N ' prefix dropped)."""
    out: dict[str, int] = {}
    for header, value in meminfo_lines(text):
        out.setdefault(header, value)
    return out


def meminfo_lines(text: str) -> list[tuple[str, int]]:
    """(header, value) of each line holding a header and a number, in order."""
    out = []
    for line in text.splitlines():
        words = line.split()
        if line.startswith("Node "):
            words = words[2:]
        if len(words) >= 2 and words[1].isdigit():
            out.append((words[0], int(words[1])))
    return out


# -- page pools

def _node_dir(node: int) -> Path:
    return SYSTEM / "node" / f"node{node}"


def hugepage_file(node: int, size_kib: int, name: str) -> Path:
    """The pool file `name` of `size_kib` pages on `node` (-1: the whole host)."""
    if node == -1:
        base = HUGEPAGES
    else:
        if not _node_dir(node).is_dir():
            raise _error(ErrorNumber.VIR_ERR_OPERATION_FAILED, f"NUMA node {node} is not available")
        base = _node_dir(node) / "hugepages"
    path = base / f"hugepages-{size_kib}kB" / name
    if not path.exists():
        where = "" if node == -1 else f" on node {node}"
        raise _error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
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
        raise _error(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED,
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
        raise _error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                     f"Unable to allocate {count} pages. Allocated only {got}")


def _read_count(path: Path) -> int:
    try:
        text = path.read_text()
    except OSError as exc:
        raise system_error(exc.errno or 0, f"Failed to open file '{path}'") from None
    try:
        return int(text.strip())
    except ValueError:
        raise _error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                     f"invalid number '{text.strip()}' in '{path}'") from None


# -- CPU times

def cpu_times(cpu: int) -> Optional[list[int]]:
    """The /proc/stat counters (in ticks) of `cpu` (-1: all of them), or None."""
    header = "cpu" if cpu == -1 else f"cpu{cpu}"
    with open(PROC_STAT) as f:
        for line in f:
            words = line.split()
            if words and words[0] == header and len(words) >= 5:
                return [int(w) for w in words[1:]]
    return None


def tick_ns() -> int:
    return 1_000_000_000 // os.sysconf("SC_CLK_TCK")


# -- topology (virNodeGetInfo)

@dataclasses.dataclass
class Topology:
    """What virNodeInfo says of the CPUs; ex) cpus=2 nodes=1 sockets=1 cores=2 threads=1."""
    cpus: int = 0
    nodes: int = 0
    sockets: int = 0
    cores: int = 0
    threads: int = 0
    offline: int = 0


def _cpu_value(cpu: int, name: str) -> Optional[str]:
    try:
        return (SYSTEM / "cpu" / f"cpu{cpu}" / name).read_text().strip()
    except OSError:
        return None


def _thread_siblings(cpu: int) -> int:
    mask = _cpu_value(cpu, "topology/thread_siblings")
    if mask is None:
        return 1
    return sum(bin(int(c, 16)).count("1") for c in mask if c in "0123456789abcdefABCDEF")


def _cpus_in(directory: Path) -> list[int]:
    cpus = []
    for name in os.listdir(directory):
        if name.startswith("cpu") and name[3:].isdigit():
            cpus.append(int(name[3:]))
    return sorted(cpus)


def parse_node_cpus(directory: Path, present: set[int], online: set[int]) -> Topology:
    """Count the CPUs of one node directory: sockets, the most cores in a
    socket, the most threads in a core (offline CPUs only counted)."""
    topo = Topology()
    cores: dict[int, set[int]] = {}
    for cpu in _cpus_in(directory):
        if cpu not in present:
            continue
        if cpu not in online:
            topo.offline += 1
            continue
        topo.cpus += 1
        socket = max(int(_cpu_value(cpu, "topology/physical_package_id") or 0), 0)
        core = int(_cpu_value(cpu, "topology/core_id") or 0)
        cores.setdefault(socket, set()).add(core)
        topo.threads = max(topo.threads, _thread_siblings(cpu))
    topo.sockets = len(cores)
    topo.cores = max((len(c) for c in cores.values()), default=0)
    return topo


def topology() -> Topology:
    present, online = present_cpus(), online_cpus()
    total = Topology()
    try:
        nodes = [n for n in os.listdir(SYSTEM / "node") if n.startswith("node") and n[4:].isdigit()]
    except OSError:
        nodes = []
    for name in nodes:
        one = parse_node_cpus(SYSTEM / "node" / name, present, online)
        total.nodes += 1
        total.cpus += one.cpus
        total.offline += one.offline
        total.sockets = max(total.sockets, one.sockets)
        total.cores = max(total.cores, one.cores)
        total.threads = max(total.threads, one.threads)
    if not (total.cpus and total.nodes):
        offline = total.offline
        total = parse_node_cpus(SYSTEM / "cpu", present, online)
        total.nodes, total.offline = 1, total.offline + offline
    for value, what in ((total.cpus, "CPUs"), (total.sockets, "sockets"),
                        (total.threads, "threads")):
        if value == 0:
            raise _error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"no {what} found")
    if total.nodes * total.sockets * total.cores * total.threads != total.cpus + total.offline:
        # a topology nodeinfo cannot describe: libvirt reports a flat one
        total = Topology(cpus=total.cpus, nodes=1, sockets=1,
                         cores=total.cpus + total.offline, threads=1, offline=total.offline)
    return total


def cpu_mhz() -> int:
    """The last 'cpu MHz' of /proc/cpuinfo, its fraction dropped."""
    mhz = 0
    with open(PROC_CPUINFO) as f:
        for line in f:
            if not line.startswith("cpu MHz"):
                continue
            rest = line[7:].lstrip()
            if not rest.startswith(":") or len(rest) < 2:
                raise _error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, "parsing cpu MHz from cpuinfo")
            number = re.match(r"\s*\+?(\d+)(?=$|[.\s])", rest[1:])
            if number:
                mhz = int(number.group(1))
    return mhz


# -- KSM

def ksm_value(name: str) -> Optional[int]:
    """A KSM tunable or counter; None when this kernel lacks it."""
    path = KSM / name
    if not path.exists():
        return None
    try:
        return int(path.read_text().split("\n")[0])
    except (OSError, ValueError):
        raise _error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"failed to parse {name}") from None
