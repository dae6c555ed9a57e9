"""The migration rows of `make bench`: one side per process, JSON lines on stdout.

    migbench.py raw DIR KERNEL VIRT ROUNDS [postcopy]
        two QEMU processes with the guest's hardware (bench/rawguest.py)
        driven through plain QMP (bench/rawqmp.py): the destination started
        with -incoming defer + migrate-incoming, the source given the
        connection to it (getfd, migrate fd:) and told to migrate with the
        capabilities a managed migration sets (events, return-path, and
        pause-before-switchover, which libvirt 9.0 always asks for:
        migrate-continue goes out as soon as the source's MIGRATION event
        says pre-switchover), both sides' MIGRATION events read until
        completed (the floor a driver adds to; post-copy: postcopy-ram on
        both, migrate-start-postcopy POSTCOPY_AFTER seconds after migrate,
        the destination continued at postcopy-active)
    migbench.py managed SRC_URI DST_URI KERNEL VIRT ROUNDS [postcopy]
        python3-libvirt on whichever libvirt.so.0 is loaded: a managed
        migration, dom.migrate3(dconn, ...), from SRC_URI to DST_URI
        (pyvirt: two qemu:///embed roots in this process; libvirt 9.0: two
        libvirtd, as libvirt opens one embed root per process only)

Every side migrates the same guest with the parameters the reference pinned
(../shared/reference/libvirt-qemu): KERNEL is the tests' dirty flat kernel built
to write every page from 2 to 240 MiB over and over, in 256 MiB, 1 vCPU, q35;
precopy with bandwidth unlimited; post-copy with 10 MiB/s of precopy bandwidth
and migrate-start-postcopy 2 s after the migration starts.  Per round: start
the guest, wait until its first dirtied page changes (raw: pmemsave; managed:
virDomainMemoryPeek, which is pmemsave too), let it dirty DIRTY_FOR seconds,
migrate live, destroy it on the destination.  SeaBIOS takes seconds to reach
the flat kernel, so a fixed wait would migrate guests of different ages.
Rows:
    migrate_total     the migrate call to its return (raw: spawning the
                      destination QEMU to the source QEMU gone, with the
                      destination running), ns
    migrate_downtime  QEMU's own downtime figure (job stats), ns
with "_postcopy" appended for post-copy rounds, or
{"op": ..., "error": ...}.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from typing import Callable

import rawguest
from rawqmp import EventHook, Qmp, migration_status, pump

MEM_MIB = rawguest.MEM_MIB
# Seconds the guest dirties before it migrates, the same on every side.  A guest
# that began a moment ago (0.5 s) gets a precopy of one of two kinds, at random:
# QEMU's first bandwidth estimate ends it early with ~350 ms of downtime, or it
# goes on and ends with ~60-120 ms.  The older the guest, the rarer the first:
# at 3 s a full bench still saw it in 3 of 9 pyvirt rounds; at 4 s and more,
# none (raw 5 of 5 late; pyvirt at ~4.5 s 5 of 5), as a guest that has run a while.
DIRTY_FOR = 5.0
DIRTY_START = 2 << 20    # the first page tests/qemu/guest.py's dirty kernel writes
DIRTY_END = 240 << 20    # ... and the last: the reference's dirty guest
DIRTIED = 40 << 20       # normal (non-zero) bytes sent once it is dirtying its pages
UNLIMITED = 9223372036853727232   # QEMU's max-bandwidth as libvirt sets "unlimited"
POSTCOPY_BANDWIDTH = 10  # MiB/s of precopy before a post-copy switch, as the reference
POSTCOPY_AFTER = 2.0     # seconds from the migration's start to migrate-start-postcopy


def emit(op: str, **kw: object) -> None:
    print(json.dumps({"op": op, **kw}), flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- raw QEMU ------------------------------------------------------------------------

def spawn_qemu(folder: str, name: str, kernel: str, accel: str, extra: list[str],
               on_event: EventHook | None = None) -> tuple[subprocess.Popen, Qmp]:
    path = os.path.join(folder, f"{name}.qmp")
    if os.path.exists(path):
        os.unlink(path)
    argv = rawguest.argv(name, accel, kernel,
                         "-qmp", f"unix:{path},server=on,wait=off", *extra)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    return proc, Qmp.connect(path, on_event=on_event)


def wait_dirtying(first_page: Callable[[], bytes], timeout: float = 60.0) -> None:
    """Until the guest's first dirtied page (its first bytes: `first_page()`)
    is no longer zero."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(first_page()):
            return
        time.sleep(0.02)
    raise RuntimeError(f"the guest did not start dirtying within {timeout:.0f} s")


def raw_first_page(folder: str, qmp: Qmp) -> bytes:
    page = os.path.join(folder, "page.bin")
    qmp.call("pmemsave", val=DIRTY_START, size=4, filename=page)
    with open(page, "rb") as f:
        return f.read()


def _caps(*names: str) -> list[dict]:
    return [{"capability": name, "state": True} for name in names]


def _continue_at_once(qmp: Qmp, msg: dict) -> None:
    """What a driver must do (libvirt 9.0 always has QEMU pause before the
    switchover): continue as soon as QEMU waits there."""
    if msg["event"] == "MIGRATION" and msg["data"]["status"] == "pre-switchover":
        qmp.send("migrate-continue", state="pre-switchover")


def raw_round(folder: str, kernel: str, accel: str,
              postcopy: bool) -> tuple[int, int]:
    src, sq = spawn_qemu(folder, "src", kernel, accel, [], _continue_at_once)
    dst = None
    try:
        sq.call("cont")
        wait_dirtying(lambda: raw_first_page(folder, sq))
        time.sleep(DIRTY_FOR)
        port = free_port()
        t0 = time.perf_counter_ns()
        dst, dq = spawn_qemu(folder, "dst", kernel, accel, ["-incoming", "defer"])
        # the capabilities a managed migration sets on either side
        extra = ("postcopy-ram",) if postcopy else ()
        sq.call("migrate-set-capabilities", capabilities=_caps(
            "events", "pause-before-switchover", "return-path", *extra))
        dq.call("migrate-set-capabilities", capabilities=_caps(
            "events", "return-path", "late-block-activate", *extra))
        dq.call("migrate-incoming", uri=f"tcp:127.0.0.1:{port}")
        bandwidth = POSTCOPY_BANDWIDTH << 20 if postcopy else UNLIMITED
        sq.call("migrate-set-parameters", **{"max-bandwidth": bandwidth})
        switch_at = time.monotonic() + POSTCOPY_AFTER
        # the stream's connection made here and passed, as libvirt and pyvirt do
        with socket.create_connection(("127.0.0.1", port)) as conn:
            # no Nagle, as the managed sides' (it halves a precopy's downtime)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sq.pass_fd(conn.fileno(), "migrate")
        sq.call("migrate", uri="fd:migrate")
        both_done = lambda: (migration_status(sq) == "completed"  # noqa: E731
                             and migration_status(dq) == "completed")
        if postcopy:   # as the managed sides: switch POSTCOPY_AFTER after the start
            pump([sq, dq], lambda: time.monotonic() >= switch_at)
            sq.call("migrate-start-postcopy")
            pump([sq, dq], lambda: migration_status(dq) in ("postcopy-active", "completed"))
            dq.call("cont")
            pump([sq, dq], both_done)
        else:
            pump([sq, dq], both_done)
            dq.call("cont")
        info = sq.call("query-migrate")
        src.send_signal(signal.SIGTERM)
        src.wait()
        t1 = time.perf_counter_ns()
        dq.close()
        return t1 - t0, int(info["downtime"]) * 1_000_000
    finally:
        sq.close()
        for p in (src, dst):
            if p is not None and p.poll() is None:
                p.kill()
                p.wait()


def run_raw(folder: str, kernel: str, virt: str, rounds: int, postcopy: bool) -> None:
    accel = "kvm" if virt == "kvm" else "tcg"
    suffix = "_postcopy" if postcopy else ""
    for _ in range(rounds):
        try:
            total, down = raw_round(folder, kernel, accel, postcopy)
        except (OSError, EOFError, RuntimeError, KeyError) as e:
            for op in ("migrate_total", "migrate_downtime"):
                emit(op + suffix, error=f"raw QEMU: {e}")
            return
        emit("migrate_total" + suffix, ns=total)
        emit("migrate_downtime" + suffix, ns=down)


# -- a managed migration through the libvirt API ---------------------------------------

def domain_xml(kernel: str, virt: str) -> str:
    return (f"<domain type='{virt}'><name>migbench</name>"
            f"<memory unit='MiB'>{MEM_MIB}</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{kernel}</kernel></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def run_managed(src_uri: str, dst_uri: str, kernel: str, virt: str, rounds: int,
                postcopy: bool) -> None:
    import libvirt
    suffix = "_postcopy" if postcopy else ""
    ops = ("migrate_total" + suffix, "migrate_downtime" + suffix)
    libvirt.registerErrorHandler(lambda c, e: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()
    try:
        src, dst = libvirt.open(src_uri), libvirt.open(dst_uri)
    except libvirt.libvirtError as e:
        for op in ops:
            emit(op, error=f"does not open: {e}")
        return
    done: list = []
    cond = threading.Condition()

    def job_completed(conn, dom, params, opaque) -> None:
        with cond:
            done.append(params)
            cond.notify_all()
    src.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                               job_completed, None)
    switched: list = []   # per round: "" once migrateStartPostCopy took, else why not
    flags = libvirt.VIR_MIGRATE_LIVE | (libvirt.VIR_MIGRATE_POSTCOPY if postcopy else 0)
    xml = domain_xml(kernel, virt)
    try:   # warm up: libvirt probes QEMU's capabilities on first use, on either side
        for conn in (src, dst):
            conn.createXML(xml, 0).destroy()
    except libvirt.libvirtError as e:
        for op in ops:
            emit(op, error=str(e))
        _cleanup(src, dst)
        return
    for _ in range(rounds):
        ddom = None
        try:
            dom = src.createXML(xml, 0)
            wait_dirtying(lambda: dom.memoryPeek(DIRTY_START, 4, libvirt.VIR_MEMORY_PHYSICAL))
            time.sleep(DIRTY_FOR)
            params = {libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://127.0.0.1:{free_port()}"}
            if postcopy:
                params[libvirt.VIR_MIGRATE_PARAM_BANDWIDTH] = POSTCOPY_BANDWIDTH
            with cond:
                del done[:]
            del switched[:]
            switch = threading.Timer(POSTCOPY_AFTER,
                                     lambda d=dom: switched.append(_start_postcopy(d)))
            t0 = time.perf_counter_ns()
            if postcopy:
                switch.start()
            ddom = dom.migrate3(dst, params, flags)
            t1 = time.perf_counter_ns()
            switch.cancel()
            if postcopy:
                switch.join()
            with cond:
                cond.wait_for(lambda: done, 30)
            if not done:
                raise RuntimeError("no JOB_COMPLETED event within 30 s")
            if postcopy and "" not in switched:
                raise RuntimeError("post-copy did not start: "
                                   + (switched[0] if switched else "no iteration event"))
            down = done[0].get("downtime")
            if down is None:
                raise RuntimeError(f"JOB_COMPLETED has no downtime: {sorted(done[0])}")
            sent = done[0].get("memory_normal_bytes", DIRTIED)
            if sent < DIRTIED:
                raise RuntimeError(f"sent {sent} normal bytes: the guest was not dirtying")
        except (libvirt.libvirtError, RuntimeError) as e:
            for op in ops:
                emit(op, error=str(e))
            _cleanup(src, dst)
            return
        finally:
            if ddom is not None:
                try:
                    ddom.destroy()
                except libvirt.libvirtError:
                    pass
        emit(ops[0], ns=t1 - t0)
        emit(ops[1], ns=int(down) * 1_000_000)
    src.close()
    dst.close()


def _start_postcopy(dom) -> str:
    import libvirt
    try:
        dom.migrateStartPostCopy(0)
        return ""
    except libvirt.libvirtError as e:   # converged first: a precopy it was
        return str(e)


def _cleanup(*conns) -> None:
    import libvirt
    for c in conns:
        try:
            for d in c.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE):
                d.destroy()
        except libvirt.libvirtError:
            pass


def main() -> int:
    mode = sys.argv[1]
    if mode == "raw":
        folder, kernel, virt, rounds = sys.argv[2:6]
        run_raw(folder, kernel, virt, int(rounds), sys.argv[6:7] == ["postcopy"])
    else:
        src_uri, dst_uri, kernel, virt, rounds = sys.argv[2:7]
        run_managed(src_uri, dst_uri, kernel, virt, int(rounds), sys.argv[7:8] == ["postcopy"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
