"""The QEMU driver's host entry points (qemuNode*, qemuConnectGetMaxVcpus,
qemuConnectGetSysinfo): values read from /proc and /sys through core/host,
with libvirt 9.0's argument checks and errors.  Most checks and errors
come from libvirt's util/ helpers and so report VIR_FROM_NONE naming the
helper ('virHostMemGetStats'); the ones qemu_driver.c makes itself report
VIR_FROM_QEMU naming the qemu* function."""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import socket
import subprocess
from typing import Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...host import cpus, memory
from ...host.errors import system_error
from ...structs import NodeCPUStats, NodeInfo, NodeMemoryStats, SecurityModel
from ..typedparams import TypedParams, check_params
from . import security
from .paths import RootLayout

Q, N = ErrorDomain.VIR_FROM_QEMU, ErrorDomain.VIR_FROM_NONE
P_UINT, P_ULLONG = 2, 4
STRING_OKAY = 4           # VIR_TYPED_PARAM_STRING_OKAY
ALLOC_PAGES_SET = 1       # VIR_NODE_ALLOC_PAGES_SET
ALL_CELLS = -1            # VIR_NODE_MEMORY_STATS_ALL_CELLS (and ..._ALL_CPUS)
MAX_VCPUS_TCG = 16
KVM_CHECK_EXTENSION, KVM_CAP_NR_VCPUS, KVM_CAP_MAX_VCPUS = 0xAE03, 9, 66
# /proc/meminfo lines and the statistics they give, in libvirt's order
MEMINFO_FIELDS = {"MemTotal:": "total", "MemFree:": "free", "Buffers:": "buffers",
                  "Cached:": "cached"}
# the KSM files virNodeGetMemoryParameters reports, in its order
KSM_PARAMS = (("pages_to_scan", P_UINT), ("sleep_millisecs", P_UINT),
              ("pages_shared", P_ULLONG), ("pages_sharing", P_ULLONG),
              ("pages_unshared", P_ULLONG), ("pages_volatile", P_ULLONG),
              ("full_scans", P_ULLONG), ("merge_across_nodes", P_UINT))
KSM_WRITABLE = {"shm_pages_to_scan": P_UINT, "shm_sleep_millisecs": P_UINT,
                "shm_merge_across_nodes": P_UINT}
SUSPEND_TARGETS = ("Suspend-to-RAM", "Suspend-to-Disk", "Hybrid-Suspend")
SYSTEM_BUS = ("/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket")


class Node:
    """Host entry points of QemuDriver; `layout` is the driver's root."""

    layout: RootLayout

    def connect_get_max_vcpus(self, type: Optional[str]) -> int:
        if type is None or type.lower() == "qemu":
            return MAX_VCPUS_TCG
        if type.lower() == "kvm":
            return _kvm_max_vcpus()
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, f"unknown type '{type}'")

    def node_get_info(self) -> NodeInfo:
        topo = cpus.topology()
        return NodeInfo(model=os.uname().machine, memory=memory.host_memory()[0] // 1024,
                        cpus=topo.cpus, mhz=cpus.cpu_mhz(), nodes=topo.nodes,
                        sockets=topo.sockets, cores=topo.cores, threads=topo.threads)

    def node_get_cpu_map(self, flags: int) -> tuple[int, bytes, int]:
        """(CPUs present, bitmap of the online ones, how many are online)."""
        errors.check_flags(flags, 0, "virHostCPUGetMap", N)
        online = cpus.online_cpus()
        count = max(cpus.present_cpus() | online) + 1
        bitmap = bytearray((count + 7) // 8)
        for cpu in online:
            bitmap[cpu // 8] |= 1 << (cpu % 8)
        return count, bytes(bitmap), len(online)

    # -- memory
    def node_get_free_memory(self) -> int:
        return memory.host_memory()[1]

    def node_get_cells_free_memory(self, start_cell: int, max_cells: int) -> list[int]:
        nodes = memory.numa_nodes()
        if nodes is None:   # libvirt's one pretended cell
            _check_start(start_cell, 0)
            return [memory.host_memory()[1]]
        last = max(nodes)
        _check_start(start_cell, last)
        return [(memory.node_memory(n) or (0, 0))[1]
                for n in range(start_cell, min(start_cell + max_cells - 1, last) + 1)]

    def node_get_memory_stats(self, cell: int, flags: int) -> list[NodeMemoryStats]:
        fn = "virHostMemGetStats"
        errors.check_flags(flags, 0, fn, N)
        nodes = memory.numa_nodes()
        if nodes is None and cell == 0:
            cell = ALL_CELLS
        if cell == ALL_CELLS:
            path, wanted = memory.PROC_MEMINFO, 4
        else:
            last = max(nodes or [0])
            if cell > last:
                raise errors.invalid_arg(N, fn, "cellNum",
                                         f"cellNum in {fn} must be less than or equal to {last}")
            path, wanted = str(memory.node_dir(cell) / "meminfo"), 2
        try:
            with open(path) as f:
                text = f.read()
        except OSError as exc:
            raise system_error(exc.errno or 0, f"cannot open {path}") from None
        stats = [NodeMemoryStats(MEMINFO_FIELDS[h], v)
                 for h, v in memory.meminfo_lines(text) if h in MEMINFO_FIELDS][:wanted]
        if not stats:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N,
                                "no available memory line found")
        return stats

    def node_get_cpu_stats(self, cpu: int, flags: int) -> list[NodeCPUStats]:
        errors.check_flags(flags, 0, "virHostCPUGetStats", N)
        ticks = cpus.cpu_times(cpu)
        if ticks is None:
            fn = "virHostCPUGetStatsLinux"
            raise errors.invalid_arg(N, fn, "cpuNum", f"Invalid cpuNum in {fn}")
        user, nice, system, idle, iowait, irq, softirq = (ticks + [0] * 7)[:7]
        ns = cpus.tick_ns()
        return [NodeCPUStats("kernel", (system + irq + softirq) * ns),
                NodeCPUStats("user", (user + nice) * ns),
                NodeCPUStats("idle", idle * ns), NodeCPUStats("iowait", iowait * ns)]

    # -- page pools
    def node_get_free_pages(self, pages: list[int], start_cell: int, cell_count: int,
                            flags: int) -> tuple[int, list[int]]:
        """(how many counts, the free pages of each size, cell by cell)."""
        errors.check_flags(flags, 0, "qemuNodeGetFreePages", Q)
        counts = [memory.free_pages(cell, size)
                  for cell in _cells(start_cell, cell_count) for size in pages]
        if not counts:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N, "no suitable info found")
        return len(counts), counts

    def node_alloc_pages(self, page_sizes: list[int], page_counts: list[int], start_cell: int,
                         cell_count: int, flags: int) -> int:
        errors.check_flags(flags, ALLOC_PAGES_SET, "qemuNodeAllocPages", Q)
        done = 0
        for cell in _cells(start_cell, cell_count):
            for size, count in zip(page_sizes, page_counts):
                memory.set_page_pool(cell, size, count, add=not flags & ALLOC_PAGES_SET)
                done += 1
        return done

    # -- KSM tuning
    def node_get_memory_parameters(self, flags: int) -> TypedParams:
        errors.check_flags(flags, STRING_OKAY, "virHostMemGetParameters", N)
        out: TypedParams = []
        for name, ptype in KSM_PARAMS:
            value = memory.ksm_value(name)
            if value is not None:   # a file this kernel lacks is left out
                out.append((f"shm_{name}", ptype, value))
        return out

    def node_set_memory_parameters(self, params: TypedParams, flags: int) -> None:
        errors.check_flags(flags, 0, "virHostMemSetParameters", N)
        check_params(params, KSM_WRITABLE)
        for name, _, _ in params:
            if not (memory.KSM / _ksm_file(name)).exists():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, N,
                                    f"Parameter '{name}' is not supported by this kernel")
        for name, _, value in params:
            try:
                (memory.KSM / _ksm_file(name)).write_text(f"{value}")
            except OSError as exc:
                raise system_error(exc.errno or 0, f"failed to set {name}") from None

    # -- security, SMBIOS, power
    def node_get_security_model(self) -> SecurityModel:
        model, doi, _ = security.models(self.layout.root)[0]
        if model == "none":
            return SecurityModel(model=model, doi=doi)
        # libvirt confines QEMU with that LSM; pyvirt does not, so it cannot say so
        raise errors.no_support("virNodeGetSecurityModel")

    def connect_get_sysinfo(self, flags: int) -> str:
        errors.check_flags(flags, 0, "qemuConnectGetSysinfo", Q)
        if _host_has_smbios():
            # libvirt would format the host's SMBIOS tables: not done here
            raise errors.no_support("virConnectGetSysinfo")
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                            "Host SMBIOS information is not available")

    def node_suspend_for_duration(self, target: int, duration: int, flags: int) -> None:
        errors.check_flags(flags, 0, "virNodeSuspend", N)
        if _host_may_suspend():
            # libvirt would ask logind or pm-utils, then really suspend: not done here
            raise errors.no_support("virNodeSuspendForDuration")
        if 0 <= target < len(SUSPEND_TARGETS):
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, N,
                                SUSPEND_TARGETS[target])
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, N, "Invalid suspend target")


def _check_start(start_cell: int, last: int) -> None:
    if start_cell > last:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N,
                            f"start cell {start_cell} out of range (0-{last})")


def _cells(start_cell: int, cell_count: int) -> range:
    """The cells a page call covers: from start_cell (-1: the whole host) to
    the last NUMA cell at most; without NUMA, cell 0 is the whole host."""
    nodes = memory.numa_nodes()
    last = max(nodes) if nodes else 0
    if nodes is None and start_cell == 0 and cell_count == 1:
        start_cell = -1
    _check_start(start_cell, last)
    count = (cell_count & 0xFFFFFFFF) - ((cell_count & 0x80000000) << 1)   # C's (int) cast
    return range(start_cell, min(last, start_cell + count - 1) + 1)


def _ksm_file(param: str) -> str:
    return param.split("_", 1)[1]   # shm_pages_to_scan -> pages_to_scan


def _kvm_max_vcpus() -> int:
    try:
        fd = os.open("/dev/kvm", os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise system_error(exc.errno or 0, "Unable to open /dev/kvm") from None
    try:
        for cap in (KVM_CAP_MAX_VCPUS, KVM_CAP_NR_VCPUS):
            n = fcntl.ioctl(fd, KVM_CHECK_EXTENSION, cap)
            if n > 0:
                return n
        return 4   # what the KVM documentation says to assume
    finally:
        os.close(fd)


@functools.cache   # read once, as libvirt reads it once when the driver starts
def _host_has_smbios() -> bool:
    if os.path.isdir("/sys/class/dmi/id"):
        return True
    tool = shutil.which("dmidecode", path="/usr/sbin:/usr/bin:/sbin:/bin")
    if tool is None:
        return False
    try:
        out = subprocess.run([tool, "-q", "-t", "4,17"], capture_output=True, text=True,
                             timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return bool(out.strip())


def _host_may_suspend() -> bool:
    """Whether logind (on the system bus) or pm-utils could answer libvirt's
    question; without both, libvirt finds no suspend target supported."""
    if shutil.which("pm-is-supported"):
        return True
    address = os.environ.get("DBUS_SYSTEM_BUS_ADDRESS", "")
    paths = [address[len("unix:path="):]] if address.startswith("unix:path=") else []
    for path in paths + list(SYSTEM_BUS):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            try:
                s.connect(path)
                return True
            except OSError:
                continue
    return bool(address) and not paths   # some other transport: cannot tell
