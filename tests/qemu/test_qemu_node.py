"""The QEMU driver's host calls against real libvirt 9.0's embedded driver on
the same host (reallibvirt asks it in a subprocess).  Static values and every
error must be equal; values that move between the two reads (free memory,
CPU times) are compared by shape and a plausible range.  Nothing here changes
the host: page pools are asked for the counts they already hold, KSM
tunables are written with the values they already have."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import reallibvirt
from qemutest import conn, ensure_event_loop, root  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.drivers.qemu import node
from pyvirt.errors import VirtError

GiB = 1 << 30


def ours(fn: Callable[[], Any]) -> tuple[Any, ...]:
    """Our answer in reallibvirt's shape: ("ok", value) or ("err", code, domain, message)."""
    try:
        return ("ok", fn())
    except VirtError as e:
        return ("err", int(e.code), int(e.domain), e.message)


def stats(records: list[Any]) -> dict[str, int]:
    return {r.field: r.value for r in records}


def free_pages(pages: list[int], start: int, answer: tuple[int, list[int]]) -> dict[str, Any]:
    """virNodeGetFreePages' counts as python3-libvirt's {cell: {size: count}} (JSON keys)."""
    n, counts = answer
    counts = counts[:n]
    return {str(start + i): {str(p): c for p, c in zip(pages, counts[i * len(pages):])}
            for i in range(len(counts) // len(pages))}


def test_static_values_as_real(conn):
    real = reallibvirt.ask({
        "info": "c.getInfo()", "map": "c.getCPUMap(0)", "sm": "c.getSecurityModel()",
        "mv_none": "c.getMaxVcpus(None)", "mv_qemu": "c.getMaxVcpus('qemu')",
        "mv_kvm": "c.getMaxVcpus('kvm')", "mv_KVM": "c.getMaxVcpus('KVM')",
    })
    info = api.virNodeGetInfo(conn)
    assert real["info"] == ("ok", [info.model, info.memory // 1024, info.cpus, info.mhz,
                                   info.nodes, info.sockets, info.cores, info.threads])
    count, bitmap, online = api.virNodeGetCPUMap(conn, 0)
    assert real["map"] == ("ok", [count, [bool(bitmap[i // 8] >> (i % 8) & 1)
                                          for i in range(count)], online])
    model = api.virNodeGetSecurityModel(conn)
    assert real["sm"] == ("ok", [model.model, model.doi])
    for name, type in (("mv_none", None), ("mv_qemu", "qemu"), ("mv_kvm", "kvm"),
                       ("mv_KVM", "KVM")):
        assert real[name] == ours(lambda: api.virConnectGetMaxVcpus(conn, type)), name


def test_memory_as_real(conn):
    real = reallibvirt.ask({
        "free": "c.getFreeMemory()", "cells": "c.getCellsFreeMemory(0, 8)",
        "ms_all": "c.getMemoryStats(-1, 0)", "ms0": "c.getMemoryStats(0, 0)",
    })
    free = api.virNodeGetFreeMemory(conn)
    assert real["free"][0] == "ok" and abs(real["free"][1] - free) < GiB
    cells = api.virNodeGetCellsFreeMemory(conn, 0, 8)
    assert len(real["cells"][1]) == len(cells)
    assert all(abs(a - b) < GiB for a, b in zip(real["cells"][1], cells))
    assert sum(cells) == pytest.approx(free, abs=GiB)
    for name, cell in (("ms_all", -1), ("ms0", 0)):
        mine, theirs = stats(api.virNodeGetMemoryStats(conn, cell, 0)), real[name][1]
        assert list(mine) == list(theirs), name
        assert mine["total"] == theirs["total"], name
        assert abs(mine["free"] - theirs["free"]) < GiB // 1024, name   # KiB


def test_cpu_stats_as_real(conn):
    real = reallibvirt.ask({"all": "c.getCPUStats(-1, 0)", "cpu0": "c.getCPUStats(0, 0)"})
    for name, cpu in (("all", -1), ("cpu0", 0)):
        mine, theirs = stats(api.virNodeGetCPUStats(conn, cpu, 0)), real[name][1]
        assert list(mine) == ["kernel", "user", "idle", "iowait"] == list(theirs), name
        for key, value in mine.items():   # counters: ours were read later
            assert theirs[key] <= value < theirs[key] + 3600 * 10**9 * 8, (name, key)


def test_free_pages_as_real(conn):
    asks = {"fp": ([4, 2048], 0, 1), "fp_order": ([2048, 4, 4], 0, 1), "fp5": ([4], 0, 5),
            "fp_host": ([4, 2048], -1, 2), "fp_1g": ([1048576], 0, 1)}
    real = reallibvirt.ask({k: f"c.getFreePages({p}, {s}, {n}, 0)"
                            for k, (p, s, n) in asks.items()})
    small = 4   # KiB: the system page, whose free count moves
    for name, (pages, start, count) in asks.items():
        mine = free_pages(pages, start, api.virNodeGetFreePages(conn, pages, start, count, 0))
        theirs = real[name][1]
        assert {c: list(v) for c, v in mine.items()} == \
            {c: list(v) for c, v in theirs.items()}, name
        for cell, sizes in mine.items():
            for size, n in sizes.items():
                if int(size) == small:
                    assert abs(n - theirs[cell][size]) < GiB // 4096, (name, cell)
                else:
                    assert n == theirs[cell][size], (name, cell, size)


def test_memory_parameters_as_real(conn):
    real = reallibvirt.ask({"mp": "c.getMemoryParameters(0)"})
    mine = api.virNodeGetMemoryParameters(conn, 0)
    assert [p[0] for p in mine] == list(real["mp"][1])
    tunables = ("shm_pages_to_scan", "shm_sleep_millisecs", "shm_merge_across_nodes")
    for name, ptype, value in mine:
        assert ptype == (node.P_UINT if name in tunables else node.P_ULLONG)
        if name in tunables:
            assert value == real["mp"][1][name], name


def test_set_memory_parameters_with_current_values(conn):
    current = {p[0]: p for p in api.virNodeGetMemoryParameters(conn, 0)}
    keep = [current["shm_pages_to_scan"], current["shm_sleep_millisecs"]]
    real = reallibvirt.ask({"set": "c.setMemoryParameters({%s}, 0)" % ", ".join(
        f"'{n}': {v}" for n, _, v in keep)})
    assert real["set"] == ("ok", 0)
    assert ours(lambda: api.virNodeSetMemoryParameters(conn, keep, 0)) == ("ok", None)
    assert api.virNodeGetMemoryParameters(conn, 0) == list(current.values())


def test_alloc_pages_to_what_the_pools_hold(conn):
    # counts of 0: adding none, or setting the empty pools to empty, changes nothing
    if any(api.virNodeGetFreePages(conn, [2048, 1048576], 0, 1, 0)[1]):
        pytest.skip("this host has huge pages allocated")
    asks = {"add0": ({2048: 0}, 0, 1, 0), "set0": ({2048: 0}, 0, 1, 1),
            "two": ({2048: 0, 1048576: 0}, 0, 1, 1), "host": ({2048: 0}, -1, 1, 1),
            "clamped": ({2048: 0}, 0, 5, 1)}
    real = reallibvirt.ask({k: f"c.allocPages({p}, {s}, {n}, {f})"
                            for k, (p, s, n, f) in asks.items()})
    for name, (pages, start, count, flags) in asks.items():
        assert real[name] == ours(lambda: api.virNodeAllocPages(
            conn, list(pages), list(pages.values()), start, count, flags)), name


# the errors: real libvirt's expression, then ours
ERRORS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "cells11": ("c.getCellsFreeMemory(1, 1)", lambda c: api.virNodeGetCellsFreeMemory(c, 1, 1)),
    "cells51": ("c.getCellsFreeMemory(5, 1)", lambda c: api.virNodeGetCellsFreeMemory(c, 5, 1)),
    "ms1": ("c.getMemoryStats(1, 0)", lambda c: api.virNodeGetMemoryStats(c, 1, 0)),
    "ms_m2": ("c.getMemoryStats(-2, 0)", lambda c: api.virNodeGetMemoryStats(c, -2, 0)),
    "ms_flag": ("c.getMemoryStats(-1, 1)", lambda c: api.virNodeGetMemoryStats(c, -1, 1)),
    "ms0_flag": ("c.getMemoryStats(0, 2)", lambda c: api.virNodeGetMemoryStats(c, 0, 2)),
    "cs100": ("c.getCPUStats(100, 0)", lambda c: api.virNodeGetCPUStats(c, 100, 0)),
    "cs_m2": ("c.getCPUStats(-2, 0)", lambda c: api.virNodeGetCPUStats(c, -2, 0)),
    "cs_flag": ("c.getCPUStats(-1, 1)", lambda c: api.virNodeGetCPUStats(c, -1, 1)),
    "fp11": ("c.getFreePages([4], 1, 1, 0)",
             lambda c: api.virNodeGetFreePages(c, [4], 1, 1, 0)),
    "fp_3": ("c.getFreePages([3], 0, 1, 0)",
             lambda c: api.virNodeGetFreePages(c, [3], 0, 1, 0)),
    "fp_m1_3": ("c.getFreePages([3], -1, 1, 0)",
                lambda c: api.virNodeGetFreePages(c, [3], -1, 1, 0)),
    "fp_m2": ("c.getFreePages([4], -2, 1, 0)",
              lambda c: api.virNodeGetFreePages(c, [4], -2, 1, 0)),
    "fp_m2_2048": ("c.getFreePages([2048], -2, 1, 0)",
                   lambda c: api.virNodeGetFreePages(c, [2048], -2, 1, 0)),
    "fp_flag": ("c.getFreePages([4], 0, 1, 1)",
                lambda c: api.virNodeGetFreePages(c, [4], 0, 1, 1)),
    "ap_4k": ("c.allocPages({4: 0}, 0, 1, 0)",
              lambda c: api.virNodeAllocPages(c, [4], [0], 0, 1, 0)),
    "ap_3": ("c.allocPages({3: 1}, 0, 1, 0)",
             lambda c: api.virNodeAllocPages(c, [3], [1], 0, 1, 0)),
    "ap_m1_3": ("c.allocPages({3: 0}, -1, 1, 1)",
                lambda c: api.virNodeAllocPages(c, [3], [0], -1, 1, 1)),
    "ap_m2": ("c.allocPages({2048: 0}, -2, 1, 1)",
              lambda c: api.virNodeAllocPages(c, [2048], [0], -2, 1, 1)),
    "ap_cell1": ("c.allocPages({2048: 0}, 1, 1, 0)",
                 lambda c: api.virNodeAllocPages(c, [2048], [0], 1, 1, 0)),
    "ap_flag": ("c.allocPages({2048: 0}, 0, 1, 2)",
                lambda c: api.virNodeAllocPages(c, [2048], [0], 0, 1, 2)),
    "mp_flag": ("c.getMemoryParameters(1)", lambda c: api.virNodeGetMemoryParameters(c, 1)),
    "smp_full": ("c.setMemoryParameters({'shm_full_scans': 0}, 0)",
                 lambda c: api.virNodeSetMemoryParameters(c, [("shm_full_scans", 4, 0)], 0)),
    "si": ("c.getSysinfo(0)", lambda c: api.virConnectGetSysinfo(c, 0)),
    "si_flag": ("c.getSysinfo(1)", lambda c: api.virConnectGetSysinfo(c, 1)),
    "map_flag": ("c.getCPUMap(1)", lambda c: api.virNodeGetCPUMap(c, 1)),
    "mv_bogus": ("c.getMaxVcpus('bogus')", lambda c: api.virConnectGetMaxVcpus(c, "bogus")),
    "mv_empty": ("c.getMaxVcpus('')", lambda c: api.virConnectGetMaxVcpus(c, "")),
}


def test_errors_as_real(conn):
    real = reallibvirt.ask({name: expr for name, (expr, _) in ERRORS.items()})
    for name, (_, call) in ERRORS.items():
        assert real[name][0] == "err", name
        assert ours(lambda: call(conn)) == real[name], name


SUSPEND = {"ram": (0, 60, 0), "disk": (1, 60, 0), "hybrid": (2, 60, 0), "bad": (3, 60, 0),
           "short": (0, 10, 0), "flag": (0, 60, 1)}


@pytest.mark.skipif(node._host_may_suspend(), reason="this host might really suspend")
def test_suspend_errors_as_real(conn):
    # only where neither logind nor pm-utils answers: real libvirt then fails
    # before it arms the RTC alarm
    real = reallibvirt.ask({k: f"c.suspendForDuration{args}" for k, args in SUSPEND.items()})
    for name, args in SUSPEND.items():
        assert real[name][0] == "err", name
        assert ours(lambda: api.virNodeSuspendForDuration(conn, *args)) == real[name], name


def test_set_memory_parameters_checks(conn):
    # python3-libvirt cannot send these (it types the values itself): libvirt's rules
    uint, ullong = node.P_UINT, node.P_ULLONG
    assert ours(lambda: api.virNodeSetMemoryParameters(conn, [("shm_pages_to_scan", ullong, 1)],
                                                       0)) == (
        "err", 8, 0, "invalid argument: invalid type 'ullong' for parameter "
                     "'shm_pages_to_scan', expected 'uint'")
    twice = [("shm_pages_to_scan", uint, 100)] * 2
    assert ours(lambda: api.virNodeSetMemoryParameters(conn, twice, 0)) == (
        "err", 8, 0, "invalid argument: parameter 'shm_pages_to_scan' occurs multiple times")
    assert ours(lambda: api.virNodeSetMemoryParameters(conn, [], 1)) == (
        "err", 8, 0, "unsupported flags (0x1) in function virHostMemSetParameters")


def test_read_only_connection_cannot_change_the_host(root):
    ensure_event_loop()
    ro = api.virConnectOpenReadOnly(f"qemu:///embed?root={root}")
    try:
        denied = ("err", 29, 20, "operation forbidden: read only access prevents {}")
        for fn, call in (
                ("virNodeAllocPages", lambda: api.virNodeAllocPages(ro, [2048], [0], 0, 1, 0)),
                ("virNodeSetMemoryParameters", lambda: api.virNodeSetMemoryParameters(ro, [], 0)),
                ("virNodeSuspendForDuration",
                 lambda: api.virNodeSuspendForDuration(ro, 0, 60, 0))):
            assert ours(call) == denied[:3] + (denied[3].format(fn),), fn
        assert ours(lambda: api.virNodeGetFreeMemory(ro))[0] == "ok"
    finally:
        api.virConnectClose(ro)
