"""Tap NICs on real QEMU with real taps and bridges: <interface type='ethernet'>
(a tap the driver makes, or an unmanaged one) and type='bridge', as libvirt
9.0's embed driver does them (probed with python3-libvirt on this machine as
root: live XML, tap names and host MACs, bridge MTU, counters, errors).

Each test makes its own bridge and deletes every tap and bridge it may have
left, failed or not."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from qemutest import (Events, conn, domxml, ensure_event_loop, kernels, kill_leftovers,  # noqa: F401
                      root, until)
from pyvirt import api
from pyvirt.errors import VirtError

if os.geteuid() != 0:
    pytest.skip("tap devices need root", allow_module_level=True)
if not os.path.exists("/dev/net/tun"):
    pytest.skip("/dev/net/tun is missing (no tun module)", allow_module_level=True)

SYS = Path("/sys/class/net")
MAC = "52:54:00:5a:00:01"
FAILED, STOPPED_SHUTDOWN, SHUTDOWN_GUEST = (5, 5), (5, 0), (6, 1)


def err(fn: Any) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return int(e.code), int(e.domain), e.message


def ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, stdout=subprocess.DEVNULL)


def taps() -> set[str]:
    """The tap devices of the host now."""
    return {p.name for p in SYS.iterdir() if (p / "tun_flags").exists()}


def tap_of(dom: Any) -> str:
    found = re.search(r"<target dev='([^']+)'", api.virDomainGetXMLDesc(dom, 0))
    assert found, api.virDomainGetXMLDesc(dom, 0)
    return found.group(1)


def interface_xml(dom: Any, flags: int = 0) -> str:
    found = re.search(r"\n( +<interface.*?</interface>\n)", api.virDomainGetXMLDesc(dom, flags),
                      re.S)
    assert found
    return found.group(1)


@pytest.fixture
def net() -> Iterator[str]:
    """A bridge of the test's own (MTU 1400, as a real one may have); every
    tap that appears during the test goes with it."""
    name = f"pvbr{os.getpid() % 100000}"
    before = taps()
    ip("link", "add", name, "type", "bridge")
    try:
        ip("link", "set", name, "mtu", "1400", "up")
        yield name
    finally:
        for tap in taps() - before:
            subprocess.run(["ip", "link", "del", tap], stderr=subprocess.DEVNULL)
        subprocess.run(["ip", "link", "del", name], stderr=subprocess.DEVNULL)


def stat(tap: str, key: str) -> int:
    return int((SYS / tap / "statistics" / key).read_text())


def push_frames(dev: str, count: int) -> None:
    """Broadcast frames sent out of `dev` from the host (a bridge floods them
    to its ports, a tap hands them to QEMU)."""
    with socket.socket(socket.AF_PACKET, socket.SOCK_RAW) as sock:
        sock.bind((dev, 0))
        for i in range(count):
            sock.send(b"\xff" * 6 + bytes.fromhex("020000000001") + b"\x88\xb5"
                      + bytes([i]) * 60)


def stats_and_sysfs(dom: Any, device: str, tap: str) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """virDomainInterfaceStats beside the host's counters read around it
    (again until they did not move meanwhile), the host's rx/tx swapped."""
    keys = ("tx_bytes", "tx_packets", "tx_errors", "tx_dropped",
            "rx_bytes", "rx_packets", "rx_errors", "rx_dropped")
    for _ in range(50):
        before = tuple(stat(tap, k) for k in keys)
        s = api.virDomainInterfaceStats(dom, device, 64)
        after = tuple(stat(tap, k) for k in keys)
        if before == after:
            return (s.rx_bytes, s.rx_packets, s.rx_errs, s.rx_drop,
                    s.tx_bytes, s.tx_packets, s.tx_errs, s.tx_drop), after
        time.sleep(0.05)
    raise AssertionError("the tap's counters never stood still")


def test_ethernet_nic_gets_its_own_tap(conn, root, kernels):
    """libvirt: a tap named vnetN, up, host MAC fe:..., fd passed to QEMU;
    the live XML names it and the alias; the inactive XML and the definition
    after the stop have neither; a later start takes a new name."""
    before = taps()
    nic = (f"<interface type='ethernet'><mac address='{MAC}'/>"
           "<model type='virtio'/></interface>")
    dom = api.virDomainDefineXML(conn, domxml("eth", kernels["idle"], extra=nic))
    defined = api.virDomainGetXMLDesc(dom, 0)
    api.virDomainCreate(dom)
    tap = tap_of(dom)
    assert re.fullmatch(r"vnet\d+", tap) and tap not in before
    # libvirt 9.0's live <interface>, but its PCI <address> (we place none)
    assert interface_xml(dom) == (
        "    <interface type='ethernet'>\n"
        f"      <mac address='{MAC}'/>\n"
        f"      <target dev='{tap}'/>\n"
        "      <model type='virtio'/>\n"
        "      <alias name='net0'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>\n"
        "    </interface>\n")
    assert (SYS / tap / "address").read_text().strip() == "fe" + MAC[2:]
    assert int((SYS / tap / "flags").read_text(), 16) & 1          # IFF_UP
    assert int((SYS / tap / "tun_flags").read_text(), 16) & 0x4000  # vnet_hdr: virtio
    log = (root / "log/qemu/eth.log").read_text()
    assert re.search(r"""-netdev '\{"type":"tap","fd":"\d+","id":"hostnet0"\}'""", log)
    assert api.virDomainGetXMLDesc(dom, 2) == defined      # VIR_DOMAIN_XML_INACTIVE
    api.virDomainDestroy(dom)
    assert not (SYS / tap).exists()
    assert api.virDomainGetXMLDesc(dom, 0) == defined
    api.virDomainCreate(dom)
    again = tap_of(dom)
    assert int(again[4:]) > int(tap[4:])      # the counter goes on: no name reused at once
    api.virDomainDestroy(dom)
    assert taps() == before


def test_bridge_nic_and_its_counters(conn, kernels, net):
    """The tap joins the bridge with the bridge's MTU; its counters are the
    host's, seen from the guest (rx and tx swapped), by name and by MAC."""
    nic = (f"<interface type='bridge'><mac address='{MAC}'/><source bridge='{net}'/>"
           "</interface>")
    dom = api.virDomainCreateXML(conn, domxml("br", kernels["idle"], extra=nic), 0)
    tap = tap_of(dom)
    assert interface_xml(dom) == (
        "    <interface type='bridge'>\n"
        f"      <mac address='{MAC}'/>\n"
        f"      <source bridge='{net}'/>\n"
        f"      <target dev='{tap}'/>\n"
        "      <model type='rtl8139'/>\n"
        "      <alias name='net0'/>\n"
        "      <address type='pci' domain='0x0000' bus='0x02' slot='0x01' function='0x0'/>\n"
        "    </interface>\n")
    assert os.path.basename(os.readlink(SYS / tap / "master")) == net
    assert (SYS / tap / "mtu").read_text().strip() == "1400"
    push_frames(net, 20)        # flooded to the tap: the guest's rx
    push_frames(tap, 5)
    assert until(lambda: stat(tap, "tx_packets") + stat(tap, "tx_dropped") >= 25)
    by_name, host = stats_and_sysfs(dom, tap, tap)
    assert by_name == host and by_name[0] > 0
    by_mac, host = stats_and_sysfs(dom, MAC, tap)
    assert by_mac == host
    api.virDomainDestroy(dom)
    assert not (SYS / tap).exists()


def test_unmanaged_tap_is_used_and_left_alone(conn, kernels, net):
    name = f"pvtap{os.getpid() % 100000}"
    nic = f"<interface type='ethernet'><target dev='{name}' managed='no'/></interface>"
    dom = api.virDomainDefineXML(conn, domxml("um", kernels["idle"], extra=nic))
    assert err(lambda: api.virDomainCreate(dom)) == (
        1, 10, "internal error: target managed='no' but specified dev doesn't exist")
    ip("tuntap", "add", "dev", name, "mode", "tap")
    mac = (SYS / name / "address").read_text()
    api.virDomainCreate(dom)
    assert f"<target dev='{name}' managed='no'/>" in interface_xml(dom)
    assert "<alias name='net0'/>" in interface_xml(dom)
    stats, host = stats_and_sysfs(dom, name, name)
    assert stats == host
    api.virDomainDestroy(dom)
    assert (SYS / name).exists() and (SYS / name / "address").read_text() == mac
    assert f"<target dev='{name}' managed='no'/>" in interface_xml(dom)


def test_named_managed_tap_and_generated_names_in_a_definition(conn, kernels, net):
    """A name of the user's is made and deleted by the driver, and kept in
    the definition; a vnetN name in a definition is dropped (libvirt's)."""
    name = f"pvnam{os.getpid() % 100000}"
    nic = (f"<interface type='ethernet'><target dev='{name}'/></interface>"
           "<interface type='ethernet'><target dev='vnet77'/><alias name='net5'/></interface>"
           "<interface type='user'><alias name='ua-mine'/></interface>")
    dom = api.virDomainDefineXML(conn, domxml("nm", kernels["idle"], extra=nic))
    xml = api.virDomainGetXMLDesc(dom, 0)
    assert f"<target dev='{name}'/>" in xml and "vnet77" not in xml and "net5" not in xml
    assert "<alias name='ua-mine'/>" in xml                 # a user's alias stays
    assert xml.count("<model type='rtl8139'/>") == 3      # the default model, written
    api.virDomainCreate(dom)
    live = api.virDomainGetXMLDesc(dom, 0)
    assert f"<target dev='{name}'/>" in live and (SYS / name).exists()
    assert "<alias name='net0'/>" in live and "<alias name='net1'/>" in live
    assert "<alias name='ua-mine'/>" in live and "net2" not in live
    api.virDomainDestroy(dom)
    assert not (SYS / name).exists()
    assert api.virDomainGetXMLDesc(dom, 0) == xml


def test_refusals_leave_no_tap_behind(conn, kernels, net):
    """Errors as libvirt 9.0 words them; a start that fails after a tap was
    made deletes it.  A user-mode NIC has no counters (libvirt's error), an
    alias is not a name libvirt looks NICs up by."""
    before = taps()
    good = f"<interface type='bridge'><source bridge='{net}'/></interface>"
    missing = "<interface type='bridge'><source bridge='pvnobr0'/></interface>"
    assert err(lambda: api.virDomainCreateXML(
        conn, domxml("mb", kernels["idle"], extra=good + missing), 0)) == (
        38, 0, "Cannot get interface MTU on 'pvnobr0': No such device")
    assert taps() == before
    for kind, src in (("network", "<source network='default'/>"),
                      ("direct", "<source dev='eth0' mode='bridge'/>"),
                      ("vhostuser", "<source type='unix' path='/tmp/vu.sock' mode='client'/>"
                                    "<model type='virtio'/>")):
        assert err(lambda: api.virDomainCreateXML(
            conn, domxml("ty", kernels["idle"], extra=good + f"<interface type='{kind}'>{src}"
                         "</interface>"), 0)) == (
            67, 10, f"unsupported configuration: interface type '{kind}' is not supported yet")
        assert taps() == before
    user = "<interface type='user'><mac address='52:54:00:5a:00:09'/></interface>"
    dom = api.virDomainCreateXML(conn, domxml("us", kernels["idle"], extra=good + user), 0)
    assert err(lambda: api.virDomainInterfaceStats(dom, "52:54:00:5a:00:09", 64)) == (
        1, 0, "internal error: Interface name not provided")
    for device in ("net0", "eth9"):
        assert err(lambda: api.virDomainInterfaceStats(dom, device, 64)) == (
            8, 20, f"invalid argument: '{device}' is not a known interface")
    api.virDomainDestroy(dom)
    assert taps() == before


def test_crash_and_guest_shutdown_take_the_tap_along(conn, root, kernels, net):
    ev = Events(conn)
    nic = f"<interface type='bridge'><source bridge='{net}'/></interface>"
    dom = api.virDomainCreateXML(conn, domxml("cr", kernels["idle"], extra=nic), 0)
    tap = tap_of(dom)
    os.kill(int((root / "run/qemu/cr.pid").read_text()), signal.SIGKILL)
    assert ev.wait_for("cr", 3)[-1] == FAILED
    assert not (SYS / tap).exists()
    dom = api.virDomainCreateXML(conn, domxml("off", kernels["acpi"], extra=nic, acpi=True), 0)
    tap = tap_of(dom)

    def pressed() -> bool:     # the button counts once the guest has enabled it
        if SHUTDOWN_GUEST in ev.of("off"):
            return True
        api.virDomainShutdown(dom)
        return False
    assert until(pressed, timeout=30, interval=0.25)
    assert ev.wait_for("off", 4)[-1] == STOPPED_SHUTDOWN
    assert not (SYS / tap).exists()


def test_a_driver_opened_again_knows_the_taps(root, kernels, net):
    """The status keeps the tap names: stats and the deletion on destroy work
    from a driver opened later; a new tap does not take a name in use."""
    ensure_event_loop()
    url = f"qemu:///embed?root={root}"
    c = api.virConnectOpen(url)
    try:
        nic = f"<interface type='bridge'><source bridge='{net}'/></interface>"
        dom = api.virDomainDefineXML(c, domxml("keep", kernels["idle"], extra=nic))
        api.virDomainCreate(dom)
        tap = tap_of(dom)
        defined = api.virDomainGetXMLDesc(dom, 2)
        api.virConnectClose(c)
        assert f"<target dev='{tap}'/>" in (root / "run/qemu/keep.xml").read_text()
        c = api.virConnectOpen(url)
        dom = api.virDomainLookupByName(c, "keep")
        assert tap_of(dom) == tap and api.virDomainIsUpdated(dom) == 0
        assert api.virDomainGetXMLDesc(dom, 2) == defined
        push_frames(tap, 3)
        stats, host = stats_and_sysfs(dom, tap, tap)
        assert stats == host
        other = api.virDomainCreateXML(c, domxml("new", kernels["idle"], extra=nic), 0)
        assert tap_of(other) != tap
        api.virDomainDestroy(dom)
        assert not (SYS / tap).exists()
        assert api.virDomainGetXMLDesc(dom, 0) == defined
    finally:
        with contextlib.suppress(VirtError):
            api.virConnectClose(c)
        kill_leftovers(root)


def test_migration_makes_a_tap_on_the_destination(tmp_path, kernels, net):
    """Precopy between two roots: the incoming QEMU gets a tap of its own on
    the bridge; the source's goes with the source QEMU."""
    ensure_event_loop()
    roots = [tmp_path / "a", tmp_path / "b"]
    src_conn, dst_conn = (api.virConnectOpen(f"qemu:///embed?root={r}") for r in roots)
    try:
        nic = (f"<interface type='bridge'><mac address='{MAC}'/><source bridge='{net}'/>"
               "<model type='virtio'/></interface>")
        src = api.virDomainCreateXML(src_conn, domxml("mig", kernels["idle"], extra=nic), 0)
        src_tap = tap_of(src)
        dst = api.virDomainMigrate3(src, dst_conn, [], 1)     # VIR_MIGRATE_LIVE
        dst_tap = tap_of(dst)
        assert dst_tap != src_tap and api.virDomainIsActive(dst)
        assert os.path.basename(os.readlink(SYS / dst_tap / "master")) == net
        assert until(lambda: not (SYS / src_tap).exists())
        assert (SYS / dst_tap / "address").read_text().strip() == "fe" + MAC[2:]
        stats, host = stats_and_sysfs(dst, MAC, dst_tap)
        assert stats == host
        api.virDomainDestroy(dst)
        assert not (SYS / dst_tap).exists()
    finally:
        for c in (src_conn, dst_conn):
            api.virConnectClose(c)
        for r in roots:
            kill_leftovers(r)
