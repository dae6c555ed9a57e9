"""The guest-agent APIs with real QEMU, compared live with real libvirt 9.0
booting the same definitions: a domain without the agent's channel, one
with it (our guests never open it: 'not connected'), one paused, one shut
off; the channel in the inactive and live XML, on the command line, its
socket under the root and the AGENT_LIFECYCLE event at start; ARP-sourced
interface addresses; virDomainPMWakeup (QMP system_wakeup)."""

from __future__ import annotations

import re
import socket
import struct
import time
from typing import Any, Callable

import pytest

import reallibvirt
from qemutest import conn, domxml, ensure_event_loop, kernels, root, until  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.errors import VirtError
from pyvirt.drivers.qemu.unixsock import unix_connect
from pyvirt.host import arptable

CHANNEL = "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"
EXTRA = ("<channel type='unix'><source mode='bind' path='{path}'/>"
         "<target type='virtio' name='org.example.x'/></channel>")
AGENT_LIFECYCLE = 18

# name -> (real libvirt's expression on `d`, ours)
CALLS: dict[str, tuple[str, Callable[[Any], Any]]] = {
    "freeze": ("d.fsFreeze(None, 0)", lambda d: api.virDomainFSFreeze(d, None, 0)),
    "freeze_flags": ("d.fsFreeze(None, 1)", lambda d: api.virDomainFSFreeze(d, None, 1)),
    "thaw": ("d.fsThaw(None, 0)", lambda d: api.virDomainFSThaw(d, None, 0)),
    "trim": ("d.fSTrim(None, 0, 0)", lambda d: api.virDomainFSTrim(d, None, 0, 0)),
    "trim_mountpoint": ("d.fSTrim('/', 0, 0)", lambda d: api.virDomainFSTrim(d, "/", 0, 0)),
    "fsinfo": ("d.fsInfo(0)", lambda d: api.virDomainGetFSInfo(d, 0)),
    "hostname": ("d.hostname(0)", lambda d: api.virDomainGetHostname(d, 0)),
    "hostname_lease": ("d.hostname(1)", lambda d: api.virDomainGetHostname(d, 1)),
    "hostname_agent": ("d.hostname(2)", lambda d: api.virDomainGetHostname(d, 2)),
    "hostname_both": ("d.hostname(3)", lambda d: api.virDomainGetHostname(d, 3)),
    "hostname_flags": ("d.hostname(4)", lambda d: api.virDomainGetHostname(d, 4)),
    "time": ("d.getTime(0)", lambda d: api.virDomainGetTime(d, 0)),
    "settime": ("d.setTime({'seconds': 1, 'nseconds': 0}, 0)",
                lambda d: api.virDomainSetTime(d, 1, 0, 0)),
    "settime_sync": ("d.setTime(None, 1)", lambda d: api.virDomainSetTime(d, 0, 0, 1)),
    "settime_flags": ("d.setTime({'seconds': 1}, 2)", lambda d: api.virDomainSetTime(d, 1, 0, 2)),
    "password": ("d.setUserPassword('root', 'x', 0)",
                 lambda d: api.virDomainSetUserPassword(d, "root", "x", 0)),
    "ifaddr_lease": ("d.interfaceAddresses(0, 0)",
                     lambda d: api.virDomainInterfaceAddresses(d, 0, 0)),
    "ifaddr_agent": ("d.interfaceAddresses(1, 0)",
                     lambda d: api.virDomainInterfaceAddresses(d, 1, 0)),
    "ifaddr_arp": ("d.interfaceAddresses(2, 0)",
                   lambda d: api.virDomainInterfaceAddresses(d, 2, 0)),
    "ifaddr_bad": ("d.interfaceAddresses(3, 0)",
                   lambda d: api.virDomainInterfaceAddresses(d, 3, 0)),
    "guestinfo": ("d.guestInfo(0, 0)", lambda d: api.virDomainGetGuestInfo(d, 0, 0)),
    "guestinfo_types": ("d.guestInfo(1 << 10, 0)",
                        lambda d: api.virDomainGetGuestInfo(d, 1 << 10, 0)),
    "setguestvcpus": ("d.setGuestVcpus('0', 1, 0)",
                      lambda d: api.virDomainSetGuestVcpus(d, "0", 1, 0)),
    "setguestvcpus_map": ("d.setGuestVcpus('x', 1, 0)",
                          lambda d: api.virDomainSetGuestVcpus(d, "x", 1, 0)),
    "setguestvcpus_state": ("d.setGuestVcpus('0', 2, 0)",
                            lambda d: api.virDomainSetGuestVcpus(d, "0", 2, 0)),
    "timeout": ("d.agentSetResponseTimeout(5, 0)",
                lambda d: api.virDomainAgentSetResponseTimeout(d, 5, 0)),
    "timeout_min": ("d.agentSetResponseTimeout(-3, 0)",
                    lambda d: api.virDomainAgentSetResponseTimeout(d, -3, 0)),
    "sshget": ("d.authorizedSSHKeysGet('root', 0)",
               lambda d: api.virDomainAuthorizedSSHKeysGet(d, "root", 0)),
    "sshset": ("d.authorizedSSHKeysSet('root', ['a'], 0)",
               lambda d: api.virDomainAuthorizedSSHKeysSet(d, "root", ["a"], 0)),
    "sshset_both": ("d.authorizedSSHKeysSet('root', ['a'], 3)",
                    lambda d: api.virDomainAuthorizedSSHKeysSet(d, "root", ["a"], 3)),
    "agentcmd": ("__import__('libvirt_qemu').qemuAgentCommand(d, '{}', 5, 0)",
                 lambda d: api.virDomainQemuAgentCommand(d, "{}", 5, 0)),
    "shutdown_agent": ("d.shutdownFlags(2)", lambda d: api.virDomainShutdownFlags(d, 2)),
    "reboot_agent": ("d.reboot(2)", lambda d: api.virDomainReboot(d, 2)),
    "pmsuspend": ("d.pMSuspendForDuration(0, 0, 0)",
                  lambda d: api.virDomainPMSuspendForDuration(d, 0, 0, 0)),
    "pmsuspend_duration": ("d.pMSuspendForDuration(0, 5, 0)",
                           lambda d: api.virDomainPMSuspendForDuration(d, 0, 5, 0)),
    "pmsuspend_target": ("d.pMSuspendForDuration(7, 0, 0)",
                         lambda d: api.virDomainPMSuspendForDuration(d, 7, 0, 0)),
    "pmwakeup": ("d.pMWakeup(0)", lambda d: api.virDomainPMWakeup(d, 0)),
    "pmwakeup_flags": ("d.pMWakeup(1)", lambda d: api.virDomainPMWakeup(d, 1)),
    "vcpus_guest": ("d.vcpusFlags(8)", lambda d: api.virDomainGetVcpusFlags(d, 8)),
}
# the state a question is asked in -> (domain, how it was started)
STATES = {"off": ("ga_off", None), "paused": ("ga_paused", 1), "agent": ("ga_agent", 0),
          "bare": ("ga_bare", 0)}


def ours(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        value = fn()
    except VirtError as e:
        return ("err", e.code, e.domain, e.message)
    if value is None:   # an int-returning C function's 0, as libvirt-python gives it
        value = 0
    if isinstance(value, list):   # interfaces as real libvirt's python binding gives them
        value = {i.name: {"hwaddr": i.hwaddr, "addrs": [
            {"type": a.type, "addr": a.addr, "prefix": a.prefix} for a in i.addrs]}
            for i in value}
    return ("ok", value)


def _xml(name: str, kernel: Any, with_channel: bool) -> str:
    return domxml(name, kernel, CHANNEL if with_channel else "")


def _real_questions(kernel: Any) -> dict[str, str]:
    qs: dict[str, str] = {}
    for state, (name, start) in STATES.items():
        xml = _xml(name, kernel, state != "bare")
        if start is None:
            qs[f"{state}_0"] = f"c.defineXML({xml!r}).name()"
        else:
            qs[f"{state}_0"] = f"c.createXML({xml!r}, {start}).name()"
        for call, (expr, _) in CALLS.items():
            qs[f"{state}_1_{call}"] = f"(lambda d: {expr})(c.lookupByName({name!r}))"
        qs[f"{state}_2"] = (f"(lambda d: [d.isActive() and d.destroy(), "
                            f"d.isPersistent() and d.undefine()])(c.lookupByName({name!r}))")
    # the channel in the XML, and the agent's event at start
    qs["xml_0"] = f"c.defineXML({_xml('ga_xml', kernel, True)!r}).XMLDesc(0)"
    qs["xml_1"] = ("(lambda d, evs: [c.domainEventRegisterAny(d, 18, lambda *a: "
                   "evs.append(list(a[2:4])), None), d.create(), __import__('time').sleep(1), "
                   "d.XMLDesc(0), evs, d.XMLDesc(2), d.destroy(), d.undefine()][3:6])"
                   "(c.lookupByName('ga_xml'), [])")
    return qs


@pytest.fixture(scope="module")
def real(kernels) -> dict[str, tuple[Any, ...]]:
    return reallibvirt.ask(_real_questions(kernels["idle"]))


def _normal(value: Any) -> Any:
    return [list(v) if isinstance(v, tuple) else v for v in value]


@pytest.mark.parametrize("state", list(STATES))
def test_agent_apis_as_libvirt(conn, kernels, real, state):
    name, start = STATES[state]
    xml = _xml(name, kernels["idle"], state != "bare")
    d = (api.virDomainDefineXML(conn, xml) if start is None
         else api.virDomainCreateXML(conn, xml, start))
    got, want = {}, {}
    for call, (_, fn) in CALLS.items():
        got[call] = _normal(ours(lambda: fn(d)))
        want[call] = _normal(real[f"{state}_1_{call}"])
    assert got == want


def _uuidless(xml: str, root: str = "") -> str:
    """Without what differs between two runs: the UUID, the domain id (in
    the XML and in the channel's folder), the root."""
    xml = re.sub(r"<uuid>.*</uuid>", "", xml)
    xml = re.sub(r" id='[0-9]+'>", " id='N'>", xml)
    xml = re.sub(r"/domain-[0-9]+-", "/domain-N-", xml)
    return xml.replace(root, "ROOT") if root else xml


def test_channel_in_xml_event_and_socket(conn, root, kernels, real):
    ensure_event_loop()
    d = api.virDomainDefineXML(conn, _xml("ga_xml", kernels["idle"], True))
    assert _uuidless(api.virDomainGetXMLDesc(d, 0)) == _uuidless(real["xml_0"][1])
    events: list[list[int]] = []
    cb = api.virConnectDomainEventRegisterAny(
        conn, d, AGENT_LIFECYCLE, lambda *a: events.append(list(a[2:4])),
        None)
    try:
        api.virDomainCreate(d)
        assert until(lambda: events != [], 5)
        time.sleep(0.3)
        live, real_events, inactive = real["xml_1"][1]
        sock = root / "lib/qemu/channel/target/domain-1-ga_xml/org.qemu.guest_agent.0"
        assert _uuidless(api.virDomainGetXMLDesc(d, 0), str(root)) == \
            _uuidless(live, reallibvirt._root())
        inactive_ours = _uuidless(api.virDomainGetXMLDesc(d, 2))
        assert events == real_events == [[2, 1]]   # disconnected, domain started
        assert sock.is_socket()
        cmdline = open(f"/proc/{_pid(root)}/cmdline").read().split("\0")
        at = cmdline.index("virtserialport,bus=virtio-serial0.0,nr=1,chardev=charchannel0,"
                           "id=channel0,name=org.qemu.guest_agent.0")
        assert cmdline[at - 2].startswith("socket,id=charchannel0,fd=")
        assert cmdline[at - 2].endswith(",server=on,wait=off")
        assert "virtio-serial-pci,id=virtio-serial0,bus=pci.2,addr=0x0" in cmdline
        # the socket is QEMU's: a client connects, libvirt's state stays
        unix_connect(str(sock)).close()
        api.virDomainDestroy(d)
        assert not sock.parent.exists()   # libvirt removes the domain's channel folder
        # libvirt's start makes the persistent definition a re-parsed copy (its
        # parser puts each controller after the last of its kind: the
        # virtio-serial one moves after the root ports), kept after the stop
        assert inactive_ours == _uuidless(inactive)
        assert _uuidless(api.virDomainGetXMLDesc(d, 0)) == inactive_ours
    finally:
        api.virConnectDomainEventDeregisterAny(conn, cb)


def _pid(root) -> int:
    return int((root / "run/qemu/ga_xml.pid").read_text())


def _nlmsg(kind: int, body: bytes) -> bytes:
    data = struct.pack("=IHHII", 16 + len(body), kind, 2, 1, 0) + body
    return data + b"\0" * (-len(data) % 4)


def _neigh(family: int, state: int, ip: bytes, mac: bytes) -> bytes:
    attrs = struct.pack("=HH", 8, 1) + ip + struct.pack("=HH", 10, 2) + mac + b"\0\0"
    return _nlmsg(28, struct.pack("=BBHiHBB", family, 0, 0, 2, state, 0, 1) + attrs)


def test_arp_table_walk_as_libvirt():
    """libvirt 9.0's walk: IPv4 STALE/REACHABLE entries; a datagram that ends
    in NLMSG_DONE fails with 'wrong nlmsg len' (a libvirt 9.0 bug)."""
    mac = bytes.fromhex("525400aabbcc")
    entries = (_neigh(socket.AF_INET, 0x04, socket.inet_aton("10.0.0.5"), mac)
               + _neigh(socket.AF_INET, 0x20, socket.inet_aton("10.0.0.6"), mac)   # FAILED
               + _neigh(socket.AF_INET6, 0x02, b"\xfe\x80" + b"\0" * 2, mac)
               + _neigh(socket.AF_INET, 0x02, socket.inet_aton("10.0.0.7"), mac))
    assert arptable.parse(entries) == [arptable.ArpEntry("10.0.0.5", "52:54:00:aa:bb:cc"),
                                       arptable.ArpEntry("10.0.0.7", "52:54:00:aa:bb:cc")]
    done = struct.pack("=IHHII", 20, 3, 2, 1, 0) + b"\0\0\0\0"
    with pytest.raises(VirtError) as info:
        arptable.parse(entries + done)
    assert (info.value.code, info.value.domain, info.value.message) == \
        (1, 0, "internal error: wrong nlmsg len")
    with pytest.raises(VirtError) as info:
        arptable.parse(done)
    assert info.value.message == "internal error: malformed netlink response message"
