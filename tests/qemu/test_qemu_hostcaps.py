"""virConnectGetCapabilities of the QEMU driver against real libvirt 9.0's
embed driver on the same host, line for line (so element for element, in
order, and laid out the same), and the host-independent parts pinned.

What differs between two reads on the same host is masked: the host UUID
(random per process on machines without DMI) and the page pools of the NUMA
cells (memory may come and go)."""

from __future__ import annotations

import grp
import os
import pwd
import re
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest

import reallibvirt
from qemutest import ensure_event_loop, kill_leftovers
from pyvirt import api
from pyvirt.drivers.qemu import hostcaps, security
from pyvirt.drivers.qemu.qmpprobe import Probe
from pyvirt.errors import VirtError
from pyvirt.host import cpus, facts

CELL_PAGES = re.compile(r"^(\s*<pages unit='KiB' size='\d+'>)(\d+)(</pages>)$")


@pytest.fixture
def conn(tmp_path: Path) -> Iterator[Any]:
    """A connection whose root has real libvirt's qemu.conf (user and group root)."""
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(reallibvirt.QEMU_CONF)
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    yield c
    api.virConnectClose(c)
    kill_leftovers(root)


@pytest.fixture(scope="module")
def real_caps() -> str:
    answer = reallibvirt.ask({"caps": "c.getCapabilities()"})["caps"]
    assert answer[0] == "ok", answer
    return answer[1]


def masked(xml: str) -> tuple[list[str], list[int]]:
    """The lines with the UUID and cell page pools masked (the pools are
    returned apart)."""
    lines, pools = [], []
    for line in xml.split("\n"):
        line = re.sub(r"<uuid>[0-9a-f-]{36}</uuid>", "<uuid>UUID</uuid>", line)
        m = CELL_PAGES.match(line)
        if m:
            pools.append(int(m[2]))
            line = m[1] + "N" + m[3]
        lines.append(line)
    return lines, pools


def test_document_as_real_libvirt(conn, real_caps):
    ours = api.virConnectGetCapabilities(conn)
    our_lines, our_pools = masked(ours)
    real_lines, real_pools = masked(real_caps)
    assert our_lines == real_lines
    assert len(our_pools) == len(real_pools)
    for a, b in zip(our_pools, real_pools):    # the pools move only a little, if at all
        assert abs(a - b) <= max(a, b) // 100, (our_pools, real_pools)


def test_tsc_counter_as_real(real_caps):
    m = re.search(r"<counter name='tsc' frequency='(\d+)' scaling='(yes|no)'/>", real_caps)
    if m is None:
        pytest.skip("real libvirt reports no TSC counter on this host (no invariant TSC or KVM)")
    assert facts.tsc() == (int(m[1]), m[2] == "yes")


def test_uuid_once_per_process(conn, tmp_path):
    first = re.search(r"<uuid>(.*)</uuid>", api.virConnectGetCapabilities(conn))[1]
    uuid.UUID(first)
    assert re.search(r"<uuid>(.*)</uuid>", api.virConnectGetCapabilities(conn))[1] == first
    assert facts.host_uuid() == first


def test_host_independent_parts(conn):
    caps = api.virConnectGetCapabilities(conn)
    assert caps.startswith("<capabilities>\n\n  <host>\n")
    assert caps.endswith("</guest>\n\n</capabilities>\n")
    assert "      <arch>x86_64</arch>\n" in caps
    assert ("    <migration_features>\n      <live/>\n      <uri_transports>\n"
            "        <uri_transport>tcp</uri_transport>\n"
            "        <uri_transport>rdma</uri_transport>\n"
            "      </uri_transports>\n    </migration_features>\n") in caps
    assert ("    <secmodel>\n      <model>dac</model>\n      <doi>0</doi>\n"
            "      <baselabel type='kvm'>+0:+0</baselabel>\n"
            "      <baselabel type='qemu'>+0:+0</baselabel>\n    </secmodel>\n") in caps
    assert re.search(r"<iommu support='(yes|no)'/>", caps)
    assert "<topology sockets='" in caps and "<cells num='" in caps
    assert "<pages unit='KiB' size='4'/>" in caps
    features = ("      <acpi default='on' toggle='yes'/>\n      <apic default='on' toggle='no'/>\n"
                "      <cpuselection/>\n      <deviceboot/>\n"
                "      <disksnapshot default='on' toggle='no'/>\n    </features>\n")
    assert "    <features>\n      <pae/>\n      <nonpae/>\n" + features in caps
    assert "<wordsize>32</wordsize>" in caps and "<wordsize>64</wordsize>" in caps


def test_dac_label_from_qemu_conf(tmp_path):
    (tmp_path / "etc").mkdir()
    conf = tmp_path / "etc" / "qemu.conf"
    conf.write_text('user = "+107"\ngroup = "+108"\n')
    assert security.dac_label(tmp_path) == "+107:+108"
    conf.write_text('user = "root"\ngroup = "root"\n')
    assert security.dac_label(tmp_path) == "+0:+0"
    conf.write_text('user = "no-such-user-here"\n')
    with pytest.raises(VirtError, match="Failed to parse user 'no-such-user-here'"):
        security.dac_label(tmp_path)
    # unset: Debian's libvirt-qemu user and group for root (seen from real libvirt
    # 9.0 as root: +64055:+64055), ourselves otherwise
    conf.write_text("")
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("libvirt-qemu")
        except KeyError:
            pytest.skip("no libvirt-qemu user (real libvirt's QEMU driver not installed)")
        expected = (f"+{pwd.getpwnam('libvirt-qemu').pw_uid}:"
                    f"+{grp.getgrnam('libvirt-qemu').gr_gid}")
    else:
        expected = f"+{os.getuid()}:+{os.getgid()}"
    assert security.dac_label(tmp_path) == expected


def _probe(machines: list[dict[str, Any]]) -> Probe:
    return Probe(path="/x", accel="tcg", version={}, machines=machines, cpu_definitions=[],
                 types=[], kvm=None, sev=None, sgx=None, host_cpu_static=None, host_cpu=None,
                 host_cpu_migratable=None)


def test_machines_order():
    probe = _probe([
        {"name": "none", "cpu-max": 1},
        {"name": "pc-q35-7.2", "alias": "q35", "cpu-max": 288},
        {"name": "pc-i440fx-1.4", "cpu-max": 255, "deprecated": True},
        {"name": "microvm", "cpu-max": 288, "is-default": True},
        {"name": "pc-i440fx-7.2", "alias": "pc", "cpu-max": 255},
    ])
    assert hostcaps.machines(probe) == [
        ("pc-i440fx-7.2", None, 255, False), ("pc", "pc-i440fx-7.2", 255, False),
        ("pc-q35-7.2", None, 288, False), ("q35", "pc-q35-7.2", 288, False),
        ("pc-i440fx-1.4", None, 255, True), ("microvm", None, 288, False)]
    # without libvirt's preferred 'pc', QEMU's default goes first
    assert hostcaps.machines(_probe(probe.machines[:4]))[0] == ("microvm", None, 288, False)


def test_cpu_lists_and_sizes():
    assert cpus.parse_cpu_list("0-2,5,7-8") == {0, 1, 2, 5, 7, 8}
    assert cpus.format_cpu_list([5, 0, 1, 2, 7, 8]) == "0-2,5,7-8"
    assert cpus.format_cpu_list([3]) == "3"
    assert facts.pretty_size(32 * 1024 * 1024) == (32, "MiB")
    assert facts.pretty_size(1536 * 1024) == (1536, "KiB")
    assert facts.pretty_size(1000) == (1000, "B")
