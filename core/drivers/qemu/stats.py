"""vCPU, memory, block and interface statistics of a running QEMU domain
(qemuDomainGetVcpus, qemuDomainBlockStats, qemuDomainInterfaceStats;
memory statistics: balloon.py).  Errors as libvirt 9.0's embed driver words them."""

from __future__ import annotations

import os
from typing import Any

from ... import errors
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainBlockStats, DomainInterfaceStats, VcpuInfo
from ..test.domain_extra import find_disk, find_interface
from .runtime import Runtime
from .command import disk_nodes

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
STRING_OKAY, LLONG = 4, 3
# virDomainBlockStatsFlags' parameters in libvirt's order, from QEMU's query-blockstats
_BLOCK_STATS_FIELDS = {
    "wr_bytes": "wr_bytes", "wr_operations": "wr_operations",
    "rd_bytes": "rd_bytes", "rd_operations": "rd_operations",
    "flush_operations": "flush_operations", "wr_total_times": "wr_total_time_ns",
    "rd_total_times": "rd_total_time_ns", "flush_total_times": "flush_total_time_ns"}
VIR_VCPU_RUNNING = 1
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")


def _task_stat(pid: int, tid: int) -> tuple[int, int]:
    """(cpu time in ns, last CPU) of one thread, from /proc."""
    try:
        with open(f"/proc/{pid}/task/{tid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * _TICK_NS, int(fields[36])
    except (OSError, IndexError, ValueError):
        return 0, 0


def _cpumap(tid: int, maplen: int) -> bytes:
    try:
        cpus = os.sched_getaffinity(tid)
    except OSError:
        cpus = set(range(os.cpu_count() or 1))
    out = bytearray(maplen)
    for cpu in cpus:
        if cpu // 8 < maplen:
            out[cpu // 8] |= 1 << (cpu % 8)
    return bytes(out)


def _disk_index(d: DomainDef, path: str) -> int:
    disk = find_disk(d, path)
    disks = [dev for dev in d.devices if dev.tag == "disk"]
    if disk is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                            f"invalid path: {path}")
    return disks.index(disk)


class Stats:
    """Mixed into QemuDriver (which supplies _running, _monitor_call, lock)."""

    def _vcpu_tids(self, rt: Runtime) -> dict[int, int]:
        """vCPU id -> its thread, of the vCPUs online (vcpuhotplug.py keeps it)."""
        if rt.vcpu_tids is None:
            self.vcpu_entities(rt)  # type: ignore[attr-defined]
        return rt.vcpu_tids or {}

    def domain_get_vcpus(self, dom: Domain, maxinfo: int,
                         maplen: int) -> tuple[list[VcpuInfo], bytes]:
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
            if not obj.is_active() or rt is None or rt.process is None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "cannot retrieve vcpu information for inactive domain")
        pid = rt.process.pid
        infos, maps = [], b""
        for number, tid in sorted(self._vcpu_tids(rt).items())[:maxinfo]:
            ns, cpu = _task_stat(pid, tid)
            infos.append(VcpuInfo(number=number, state=VIR_VCPU_RUNNING, cpuTime=ns, cpu=cpu))
            maps += _cpumap(tid, maplen)
        return infos, maps

    def domain_block_stats(self, dom: Domain, disk: str, size: int) -> DomainBlockStats:
        obj, rt = self._running(dom)  # type: ignore[attr-defined]
        nodes = disk_nodes(obj.def_)
        indexes = range(len(nodes)) if disk == "" else [_disk_index(obj.def_, disk)]
        entries = self._monitor_call(rt, "query-blockstats")  # type: ignore[attr-defined]
        total = DomainBlockStats(0, 0, 0, 0, -1)   # QEMU does not count errors
        for index in indexes:
            st = _blockstats_of(entries, nodes[index].node)
            total.rd_req += int(st.get("rd_operations", 0))
            total.rd_bytes += int(st.get("rd_bytes", 0))
            total.wr_req += int(st.get("wr_operations", 0))
            total.wr_bytes += int(st.get("wr_bytes", 0))
        return total

    def domain_block_stats_flags(self, dom: Domain, disk: str,
                                 flags: int) -> list[tuple[str, int, int]]:
        errors.check_flags(flags, STRING_OKAY, "qemuDomainBlockStatsFlags", Q)
        obj, rt = self._running(dom)  # type: ignore[attr-defined]
        nodes = disk_nodes(obj.def_)
        indexes = range(len(nodes)) if disk == "" else [_disk_index(obj.def_, disk)]
        entries = self._monitor_call(rt, "query-blockstats")  # type: ignore[attr-defined]
        totals = dict.fromkeys(_BLOCK_STATS_FIELDS, 0)
        for index in indexes:
            st = _blockstats_of(entries, nodes[index].node)
            for name, qemu_name in _BLOCK_STATS_FIELDS.items():
                totals[name] += int(st.get(qemu_name, 0))
        return [(name, LLONG, value) for name, value in totals.items()]

    def domain_interface_stats(self, dom: Domain, device: str,
                               size: int) -> DomainInterfaceStats:
        obj, _ = self._running(dom)  # type: ignore[attr-defined]
        nic = find_interface(obj.def_, device)
        if nic is None:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                f"'{device}' is not a known interface")
        target = nic.find("target")
        ifname = target.get("dev") if target is not None else None
        if not ifname:   # user-mode networking: QEMU keeps no counters we could read
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                                "Interface name not provided")
        return _tap_stats(ifname)


def _blockstats_of(entries: list[dict[str, Any]], node: str) -> dict[str, Any]:
    for entry in entries:
        if entry.get("node-name") == node:
            return dict(entry.get("stats", {}))
    return {}


def _tap_stats(ifname: str) -> DomainInterfaceStats:
    """A tap's /proc/net/dev counters, seen from the guest (rx and tx swapped)."""
    try:
        with open("/proc/net/dev") as f:
            for line in f:
                name, _, rest = line.partition(":")
                if name.strip() == ifname:
                    v = [int(x) for x in rest.split()]
                    return DomainInterfaceStats(rx_bytes=v[8], rx_packets=v[9], rx_errs=v[10],
                                                rx_drop=v[11], tx_bytes=v[0], tx_packets=v[1],
                                                tx_errs=v[2], tx_drop=v[3])
    except OSError:
        pass
    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                        "/proc/net/dev: Interface not found")
