"""Parallel (multifd) migration, VIR_MIGRATE_PARALLEL, between two embed roots
with real QEMU, as libvirt 9.0 does it.  Learned from two real libvirtd
(shared/reference/libvirt-qemu/daemons.sh, QMP traced):

* both sides: capability multifd, and parallel.connections as
  multifd-channels (not sent when not given: QEMU's default, 2);
* the source hands QEMU tcp:HOST:PORT (QEMU opens 1 + N connections itself)
  instead of the fd: of a plain migration;
* afterwards the capabilities go off and the parameters back to QEMU's own;
* events and job statistics as a plain precopy (no multifd-only statistics).
"""

from __future__ import annotations

import socket
import threading
import time
from typing import Any

import pytest

from qemutest import domxml, kernels, until  # noqa: F401
from test_qemu_migration import (LIVE, RESUMED_MIGRATED, STARTED_MIGRATED,  # noqa: F401
                                 STOPPED_FAILED, STOPPED_MIGRATED, SUSPENDED_MIGRATED,
                                 _check_dirty_memory, _wait_dirtying, assert_precopy_events,
                                 start_dirty,
                                 two, migrate_in_thread)
from pyvirt import api, migration as mig
from pyvirt.errors import VirtError

PARALLEL = mig.VIR_MIGRATE_PARALLEL
P_INT, P_ULLONG, P_STRING = 1, 4, 7


def _free_port() -> int:
    with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
        s.bind(("::", 0))
        return int(s.getsockname()[1])


def _established_to(port: int) -> set[str]:
    """The remote ends of the established TCP connections whose local port is
    `port` (the destination QEMU's accepted migration channels)."""
    peers = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if state == "01" and int(local.rsplit(":", 1)[1], 16) == port:
                    peers.add(remote)
    return peers


class Watch:
    """While a migration runs: who is connected to the destination's port,
    and the source's job statistics."""

    def __init__(self, src: Any, port: int) -> None:
        self.src, self.port = src, port
        self.peers: set[str] = set()
        self.stats: list[dict[str, Any]] = []
        self.done = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        while not self.done.is_set():
            self.peers |= _established_to(self.port)
            try:
                t, params = api.virDomainGetJobStats(self.src, 0)
                if t == mig.VIR_DOMAIN_JOB_UNBOUNDED:
                    self.stats.append({k: v for k, _, v in params})
            except VirtError:
                pass   # gone once confirmed
            time.sleep(0.005)

    def stop(self) -> None:
        self.done.set()
        self.thread.join()


def _qmp(conn: Any, dom: Any, cmd: str) -> Any:
    return conn.driver.runtime[dom.uuid].monitor.execute(cmd, None)


def _multifd(conn: Any, dom: Any) -> tuple[bool, int]:
    caps = {c["capability"]: c["state"] for c in _qmp(conn, dom, "query-migrate-capabilities")}
    return caps["multifd"], _qmp(conn, dom, "query-migrate-parameters")["multifd-channels"]


def test_parallel_precopy_of_a_dirtying_guest(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "pmig", kernels["dirty"], tmp_path)
    port = _free_port()
    watch = Watch(src, port)
    try:
        ddom = api.virDomainMigrate3(src, dst_conn, [
            ("migrate_uri", P_STRING, f"tcp://127.0.0.1:{port}"),
            ("parallel.connections", P_INT, 4)], LIVE | PARALLEL)
    finally:
        watch.stop()
    assert api.virDomainGetState(ddom, 0) == (1, 2)          # RUNNING/MIGRATED
    # the main channel and four multifd channels, each its own connection
    assert len(watch.peers) == 5, watch.peers
    assert_precopy_events(src_ev, dst_ev)   # those of a plain precopy
    # job statistics as libvirt 9.0 gives them: no multifd-only fields
    assert watch.stats and all(s["operation"] == 5 for s in watch.stats)
    assert any(s.get("memory_processed", 0) > 0 for s in watch.stats)
    assert not any(k.startswith("multifd") for s in watch.stats for k in s)
    job = dict((k, v) for k, _, v in src_ev.items[-1][1])
    assert job["memory_total"] > 0 and "downtime" in job
    # the destination's QEMU was put back: multifd off, QEMU's 2 channels
    assert _multifd(dst_conn, ddom) == (False, 2)
    _check_dirty_memory(dst_conn, ddom, tmp_path)


def test_parallel_with_postcopy_flag_completes_as_precopy(two, kernels):
    """libvirt 9.0 lets PARALLEL and POSTCOPY go together (QEMU 7.2 takes
    both capabilities); without migrate-start-postcopy it is a precopy.
    Without parallel.connections QEMU uses its default two channels.
    (Switching to post-copy then makes the destination QEMU 7.2 abort in
    yank_unregister_instance, with real libvirt too: not exercised here.)"""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("pcmig", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    port = _free_port()
    watch = Watch(src, port)
    try:
        ddom = api.virDomainMigrate3(src, dst_conn, [
            ("migrate_uri", P_STRING, f"tcp://127.0.0.1:{port}"),
            ("bandwidth", P_ULLONG, 1)], LIVE | PARALLEL | mig.VIR_MIGRATE_POSTCOPY)
    finally:
        watch.stop()
    assert api.virDomainGetState(ddom, 0) == (1, 2)
    assert len(watch.peers) == 3, watch.peers
    dst_ev.wait(lambda items: len(items) >= 2)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_MIGRATED]
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, STOPPED_MIGRATED]


def test_abort_during_parallel_migration(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("amig", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    # dirtying: at 1 MiB/s the migration then lasts far beyond the abort (a
    # guest still booting has zero pages only, which take no time to send)
    _wait_dirtying(src_conn, src, tmp_path)
    del src_ev.items[:]
    port = _free_port()
    t, result = migrate_in_thread(src, dst_conn, [
        ("migrate_uri", P_STRING, f"tcp://127.0.0.1:{port}"),
        ("parallel.connections", P_INT, 3), ("bandwidth", P_ULLONG, 1)], LIVE | PARALLEL)
    assert until(lambda: len(_established_to(port)) == 4, 15)   # QEMU is sending
    assert api.virDomainGetJobStats(src, 0)[0] == mig.VIR_DOMAIN_JOB_UNBOUNDED
    api.virDomainAbortJob(src)
    t.join(30)
    assert result["err"] == (78, "operation aborted: job 'migration out' canceled by client")
    assert result["exc"].domain == 10
    dst_ev.wait(lambda items: len(items) >= 2)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert src_ev.lifecycle() == []
    assert api.virDomainGetState(src, 0) == (1, 1)          # RUNNING/BOOTED
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert _multifd(src_conn, src) == (False, 2)             # reset, as libvirt
    # a plain migration goes through afterwards
    ddom = api.virDomainMigrate3(src, dst_conn, [], LIVE)
    assert api.virDomainGetState(ddom, 0) == (1, 2)


# (flags, params) -> (code, domain, message), from real libvirt 9.0 + QEMU 7.2
# (two libvirtd, migrate3 A -> B); the QEMU errors come from the destination's
# Prepare, its QEMU killed before any event.
REFUSALS = [
    (LIVE, [("parallel.connections", P_INT, 4)],
     (8, 10, "invalid argument: Turn parallel migration on to tune it")),
    (LIVE | PARALLEL, [("parallel.connections", P_INT, 0)],
     (1, 10, "internal error: unable to execute QEMU command 'migrate-set-parameters': "
             "Parameter 'multifd_channels' expects a value between 1 and 255")),
    (LIVE | PARALLEL, [("parallel.connections", P_INT, 256)],
     (1, 10, "internal error: unable to execute QEMU command 'migrate-set-parameters': "
             "Parameter 'multifd-channels' expects uint8_t")),
    # libvirt 9.0 has no multifd compression (zlib/zstd came in 9.4), so no
    # zstd migration is possible through it, parallel or not
    (LIVE | PARALLEL, [("compression", P_STRING, "zstd")],
     (8, 10, "invalid argument: Unsupported compression method 'zstd'")),
    (LIVE, [("compression", P_STRING, "zlib")],
     (8, 10, "invalid argument: Unsupported compression method 'zlib'")),
    (LIVE | PARALLEL, [("compression.zstd.level", P_INT, 3)],
     (74, 0, "argument unsupported: parameter 'compression.zstd.level' not supported")),
    (LIVE | PARALLEL, [("compression", P_STRING, "mt")],
     (1, 10, "internal error: unable to execute QEMU command 'migrate-set-capabilities': "
             "Multifd is not compatible with compress")),
]


def test_parallel_refusals(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("rmig", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    for flags, params, want in REFUSALS:
        with pytest.raises(VirtError) as err:
            api.virDomainMigrate3(src, dst_conn, params, flags)
            pytest.fail(f"{params} went through")
        assert (err.value.code, err.value.domain, str(err.value)) == want, params
        assert api.virDomainGetState(src, 0) == (1, 1)
        assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert src_ev.lifecycle() == [] and dst_ev.lifecycle() == []
    # xbzrle (VIR_MIGRATE_COMPRESSED) goes with multifd in QEMU 7.2, as there
    ddom = api.virDomainMigrate3(src, dst_conn, [("parallel.connections", P_INT, 2)],
                                 LIVE | PARALLEL | mig.VIR_MIGRATE_COMPRESSED)
    assert api.virDomainGetState(ddom, 0) == (1, 2)
