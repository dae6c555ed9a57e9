"""Bulk domain statistics on real QEMU (virConnectGetAllDomainStats,
virDomainListGetStats), pinned to what libvirt 9.0's embed driver gave for
the same definitions on this machine (python3-libvirt through ctypes, with
`cgroup_controllers = [ ]` as we have no cgroups): field names, typed
parameter kinds and order; time-dependent values by type and sanity."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qemutest import VIRT_TYPE, conn, domxml, kernels, root  # noqa: F401
from pyvirt import api
from pyvirt.errors import VirtError

INT, UINT, LLONG, ULLONG, BOOLEAN, STRING = 1, 2, 3, 4, 6, 7
STATE, CPU, BALLOON, VCPU, INTERFACE, BLOCK, PERF, IOTHREAD, MEMORY, DIRTYRATE, VM = (
    1 << i for i in range(11))
ACTIVE, INACTIVE, RUNNING = 1, 2, 16
NOWAIT, BACKING, ENFORCE = 1 << 29, 1 << 30, 1 << 31
TICK = 1_000_000_000 // os.sysconf("SC_CLK_TCK")
USER_NIC = "<interface type='user'><mac address='52:54:00:11:22:33'/><model type='virtio'/></interface>"
KVM_STAT = (".sum", ".cur", ".max")


def disk(path: Path, fmt: str, dev: str, bus: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
            f"<source file='{path}'/><target dev='{dev}' bus='{bus}'/></disk>")


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    out = {"raw": tmp_path / "a.raw", "qcow2": tmp_path / "b.qcow2",
           "base": tmp_path / "base.qcow2", "top": tmp_path / "top.qcow2"}
    for args in (["-f", "raw", out["raw"], "16M"], ["-f", "qcow2", out["qcow2"], "32M"],
                 ["-f", "qcow2", out["base"], "16M"],
                 ["-f", "qcow2", "-b", out["base"], "-F", "qcow2", out["top"]]):
        subprocess.run(["qemu-img", "create", *map(str, args)], check=True,
                       stdout=subprocess.DEVNULL)
    return out


def stats_of(conn: Any, stats: int = 0, flags: int = 0) -> dict[str, list[tuple[str, int, Any]]]:
    return {r.dom.name: r.params for r in api.virConnectGetAllDomainStats(conn, stats, flags)}


def layout(params: list[tuple[str, int, Any]]) -> list[tuple[str, int]]:
    """(name, kind) of each field, without KVM's own statistics (query-stats)."""
    return [(n, k) for n, k, _ in params if not n.endswith(KVM_STAT)]


def err(fn: Any) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    return int(info.value.code), int(info.value.domain), info.value.message


def disk_fields(i: int, running: bool, counters: bool = True) -> list[tuple[str, int]]:
    out = [(f"block.{i}.name", STRING), (f"block.{i}.path", STRING)]
    if running:
        out.append((f"block.{i}.backingIndex", UINT))
        if counters:
            out += [(f"block.{i}.{n}", ULLONG) for n in (
                "rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times",
                "fl.reqs", "fl.times")]
    return out + [(f"block.{i}.{n}", ULLONG) for n in ("allocation", "capacity", "physical")]


RUNNING_HEAD = [("state.state", INT), ("state.reason", INT), ("cpu.time", ULLONG),
                ("cpu.user", ULLONG), ("cpu.system", ULLONG), ("cpu.cache.monitor.count", UINT)]
KVM_HALTPOLL = [("cpu.haltpoll.success.time", ULLONG), ("cpu.haltpoll.fail.time", ULLONG)]
VCPU0 = [("vcpu.current", UINT), ("vcpu.maximum", UINT), ("vcpu.0.state", INT),
         ("vcpu.0.time", ULLONG), ("vcpu.0.wait", ULLONG), ("vcpu.0.delay", ULLONG)]
DIRTYRATE_FIELDS = [("dirtyrate.calc_status", INT), ("dirtyrate.calc_start_time", LLONG),
                    ("dirtyrate.calc_period", INT), ("dirtyrate.calc_mode", STRING)]


def test_running_guest_all_groups(conn, kernels, images):
    """User NIC (no counters: only net.count), raw + qcow2 disks, default balloon."""
    api.virDomainCreateXML(conn, domxml("a", kernels["idle"], disk(images["raw"], "raw", "vda", "virtio")
                                        + disk(images["qcow2"], "qcow2", "sdb", "sata") + USER_NIC), 0)
    params = stats_of(conn)["a"]
    kvm = VIRT_TYPE == "kvm"
    assert layout(params) == (
        RUNNING_HEAD + (KVM_HALTPOLL if kvm else [])
        + [("balloon.current", ULLONG), ("balloon.maximum", ULLONG),
           ("balloon.last-update", ULLONG), ("balloon.rss", ULLONG)]
        + VCPU0 + [("net.count", UINT), ("block.count", UINT)]
        + disk_fields(0, True) + disk_fields(1, True) + DIRTYRATE_FIELDS)
    v = {n: x for n, _, x in params}
    assert v["state.state"] == 1 and v["state.reason"] == 1
    assert v["cpu.time"] == v["cpu.user"] + v["cpu.system"] > 0
    assert v["cpu.time"] % TICK == 0 and v["vcpu.0.time"] % TICK == 0   # /proc stat, no cgroups
    assert v["balloon.current"] == v["balloon.maximum"] == 65536 and v["balloon.rss"] > 0
    assert v["net.count"] == 1 and v["block.count"] == 2
    assert (v["block.0.name"], v["block.0.path"]) == ("vda", str(images["raw"]))
    assert (v["block.1.name"], v["block.1.path"]) == ("sdb", str(images["qcow2"]))
    assert v["block.0.capacity"] == 16 << 20 and v["block.1.capacity"] == 32 << 20
    assert v["block.1.physical"] == os.stat(images["qcow2"]).st_blocks * 512
    assert v["dirtyrate.calc_mode"] == "page-sampling" and v["dirtyrate.calc_status"] == 0
    if kvm:   # KVM's statistics: booleans stay booleans; vm.* only in the vm group
        assert (("vcpu.0.guest_mode.cur", BOOLEAN) in [(n, k) for n, k, _ in params])
        assert any(n.startswith("vm.") for n, _, _ in params)
    assert [n for n, _, _ in stats_of(conn, VM)["a"]] == \
        [n for n, _, _ in params if n.startswith("vm.")]


def test_tap_nic_and_no_balloon(conn, kernels):
    if os.geteuid() != 0 or not os.path.exists("/dev/net/tun"):
        pytest.skip("tap devices need root and /dev/net/tun")
    bridge = f"pvsbr{os.getpid() % 100000}"
    subprocess.run(["ip", "link", "add", bridge, "type", "bridge"], check=True)
    try:
        subprocess.run(["ip", "link", "set", bridge, "up"], check=True)
        nic = (f"<interface type='bridge'><mac address='52:54:00:11:22:44'/>"
               f"<source bridge='{bridge}'/><model type='virtio'/></interface>")
        api.virDomainCreateXML(conn, domxml("b", kernels["idle"], nic + "<memballoon model='none'/>"), 0)
        params = stats_of(conn, BALLOON | INTERFACE | BLOCK)["b"]
        v = {n: x for n, _, x in params}
        assert layout(params) == (
            [("balloon.current", ULLONG), ("balloon.maximum", ULLONG), ("balloon.rss", ULLONG),
             ("net.count", UINT), ("net.0.name", STRING)]
            + [(f"net.0.{d}.{c}", ULLONG) for d in ("rx", "tx")
               for c in ("bytes", "pkts", "errs", "drop")] + [("block.count", UINT)])
        assert v["net.0.name"].startswith("vnet") and v["block.count"] == 0
    finally:
        subprocess.run(["ip", "link", "del", bridge], stderr=subprocess.DEVNULL)


def test_shut_off_domain(conn, kernels, images):
    """Definition-only groups; cpu.* are the caller's own process times, as libvirt
    (its stat of pid 0); nothing for interface, dirtyrate, vm."""
    api.virDomainDefineXML(conn, domxml("off", kernels["idle"], disk(images["raw"], "raw", "vda", "virtio")
                                        + disk(images["qcow2"], "qcow2", "sdb", "sata") + USER_NIC))
    before = os.times()
    params = stats_of(conn)["off"]
    after = os.times()
    assert layout(params) == (
        [("state.state", INT), ("state.reason", INT), ("cpu.time", ULLONG), ("cpu.user", ULLONG),
         ("cpu.system", ULLONG), ("balloon.current", ULLONG), ("balloon.maximum", ULLONG),
         ("vcpu.current", UINT), ("vcpu.maximum", UINT), ("block.count", UINT)]
        + disk_fields(0, False) + disk_fields(1, False))
    v = {n: x for n, _, x in params}
    assert (v["state.state"], v["state.reason"]) == (5, 0)
    own = (before.user + before.system) * 1e9
    assert own - 2 * TICK <= v["cpu.time"] <= (after.user + after.system) * 1e9 + 2 * TICK
    raw, qcow2 = os.stat(images["raw"]), os.stat(images["qcow2"])
    assert (v["block.0.allocation"], v["block.0.capacity"], v["block.0.physical"]) == \
        (raw.st_blocks * 512, 16 << 20, 16 << 20)
    assert (v["block.1.allocation"], v["block.1.capacity"], v["block.1.physical"]) == \
        (qcow2.st_blocks * 512, 32 << 20, qcow2.st_size)
    for group in (INTERFACE, PERF, IOTHREAD, MEMORY, DIRTYRATE, VM):
        assert stats_of(conn, group)["off"] == []


def test_backing_chain(conn, kernels, images):
    dom = api.virDomainCreateXML(conn, domxml("bk", kernels["idle"],
                                              disk(images["top"], "qcow2", "vda", "virtio")), 0)
    plain = api.virDomainListGetStats([dom], BLOCK, 0)[0].params
    assert layout(plain) == [("block.count", UINT)] + disk_fields(0, True)
    deep = api.virDomainListGetStats([dom], BLOCK, BACKING)[0].params
    assert layout(deep) == [("block.count", UINT)] + disk_fields(0, True) \
        + disk_fields(1, True, counters=False)
    v = {n: x for n, _, x in deep}
    assert (v["block.1.name"], v["block.1.path"]) == ("vda", str(images["base"]))
    assert v["block.1.backingIndex"] == v["block.0.backingIndex"] + 1
    assert v["block.1.capacity"] == 16 << 20
    # a shut-off domain's chain is not followed
    api.virDomainDestroy(dom)
    api.virDomainDefineXML(conn, domxml("bk2", kernels["idle"],
                                        disk(images["top"], "qcow2", "vda", "virtio")))
    assert stats_of(conn, BLOCK, BACKING)["bk2"][0] == ("block.count", UINT, 1)


def test_flags_groups_and_errors(conn, kernels):
    a = api.virDomainCreateXML(conn, domxml("a", kernels["idle"]), 0)
    off = api.virDomainDefineXML(conn, domxml("off", kernels["idle"]))
    assert sorted(stats_of(conn, STATE, ACTIVE)) == ["a"]
    assert sorted(stats_of(conn, STATE, INACTIVE)) == ["off"]
    assert sorted(stats_of(conn, STATE, NOWAIT)) == ["a", "off"]
    for group in (PERF, IOTHREAD, MEMORY, 1 << 20):   # nothing to give: empty records
        assert stats_of(conn, group) == {"a": [], "off": []}
    for group in (STATE, CPU, BALLOON, VCPU, INTERFACE, BLOCK, PERF, MEMORY):
        api.virConnectGetAllDomainStats(conn, group, ENFORCE)
    for bits in (IOTHREAD, DIRTYRATE, VM, 1 << 11, IOTHREAD | VM | STATE):
        assert err(lambda: api.virConnectGetAllDomainStats(conn, bits, ENFORCE)) == (
            74, 10, f"argument unsupported: Stats types bits {bits & ~1:#x} are not "
            "supported by this daemon or QEMU")
    assert err(lambda: api.virDomainListGetStats([off], VM, ENFORCE))[0] == 74
    assert err(lambda: api.virConnectGetAllDomainStats(conn, 0, 0x100)) == (
        8, 10, "unsupported flags (0x100) in function qemuConnectGetAllDomainStats")
    # a list keeps its order and is filtered by the flags; a vanished domain is skipped
    b = api.virDomainCreateXML(conn, domxml("b", kernels["idle"]), 0)
    assert [r.dom.name for r in api.virDomainListGetStats([b, off, a], STATE, 0)] == ["b", "off", "a"]
    assert [r.dom.name for r in api.virDomainListGetStats([b, off, a], STATE, RUNNING)] == ["b", "a"]
    api.virDomainDestroy(b)
    assert [r.dom.name for r in api.virDomainListGetStats([b, off], STATE, 0)] == ["off"]
    assert err(lambda: api.virDomainListGetStats([], STATE, 0)) == (
        8, 20, "invalid argument: doms array in virDomainListGetStats must contain at least "
        "one domain")
