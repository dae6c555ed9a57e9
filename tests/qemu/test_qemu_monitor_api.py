"""libvirt-qemu's monitor pass-through on the QEMU driver, against real QEMU:
raw QMP and HMP commands, files sent along, and the QEMU monitor events.
Every expected text below is what libvirt 9.0's embed driver returned for the
same input on this machine (python3-libvirt's libvirt_qemu; only the command
id "libvirt-N" and the timestamps differ from run to run)."""

from __future__ import annotations

import json
import os
import re
import shutil
import threading
import time

import pytest

from qemutest import VIRT_TYPE, conn, domxml, kernels, root, until  # noqa: F401 (fixtures)
from support import needs_build, needs_system_libvirt, on_pyvirt, run
from pyvirt import api
from pyvirt.errors import VirtError

HMP = 1
REGEX, NOCASE = 1, 2
ID = r'"id":"libvirt-\d+"'


def err(fn) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return int(e.code), int(e.domain), e.message


def started(conn, kernels, name: str):
    d = api.virDomainDefineXML(conn, domxml(name, kernels["idle"]))
    api.virDomainCreate(d)
    return d


def cmd(d, text: str, flags: int = 0) -> str:
    return api.virDomainQemuMonitorCommand(d, text, flags)


class MonitorEvents:
    """QEMU monitor events of a callback, as (tag, domain, event, seconds, micros, details)."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.items: list[tuple] = []

    def callback(self, tag: str):
        def cb(conn, dom, event, seconds, micros, details):
            with self.cond:
                self.items.append((tag, dom.name, event, seconds, micros, details))
                self.cond.notify_all()
        return cb

    def wait_for(self, count: int) -> list[tuple]:
        until(lambda: len(self.items) >= count, timeout=15)
        with self.cond:
            return list(self.items)


def test_qmp_and_hmp_replies_as_libvirt_writes_them(conn, kernels):
    d = started(conn, kernels, "mon1")
    assert re.fullmatch(r'\{"return":\{"status":"running","singlestep":false,"running":true\},'
                        + ID + "}", cmd(d, '{"execute":"query-status"}'))
    assert re.fullmatch(r'\{"return":\{"name":"mon1"\},' + ID + "}",
                        cmd(d, '{ "execute" : "query-name" }'))
    # QEMU's error is a reply like any other; its id comes first there
    assert re.fullmatch(r"\{" + ID + r',"error":\{"class":"CommandNotFound",'
                        r'"desc":"The command nosuch has not been found"\}\}',
                        cmd(d, '{"execute":"nosuch"}'))
    # yajl's escapes: control characters as \u00XX, '/' and UTF-8 as they are
    assert re.fullmatch(r"\{" + ID + r',"error":\{"class":"CommandNotFound",'
                        r'"desc":"The command foo\\u0001\\t/é has not been found"\}\}',
                        cmd(d, '{"execute":"foo\\u0001\\t/é"}'))
    assert re.fullmatch(r'\{"return":"VM status: running\\r\\n",' + ID + "}",
                        cmd(d, '{"execute":"human-monitor-command",'
                               '"arguments":{"command-line":"info status"}}'))
    # no "execute": sent with no id, and QEMU's answer has none
    assert cmd(d, "[1,2]") == \
        '{"error":{"class":"GenericError","desc":"QMP input must be a JSON object"}}'
    assert cmd(d, "{}") == \
        '{"error":{"class":"GenericError","desc":"QMP input lacks member \'execute\'"}}'
    assert cmd(d, "info status", HMP) == "VM status: running\r\n"
    assert cmd(d, '{"execute":"query-status"}', HMP) == \
        'unknown command: \'{"execute":"query-status"}\'\r\n'
    assert cmd(d, "device_del nosuch", HMP) == "Error: Device 'nosuch' not found\r\n"
    # a raw stop and cont: the driver follows QEMU, as libvirt (reasons unknown, unpaused)
    cmd(d, '{"execute":"stop"}')
    assert until(lambda: api.virDomainGetState(d, 0) == (3, 0))
    cmd(d, '{"execute":"cont"}')
    assert until(lambda: api.virDomainGetState(d, 0) == (1, 5))
    # libvirt's taint, once per run, in the domain's log
    log = (conn.driver.layout.log_file("mon1")).read_text()
    assert re.search(r"\+0000: Domain id=\d+ is tainted: custom-monitor\n", log)
    assert log.count("tainted: custom-monitor") == 1


def test_taints_are_messages_kept_over_a_reopen(root, conn, kernels):
    """virDomainGetMessages says what a running domain is tainted by, as
    libvirt 9.0 (compared on an embed root): running QEMU as root, then a
    custom monitor command; the status keeps them for a reopened driver, and
    a domain that is shut off has none."""
    root_taint = (["tainted: running with undesirable elevated privileges"]
                  if os.geteuid() == 0 else [])
    d = api.virDomainDefineXML(conn, domxml("taint", kernels["idle"]))
    assert api.virDomainGetMessages(d, 0) == []
    api.virDomainCreate(d)
    assert api.virDomainGetMessages(d, 0) == root_taint
    cmd(d, '{"execute":"query-status"}')
    both = ["tainted: custom monitor control commands issued"] + root_taint
    assert api.virDomainGetMessages(d, 0) == both
    assert api.virDomainGetMessages(d, 2) == both          # VIR_DOMAIN_MESSAGE_TAINTING
    assert api.virDomainGetMessages(d, 1) == []            # ..._DEPRECATION: none
    assert err(lambda: api.virDomainGetMessages(d, 4)) == (
        8, 10, "unsupported flags (0x4) in function qemuDomainGetMessages")
    assert "<taint flag='custom-monitor'/>" in conn.driver.layout.status_file("taint").read_text()
    again = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d2 = api.virDomainLookupByName(again, "taint")
        assert api.virDomainGetMessages(d2, 0) == both
        api.virDomainDestroy(d2)
        assert api.virDomainGetMessages(d2, 0) == []
    finally:
        api.virConnectClose(again)


def test_command_errors(conn, kernels):
    d = api.virDomainDefineXML(conn, domxml("mon2", kernels["idle"]))
    assert err(lambda: cmd(d, '{"execute":"query-status"}')) == \
        (55, 20, "Requested operation is not valid: domain is not running")
    api.virDomainCreate(d)
    assert err(lambda: cmd(d, "not json")) == (
        1, 0, "internal error: cannot parse json not json: lexical error: invalid string in "
              "json text.\n" + " " * 39 + "not json\n" + " " * 21 + "(right here) ------^\n")
    assert err(lambda: cmd(d, '{"execute":"query-status"} x')) == (
        1, 0, 'internal error: cannot parse json {"execute":"query-status"} x: parse error: '
              'trailing garbage\n' + " " * 12 + '{"execute":"query-status"} x\n'
              + " " * 21 + "(right here) ------^\n")
    assert err(lambda: cmd(d, '{"a":1 "b"}')) == (
        1, 0, 'internal error: cannot parse json {"a":1 "b"}: parse error: after key and value, '
              "inside map, I expect ',' or '}'\n" + " " * 31 + '{"a":1 "b"}\n'
              + " " * 21 + "(right here) ------^\n")
    assert err(lambda: cmd(d, "")) == (
        1, 0, "internal error: cannot parse json : parse error: premature EOF\n" + " " * 39
              + "\n" + " " * 21 + "(right here) ------^\n")
    assert err(lambda: cmd(d, '{"execute":"query-status","id":"mine"}')) == \
        (1, 10, "internal error: Unable to append command 'id' string")
    for flags in (2, 3):
        assert err(lambda: cmd(d, '{"execute":"query-status"}', flags)) == (
            8, 10, "unsupported flags (0x2) in function qemuDomainQemuMonitorCommandWithFiles")
    r, w = os.pipe()
    try:
        assert err(lambda: api.virDomainQemuMonitorCommandWithFiles(
            d, '{"execute":"add-fd"}', [r, w], 0)) == \
            (8, 10, "invalid argument: at most 1 fd can be passed to qemu along with a command")
    finally:
        os.close(r)
        os.close(w)
    api.virDomainDestroy(d)
    assert err(lambda: cmd(d, '{"execute":"query-status"}')) == \
        (55, 20, "Requested operation is not valid: domain is not running")


def test_command_with_files_passes_one_fd_and_returns_none(conn, kernels):
    d = started(conn, kernels, "mon3")
    r, w = os.pipe()
    try:
        files, reply = api.virDomainQemuMonitorCommandWithFiles(
            d, '{"execute":"add-fd","arguments":{"fdset-id":3}}', [w], 0)
        assert files == []
        fd = int(re.fullmatch(r'\{"return":\{"fd":(\d+),"fdset-id":3\},' + ID + "}",
                              reply).group(1))
        assert re.fullmatch(r'\{"return":\[\{"fds":\[\{"fd":%d\}\],"fdset-id":3\}\],' % fd
                            + ID + "}", cmd(d, '{"execute":"query-fdsets"}'))
        assert api.virDomainQemuMonitorCommandWithFiles(d, "info status", [], HMP) == \
            ([], "VM status: running\r\n")
    finally:
        os.close(r)
        os.close(w)


def test_monitor_events_filtered_and_deregistered(conn, kernels):
    got = MonitorEvents()
    reg = api.virConnectDomainQemuMonitorEventRegister
    ids = {"all": reg(conn, None, None, got.callback("all"), None, 0),
           "stop": reg(conn, None, "stop", got.callback("stop"), None, 0),
           "stop-nocase": reg(conn, None, "stop", got.callback("stop-nocase"), None, NOCASE),
           "re": reg(conn, None, "^RES", got.callback("re"), None, REGEX),
           "re-nocase": reg(conn, None, "^res", got.callback("re-nocase"), None,
                            REGEX | NOCASE)}
    assert sorted(ids.values()) == [0, 1, 2, 3, 4]   # ids count as the domain events' do
    d = started(conn, kernels, "mon4")
    ids["dom"] = reg(conn, d, None, got.callback("dom"), None, 0)
    other = started(conn, kernels, "mon4b")
    got.wait_for(6)   # both starts' RESUME: all, re, re-nocase each
    got.items.clear()
    api.virDomainSuspend(d)
    api.virDomainResume(d)
    seen = got.wait_for(7)
    assert [(tag, name, event, details) for tag, name, event, _, _, details in seen] == [
        ("all", "mon4", "STOP", None), ("stop-nocase", "mon4", "STOP", None),
        ("dom", "mon4", "STOP", None),
        ("all", "mon4", "RESUME", None), ("re", "mon4", "RESUME", None),
        ("re-nocase", "mon4", "RESUME", None), ("dom", "mon4", "RESUME", None)]
    stamps = [(s, m) for _, _, _, s, m, _ in seen]
    assert all(s > 1_600_000_000 and 0 <= m < 1_000_000 for s, m in stamps)
    assert stamps[0] <= stamps[3]   # QEMU's own times, STOP before RESUME
    # data as libvirt's compact JSON text, for the other domain only to "all"
    got.items.clear()
    cmd(other, '{"execute":"system_reset"}')
    first = got.wait_for(1)[0]
    assert first[:3] == ("all", "mon4b", "RESET")
    assert first[5] == '{"guest":false,"reason":"host-qmp-system-reset"}'
    for key in ("all", "stop", "stop-nocase", "re", "re-nocase", "dom"):
        api.virConnectDomainQemuMonitorEventDeregister(conn, ids[key])
    got.items.clear()
    api.virDomainSuspend(d)
    api.virDomainResume(d)
    time.sleep(0.3)   # nothing may come: give the loop a moment to show it
    assert got.items == []
    assert err(lambda: api.virConnectDomainQemuMonitorEventDeregister(conn, ids["all"])) == \
        (8, 0, "invalid argument: could not find event callback 0 for deletion")


def test_monitor_event_registration_errors(conn):
    reg = api.virConnectDomainQemuMonitorEventRegister
    cb = lambda *args: None   # noqa: E731
    bad = {"(": "1: missing terminating )", "[": "1: missing terminating ] for character class",
           "*": "0: nothing to repeat", "x**": "2: nothing to repeat",
           "a{2,1}": "5: numbers out of order in {} quantifier", "\\": "1: \\ at end of pattern",
           ")": "0: missing terminating )",
           "[z-a]": "3: range out of order in character class",
           "(?<=a+)b": "0: lookbehind assertion is not fixed length"}
    for pattern, tail in bad.items():
        assert err(lambda: reg(conn, None, pattern, cb, None, REGEX)) == (
            8, 0, f"invalid argument: failed to compile regex '{pattern}': Error while "
                  f"compiling regular expression ‘{pattern}’ at char {tail}")
    assert reg(conn, None, "(", cb, None, NOCASE) >= 0   # not a regex without REGEX
    assert err(lambda: reg(conn, None, "x", cb, None, 4)) == \
        (8, 0, "unsupported flags (0x4) in function virDomainQemuMonitorEventStateRegisterID")
    # one for every event is a duplicate of any other of the callback's
    assert err(lambda: reg(conn, None, None, cb, None, 0)) == \
        (8, 0, "invalid argument: event callback already tracked")
    assert err(lambda: api.virConnectDomainQemuMonitorEventDeregister(conn, 99)) == \
        (8, 0, "invalid argument: could not find event callback 99 for deletion")
    assert err(lambda: api.virConnectDomainQemuMonitorEventDeregister(conn, -1)) == (
        8, 0, "callbackID in virConnectDomainQemuMonitorEventDeregister must be zero or greater")


def test_test_driver_has_none_of_it():
    c = api.virConnectOpen("test:///default")
    try:
        d = api.virDomainLookupByName(c, "test")
        calls = {"virDomainQemuMonitorCommand": lambda: cmd(d, "x"),
                 "virDomainQemuMonitorCommandWithFiles":
                     lambda: api.virDomainQemuMonitorCommandWithFiles(d, "x", [1], 0),
                 "virConnectDomainQemuMonitorEventRegister":
                     lambda: api.virConnectDomainQemuMonitorEventRegister(
                         c, None, None, lambda *a: None, None, 0),
                 "virConnectDomainQemuMonitorEventDeregister":
                     lambda: api.virConnectDomainQemuMonitorEventDeregister(c, 0)}
        for name, call in calls.items():
            assert err(call) == (3, 0, "this function is not supported by the connection "
                                       f"driver: {name}")
    finally:
        api.virConnectClose(c)
    ro = api.virConnectOpenReadOnly("test:///default")
    try:
        d = api.virDomainLookupByName(ro, "test")
        assert err(lambda: cmd(d, "x")) == \
            (29, 0, "operation forbidden: read only access prevents virDomainQemuMonitorCommand")
    finally:
        api.virConnectClose(ro)


SHIM_SCRIPT = """
import json, sys, threading, time, libvirt, libvirt_qemu
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
c = libvirt.open("qemu:///embed?root=" + sys.argv[1])
seen = []
cid = libvirt_qemu.qemuMonitorEventRegister(
    c, None, "^(STOP|RESUME)$", lambda c, d, e, s, m, det, o: seen.append([o, d.name(), e, det]),
    "tag", libvirt_qemu.VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX)
d = c.defineXML("<domain type='%s'><name>shim</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>")
d.create()
out = {"qmp": libvirt_qemu.qemuMonitorCommand(d, '{"execute":"query-name"}', 0),
       "hmp": libvirt_qemu.qemuMonitorCommand(d, "info name", 1),
       "files": libvirt_qemu.qemuMonitorCommandWithFiles(d, '{"execute":"query-name"}', [], 0)}
d.suspend(); d.resume()
for _ in range(200):
    if len(seen) >= 3:
        break
    time.sleep(0.02)
out["events"] = seen
libvirt_qemu.qemuMonitorEventDeregister(c, cid)
d.destroy(); d.undefine(); c.close()
print(json.dumps(out))
"""


@needs_build
@needs_system_libvirt
@pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None, reason="no QEMU")
def test_python3_libvirt_qemu_on_our_library(tmp_path):
    out = run(["/usr/bin/python3", "-c", SHIM_SCRIPT % VIRT_TYPE, str(tmp_path / "root")],
              env=on_pyvirt(), timeout=120)
    assert out.returncode == 0, out.stderr
    assert "error" not in out.stderr   # libvirt-qemu.so.0's loading reports nothing
    got = json.loads(out.stdout)
    assert re.fullmatch(r'\{"return":\{"name":"shim"\},' + ID + "}", got["qmp"])
    assert got["hmp"] == "shim\r\n"
    assert got["files"][1] == [] and re.fullmatch(r'\{"return":\{"name":"shim"\},' + ID + "}",
                                                 got["files"][0])
    # the start's RESUME, then the suspend's and resume's own
    assert got["events"] == [["tag", "shim", "RESUME", None], ["tag", "shim", "STOP", None],
                             ["tag", "shim", "RESUME", None]]
