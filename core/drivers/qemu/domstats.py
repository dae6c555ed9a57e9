"""Bulk domain statistics of the QEMU driver (virConnectGetAllDomainStats,
virDomainListGetStats), group by group as libvirt 9.0's embed driver gives
them here without cgroups (probed with python3-libvirt on the same guests).

What a shut-off domain still gets: state, cpu (libvirt then reads the
calling process's own /proc/self/stat: we do the same), balloon and vcpu
from its definition, and block from the image files.  perf, iothread and
memory are empty for guests without perf events, iothreads or resctrl."""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from ... import errors
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, Domain
from ...structs import DomainStatsRecord
from ..listing import matches
from ..test.stats import ENFORCE_STATS, STATS_FLAGS
from . import blockstats
from .runtime import Runtime
from .stats import _task_stat, _tap_stats

Q = ErrorDomain.VIR_FROM_QEMU
INT, UINT, LLONG, ULLONG, BOOLEAN, STRING = 1, 2, 3, 4, 6, 7
Params = list[tuple[str, int, Any]]
(STATE, CPU, BALLOON, VCPU, INTERFACE, BLOCK, PERF, IOTHREAD, MEMORY,
 DIRTYRATE, VM) = (1 << i for i in range(11))
ALL_GROUPS = (1 << 11) - 1
# What ENFORCE_STATS lets through: libvirt 9.0 refuses iothread, dirtyrate
# and vm there ("not supported by this daemon or QEMU"), though it fills them.
ENFORCEABLE = STATE | CPU | BALLOON | VCPU | INTERFACE | BLOCK | PERF | MEMORY
NOWAIT = 1 << 29
BACKING = 1 << 30
_TICK_NS = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
# virDomainMemoryStatTags -> balloon.NAME (the actual size is balloon.current)
_MEMSTAT_NAMES = {0: "swap_in", 1: "swap_out", 2: "major_fault", 3: "minor_fault",
                  4: "unused", 5: "available", 7: "rss", 8: "usable", 9: "last-update",
                  10: "disk_caches", 11: "hugetlb_pgalloc", 12: "hugetlb_pgfail"}
_DIRTYRATE_STATUS = {"unstarted": 0, "measuring": 1, "measured": 2}
_SUFFIX = {"cumulative": "sum", "instant": "cur", "peak": "max"}


def _proc_times(path: str) -> Optional[tuple[int, int]]:
    """(user, system) ns of a process or thread from its stat file."""
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) * _TICK_NS, int(fields[12]) * _TICK_NS
    except (OSError, IndexError, ValueError):
        return None


def _sched_wait_delay(pid: int, tid: int) -> tuple[int, int]:
    """A thread's time waiting for a CPU (needs schedstats, else 0) and run delay."""
    wait = delay = 0
    try:
        with open(f"/proc/{pid}/task/{tid}/sched") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() in ("se.statistics.wait_sum", "stats.wait_sum", "wait_sum"):
                    wait = int(float(value) * 1_000_000)
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            delay = int(f.read().split()[1])
    except (OSError, IndexError, ValueError):
        pass
    return wait, delay


class _Queries:
    """QMP answers for one domain's record, each asked once (None: unavailable)."""

    def __init__(self, call: Optional[Callable[..., Any]]) -> None:
        self._call = call
        self._seen: dict[str, Any] = {}

    def get(self, cmd: str, args: Optional[dict[str, Any]] = None) -> Any:
        key = f"{cmd} {sorted((args or {}).items())}"
        if key not in self._seen:
            try:
                self._seen[key] = self._call(cmd, args) if self._call else None
            except errors.VirtError:
                self._seen[key] = None
        return self._seen[key]

    def kvm_stats(self, target: str) -> dict[str, Params]:
        """query-stats of `target` as typed params per qom-path, suffixed as libvirt."""
        reply = self.get("query-stats", {"target": target})
        schemas = self.get("query-stats-schemas", {"provider": "kvm"})
        if not reply or not schemas:
            return {}
        kinds = {(s.get("target"), st["name"]): st for s in schemas for st in s.get("stats", [])}
        out: dict[str, Params] = {}
        for entry in reply:
            params: Params = []
            for st in entry.get("stats", []):
                schema = kinds.get((target, st["name"]), {})
                suffix = _SUFFIX.get(schema.get("type", ""))
                if suffix is None or not isinstance(st.get("value"), int):
                    continue   # histograms: libvirt leaves them out
                kind = BOOLEAN if schema.get("unit") == "boolean" else ULLONG
                params.append((f"{st['name']}.{suffix}", kind, st["value"]))
            out[entry.get("qom-path", "")] = params
        return out


class DomStats:
    """Mixed into QemuDriver (lock, domains, runtime, _handle, _monitor_call, memory stats)."""

    lock: Any
    domains: Any
    runtime: Any

    def connect_get_all_domain_stats(self, conn: Connect, doms: Optional[list[Domain]],
                                     stats: int, flags: int) -> list[DomainStatsRecord]:
        errors.check_flags(flags, STATS_FLAGS, "qemuConnectGetAllDomainStats", Q)
        if flags & ENFORCE_STATS and stats & ~ENFORCEABLE:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                f"Stats types bits {stats & ~ENFORCEABLE:#x} are not "
                                "supported by this daemon or QEMU")
        groups = stats & ALL_GROUPS if stats else ALL_GROUPS
        with self.lock:
            objs = [o for o in self.stats_targets(doms)  # type: ignore[attr-defined]
                    if matches(o, flags & 0xFF)]
        return [DomainStatsRecord(self._handle(conn, o),  # type: ignore[attr-defined]
                                  self._record(o, groups, flags))
                for o in objs]

    def _record(self, obj: DomainObj, groups: int, flags: int) -> Params:
        with self.lock:
            rt: Optional[Runtime] = self.runtime.get(obj.uuid)
            active = obj.is_active() and rt is not None and rt.process is not None
            d = self.live_def(obj) if active else obj.def_  # type: ignore[attr-defined]
            state, reason = int(obj.state), obj.reason
        # NOWAIT: a domain busy with a job gets only what needs no monitor
        busy = bool(flags & NOWAIT) and active and self._job_busy(obj.uuid)
        call = (lambda cmd, args=None: self._monitor_call(rt, cmd, args)  # type: ignore[attr-defined]
                ) if active and not busy else None
        q = _Queries(call)
        out: Params = []
        if groups & STATE:
            out += [("state.state", INT, state), ("state.reason", INT, reason)]
        if groups & CPU:
            out += self._cpu(rt if active else None, q)
        if groups & BALLOON:
            out += self._balloon(obj, d, rt if active else None, call is not None)
        if groups & VCPU:
            out += self._vcpu(d, rt if active else None, q)
        if groups & INTERFACE and active:
            out += _interfaces(d)
        if groups & BLOCK:
            out += blockstats.block_params(d, q if active else None, bool(flags & BACKING))
        if groups & DIRTYRATE and active:
            out += _dirtyrate(q)
        if groups & VM and active:
            out += [(f"vm.{name}", kind, v)
                    for params in q.kvm_stats("vm").values() for name, kind, v in params]
        return out

    def _job_busy(self, uuid: bytes) -> bool:
        with self.lock:
            lock = self._jobs.get(uuid)  # type: ignore[attr-defined]
        return lock is not None and lock.locked()

    def _cpu(self, rt: Optional[Runtime], q: _Queries) -> Params:
        # Without cgroups libvirt reads the QEMU process's stat; for a shut-off
        # domain (pid 0) it ends up reading its own process's.
        times = _proc_times(f"/proc/{rt.process.pid}/stat" if rt and rt.process
                            else "/proc/self/stat")
        out: Params = []
        if times is not None:
            user, system = times
            out += [("cpu.time", ULLONG, user + system), ("cpu.user", ULLONG, user),
                    ("cpu.system", ULLONG, system)]
        if rt is None:
            return out
        out.append(("cpu.cache.monitor.count", UINT, 0))   # no resctrl monitors
        vcpus = q.kvm_stats("vcpu")
        if vcpus:
            sums = {name: sum(v for n, _, v in params if n == name)
                    for params in vcpus.values() for name in
                    ("halt_poll_success_ns.sum", "halt_poll_fail_ns.sum")}
            out += [("cpu.haltpoll.success.time", ULLONG, sums["halt_poll_success_ns.sum"]),
                    ("cpu.haltpoll.fail.time", ULLONG, sums["halt_poll_fail_ns.sum"])]
        return out

    def _balloon(self, obj: DomainObj, d: DomainDef, rt: Optional[Runtime],
                 monitor: bool) -> Params:
        out: Params = [("balloon.current", ULLONG, d.current_memory),
                       ("balloon.maximum", ULLONG, d.memory)]
        if rt is None or not monitor:
            return out
        try:
            stats = self.domain_memory_stats(  # type: ignore[attr-defined]
                self._handle(None, obj), 13, 0)  # type: ignore[attr-defined]
        except errors.VirtError:
            return out
        return out + [(f"balloon.{_MEMSTAT_NAMES[s.tag]}", ULLONG, s.val)
                      for s in stats if s.tag in _MEMSTAT_NAMES]

    def _vcpu(self, d: DomainDef, rt: Optional[Runtime], q: _Queries) -> Params:
        out: Params = [("vcpu.current", UINT, d.vcpus_current or d.vcpus),
                       ("vcpu.maximum", UINT, d.vcpus)]
        if rt is None or rt.process is None:
            return out
        try:
            tids = self._vcpu_tids(rt)  # type: ignore[attr-defined]
        except errors.VirtError:
            return out
        paths = {int(c.get("cpu-index", 0)): c.get("qom-path", "")
                 for c in q.get("query-cpus-fast") or []}
        kvm = q.kvm_stats("vcpu")
        pid = rt.process.pid
        for i, tid in sorted(tids.items()):
            wait, delay = _sched_wait_delay(pid, tid)
            out += [(f"vcpu.{i}.state", INT, 1), (f"vcpu.{i}.time", ULLONG, _task_stat(pid, tid)[0]),
                    (f"vcpu.{i}.wait", ULLONG, wait), (f"vcpu.{i}.delay", ULLONG, delay)]
            out += [(f"vcpu.{i}.{name}", kind, v)
                    for name, kind, v in kvm.get(paths.get(i, ""), [])]
        return out


def _interfaces(d: DomainDef) -> Params:
    """net.count counts every NIC; only those with a host device (a tap) have counters."""
    nics = [dev for dev in d.devices if dev.tag == "interface"]
    out: Params = [("net.count", UINT, len(nics))]
    for i, nic in enumerate(nics):
        target = nic.find("target")
        ifname = target.get("dev") if target is not None else None
        if not ifname:
            continue
        try:
            st = _tap_stats(ifname)
        except errors.VirtError:
            continue
        out.append((f"net.{i}.name", STRING, ifname))
        out += [(f"net.{i}.{name}", ULLONG, getattr(st, attr)) for name, attr in (
            ("rx.bytes", "rx_bytes"), ("rx.pkts", "rx_packets"), ("rx.errs", "rx_errs"),
            ("rx.drop", "rx_drop"), ("tx.bytes", "tx_bytes"), ("tx.pkts", "tx_packets"),
            ("tx.errs", "tx_errs"), ("tx.drop", "tx_drop"))]
    return out


def _dirtyrate(q: _Queries) -> Params:
    info = q.get("query-dirty-rate")
    if not info:
        return []
    status = _DIRTYRATE_STATUS.get(info.get("status", ""), 0)
    out: Params = [("dirtyrate.calc_status", INT, status),
                   ("dirtyrate.calc_start_time", LLONG, int(info.get("start-time", 0))),
                   ("dirtyrate.calc_period", INT, int(info.get("calc-time", 0))),
                   ("dirtyrate.calc_mode", STRING, info.get("mode", "page-sampling"))]
    if status == 2 and "dirty-rate" in info:
        out.append(("dirtyrate.megabytes_per_second", LLONG, int(info["dirty-rate"])))
        for i, vcpu in enumerate(info.get("vcpu-dirty-rate") or []):
            out.append((f"dirtyrate.vcpu.{i}.megabytes_per_second", LLONG,
                        int(vcpu.get("dirty-rate", 0))))
    return out

