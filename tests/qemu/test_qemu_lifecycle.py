"""The QEMU driver against real QEMU: lifecycle, states, events and errors as
libvirt 9.0's embed driver gives them (recorded with the reference's
python3-libvirt on this machine; see shared/reference/libvirt-qemu)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from support import BUILD
from qemutest import QEMU, VIRT_TYPE, Events, conn, domxml, kernels, root, until  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.conf.domain import parse_domain_xml
from pyvirt.drivers.qemu import command
from pyvirt.errors import VirtError

# lifecycle events and details (libvirt-domain.h)
DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED, SHUTDOWN = 0, 1, 2, 3, 4, 5, 6
RUNNING, PAUSED, SHUTDOWN_STATE, SHUTOFF = 1, 3, 4, 5


def err(fn) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return int(e.code), int(e.domain), e.message


def test_define_start_suspend_resume_destroy(conn, kernels):
    ev = Events(conn)
    d = api.virDomainDefineXML(conn, domxml("p1", kernels["idle"]))
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 0)
    assert api.virDomainGetInfo(d).cpuTime == 0
    for fn in (api.virDomainDestroy, api.virDomainSuspend, api.virDomainResume):
        assert err(lambda: fn(d)) == (55, 20, "Requested operation is not valid: "
                                              "domain is not running")
    assert err(lambda: api.virDomainShutdown(d))[:2] == (55, 10)

    t0 = time.monotonic()
    api.virDomainCreate(d)
    started = time.monotonic() - t0
    assert api.virDomainGetState(d, 0) == (RUNNING, 1)          # RUNNING_BOOTED
    assert api.virDomainGetID(api.virDomainLookupByName(conn, "p1")) >= 1
    # libvirt 9.0: QEMU's RESUME (after -S) comes first, then STARTED_BOOTED
    assert ev.wait_for("p1", 3) == [(DEFINED, 0), (RESUMED, 0), (STARTED, 0)]
    assert err(lambda: api.virDomainCreate(d)) == (
        55, 10, "Requested operation is not valid: domain is already running")
    assert err(lambda: api.virDomainResume(d)) == (
        55, 10, "Requested operation is not valid: domain is already running")

    info = api.virDomainGetInfo(d)
    assert (info.state, info.maxMem, info.memory, info.nrVirtCpu) == (1, 65536, 65536, 1)
    assert api.virDomainGetMaxVcpus(d) == 1
    assert api.virDomainGetVcpusFlags(d, 0) == 1
    assert api.virDomainGetMaxMemory(d) == 65536
    xml = api.virDomainGetXMLDesc(d, 0)
    assert f"<domain type='{VIRT_TYPE}' id=" in xml and "machine='pc-q35-" in xml
    assert "<emulator>" in xml

    api.virDomainSuspend(d)
    assert api.virDomainGetState(d, 0) == (PAUSED, 1)           # PAUSED_USER, at return
    api.virDomainSuspend(d)                                     # no-op, no event
    api.virDomainResume(d)
    assert api.virDomainGetState(d, 0) == (RUNNING, 5)          # RUNNING_UNPAUSED
    api.virDomainShutdown(d)            # the idle guest ignores the power button
    assert api.virDomainGetState(d, 0) == (RUNNING, 5)

    t0 = time.monotonic()
    api.virDomainDestroy(d)
    destroyed = time.monotonic() - t0
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 2)          # SHUTOFF_DESTROYED
    assert ev.wait_for("p1", 7)[3:] == [(SUSPENDED, 0), (RESUMED, 0),
                                         (SHUTDOWN, 2), (STOPPED, 1)]
    assert destroyed < 0.2, f"destroy took {destroyed:.3f}s (libvirt: >= 0.2 s)"
    assert started < 5
    assert not (Path(api.virConnectGetURI(conn).split("root=")[1]) / "run/qemu/p1.xml").exists()


def test_create_xml_paused_and_transient(conn, kernels):
    ev = Events(conn)
    d = api.virDomainCreateXML(conn, domxml("s1", kernels["idle"]), 1)   # START_PAUSED
    assert api.virDomainGetState(d, 0) == (PAUSED, 1)
    assert api.virDomainIsPersistent(d) == 0
    assert ev.wait_for("s1", 2) == [(STARTED, 0), (SUSPENDED, 0)]
    api.virDomainResume(d)
    api.virDomainDestroy(d)
    assert err(lambda: api.virDomainLookupByName(conn, "s1")) == (
        42, 10, "Domain not found: no domain with matching name 's1'")


def test_undefine_running_keeps_it_transient(conn, kernels):
    d = api.virDomainDefineXML(conn, domxml("u1", kernels["idle"]))
    api.virDomainCreate(d)
    api.virDomainUndefine(d)
    assert (api.virDomainIsActive(d), api.virDomainIsPersistent(d)) == (1, 0)
    api.virDomainDestroy(d)
    assert err(lambda: api.virDomainGetState(d, 0))[:2] == (42, 10)


def test_qemu_killed_gives_stopped_failed(conn, root, kernels):
    ev = Events(conn)
    d = api.virDomainDefineXML(conn, domxml("k1", kernels["idle"]))
    api.virDomainCreate(d)
    pid = int((root / "run/qemu/k1.pid").read_text())
    os.kill(pid, signal.SIGKILL)
    assert ev.wait_for("k1", 4, timeout=5)[3] == (STOPPED, 5)   # STOPPED_FAILED, at once
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 3)          # SHUTOFF_CRASHED
    api.virDomainCreate(d)                                      # and it starts again
    assert api.virDomainGetState(d, 0) == (RUNNING, 1)


def held_status_files(root) -> list[str]:
    """Replaced files under run/qemu this process still has open (a start's
    first status, runtime.hold_first_status)."""
    out = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root / "run/qemu")) and target.endswith(" (deleted)"):
            out.append(target)
    return out


def test_the_monitor_from_the_start_to_the_qmp_thread(conn, root, kernels):
    """A start speaks to QEMU's monitor on its own thread (qmpdirect) and
    hands it to the QMP thread a moment later.  Calls made at once after
    the start, and after the hand-over, see QEMU's events in order."""
    ev = Events(conn)
    d = api.virDomainCreateXML(conn, domxml("h1", kernels["idle"]), 0)
    mon = conn.driver.runtime[d.uuid].monitor
    api.virDomainSuspend(d)
    api.virDomainResume(d)
    assert api.virDomainGetState(d, 0) == (RUNNING, 5)
    assert until(lambda: mon._direct is None, 5)
    # the start's first status, held open through its replacement, is let go
    assert until(lambda: not held_status_files(root), 5)
    api.virDomainSuspend(d)
    assert api.virDomainGetState(d, 0) == (PAUSED, 1)
    api.virDomainResume(d)
    assert ev.wait_for("h1", 6) == [(RESUMED, 0), (STARTED, 0), (SUSPENDED, 0), (RESUMED, 0),
                                    (SUSPENDED, 0), (RESUMED, 0)]
    api.virDomainDestroy(d)
    # no status written ahead is left behind
    assert not [p.name for p in (root / "run/qemu").iterdir() if p.name.startswith(".h1.")]


def test_qemu_killed_in_the_middle_of_a_call(conn, root, kernels):
    """A call waiting for QEMU's answer when QEMU dies fails at once (and the
    domain is crashed), rather than waiting for its timeout; the same
    driver starts the domain again and talks to it."""
    ev = Events(conn)
    d = api.virDomainDefineXML(conn, domxml("k2", kernels["idle"]))
    api.virDomainCreate(d)
    pid = int((root / "run/qemu/k2.pid").read_text())
    os.kill(pid, signal.SIGSTOP)        # QEMU answers nothing from now on
    failed: list[VirtError] = []

    def suspend() -> None:
        try:
            api.virDomainSuspend(d)
        except VirtError as exc:
            failed.append(exc)
    caller = threading.Thread(target=suspend)
    caller.start()
    time.sleep(0.2)
    assert caller.is_alive()            # waiting for QEMU's answer
    os.kill(pid, signal.SIGKILL)
    caller.join(5)
    assert not caller.is_alive() and len(failed) == 1
    assert (failed[0].code, str(failed[0])) == (9, "operation failed: domain is no longer running")
    assert ev.wait_for("k2", 4, timeout=5)[3] == (STOPPED, 5)   # STOPPED_FAILED
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 3)          # SHUTOFF_CRASHED
    api.virDomainCreate(d)
    api.virDomainSuspend(d)
    api.virDomainResume(d)
    assert api.virDomainGetState(d, 0) == (RUNNING, 5)
    api.virDomainDestroy(d)


def test_stopped_events_domain_ids(conn, root, kernels, tmp_path):
    """Whether a STOPPED event's domain still has its id, as libvirt 9.0's
    QEMU driver has it: not after a stop the driver makes (destroy, save:
    the event is queued once the domain is off), still after a crash (queued
    as QEMU is found gone).  Checked against libvirt's on the same calls."""
    seen: list[tuple[int, int, int]] = []
    cond = threading.Condition()

    def cb(c, dom, event, detail):
        with cond:
            seen.append((event, detail, api.virDomainGetID(dom)))
            cond.notify_all()
    api.virConnectDomainEventRegisterAny(conn, None, 0, cb, None)

    def stopped() -> tuple[int, int, int]:
        with cond:
            assert cond.wait_for(lambda: any(e == STOPPED for e, _, _ in seen), 5)
            found = next(x for x in seen if x[0] == STOPPED)
            seen.clear()
            return found
    d = api.virDomainDefineXML(conn, domxml("ids", kernels["idle"]))
    for stop, want in ((api.virDomainDestroy, (STOPPED, 1, -1)),
                       (lambda d: api.virDomainSave(d, str(tmp_path / "s.img")), (STOPPED, 4, -1)),
                       (lambda d: os.kill(int((root / "run/qemu/ids.pid").read_text()),
                                          signal.SIGKILL), (STOPPED, 5, "id"))):
        api.virDomainCreate(d)
        dom_id = api.virDomainGetID(d)
        with cond:
            seen.clear()
        stop(d)
        event, detail, got = stopped()
        assert (event, detail, got if got == -1 else "id") == want
        assert got in (-1, dom_id)
        # the caller's handle keeps the id (libvirt's QEMU driver leaves it); a lookup has none
        assert api.virDomainGetID(d) == dom_id
        assert api.virDomainGetID(api.virDomainLookupByName(conn, "ids")) == -1


def test_guest_shutdown(conn, kernels):
    """The acpi guest powers off on the power button: SHUTDOWN_GUEST, STOPPED_SHUTDOWN."""
    ev = Events(conn)
    d = api.virDomainCreateXML(conn, domxml("g1", kernels["acpi"], acpi=True), 0)
    # The button only counts once the guest has enabled it (after the firmware):
    # press it until the guest answers, as a user of virsh shutdown would.
    def pressed() -> bool:
        if (SHUTDOWN, 1) in ev.of("g1"):
            return True
        api.virDomainShutdown(d)
        return False
    assert until(pressed, timeout=30, interval=0.25)
    assert ev.wait_for("g1", 4) == [(RESUMED, 0), (STARTED, 0), (SHUTDOWN, 1), (STOPPED, 0)]
    assert err(lambda: api.virDomainGetState(d, 0))[:2] == (42, 10)


@pytest.mark.parametrize("on_reboot", ["restart", "destroy"])
def test_guest_reboot(conn, kernels, on_reboot):
    """The reboot guest resets the machine (once; its firmware then resets it
    again, so two REBOOT events).  <on_reboot> restart keeps it running;
    destroy ends it as a guest shutdown, with no REBOOT event, as libvirt 9.0."""
    ev = Events(conn)
    reboots: list[str] = []
    api.virConnectDomainEventRegisterAny(conn, None, 1, lambda c, d: reboots.append(d.name),
                                         None)
    name = f"rb-{on_reboot}"
    xml = domxml(name, kernels["reboot"]).replace(
        "<devices>", f"<on_reboot>{on_reboot}</on_reboot><devices>")
    d = api.virDomainCreateXML(conn, xml, 0)
    if on_reboot == "restart":
        assert until(lambda: len(reboots) == 2, timeout=30)
        assert api.virDomainGetState(d, 0) == (RUNNING, 1)
        assert ev.of(name) == [(RESUMED, 0), (STARTED, 0)]
        api.virDomainDestroy(d)
    else:
        # QMP set-action makes the reset a shutdown, as libvirt 9.0: no -no-reboot
        pid = int(conn.driver.layout.pid_file(name).read_text())
        assert b"-no-reboot" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        assert ev.wait_for(name, 4, timeout=30) == [
            (RESUMED, 0), (STARTED, 0), (SHUTDOWN, 1), (STOPPED, 0)]
        assert reboots == []


def test_start_failure_reports_qemu_error(conn, kernels):
    ev = Events(conn)
    code, dom, msg = err(lambda: api.virDomainCreateXML(conn, domxml("b1", "/nonexistent"), 0))
    assert (code, dom) == (1, 10)
    assert msg.startswith("internal error: process exited while connecting to monitor: ")
    assert "could not open kernel file '/nonexistent'" in msg
    d = api.virDomainDefineXML(conn, domxml("b2", "/nonexistent"))
    assert err(lambda: api.virDomainCreate(d))[:2] == (1, 10)
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 6)          # SHUTOFF_FAILED
    time.sleep(0.05)
    assert ev.of("b1") == [] and ev.of("b2") == [(DEFINED, 0)]


def test_define_errors(conn):
    for virt in ("xen", "test"):
        xml = domxml("x1").replace(f"type='{VIRT_TYPE}'", f"type='{virt}'")
        assert err(lambda: api.virDomainDefineXML(conn, xml)) == (
            67, 10, f"unsupported configuration: Emulator '{QEMU}' does not support "
                    f"virt type '{virt}'")


def test_lifecycle_actions_at_define(conn):
    """Every <on_poweroff>/<on_reboot>/<on_crash> combination is taken or
    refused as libvirt 9.0's QEMU driver does (data/lifecycle_actions.json,
    its answers, captured with defineXML on an embed root)."""
    expected = json.loads((Path(__file__).parent / "data/lifecycle_actions.json").read_text())
    for key, want in sorted(expected.items()):
        poweroff, reboot, crash = key.split("/")
        xml = domxml("lc").replace("<devices>", f"<on_poweroff>{poweroff}</on_poweroff>"
                                   f"<on_reboot>{reboot}</on_reboot>"
                                   f"<on_crash>{crash}</on_crash><devices>")
        try:
            api.virDomainUndefine(api.virDomainDefineXML(conn, xml))
            got: object = "ok"
        except VirtError as exc:
            got = [exc.code, exc.domain, str(exc)]
        assert got == want, key


def test_open_errors():
    assert err(lambda: api.virConnectOpen("qemu:///embed")) == (
        8, 45, "invalid argument: Missing URI parameter 'root'")
    assert err(lambda: api.virConnectOpen("qemu:///embed?root=rel")) == (
        67, 0, "unsupported configuration: root path must be absolute")


def test_open_without_event_loop(tmp_path):
    code = ("from pyvirt import api\n"
            "try:\n"
            f"    api.virConnectOpen('qemu:///embed?root={tmp_path}')\n"
            "except Exception as e:\n"
            "    print(e.code, e.domain, e.message)\n")
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=env).stdout.strip()
    assert out == ("67 40 unsupported configuration: An event loop implementation "
                   "must be registered")


def test_command_line(tmp_path):
    xml = domxml("c1", Path("/k"), machine="pc", vcpus=2, extra=(
        "<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
        "<source file='/img.qcow2'/><target dev='vda' bus='virtio'/></disk>"
        "<interface type='user'><mac address='52:54:00:11:22:33'/>"
        "<model type='virtio'/></interface>"
        "<serial type='pty'/><graphics type='vnc' autoport='yes'/>"))
    d = parse_domain_xml(xml, default_arch="x86_64", keep_interfaces=True)
    command.fill_defaults(d, "/usr/bin/qemu-system-x86_64", "pc-i440fx-7.2")
    argv = command.build(d, "/usr/bin/qemu-system-x86_64", "tcg",
                         command.LaunchPaths("/run/c1.pid", 7))
    line = " ".join(argv)
    for part in ("-machine pc-i440fx-7.2,", "-accel tcg", "-m size=65536k", "-smp 2,",
                 "-S", "-no-shutdown", "-kernel /k", "fd=7,server=on,wait=off",
                 '"filename":"/img.qcow2"', '"driver":"qcow2"', "virtio-blk-pci",
                 "-netdev {\"type\":\"user\",\"id\":\"hostnet0\"}",
                 "virtio-net-pci,netdev=hostnet0,id=net0,mac=52:54:00:11:22:33",
                 "-chardev pty,id=charserial0", "isa-serial,chardev=charserial0",
                 "-vnc 127.0.0.1:0,to=99"):
        assert part in line, part


def test_without_qemu_qmp_the_driver_imports_and_refuses_to_open(tmp_path):
    """Debian 12 has no python3-qemu.qmp: inside libvirt.so.0 the library may be absent."""
    code = ("import sys\n"
            "sys.modules['qemu'] = sys.modules['qemu.qmp'] = None\n"
            "from pyvirt import api\n"
            "api.virEventRegisterDefaultImpl()\n"
            "try:\n"
            f"    api.virConnectOpen('qemu:///embed?root={tmp_path}')\n"
            "except Exception as e:\n"
            "    print(e.code, e.domain, e.message)\n")
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, env=env).stdout.strip()
    assert out.startswith("1 10 internal error: the QEMU driver needs the Python package "
                          "qemu.qmp"), out
