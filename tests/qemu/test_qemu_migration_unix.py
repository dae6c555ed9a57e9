"""Migration over UNIX sockets (VIR_MIGRATE_PARAM_URI unix:///PATH, and
VIR_MIGRATE_PARAM_DISKS_URI unix:///PATH for the disks) between two embed
roots with real QEMU, and its errors, as libvirt 9.0 gives them (compared
on two libvirtd of shared/reference/libvirt-qemu): the destination's QEMU
listens on the path and removes the socket once the source is connected;
the events are those of a TCP migration."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Any

import pytest

from qemutest import domxml, kernels  # noqa: F401
from test_qemu_migration import (STARTED_MIGRATED, STOPPED_FAILED, STOPPED_MIGRATED,  # noqa: F401
                                 SUSPENDED_MIGRATED, RESUMED_MIGRATED, assert_precopy_events,
                                 migrate_in_thread, start_dirty, two)
from test_qemu_postcopy import (PAUSED_POSTCOPY_FAILED, RESUMED_POSTCOPY,
                                RESUMED_POSTCOPY_FAILED, RUNNING_MIGRATED,
                                SUSPENDED_POSTCOPY, SUSPENDED_POSTCOPY_FAILED,
                                pause_postcopy)
from test_qemu_storage_migration import BEFORE, _disk, _images
from pyvirt import api, migration as mig
from pyvirt.errors import VirtError

LIVE, POSTCOPY = mig.VIR_MIGRATE_LIVE, mig.VIR_MIGRATE_POSTCOPY
S, ULLONG, INT = mig.P_STRING, mig.P_ULLONG, mig.P_INT
RUNNING_BOOTED = (1, 1)


class Watch:
    """Whether `path` appeared while a migration ran (polled every 2 ms)."""

    def __init__(self, path: Path) -> None:
        self.path, self.seen = path, False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self.seen = self.seen or self.path.exists()
            time.sleep(0.002)

    def stop(self) -> bool:
        self._stop.set()
        self._thread.join()
        return self.seen


def _start(conn: Any, rec: Any, name: str, kernel: Path, extra: str = "") -> Any:
    dom = api.virDomainCreateXML(conn, domxml(name, kernel, extra), 0)
    rec.wait(lambda items: len(items) >= 2)
    del rec.items[:]
    return dom


@pytest.mark.parametrize("flags", [LIVE, LIVE | mig.VIR_MIGRATE_PARALLEL],
                         ids=["fd", "parallel"])
def test_precopy_over_a_unix_socket(two, kernels, tmp_path, flags):
    """The source connects to the socket itself and hands QEMU the fd (with
    VIR_MIGRATE_PARALLEL QEMU opens its channels itself); the socket is
    there during the migration, gone after it."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = _start(src_conn, src_ev, "umig", kernels["idle"])
    sock = tmp_path / "mig.sock"
    watch = Watch(sock)
    ddom = api.virDomainMigrate3(src, dst_conn, [("migrate_uri", S, f"unix://{sock}")], flags)
    assert watch.stop() and not sock.exists()
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
    assert_precopy_events(src_ev, dst_ev)
    api.virDomainDestroy(ddom)


def test_postcopy_over_a_unix_socket_paused_and_resumed(two, kernels, tmp_path):
    """Post-copy over a socket; paused (ABORT_JOB_POSTCOPY) it is recovered
    over the same path (dst migrate-recover unix:PATH), then completes.  (A
    post-copy QEMU keeps listening until it completes: the socket stays.)"""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = start_dirty(src_conn, src_ev, "upc", kernels["dirty"], tmp_path)
    sock = tmp_path / "pc.sock"
    uri = ("migrate_uri", S, f"unix://{sock}")
    pause_postcopy(src, dst_conn, src_ev, dst_ev, LIVE | POSTCOPY, (uri,))
    assert api.virDomainGetState(src, 0) == PAUSED_POSTCOPY_FAILED
    params = [uri, ("bandwidth", ULLONG, 10), ("bandwidth.postcopy", ULLONG, 1000)]
    ddom = api.virDomainMigrate3(src, dst_conn, params,
                                 LIVE | POSTCOPY | mig.VIR_MIGRATE_POSTCOPY_RESUME)
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED and not sock.exists()
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, SUSPENDED_POSTCOPY,
                                  SUSPENDED_POSTCOPY_FAILED, SUSPENDED_POSTCOPY,
                                  STOPPED_MIGRATED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_POSTCOPY, RESUMED_POSTCOPY_FAILED,
                                  RESUMED_POSTCOPY, RESUMED_MIGRATED]
    api.virDomainDestroy(ddom)


def test_storage_copy_over_a_unix_disks_uri(two, kernels, tmp_path):
    """Memory and disks over two sockets: the destination's NBD server
    listens on the disks path (gone once it stops), the source's mirrors
    connect to it."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src_img, dst_img = _images(tmp_path)
    src = _start(src_conn, src_ev, "usmig", kernels["idle"], _disk(src_img))
    dxml = domxml("usmig", kernels["idle"], _disk(dst_img)).replace(
        "<name>", f"<uuid>{api.virDomainGetUUIDString(src)}</uuid><name>")
    mem, disks = tmp_path / "mem.sock", tmp_path / "disks.sock"
    watch = Watch(disks)
    ddom = api.virDomainMigrate3(src, dst_conn, [
        ("migrate_uri", S, f"unix://{mem}"), ("disks_uri", S, f"unix://{disks}"),
        ("destination_xml", S, dxml)], LIVE | mig.VIR_MIGRATE_NON_SHARED_DISK)
    assert watch.stop() and not disks.exists() and not mem.exists()
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
    assert_precopy_events(src_ev, dst_ev)
    api.virDomainDestroy(ddom)
    copied = dst_img.read_bytes()
    assert copied == src_img.read_bytes()
    assert copied[BEFORE[0]:BEFORE[0] + len(BEFORE[1])] == BEFORE[1]


def _refused(src: Any, dst_conn: Any, params: list[Any], flags: int = LIVE) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, params, flags)
    return err.value.code, err.value.domain, str(err.value)


def test_unix_uri_errors(two, kernels, tmp_path, monkeypatch):
    """libvirt 9.0's answers; the guest runs on where it was, nothing is left
    on the destination (a refused Prepare: no event at all)."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = _start(src_conn, src_ev, "uerr", kernels["idle"], _disk(_images(tmp_path)[0]))
    sock = f"unix://{tmp_path}/m.sock"
    disk = mig.VIR_MIGRATE_NON_SHARED_DISK
    cases = [
        ([("migrate_uri", S, sock), ("listen_address", S, "127.0.0.1")], LIVE,
         (8, 10, "invalid argument: Usage of listen-address is forbidden when migration URI "
                 "uses UNIX transport method")),
        ([("migrate_uri", S, sock)], LIVE | disk,
         (8, 10, "invalid argument: NBD URI must be supplied when migration URI uses UNIX "
                 "transport method")),
        ([("migrate_uri", S, sock), ("disks_uri", S, "unix://")], LIVE | disk,
         (8, 10, "invalid argument: UNIX disks URI does not include path")),
        ([("migrate_uri", S, sock), ("disks_uri", S, sock), ("disks_port", INT, 49999)],
         LIVE | disk,
         (8, 10, "invalid argument: Both port and URI requested for disk migration while "
                 "being mutually exclusive")),
        ([("migrate_uri", S, "unix:///nonexistent-dir/m.sock")], LIVE,
         (1, 10, "internal error: unable to execute QEMU command 'migrate-incoming': Failed "
                 "to bind socket to /nonexistent-dir/m.sock: No such file or directory")),
        ([("migrate_uri", S, "bogus://x")], LIVE,
         (74, 10, "argument unsupported: unsupported scheme bogus in migration URI bogus://x")),
        ([("migrate_uri", S, "/tmp/x.sock")], LIVE,
         (8, 10, "invalid argument: missing scheme in migration URI: /tmp/x.sock")),
        ([("migrate_uri", S, "tcp://")], LIVE,
         (8, 10, "invalid argument: missing host in migration URI: tcp://")),
    ]
    for params, flags, want in cases:
        assert _refused(src, dst_conn, params, flags) == want, params
    assert dst_ev.items == [] and api.virConnectListAllDomains(dst_conn, 0) == []
    # a relative path: QEMU binds it from /, the source connects from its own
    # folder (where there is no such socket): the destination is started, then killed
    name = f"pyvirt-relative-{tmp_path.name}.sock"
    monkeypatch.chdir(tmp_path)
    try:
        assert _refused(src, dst_conn, [("migrate_uri", S, f"unix:{name}")]) == (
            38, 7, f"Failed to connect socket to '{name}': No such file or directory")
    finally:
        Path("/", name).unlink(missing_ok=True)   # QEMU, killed, left it
    dst_ev.wait(lambda items: len(items) >= 2)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    assert src_ev.items == [] and api.virConnectListAllDomains(dst_conn, 0) == []
