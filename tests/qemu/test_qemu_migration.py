"""Managed migration between two embed roots in one process, with real QEMU:
events, states, job statistics and an abort, as libvirt 9.0 gives them
(shared/reference/libvirt-qemu, section 4)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import guest
from qemutest import (conn, domxml, ensure_event_loop, kill_leftovers, kernels,  # noqa: F401
                      root, until)
from pyvirt import api, migration as mig
from pyvirt.drivers.qemu import miguri
from pyvirt.errors import VirtError

LIVE = mig.VIR_MIGRATE_LIVE
ITER, JOBDONE = 20, 21
# lifecycle (event, detail)
STARTED_MIGRATED, RESUMED_MIGRATED = (2, 1), (4, 1)
SUSPENDED_MIGRATED, SUSPENDED_PAUSED, STOPPED_MIGRATED = (3, 1), (3, 0), (5, 3)
STOPPED_FAILED, DEFINED_ADDED, UNDEFINED_REMOVED = (5, 5), (0, 0), (1, 0)


class Recorder:
    """Lifecycle, MIGRATION_ITERATION and JOB_COMPLETED events of one connection,
    in arrival order: ('lc', event, detail), ('iter', n), ('job', params)."""

    def __init__(self, conn: Any) -> None:
        self.cond = threading.Condition()
        self.items: list[tuple[Any, ...]] = []
        api.virConnectDomainEventRegisterAny(
            conn, None, 0, lambda c, d, e, det: self._add(("lc", e, det)), None)
        api.virConnectDomainEventRegisterAny(
            conn, None, ITER, lambda c, d, n: self._add(("iter", n)), None)
        api.virConnectDomainEventRegisterAny(
            conn, None, JOBDONE, lambda c, d, p: self._add(("job", p)), None)

    def _add(self, item: tuple[Any, ...]) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def lifecycle(self) -> list[tuple[int, int]]:
        with self.cond:
            return [(i[1], i[2]) for i in self.items if i[0] == "lc"]

    def wait(self, pred: Any, timeout: float = 15.0) -> None:
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(self.items) and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())


def migrate_in_thread(src: Any, dst_conn: Any, params: list[Any], flags: int
                      ) -> tuple[threading.Thread, dict[str, Any]]:
    """virDomainMigrate3 on a daemon thread (a failed test must not hold the
    run open): its result's "dom", or "err" (code, message) and "exc"."""
    result: dict[str, Any] = {}

    def run() -> None:
        try:
            result["dom"] = api.virDomainMigrate3(src, dst_conn, params, flags)
        except VirtError as exc:
            result["err"], result["exc"] = (exc.code, str(exc)), exc
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t, result


def assert_precopy_events(src_ev: Recorder, dst_ev: Recorder) -> None:
    """A precopy's events as libvirt 9.0 gives them (reference section 4.1):
    source ITER1.., SUSPENDED/MIGRATED, one more ITER, STOPPED/MIGRATED,
    JOB_COMPLETED; destination STARTED/MIGRATED, RESUMED/MIGRATED, never
    JOB_COMPLETED."""
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    dst_ev.wait(lambda items: len(items) >= 2)
    kinds = [i if i[0] == "lc" else (i[0],) for i in src_ev.items]
    assert kinds[-3:] == [("iter",), ("lc",) + STOPPED_MIGRATED, ("job",)]
    lc_at = kinds.index(("lc",) + SUSPENDED_MIGRATED)
    assert lc_at >= 1 and all(k == ("iter",) for k in kinds[:lc_at])
    assert dst_ev.items == [("lc",) + STARTED_MIGRATED, ("lc",) + RESUMED_MIGRATED]


@pytest.fixture
def two(tmp_path: Path) -> Iterator[tuple[Any, Any, Recorder, Recorder]]:
    ensure_event_loop()
    roots = [tmp_path / "a", tmp_path / "b"]
    conns = [api.virConnectOpen(f"qemu:///embed?root={r}") for r in roots]
    recs = [Recorder(c) for c in conns]
    yield conns[0], conns[1], recs[0], recs[1]
    for c in conns:
        try:
            api.virConnectClose(c)
        except VirtError:
            pass   # closed by the test already (a driver reopened)
    for r in roots:
        kill_leftovers(r)


def _dirty_words(conn: Any, dom: Any, tmp: Path, pages: int = 0) -> list[int]:
    """The first dword of each dirtied page (or of the first `pages`) of a
    dirty guest; SeaBIOS takes seconds here before the kernel runs."""
    rt = conn.driver.runtime[dom.uuid]
    dump = tmp / "mem.bin"
    size = pages * 4096 if pages else guest.DIRTY_END - guest.DIRTY_START
    rt.monitor.execute("pmemsave", {"val": guest.DIRTY_START, "filename": str(dump),
                                    "size": size})
    data = dump.read_bytes()
    return [struct.unpack_from("<I", data, off)[0] for off in range(0, len(data), 4096)]


def _wait_dirtying(conn: Any, dom: Any, tmp: Path) -> None:
    """Wait until a dirty guest has dirtied every page once: before, the pages
    ahead of its first pass still hold what was there at boot, and a migration
    started then could not be checked page by page (guest.past_first_pass)."""
    assert until(lambda: guest.past_first_pass(_dirty_words(conn, dom, tmp, 1)[0]), 60, 0.05)


def start_dirty(conn: Any, rec: Any, name: str, kernel: Any, tmp_path: Any) -> Any:
    """Start the dirty guest `name`, its start events taken out of `rec`, and
    wait until it dirties its pages."""
    dom = api.virDomainCreateXML(conn, domxml(name, kernel), 0)
    rec.wait(lambda items: len(items) >= 2)
    del rec.items[:]
    _wait_dirtying(conn, dom, tmp_path)
    return dom


def _runs(words: list[int]) -> list[tuple[str, int]]:
    """`words` as (hex value, repeat count): a failed check's whole picture."""
    out: list[tuple[str, int]] = []
    for w in words:
        if out and out[-1][0] == hex(w):
            out[-1] = (out[-1][0], out[-1][1] + 1)
        else:
            out.append((hex(w), 1))
    return out


def _check_dirty_memory(conn: Any, dom: Any, tmp: Path) -> None:
    """A migrated dirty guest: paused, every page holds the counter its pass
    left there; resumed, it goes on dirtying them (however slowly: a loaded
    host's nested KVM may take seconds for a pass)."""
    api.virDomainSuspend(dom)
    first = _dirty_words(conn, dom, tmp)
    assert guest.check_dirty(first), _runs(first)[:20]
    api.virDomainResume(dom)
    assert until(lambda: _dirty_words(conn, dom, tmp, 1)[0] > first[0], 60, 0.05)


def test_the_dirty_guests_memory_check(conn, kernels, tmp_path):
    """What the migration tests rely on: during its first pass a dirty guest's
    pages ahead of it prove nothing (check_dirty is false, nothing is lost);
    after it, a paused guest's memory passes the check."""
    first = guest.FIRST_PASS
    assert not guest.check_dirty([first] * 3 + [0] * 2)
    assert not guest.past_first_pass(first)
    assert guest.check_dirty([first + 1] * 3 + [first] * 2)
    assert not guest.check_dirty([first + 1] * 3 + [first, first - 1])
    dom = api.virDomainCreateXML(conn, domxml("dg", kernels["dirty"]), 0)
    _wait_dirtying(conn, dom, tmp_path)
    api.virDomainSuspend(dom)
    words = _dirty_words(conn, dom, tmp_path)
    assert guest.past_first_pass(words[0]) and guest.check_dirty(words), _runs(words)[:20]


def test_precopy_of_a_dirtying_guest(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "mig", kernels["dirty"], tmp_path)
    stats: list[Any] = []
    dst_errors: list[int] = []
    done = threading.Event()

    def poll() -> None:   # job statistics on both sides while it runs
        while not done.is_set():
            try:
                with_job = api.virDomainGetJobStats(src, 0)   # gone once confirmed
                if with_job[0] == mig.VIR_DOMAIN_JOB_UNBOUNDED:
                    stats.append(dict((k, v) for k, _, v in with_job[1]))
            except VirtError:
                pass
            try:
                d = api.virDomainLookupByName(dst_conn, "mig")
                api.virDomainGetJobStats(d, 0)
            except VirtError as exc:
                dst_errors.append(exc.code)
            time.sleep(0.005)
    poller = threading.Thread(target=poll, daemon=True)
    poller.start()
    try:
        ddom = api.virDomainMigrate3(src, dst_conn, [], LIVE)
    finally:
        done.set()
        poller.join()
    assert api.virDomainGetState(ddom, 0) == (1, 2)          # RUNNING/MIGRATED
    with pytest.raises(VirtError) as gone:
        api.virDomainLookupByName(src_conn, "mig")           # transient: gone
    assert gone.value.code == 42
    assert_precopy_events(src_ev, dst_ev)
    iters = [i[1] for i in src_ev.items if i[0] == "iter"]
    assert iters == list(range(1, len(iters) + 1)) and len(iters) >= 2
    job = dict((k, v) for k, _, v in src_ev.items[-1][1])
    assert job["operation"] == mig.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT
    assert job["time_elapsed"] > 0 and "downtime" in job and job["memory_total"] > 0
    assert job["memory_bps"] > 10_000_000    # bytes/s, as libvirt (QEMU says Mbit/s)
    # job statistics: source UNBOUNDED with memory figures; destination refuses
    assert stats and all(s["operation"] == 5 for s in stats)
    assert any(s.get("memory_total", 0) > 0 for s in stats)
    assert set(dst_errors) <= {84, 42} and 84 in dst_errors   # OPERATION_UNSUPPORTED
    assert api.virDomainGetJobStats(ddom, 0) == (mig.VIR_DOMAIN_JOB_NONE, [])
    t, params = api.virDomainGetJobStats(ddom, mig.VIR_DOMAIN_JOB_STATS_COMPLETED)
    assert t == mig.VIR_DOMAIN_JOB_COMPLETED and ("operation", 1, 4) in params
    # the guest's memory came across intact and it keeps running there
    _check_dirty_memory(dst_conn, ddom, tmp_path)


def test_the_tcp_stream_goes_without_nagle():
    """The source's own connection to the destination's QEMU has TCP_NODELAY,
    as libvirt's sockets (with Nagle a precopy's last pass takes about twice
    as long), and blocks, as QEMU's own."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with miguri.connect(miguri.parse(f"tcp://127.0.0.1:{port}")) as sock:
            assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
            assert sock.getblocking()


def test_persistent_paused_undefine_source(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainDefineXML(src_conn, domxml("pmig", kernels["idle"]))
    api.virDomainCreate(src)
    src_ev.wait(lambda items: len(items) >= 3)
    del src_ev.items[:]
    flags = (LIVE | mig.VIR_MIGRATE_PERSIST_DEST | mig.VIR_MIGRATE_UNDEFINE_SOURCE
             | mig.VIR_MIGRATE_PAUSED)
    ddom = api.virDomainMigrate(src, dst_conn, flags, None, None, 0)
    assert api.virDomainGetState(ddom, 0) == (3, 1)          # PAUSED/USER
    assert api.virDomainIsPersistent(ddom) == 1
    assert (dst_conn.driver.layout.config_file("pmig")).exists()
    with pytest.raises(VirtError):
        api.virDomainLookupByName(src_conn, "pmig")          # undefined
    src_ev.wait(lambda items: len([i for i in items if i[0] == "lc"]) >= 3)
    dst_ev.wait(lambda items: len(items) >= 3)
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, STOPPED_MIGRATED, UNDEFINED_REMOVED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, DEFINED_ADDED, SUSPENDED_PAUSED]
    api.virDomainResume(ddom)
    assert api.virDomainGetState(ddom, 0) == (1, 5)


def test_abort_during_precopy_leaves_the_guest_on_the_source(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("amig", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    t, result = migrate_in_thread(src, dst_conn, [("bandwidth", 4, 1)], LIVE)
    assert until(lambda: api.virDomainGetJobStats(src, 0)[0] == 2, 10)
    assert until(lambda: bool(src_ev.items), 10)            # ITER1: QEMU is sending
    api.virDomainAbortJob(src)
    t.join(30)
    assert result["err"] == (78, "operation aborted: job 'migration out' canceled by client")
    dst_ev.wait(lambda items: len(items) >= 2)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert src_ev.lifecycle() == []
    assert api.virDomainGetState(src, 0) == (1, 1)          # RUNNING/BOOTED
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    with pytest.raises(VirtError) as no_job:
        api.virDomainAbortJob(src)
    assert (no_job.value.code, str(no_job.value)) == (
        55, "Requested operation is not valid: no job is active on the domain")
    # the source is free again: a second migration goes through
    ddom = api.virDomainMigrate3(src, dst_conn, [], LIVE)
    assert api.virDomainGetState(ddom, 0) == (1, 2)


def test_refusals(two, kernels, tmp_path):
    src_conn, dst_conn, _, _ = two
    src = api.virDomainCreateXML(src_conn, domxml("rmig", kernels["idle"]), 0)
    with pytest.raises(VirtError) as same:
        api.virDomainMigrate3(src, src_conn, [], LIVE)       # same root: same host
    assert same.value.code == 1 and "Attempt to migrate guest to the same host" in str(same.value)
    with pytest.raises(VirtError) as bad:
        api.virDomainMigrate3(src, dst_conn, [("bandwidth", 7, "x")], LIVE)
    assert bad.value.code == 8
    with pytest.raises(VirtError) as direct:
        api.virDomainMigrateToURI3(src, f"qemu:///embed?root={tmp_path / 'b'}", [], LIVE)
    assert direct.value.code == 55
    assert api.virDomainGetState(src, 0) == (1, 1)
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    # peer-to-peer to the other root, opened in this process
    api.virDomainMigrateToURI3(src, f"qemu:///embed?root={tmp_path / 'b'}",
                               [("migrate_uri", 7, "tcp://127.0.0.1")],
                               LIVE | mig.VIR_MIGRATE_PEER2PEER)
    assert api.virDomainGetState(api.virDomainLookupByName(dst_conn, "rmig"), 0) == (1, 2)


def test_phase_machine_and_event_rules():
    """The shared rules on their own: phases, the post-copy reason correction
    (source only), reasons of STOP and RESUME, the cookie."""
    out = mig.MigrationJob(mig.Direction.OUT, LIVE, mig.MigrationParams())
    with pytest.raises(VirtError):
        out.advance(mig.Phase.CONFIRM3)
    for phase in (mig.Phase.BEGIN3, mig.Phase.PERFORM3):
        out.advance(phase)
    assert mig.paused_reason_on_stop(out) == 2                    # PAUSED_MIGRATION
    # the switchover: continued at once, its STOP handled after migrate-continue,
    # unless someone asked for the STOP, storage mirrors must end first, or done
    out.set_status("active")
    assert mig.continues_at_once(out) and mig.stop_waits_for_switchover(out, None)
    assert not mig.stop_waits_for_switchover(out, 1)              # PAUSED_USER: a suspend
    out.mirrors["drive-mirror-vda"] = "ready"
    assert not mig.continues_at_once(out) and not mig.stop_waits_for_switchover(out, None)
    out.mirrors.clear()
    out.continued = True
    assert not mig.continues_at_once(out) and not mig.stop_waits_for_switchover(out, None)
    out.continued = False
    fix = mig.correction_on_status(out, "postcopy-active", True, 2)
    assert (fix.state, fix.reason, fix.event, fix.detail) == (3, 12, 3, 7)  # SUSPENDED_POSTCOPY
    assert mig.correction_on_status(out, "postcopy-active", False, 1) is None
    # post-copy paused and recovered: source PAUSED/POSTCOPY_FAILED <-> PAUSED/POSTCOPY
    fix = mig.correction_on_status(out, "postcopy-paused", True, 12)
    assert (fix.state, fix.reason, fix.event, fix.detail) == (3, 13, 3, 8)
    assert mig.correction_on_status(out, "postcopy-paused", True, 13) is None
    fix = mig.correction_on_status(out, "postcopy-active", True, 13)
    assert (fix.reason, fix.detail) == (12, 7)
    out.set_status("postcopy-paused")
    assert out.in_postcopy
    for phase in (mig.Phase.POSTCOPY_FAILED, mig.Phase.BEGIN_RESUME,
                  mig.Phase.PERFORM_RESUME, mig.Phase.PERFORM3_DONE, mig.Phase.CONFIRM3):
        out.advance(phase)
    inc = mig.MigrationJob(mig.Direction.IN, LIVE, mig.MigrationParams())
    inc.advance(mig.Phase.PREPARE)
    assert mig.correction_on_status(inc, "postcopy-active", True, 2) is None
    # destination RUNNING/POSTCOPY <-> RUNNING/POSTCOPY_FAILED (RESUMED_POSTCOPY[_FAILED])
    fix = mig.correction_on_status(inc, "postcopy-paused", False, 10)
    assert (fix.state, fix.reason, fix.event, fix.detail) == (1, 11, 4, 4)
    fix = mig.correction_on_status(inc, "postcopy-active", False, 11)
    assert (fix.state, fix.reason, fix.event, fix.detail) == (1, 10, 4, 3)
    assert mig.correction_on_status(inc, "postcopy-active", False, 10) is None
    with pytest.raises(VirtError):
        inc.advance(mig.Phase.PREPARE_RESUME)     # only after POSTCOPY_FAILED
    assert mig.paused_reason_on_stop(inc) is None
    inc.set_status("active")
    assert not mig.continues_at_once(inc) and not mig.stop_waits_for_switchover(inc, None)
    assert mig.running_reason_on_resume(inc) == 2                 # RUNNING_MIGRATED
    inc.set_status("postcopy-active")
    assert mig.running_reason_on_resume(inc) == 10                # RUNNING_POSTCOPY
    cookie = mig.Cookie("x", b"u" * 16, "h", b"h" * 16, {"downtime": 5})
    assert mig.Cookie.parse(cookie.format()) == cookie
    parsed = mig.MigrationParams.parse([("bandwidth", 2, 10), ("migrate_uri", 7, "tcp:h:1")], "f")
    assert (parsed.bandwidth, parsed.uri) == (10, "tcp:h:1")
