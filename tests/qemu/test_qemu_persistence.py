"""Guests outlive the driver; a driver opened again on the same root finds
them (status under run/qemu, written atomically) and reconnects to their
monitors, even after the previous process was SIGKILLed mid-operation."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from qemutest import (VIRT_TYPE, Events, domxml, ensure_event_loop,  # noqa: F401
                      kernels, root)  # fixtures
from support import BUILD
from pyvirt import api

RUNNING, PAUSED, SHUTOFF = 1, 3, 5


def qemu_pids(root: Path) -> set[int]:
    """Every live process whose command line names `root` (our QEMUs)."""
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
            with open(f"/proc/{entry}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                    continue
        except OSError:
            continue
        if argv and b"qemu-system" in argv[0] and any(str(root).encode() in a for a in argv):
            found.add(int(entry))
    return found


def open_root(root: Path):
    ensure_event_loop()
    return api.virConnectOpen(f"qemu:///embed?root={root}")


def test_guests_outlive_the_driver_and_are_found_again(root, kernels):
    c = open_root(root)
    p = api.virDomainDefineXML(c, domxml("keep", kernels["idle"]))
    api.virDomainCreate(p)
    paused = api.virDomainCreateXML(c, domxml("paused", kernels["idle"]), 1)
    api.virDomainCreateXML(c, domxml("dies", kernels["idle"]), 0)
    crashed = api.virDomainDefineXML(c, domxml("crashes", kernels["idle"]))
    api.virDomainCreate(crashed)
    keep_id = api.virDomainGetID(api.virDomainLookupByName(c, "keep"))
    api.virConnectClose(c)                    # the driver lets go; guests run on
    pids = {n: int((root / f"run/qemu/{n}.pid").read_text())
            for n in ("keep", "paused", "dies", "crashes")}
    assert set(pids.values()) <= qemu_pids(root)
    os.kill(pids["dies"], signal.SIGKILL)     # die while nobody watches
    os.kill(pids["crashes"], signal.SIGKILL)
    time.sleep(0.1)

    c = open_root(root)
    ev = Events(c)
    keep = api.virDomainLookupByName(c, "keep")
    assert api.virDomainGetState(keep, 0) == (RUNNING, 1)
    assert api.virDomainGetID(keep) == keep_id
    assert api.virDomainGetState(api.virDomainLookupByName(c, "paused"), 0) == (PAUSED, 1)
    assert "dies" not in [api.virDomainGetName(d) for d in api.virConnectListAllDomains(c, 0)]
    assert api.virDomainGetState(api.virDomainLookupByName(c, "crashes"), 0) == (SHUTOFF, 3)
    # the monitor is live again: commands and events flow
    api.virDomainSuspend(keep)
    api.virDomainResume(keep)
    assert ev.wait_for("keep", 2) == [(3, 0), (4, 0)]
    # and a new start does not reuse a running domain's id
    api.virDomainCreate(api.virDomainLookupByName(c, "crashes"))
    assert api.virDomainGetID(api.virDomainLookupByName(c, "crashes")) > keep_id
    os.kill(pids["keep"], signal.SIGKILL)
    assert ev.wait_for("keep", 3, timeout=5)[2] == (5, 5)
    for d in api.virConnectListAllDomains(c, 0):
        if api.virDomainIsActive(d):
            api.virDomainDestroy(d)
    api.virConnectClose(c)
    assert qemu_pids(root) == set()


def test_status_follows_each_transition_with_nothing_left_beside_it(root, kernels):
    """Each call returns with its transition's status on disk (a status
    prepared ahead is renamed in only once QEMU has made the transition),
    and a stopped domain leaves no prepared status behind."""
    def on_disk() -> tuple[str, str, str]:
        head = (root / "run/qemu/st.xml").read_text().split(">", 1)[0]
        attrs = dict(a.split("=", 1) for a in head.split()[1:])
        return attrs["state"].strip("'"), attrs["reason"].strip("'"), attrs["pid"].strip("'")

    def leftovers() -> list[str]:
        return sorted(p.name for p in (root / "run/qemu").iterdir() if p.name.endswith(".tmp"))

    c = open_root(root)
    dom = api.virDomainCreateXML(c, domxml("st", kernels["idle"]), 0)
    pid = (root / "run/qemu/st.pid").read_text().strip()
    assert on_disk() == ("running", "booted", pid)
    api.virDomainSuspend(dom)
    assert on_disk() == ("paused", "user", pid)
    api.virDomainSuspend(dom)                 # already paused: nothing changes
    assert on_disk() == ("paused", "user", pid)
    api.virDomainResume(dom)
    assert on_disk() == ("running", "unpaused", pid)
    assert len(leftovers()) <= 1              # at most the one armed for a later suspend
    paused = api.virDomainCreateXML(c, domxml("stp", kernels["idle"]), 1)
    assert "state='paused' reason='user'" in (root / "run/qemu/stp.xml").read_text()
    api.virDomainDestroy(paused)
    api.virDomainSuspend(dom)
    api.virConnectClose(c)                    # reopened: found paused by the user
    assert leftovers() == []
    # a driver killed meanwhile leaves a status written ahead behind (a
    # temp file of statuswrite's); the next driver of the root clears it
    (root / "run/qemu/.st.xml.99999.7.tmp").write_text("<domstatus/>")
    c = open_root(root)
    assert leftovers() == []
    dom = api.virDomainLookupByName(c, "st")
    assert api.virDomainGetState(dom, 0) == (PAUSED, 1)
    api.virDomainDestroy(dom)
    assert not (root / "run/qemu/st.xml").exists()
    assert leftovers() == []
    api.virConnectClose(c)


def test_two_roots_in_one_process(tmp_path, kernels):
    conns = [open_root(tmp_path / f"host{i}") for i in (1, 2)]
    evs = [Events(c) for c in conns]
    doms = [api.virDomainCreateXML(c, domxml("same", kernels["idle"]), 0) for c in conns]
    api.virDomainSuspend(doms[0])
    assert api.virDomainGetState(doms[0], 0) == (PAUSED, 1)
    assert api.virDomainGetState(doms[1], 0) == (RUNNING, 1)
    assert evs[0].wait_for("same", 3) == [(4, 0), (2, 0), (3, 0)]
    assert evs[1].of("same") == [(4, 0), (2, 0)]
    for c, d in zip(conns, doms):
        api.virDomainDestroy(d)
        api.virConnectClose(c)


_CHILD = """
import sys, threading
from pyvirt import api
api.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [api.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
root, kernel, virt = sys.argv[1:4]
c = api.virConnectOpen(f"qemu:///embed?root={root}")
for i in range(100):
    name = f"vm{i}"
    xml = (f"<domain type='{virt}'><name>{name}</name><memory unit='MiB'>32</memory>"
           f"<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{kernel}</kernel></os>"
           "</domain>")
    d = api.virDomainDefineXML(c, xml)
    print("defined", name, flush=True)
    if i % 2 == 0:
        api.virDomainCreate(d)
        print("started", name, flush=True)
    else:
        api.virDomainCreateXML(c, xml.replace(name, name + "t"), 0)
        print("started", name + "t", flush=True)
"""


def test_sigkill_in_the_middle_of_defines_and_starts(root, kernels):
    env = dict(os.environ, PYTHONPATH=str(BUILD / "python"))
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(root), str(kernels["idle"]),
                              VIRT_TYPE], stdout=subprocess.PIPE, text=True, env=env)
    defined, started = [], []
    deadline = time.monotonic() + 60
    target = random.randint(3, 5)
    assert child.stdout is not None
    while len(started) < target and time.monotonic() < deadline:
        line = child.stdout.readline()
        if not line:
            break
        kind, name = line.split()
        (defined if kind == "defined" else started).append(name)
    time.sleep(random.uniform(0, 0.15))       # land somewhere inside the next operation
    child.send_signal(signal.SIGKILL)
    child.wait()
    for line in child.stdout:                 # what it said before dying counts too
        kind, name = line.split()
        (defined if kind == "defined" else started).append(name)
    assert len(started) >= 3, (defined, started)

    c = open_root(root)
    try:
        names = {api.virDomainGetName(d): d for d in api.virConnectListAllDomains(c, 0)}
        for name in defined:
            assert name in names, f"definition of {name} lost"
        tracked = set()
        for name in started:
            d = names[name]
            assert api.virDomainGetState(d, 0) == (RUNNING, 1), name
            api.virDomainSuspend(d)           # proves the monitor is reconnected
            assert api.virDomainGetState(d, 0) == (PAUSED, 1)
            tracked.add(int((root / f"run/qemu/{name}.pid").read_text()))
        for name, d in names.items():         # a start cut short is shut off, not half-run
            if name not in started and api.virDomainIsActive(d):
                assert api.virDomainGetState(d, 0)[0] in (RUNNING, PAUSED)
                tracked.add(int((root / f"run/qemu/{name}.pid").read_text()))
        assert qemu_pids(root) == tracked, "a QEMU runs that no domain accounts for"
    finally:
        for d in api.virConnectListAllDomains(c, 0):
            if api.virDomainIsActive(d):
                api.virDomainDestroy(d)
        api.virConnectClose(c)
    assert qemu_pids(root) == set()


def test_a_connection_closed_right_after_a_start(root, kernels):
    """The driver lets go of a guest whose monitor it is still handing from
    the start to the QMP thread (Monitor.hand_over_soon): the guest runs on,
    and the next driver of the root finds it and talks to it."""
    for delay in (0, 0.0005, 0.001, 0.0012, 0.0015, 0.002, 0.003):   # around HAND_OVER_DELAY
        c = open_root(root)
        api.virDomainCreateXML(c, domxml("fresh", kernels["idle"]), 0)
        time.sleep(delay)
        api.virConnectClose(c)
        c = open_root(root)
        dom = api.virDomainLookupByName(c, "fresh")
        assert api.virDomainGetState(dom, 0) == (RUNNING, 1)
        api.virDomainSuspend(dom)   # the monitor answers
        api.virDomainDestroy(dom)
        api.virConnectClose(c)
    assert qemu_pids(root) == set()


def test_a_root_whose_monitor_paths_outgrow_sun_path(tmp_path, kernels):
    """A monitor socket path over sun_path's 108 bytes (unixsock.py): QEMU
    listens there, the start and a later driver reach it."""
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    c = open_root(deep)
    dom = api.virDomainCreateXML(c, domxml("long", kernels["idle"]), 0)
    monitor = next((deep / "lib/qemu").glob("domain-*-long")) / "monitor.sock"
    assert len(str(monitor).encode()) > 108 and monitor.exists()
    api.virConnectClose(c)
    c = open_root(deep)
    dom = api.virDomainLookupByName(c, "long")
    api.virDomainSuspend(dom)
    assert api.virDomainGetState(dom, 0) == (PAUSED, 1)
    api.virDomainDestroy(dom)
    api.virConnectClose(c)


def test_a_connection_closed_on_the_qmp_thread(root, kernels):
    """The garbage collector may drop a connection on the driver's own QMP
    thread (a handle's __del__ runs in whatever thread it happens): closing
    the driver there waits for the drivers' lock, which an open of a root
    holds while it waits for that very thread (reconnecting to its guests'
    monitors).  The close is handed to another thread."""
    import asyncio
    import concurrent.futures
    import pyvirt.drivers.qemu as qemu_drivers
    from pyvirt.drivers.qemu.monitor import qmp_thread
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    d = api.virDomainCreateXML(c, domxml("onqmp", kernels["idle"]), 0)
    closed: concurrent.futures.Future = concurrent.futures.Future()
    with qemu_drivers._lock:   # as an open holds it, waiting for the QMP thread
        qmp_thread.loop().call_soon_threadsafe(
            lambda: closed.set_result(api.virConnectClose(c)))
        assert closed.result(timeout=10) == 0
        qmp_thread.run(asyncio.sleep(0), timeout=10)   # the QMP thread is free
    c2 = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d2 = api.virDomainLookupByName(c2, "onqmp")
        assert api.virDomainIsActive(d2)
        api.virDomainDestroy(d2)
    finally:
        api.virConnectClose(c2)
