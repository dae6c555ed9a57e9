"""Post-copy migration between two embed roots with real QEMU: switchover,
pause (VIR_DOMAIN_ABORT_JOB_POSTCOPY) and recovery (VIR_MIGRATE_POSTCOPY_RESUME),
with the events and states libvirt 9.0 gives on both sides
(shared/reference/libvirt-qemu, sections 4.2 and 4.5), and the max downtime /
max speed calls."""

from __future__ import annotations

import dataclasses
import os
import threading
import time
from typing import Any

import pytest

from qemutest import domxml, kernels, until  # noqa: F401
from test_qemu_migration import (RESUMED_MIGRATED, STARTED_MIGRATED, STOPPED_MIGRATED,  # noqa: F401
                                 SUSPENDED_MIGRATED, _check_dirty_memory, _wait_dirtying, start_dirty,
                                 two, migrate_in_thread)
from pyvirt import api, migration as mig
from pyvirt.drivers.qemu.monitor import qmp_thread
from pyvirt.errors import VirtError

LIVE, POSTCOPY = mig.VIR_MIGRATE_LIVE, mig.VIR_MIGRATE_POSTCOPY
ULLONG = mig.P_ULLONG
SUSPENDED_POSTCOPY, SUSPENDED_POSTCOPY_FAILED = (3, 7), (3, 8)
RESUMED_POSTCOPY, RESUMED_POSTCOPY_FAILED = (4, 3), (4, 4)
# states (state, reason)
RUNNING_BOOTED, RUNNING_MIGRATED, RUNNING_POSTCOPY, RUNNING_POSTCOPY_FAILED = \
    (1, 1), (1, 2), (1, 10), (1, 11)
PAUSED_MIGRATION, PAUSED_STARTING_UP, PAUSED_POSTCOPY, PAUSED_POSTCOPY_FAILED = \
    (3, 2), (3, 11), (3, 12), (3, 13)


class States:
    """Distinct (state, reason) of a domain on each side, polled every 5 ms."""

    def __init__(self, src: Any, dst_conn: Any, name: str) -> None:
        self.src: list[tuple[int, int]] = []
        self.dst: list[tuple[int, int]] = []
        self._stop = threading.Event()
        self._args = (src, dst_conn, name)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def _add(seq: list[tuple[int, int]], state: tuple[int, int]) -> None:
        if not seq or seq[-1] != state:
            seq.append(state)

    def _run(self) -> None:
        src, dst_conn, name = self._args
        while not self._stop.is_set():
            for seq, get in ((self.src, lambda: src),
                             (self.dst, lambda: api.virDomainLookupByName(dst_conn, name))):
                try:
                    self._add(seq, tuple(api.virDomainGetState(get(), 0)))
                except VirtError:
                    pass
            time.sleep(0.005)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def pause_postcopy(src: Any, dst_conn: Any, src_ev: Any, dst_ev: Any, flags: int,
                   extra: tuple = ()) -> None:
    """Migrate at 10 MiB/s (post-copy 1 MiB/s), switch to post-copy once
    precopy runs, and pause it (ABORT_JOB_POSTCOPY): the migrate call fails
    with OPERATION_FAILED and the post-copy stays paused on both sides.
    `extra`: more typed parameters (a URI)."""
    params = [("bandwidth", ULLONG, 10), ("bandwidth.postcopy", ULLONG, 1), *extra]
    t, result = migrate_in_thread(src, dst_conn, params, flags)
    src_ev.wait(lambda items: any(i[0] == "iter" for i in items), 40)
    api.virDomainMigrateStartPostCopy(src, 0)
    dst_ev.wait(lambda items: ("lc",) + RESUMED_POSTCOPY in items)
    api.virDomainAbortJobFlags(src, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
    t.join(30)
    assert result.get("err", (0,))[0] == 9, result


def test_postcopy_of_a_dirtying_guest(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "pc", kernels["dirty"], tmp_path)
    states = States(src, dst_conn, "pc")
    params = [("bandwidth", ULLONG, 10), ("bandwidth.postcopy", ULLONG, 100)]
    t, result = migrate_in_thread(src, dst_conn, params, LIVE | POSTCOPY)
    try:
        src_ev.wait(lambda items: any(i[0] == "iter" for i in items), 40)
        assert any(i[0] == "iter" for i in src_ev.items), (result, src_ev.items, dst_ev.items)
        assert api.virDomainMigrateGetMaxSpeed(src, mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY) \
            == 100
        api.virDomainMigrateStartPostCopy(src, 0)
        assert until(lambda: PAUSED_POSTCOPY in states.src, 10)
        # during post-copy the source's job is still UNBOUNDED, with page requests
        kind, stats = api.virDomainGetJobStats(src, 0)
        assert kind == mig.VIR_DOMAIN_JOB_UNBOUNDED and ("operation", 1, 5) in stats
        t.join(60)
    finally:
        states.stop()
    assert "dom" in result, result
    ddom = result["dom"]
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    dst_ev.wait(lambda items: len(items) >= 3)
    # source: ITER1.., SUSPENDED/MIGRATED, SUSPENDED/POSTCOPY, ITERn+1, STOPPED/MIGRATED, JOB
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, SUSPENDED_POSTCOPY, STOPPED_MIGRATED]
    kinds = [i if i[0] == "lc" else (i[0],) for i in src_ev.items]
    first_lc = kinds.index(("lc",) + SUSPENDED_MIGRATED)
    assert first_lc >= 1 and all(k == ("iter",) for k in kinds[:first_lc])
    assert ("iter",) in kinds[first_lc:kinds.index(("lc",) + STOPPED_MIGRATED)]
    assert kinds[-1] == ("job",)
    job = dict((k, v) for k, _, v in src_ev.items[-1][1])
    assert job["operation"] == mig.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT
    assert "memory_postcopy_requests" in job
    # destination: two RESUMED, never SUSPENDED/POSTCOPY, never JOB_COMPLETED
    assert dst_ev.items == [("lc",) + STARTED_MIGRATED, ("lc",) + RESUMED_POSTCOPY,
                            ("lc",) + RESUMED_MIGRATED]
    # states: src RUNNING/BOOTED -> PAUSED/MIGRATION (ms) -> PAUSED/POSTCOPY -> gone;
    # dst PAUSED/STARTING_UP -> PAUSED/MIGRATION -> RUNNING/POSTCOPY -> RUNNING/MIGRATED
    assert states.src[0] == RUNNING_BOOTED and states.src[-1] == PAUSED_POSTCOPY
    assert set(states.src) <= {RUNNING_BOOTED, PAUSED_MIGRATION, PAUSED_POSTCOPY}
    assert RUNNING_POSTCOPY in states.dst and states.dst[-1] == RUNNING_MIGRATED
    order = [PAUSED_STARTING_UP, PAUSED_MIGRATION, RUNNING_POSTCOPY, RUNNING_MIGRATED]
    assert [order.index(s) for s in states.dst] == sorted(order.index(s) for s in states.dst)
    # after post-copy the destination keeps no completed statistics
    assert api.virDomainGetJobStats(ddom, mig.VIR_DOMAIN_JOB_STATS_COMPLETED) == (0, [])
    _check_dirty_memory(dst_conn, ddom, tmp_path)


def test_postcopy_paused_and_resumed(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "pr", kernels["dirty"], tmp_path)
    params = [("bandwidth", ULLONG, 10), ("bandwidth.postcopy", ULLONG, 1)]
    t, result = migrate_in_thread(src, dst_conn, params, LIVE | POSTCOPY)
    src_ev.wait(lambda items: any(i[0] == "iter" for i in items), 40)
    assert any(i[0] == "iter" for i in src_ev.items), (result, src_ev.items, dst_ev.items)
    api.virDomainMigrateStartPostCopy(src, 0)
    dst_ev.wait(lambda items: ("lc",) + RESUMED_POSTCOPY in items)
    with pytest.raises(VirtError) as plain:
        api.virDomainAbortJob(src)
    assert (plain.value.code, str(plain.value)) == (
        55, "Requested operation is not valid: cannot abort migration in post-copy mode")
    api.virDomainAbortJobFlags(src, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
    t.join(30)
    assert result.get("err") == (
        9, "operation failed: job 'migration in' failed in post-copy phase"), result
    ddom = api.virDomainLookupByName(dst_conn, "pr")
    assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY_FAILED
    assert api.virDomainGetState(ddom, 0) == RUNNING_POSTCOPY_FAILED
    # events reach the callbacks through the event loop's thread
    src_ev.wait(lambda items: len(src_ev.lifecycle()) >= 3)
    dst_ev.wait(lambda items: len(dst_ev.lifecycle()) >= 3)
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, SUSPENDED_POSTCOPY,
                                  SUSPENDED_POSTCOPY_FAILED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_POSTCOPY, RESUMED_POSTCOPY_FAILED]
    # recovery, without the post-copy throttle: it runs to completion
    ddom = api.virDomainMigrate3(src, dst_conn, [],
                                 LIVE | POSTCOPY | mig.VIR_MIGRATE_POSTCOPY_RESUME)
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    dst_ev.wait(lambda items: len(dst_ev.lifecycle()) >= 5)
    assert src_ev.lifecycle()[3:] == [SUSPENDED_POSTCOPY, STOPPED_MIGRATED]
    assert dst_ev.lifecycle()[3:] == [RESUMED_POSTCOPY, RESUMED_MIGRATED]
    assert src_ev.items[-1][0] == "job" and not any(i[0] == "job" for i in dst_ev.items)
    with pytest.raises(VirtError):
        api.virDomainLookupByName(src_conn, "pr")
    _check_dirty_memory(dst_conn, ddom, tmp_path)


def test_postcopy_refusals_and_migration_parameters(two, kernels):
    src_conn, dst_conn, src_ev, _ = two
    src = api.virDomainCreateXML(src_conn, domxml("pp", kernels["idle"]), 0)
    with pytest.raises(VirtError) as no_job:
        api.virDomainMigrateStartPostCopy(src, 0)
    assert (no_job.value.code, str(no_job.value)) == (
        55, "Requested operation is not valid: post-copy can only be started while "
            "outgoing migration is in progress")
    with pytest.raises(VirtError) as no_pc:
        api.virDomainAbortJobFlags(src, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
    assert no_pc.value.code == 55
    with pytest.raises(VirtError) as no_resume:
        api.virDomainMigrate3(src, dst_conn, [], LIVE | POSTCOPY | mig.VIR_MIGRATE_POSTCOPY_RESUME)
    assert no_resume.value.code == 55
    # max downtime and speed: QEMU's migration parameters
    assert api.virDomainMigrateGetMaxDowntime(src, 0) == 300
    api.virDomainMigrateSetMaxDowntime(src, 50, 0)
    assert api.virDomainMigrateGetMaxDowntime(src, 0) == 50
    assert api.virDomainMigrateGetMaxSpeed(src, 0) == mig.BANDWIDTH_MAX
    api.virDomainMigrateSetMaxSpeed(src, 100, 0)
    assert api.virDomainMigrateGetMaxSpeed(src, 0) == 100
    pc = mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY
    assert api.virDomainMigrateGetMaxSpeed(src, pc) == 0
    api.virDomainMigrateSetMaxSpeed(src, 20, pc)
    assert api.virDomainMigrateGetMaxSpeed(src, pc) == 20
    with pytest.raises(VirtError) as big:
        api.virDomainMigrateSetMaxSpeed(src, mig.BANDWIDTH_MAX + 1, 0)
    assert big.value.code == 82
    # post-copy needs VIR_MIGRATE_POSTCOPY; max speed 1 MiB/s keeps precopy going
    api.virDomainMigrateSetMaxSpeed(src, 1, 0)
    t, result = migrate_in_thread(src, dst_conn, [], LIVE)
    assert until(lambda: api.virDomainGetJobStats(src, 0)[0] == 2, 10)
    with pytest.raises(VirtError) as no_flag:
        api.virDomainMigrateStartPostCopy(src, 0)
    assert (no_flag.value.code, str(no_flag.value)) == (
        55, "Requested operation is not valid: switching to post-copy requires migration "
            "to be started with VIR_MIGRATE_POSTCOPY flag")
    api.virDomainAbortJob(src)
    t.join(30)
    assert result.get("err", (0,))[0] == 78, result
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    # a domain that is not running: speed kept for later, downtime refused
    off = api.virDomainDefineXML(src_conn, domxml("pq", kernels["idle"]))
    api.virDomainMigrateSetMaxSpeed(off, 5, 0)
    assert api.virDomainMigrateGetMaxSpeed(off, 0) == 5
    with pytest.raises(VirtError) as not_running:
        api.virDomainMigrateGetMaxDowntime(off, 0)
    assert (not_running.value.code, str(not_running.value)) == (
        55, "Requested operation is not valid: domain is not running")


def test_paused_postcopy_given_up(two, kernels, tmp_path):
    """A paused post-copy that is not resumed: refusals while paused, then
    destroy on both sides ends both jobs; the persistent source starts again."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainDefineXML(src_conn, domxml("pg", kernels["dirty"]))
    api.virDomainCreate(src)
    src_ev.wait(lambda items: len(items) >= 3)
    del src_ev.items[:]
    _wait_dirtying(src_conn, src, tmp_path)
    pause_postcopy(src, dst_conn, src_ev, dst_ev, LIVE | POSTCOPY)
    with pytest.raises(VirtError) as again:
        api.virDomainAbortJobFlags(src, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
    assert (again.value.code, str(again.value)) == (
        55, "Requested operation is not valid: current job is not outgoing migration "
            "in post-copy mode")
    with pytest.raises(VirtError) as no_flag:
        api.virDomainMigrate3(src, dst_conn, [], LIVE | mig.VIR_MIGRATE_POSTCOPY_RESUME)
    assert no_flag.value.code == 74    # resuming requires VIR_MIGRATE_POSTCOPY
    assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY_FAILED
    api.virDomainDestroy(api.virDomainLookupByName(dst_conn, "pg"))
    api.virDomainDestroy(src)
    assert api.virDomainGetState(src, 0)[0] == 5
    api.virDomainCreate(src)              # the migration job did not outlive QEMU
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED


def test_paused_postcopy_outlives_the_driver_and_a_failed_recovery(two, kernels, tmp_path):
    """The paused post-copy job is in the status file: a driver opened again on
    the source's root finds it; a recovery that fails leaves it paused on both
    sides, and a second one completes the migration."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "pk", kernels["dirty"], tmp_path)
    pause_postcopy(src, dst_conn, src_ev, dst_ev, LIVE | POSTCOPY)
    status_file = src_conn.driver.layout.status_file("pk")
    assert "<job async='migration out' phase='postcopy_failed'" in status_file.read_text()
    # the source's driver goes away (its QEMU stays) and comes back
    api.virConnectClose(src_conn)
    src_conn = api.virConnectOpen(f"qemu:///embed?root={tmp_path / 'a'}")
    try:
        src = api.virDomainLookupByName(src_conn, "pk")
        assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY_FAILED
        with pytest.raises(VirtError) as busy:     # the job is still there
            api.virDomainAbortJobFlags(src, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY)
        assert busy.value.code == 55
        resume = LIVE | POSTCOPY | mig.VIR_MIGRATE_POSTCOPY_RESUME
        with pytest.raises(VirtError) as failed:   # the destination cannot listen there
            api.virDomainMigrate3(src, dst_conn, [("listen_address", 7, "192.0.2.1")], resume)
        assert (failed.value.code, str(failed.value)) == (
            1, "internal error: unable to execute QEMU command 'migrate-recover': "
               "Failed to bind socket: Cannot assign requested address")
        ddom = api.virDomainLookupByName(dst_conn, "pk")
        assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY_FAILED
        assert api.virDomainGetState(ddom, 0) == RUNNING_POSTCOPY_FAILED
        ddom = api.virDomainMigrate3(src, dst_conn, [], resume)
        assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
        with pytest.raises(VirtError):
            api.virDomainLookupByName(src_conn, "pk")
        assert not status_file.exists()
        dst_ev.wait(lambda items: len(dst_ev.lifecycle()) >= 5)
        assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_POSTCOPY,
                                      RESUMED_POSTCOPY_FAILED, RESUMED_POSTCOPY,
                                      RESUMED_MIGRATED]
        _check_dirty_memory(dst_conn, ddom, tmp_path)
    finally:
        api.virConnectClose(src_conn)


def test_active_postcopy_followed_by_a_reopened_source_driver(two, kernels, tmp_path):
    """The source's driver goes away in the middle of an active (not paused)
    post-copy, before Confirm; the driver opened again takes the job over and,
    when QEMU completes it, ends it as libvirt 9.0's unattended migration does:
    STOPPED/MIGRATED and JOB_COMPLETED on the source, the destination's Finish
    giving RESUMED/MIGRATED."""
    from test_qemu_migration import Recorder
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "pa", kernels["dirty"], tmp_path)
    srcd, dstd = src_conn.driver, dst_conn.driver
    flags = LIVE | POSTCOPY
    params = mig.MigrationParams()
    params.bandwidth, params.bandwidth_postcopy = 10, 1   # post-copy lasts until sped up
    cookie, params.dom_xml = srcd.domain_migrate_begin3_params(src, params, flags)
    cookie, uri = dstd.domain_migrate_prepare3_params(dst_conn, params, cookie, flags)
    perform: dict[str, Any] = {}

    def run_perform() -> None:
        perform["cookie"] = srcd.domain_migrate_perform3_params(
            src, None, dataclasses.replace(params, uri=uri), cookie, flags)
    t = threading.Thread(target=run_perform, daemon=True)
    t.start()
    src_ev.wait(lambda items: any(i[0] == "iter" for i in items), 40)
    api.virDomainMigrateStartPostCopy(src, 0)
    t.join(30)
    assert "cookie" in perform
    assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY
    finish: dict[str, Any] = {}

    def run_finish() -> None:
        finish["dom"], _ = dstd.domain_migrate_finish3_params(
            dst_conn, params, perform["cookie"], flags, False)
    f = threading.Thread(target=run_finish, daemon=True)
    f.start()
    dst_ev.wait(lambda items: ("lc",) + RESUMED_POSTCOPY in items)
    status_file = srcd.layout.status_file("pa")
    assert "<job async='migration out'" in status_file.read_text()
    api.virConnectClose(src_conn)        # its QEMU goes on sending pages
    src_conn = api.virConnectOpen(f"qemu:///embed?root={tmp_path / 'a'}")
    try:
        rec = Recorder(src_conn)
        src = api.virDomainLookupByName(src_conn, "pa")
        assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY
        assert api.virDomainGetJobStats(src, 0)[0] == mig.VIR_DOMAIN_JOB_UNBOUNDED
        # the QMP thread yields to QEMU's as while Perform ran (monitor.py batch)
        assert os.sched_getscheduler(qmp_thread._tid) == os.SCHED_BATCH
        api.virDomainMigrateSetMaxSpeed(src, 0, mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY)
        f.join(60)
        ddom = finish["dom"]
        assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
        rec.wait(lambda items: any(i[0] == "job" for i in items), 30)
        assert rec.lifecycle() == [STOPPED_MIGRATED]
        assert rec.items[-1][0] == "job"
        with pytest.raises(VirtError):
            api.virDomainLookupByName(src_conn, "pa")
        assert not status_file.exists()
        assert os.sched_getscheduler(qmp_thread._tid) == os.SCHED_OTHER
        assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_POSTCOPY, RESUMED_MIGRATED]
        assert not any(i[0] == "job" for i in dst_ev.items)
        _check_dirty_memory(dst_conn, ddom, tmp_path)
    finally:
        api.virConnectClose(src_conn)


def test_completed_precopy_is_not_resumed_by_a_reopened_source_driver(two, kernels, tmp_path):
    """The source's driver goes away after Perform reported a completed
    precopy, before Finish and Confirm: the driver opened again must not run
    the guest (the destination's Finish runs it there), so it stays paused,
    as libvirt 9.0 leaves a source recovered in phase PERFORM3_DONE."""
    src_conn, dst_conn, _, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("pd", kernels["idle"]), 0)
    srcd, dstd = src_conn.driver, dst_conn.driver
    params = mig.MigrationParams()
    cookie, params.dom_xml = srcd.domain_migrate_begin3_params(src, params, LIVE)
    cookie, uri = dstd.domain_migrate_prepare3_params(dst_conn, params, cookie, LIVE)
    cookie = srcd.domain_migrate_perform3_params(
        src, None, dataclasses.replace(params, uri=uri), cookie, LIVE)
    assert api.virDomainGetState(src, 0) == PAUSED_MIGRATION
    status_file = srcd.layout.status_file("pd")
    assert "phase='perform3_done'" in status_file.read_text()
    api.virConnectClose(src_conn)
    src_conn = api.virConnectOpen(f"qemu:///embed?root={tmp_path / 'a'}")
    try:
        src = api.virDomainLookupByName(src_conn, "pd")
        assert api.virDomainGetState(src, 0) == PAUSED_MIGRATION
        ddom, _ = dstd.domain_migrate_finish3_params(dst_conn, params, cookie, LIVE, False)
        assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
        dst_ev.wait(lambda items: len(dst_ev.lifecycle()) >= 2)
        assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_MIGRATED]
        # the source's QEMU was never continued: the guest runs on one side only
        rt = src_conn.driver.runtime[src.uuid]
        assert rt.monitor.execute("query-status")["running"] is False
        assert api.virDomainGetState(src, 0) == PAUSED_MIGRATION
        api.virDomainDestroy(src)
    finally:
        api.virConnectClose(src_conn)
