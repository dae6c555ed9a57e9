"""The host's CPUs as libvirt 9.0's virhostcpu reads them: CPU lists and
the present/online sets, the topology of /sys/devices/system/cpu counted
node by node (virNodeGetInfo, and the capabilities' <topology> derived from
it), CPU times from /proc/stat, clock and microcode from /proc/cpuinfo."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path
from typing import Iterable, Optional

from ..errors import ErrorNumber
from .errors import error
from .memory import numa_nodes
from .sysfs import SYSTEM, numbered

PROC_STAT, PROC_CPUINFO = "/proc/stat", "/proc/cpuinfo"


# -- CPU lists ("0-2,5"): sets, as libvirt holds them in bitmaps

def parse_cpu_list(text: str) -> set[int]:
    """'0-2,5' -> {0, 1, 2, 5}"""
    out: set[int] = set()
    for part in text.strip().split(","):
        if part:
            lo, _, hi = part.partition("-")
            out.update(range(int(lo), int(hi or lo) + 1))
    return out


def format_cpu_list(cpus: Iterable[int]) -> str:
    """{0, 1, 2, 5} -> '0-2,5', as libvirt prints a bitmap."""
    runs: list[list[int]] = []
    for c in sorted(set(cpus)):
        if runs and c == runs[-1][1] + 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in runs)


def read_cpu_list(path: Path) -> Optional[set[int]]:
    try:
        return parse_cpu_list(path.read_text())
    except (OSError, ValueError):
        return None


def present_cpus() -> set[int]:
    return read_cpu_list(SYSTEM / "cpu" / "present") or set(range(os.cpu_count() or 1))


def online_cpus() -> set[int]:
    return read_cpu_list(SYSTEM / "cpu" / "online") or present_cpus()


# -- one CPU's place in the topology

def topology_id(cpu: int, name: str) -> int:
    """physical_package_id, die_id or core_id of `cpu`: 0 when the file is
    absent, and when negative (-1: the arch has no such level)."""
    try:
        value = int((SYSTEM / "cpu" / f"cpu{cpu}" / "topology" / name).read_text())
    except FileNotFoundError:
        return 0
    return max(value, 0)


def siblings(cpu: int) -> set[int]:
    """The threads of `cpu`'s core; itself alone when sysfs does not say."""
    try:
        return parse_cpu_list((SYSTEM / "cpu" / f"cpu{cpu}" / "topology"
                               / "thread_siblings_list").read_text())
    except FileNotFoundError:
        return {cpu}


# -- topology (virNodeGetInfo, and the capabilities' <cpu><topology>)

@dataclasses.dataclass
class Topology:
    """What virNodeInfo says of the CPUs; ex) cpus=2 nodes=1 sockets=1 cores=2 threads=1."""
    cpus: int = 0
    nodes: int = 0
    sockets: int = 0
    cores: int = 0
    threads: int = 0
    offline: int = 0


def node_topology(folder: Path, present: set[int], online: set[int]) -> Topology:
    """Count the CPUs listed in `folder` (a node, or the cpu folder itself):
    sockets, the most cores in a socket, the most threads in a core; offline
    CPUs are only counted."""
    topo = Topology()
    cores: dict[int, set[int]] = {}
    for cpu in numbered(folder, "cpu"):
        if cpu not in present:
            continue
        if cpu not in online:
            topo.offline += 1
            continue
        topo.cpus += 1
        cores.setdefault(topology_id(cpu, "physical_package_id"), set()).add(
            topology_id(cpu, "core_id"))
        topo.threads = max(topo.threads, len(siblings(cpu)))
    topo.sockets = len(cores)
    topo.cores = max((len(c) for c in cores.values()), default=0)
    return topo


def topology() -> Topology:
    """The host's topology summed over its NUMA nodes (the most sockets,
    cores and threads of any), or counted in the cpu folder when the nodes
    show no CPU; libvirt's flat one when the counts do not multiply up."""
    present, online = present_cpus(), online_cpus()
    total = Topology()
    for node in numa_nodes() or []:
        one = node_topology(SYSTEM / "node" / f"node{node}", present, online)
        total.nodes += 1
        total.cpus += one.cpus
        total.offline += one.offline
        total.sockets = max(total.sockets, one.sockets)
        total.cores = max(total.cores, one.cores)
        total.threads = max(total.threads, one.threads)
    if not (total.cpus and total.nodes):
        offline = total.offline    # libvirt keeps counting the nodes' offline CPUs
        total = node_topology(SYSTEM / "cpu", present, online)
        total.nodes, total.offline = 1, total.offline + offline
    for value, what in ((total.cpus, "CPUs"), (total.sockets, "sockets"),
                        (total.threads, "threads")):
        if value == 0:
            raise error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"no {what} found")
    if total.nodes * total.sockets * total.cores * total.threads != total.cpus + total.offline:
        # a topology nodeinfo cannot describe: libvirt reports a flat one
        total = Topology(cpus=total.cpus, nodes=1, sockets=1,
                         cores=total.cpus + total.offline, threads=1, offline=total.offline)
    return total


def capabilities_topology() -> tuple[int, int, int, int]:
    """(sockets, dies, cores, threads) of the capabilities' host <cpu>: what
    virNodeGetInfo counts, one die per socket."""
    topo = topology()
    return topo.sockets, 1, topo.cores, topo.threads


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


# -- /proc/cpuinfo

def cpu_mhz() -> int:
    """The last 'cpu MHz' of /proc/cpuinfo, its fraction dropped."""
    mhz = 0
    with open(PROC_CPUINFO) as f:
        for line in f:
            if not line.startswith("cpu MHz"):
                continue
            rest = line[7:].lstrip()
            if not rest.startswith(":") or len(rest) < 2:
                raise error(ErrorNumber.VIR_ERR_INTERNAL_ERROR, "parsing cpu MHz from cpuinfo")
            number = re.match(r"\s*\+?(\d+)(?=$|[.\s])", rest[1:])
            if number:
                mhz = int(number.group(1))
    return mhz


def microcode_version() -> int:
    """/proc/cpuinfo's first 'microcode' value (hex), 0 when absent."""
    try:
        with open(PROC_CPUINFO) as f:
            for line in f:
                if line.startswith("microcode"):
                    return int(line.split(":", 1)[1].strip(), 16)
    except (OSError, ValueError, IndexError):
        pass
    return 0
