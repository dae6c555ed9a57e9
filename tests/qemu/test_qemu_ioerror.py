"""Guest disk I/O errors with real QEMU, as libvirt 9.0 gives them: a guest
writing to an IDE disk whose image lies on a small tmpfs that the test
fills, so that QEMU's writes fail with ENOSPC.

Recorded with real libvirt 9.0 (embed, the same guest and disk): with the
default policy (QEMU's werror=enospc) or error_policy='stop'/'enospace',

    IO_ERROR (path, 'ide0-0-0', PAUSE), IO_ERROR_REASON (..., PAUSE, 'enospc'),
    SUSPENDED/IOERROR                 -> PAUSED/IOERROR, disk errors {hda: NO_SPACE}
    virDomainResume (space freed)     -> RESUMED/UNPAUSED, RUNNING/UNPAUSED
                                         (disk errors still {hda: NO_SPACE}: QEMU
                                         keeps a -device disk's io-status)

error_policy='report' gives IO_ERROR(REPORT) with reason '' per failed write
and no state change; 'ignore' the same with action NONE.  With
VIR_MIGRATE_ABORT_ON_ERROR an outgoing migration whose guest pauses so fails
with "operation failed: job 'migration out' failed due to I/O error"; the
failed Perform resumes the guest (RESUMED/MIGRATED), whose retried write
pauses it again: it stays paused on the source only.  Recorded with two
libvirtd (shared/reference/libvirt-qemu/daemons.sh), VIR_MIGRATE_UNSAFE
because a tmpfs is no shared storage to libvirt.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import subprocess
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

import guest
from qemutest import (VIRT_TYPE, conn, ensure_event_loop, kernels, kill_leftovers,  # noqa: F401
                      root, until)
from test_qemu_migration import migrate_in_thread
from pyvirt import api, migration as mig
from pyvirt.drivers.qemu import command
from pyvirt.errors import ErrorDomain, ErrorNumber, VirtError

IO_ERROR, IO_ERROR_REASON, ITER = 4, 6, 20
ACTION_NONE, ACTION_PAUSE, ACTION_REPORT = 0, 1, 2
STARTED_BOOTED, RESUMED_UNPAUSED, SUSPENDED_IOERROR = (2, 0), (4, 0), (3, 2)
STARTED_MIGRATED, STOPPED_FAILED, STOPPED_MIGRATED = (2, 1), (5, 5), (5, 3)
RESUMED_MIGRATED = (4, 1)
RUNNING_UNPAUSED, PAUSED_IOERROR = (1, 5), (3, 5)
DISK_ERROR_NO_SPACE = 2
WRITE_WAIT = 90.0     # SeaBIOS alone takes seconds here before the guest writes


class Recorder:
    """Lifecycle, IO_ERROR(_REASON) and MIGRATION_ITERATION events of one
    connection in arrival order: ('lc', e, d), ('io', path, alias, action),
    ('io_reason', path, alias, action, reason), ('iter', n)."""

    def __init__(self, c: Any) -> None:
        self.cond = threading.Condition()
        self.items: list[tuple[Any, ...]] = []
        api.virConnectDomainEventRegisterAny(
            c, None, 0, lambda cn, d, e, det: self._add(("lc", e, det)), None)
        api.virConnectDomainEventRegisterAny(
            c, None, IO_ERROR, lambda cn, d, p, a, act: self._add(("io", p, a, act)), None)
        api.virConnectDomainEventRegisterAny(
            c, None, IO_ERROR_REASON,
            lambda cn, d, p, a, act, r: self._add(("io_reason", p, a, act, r)), None)
        api.virConnectDomainEventRegisterAny(
            c, None, ITER, lambda cn, d, n: self._add(("iter", n)), None)

    def _add(self, item: tuple[Any, ...]) -> None:
        with self.cond:
            self.items.append(item)
            self.cond.notify_all()

    def wait(self, pred: Any, timeout: float = 15.0) -> list[tuple[Any, ...]]:
        end = time.monotonic() + timeout
        with self.cond:
            while not pred(self.items) and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
            return list(self.items)

    def lifecycle(self) -> list[tuple[int, int]]:
        with self.cond:
            return [(i[1], i[2]) for i in self.items if i[0] == "lc"]


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A 4 MiB tmpfs; unmounted even on failure (lazily if a QEMU still holds it)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {res.stderr.strip()}")
    try:
        yield mnt
    finally:
        if subprocess.run(["umount", str(mnt)], capture_output=True).returncode != 0:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _image(mnt: Path) -> Path:
    img = mnt / "disk.img"
    with open(img, "wb") as f:
        f.truncate(guest.IOERR_SECTORS * 512)   # sparse: every write allocates
    return img


def _fill(path: Path) -> None:
    with contextlib.suppress(OSError), open(path, "wb") as f:
        while True:
            f.write(b"x" * 4096)
            f.flush()


def make_full(mnt: Path, img: Path) -> None:
    """Fill the tmpfs, punch the image's blocks out and fill what they freed:
    the guest's next write into the image needs a block there is none of."""
    _fill(mnt / "filler1")
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(img, os.O_RDWR)
    try:   # FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
        assert libc.fallocate(fd, 3, ctypes.c_long(0),
                              ctypes.c_long(guest.IOERR_SECTORS * 512)) == 0
    finally:
        os.close(fd)
    _fill(mnt / "filler2")


def free_space(mnt: Path) -> None:
    for name in ("filler1", "filler2"):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(mnt / name)


def ioerr_xml(name: str, kernel: Path, img: Path, policy: str = "") -> str:
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{kernel}</kernel></os><devices><disk type='file' device='disk'>"
            f"<driver name='qemu' type='raw' {policy}/><source file='{img}'/>"
            f"<target dev='hda' bus='ide'/></disk></devices></domain>")


def start_writing(c: Any, xml: str, img: Path) -> Any:
    dom = api.virDomainCreateXML(c, xml, 0)
    assert until(lambda: os.stat(img).st_blocks > 0, WRITE_WAIT), "the guest never wrote"
    return dom


@pytest.mark.parametrize("attrs, werror, rerror", [
    ("", None, None),
    ("error_policy='stop'", "stop", "stop"),
    ("error_policy='report'", "report", "report"),
    ("error_policy='ignore'", "ignore", "ignore"),
    ("error_policy='enospace'", "enospc", None),
    ("error_policy='stop' rerror_policy='report'", "stop", "report"),
    ("rerror_policy='stop'", None, "stop"),
    ("error_policy='report' rerror_policy='ignore'", "report", "ignore"),
])
def test_error_policy_on_the_command_line(attrs, werror, rerror):
    """What libvirt 9.0 writes into the ide-hd device (seen in its QEMU log)."""
    from lxml import etree
    driver = etree.fromstring(f"<driver name='qemu' type='raw' {attrs}/>")
    assert command.error_policies(driver) == (werror, rerror)


def test_read_policy_enospace_is_refused():
    from lxml import etree
    with pytest.raises(VirtError) as exc:
        command.error_policies(etree.fromstring("<driver rerror_policy='enospace'/>"))
    assert (exc.value.code, exc.value.domain, exc.value.message) == (
        ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
        "unsupported configuration: Invalid disk read error policy: 'enospace'")


def test_enospc_pauses_the_guest_then_resume(conn, kernels, tmpfs):
    rec = Recorder(conn)
    img = _image(tmpfs)
    dom = start_writing(conn, ioerr_xml("ioerr", kernels["ioerr"], img), img)
    assert api.virDomainGetDiskErrors(dom, 8, 0) == []
    make_full(tmpfs, img)
    items = rec.wait(lambda it: ("lc",) + SUSPENDED_IOERROR in it)
    errs = [i for i in items if i[0] != "lc" or (i[1], i[2]) != (4, 0)
            and (i[1], i[2]) != STARTED_BOOTED]
    assert errs[:3] == [("io", str(img), "ide0-0-0", ACTION_PAUSE),
                        ("io_reason", str(img), "ide0-0-0", ACTION_PAUSE, "enospc"),
                        ("lc",) + SUSPENDED_IOERROR]
    time.sleep(0.3)   # QEMU's STOP after the error adds nothing
    assert rec.lifecycle() == [RESUMED_UNPAUSED, STARTED_BOOTED, SUSPENDED_IOERROR]
    assert api.virDomainGetState(dom, 0) == PAUSED_IOERROR
    assert [(e.disk, e.error) for e in api.virDomainGetDiskErrors(dom, 8, 0)] == [
        ("hda", DISK_ERROR_NO_SPACE)]
    assert api.virDomainGetDiskErrors(dom, 0, 0) == []
    # room again: the resumed guest's write is retried and succeeds
    free_space(tmpfs)
    api.virDomainResume(dom)
    assert api.virDomainGetState(dom, 0) == RUNNING_UNPAUSED
    time.sleep(1.0)
    assert api.virDomainGetState(dom, 0) == RUNNING_UNPAUSED
    assert rec.lifecycle()[3:] == [RESUMED_UNPAUSED]
    # as libvirt: QEMU keeps the io-status of a -device disk after 'cont'
    assert [(e.disk, e.error) for e in api.virDomainGetDiskErrors(dom, 8, 0)] == [
        ("hda", DISK_ERROR_NO_SPACE)]


@pytest.mark.parametrize("policy, action", [("report", ACTION_REPORT),
                                            ("ignore", ACTION_NONE)])
def test_non_stopping_policy_only_reports(conn, kernels, tmpfs, policy, action):
    rec = Recorder(conn)
    img = _image(tmpfs)
    dom = start_writing(conn, ioerr_xml("ioerr", kernels["ioerr"],
                                        img, f"error_policy='{policy}'"), img)
    make_full(tmpfs, img)
    items = rec.wait(lambda it: sum(i[0] == "io_reason" for i in it) >= 3)
    errs = [i for i in items if i[0] in ("io", "io_reason")][:4]
    assert errs == [("io", str(img), "ide0-0-0", action),
                    ("io_reason", str(img), "ide0-0-0", action, "")] * 2
    assert rec.lifecycle() == [RESUMED_UNPAUSED, STARTED_BOOTED]
    assert api.virDomainGetState(dom, 0) == (1, 1)   # RUNNING/BOOTED still
    assert api.virDomainGetDiskErrors(dom, 8, 0) == []  # io-status is off for these


# -- migration (two embed roots in one process, shared storage on the tmpfs)
@pytest.fixture
def two(tmp_path: Path, tmpfs: Path) -> Iterator[tuple[Any, Any, Recorder, Recorder]]:
    ensure_event_loop()
    roots = [tmp_path / "a", tmp_path / "b"]
    conns = [api.virConnectOpen(f"qemu:///embed?root={r}") for r in roots]
    recs = [Recorder(c) for c in conns]
    try:
        yield conns[0], conns[1], recs[0], recs[1]
    finally:
        for c in conns:
            with contextlib.suppress(VirtError):
                api.virConnectClose(c)
        for r in roots:
            kill_leftovers(r)   # before the tmpfs goes


def _migrate_with_error(two: Any, kernels: Any, tmpfs: Path,
                        flags: int) -> tuple[Any, dict[str, Any]]:
    """Start migrating a writing guest at 1 MiB/s (its 8 MiB of non-zero RAM
    take seconds), fill its disk once the stream runs; the migrate3 outcome."""
    src_conn, dst_conn, src_rec, dst_rec = two
    img = _image(tmpfs)
    dom = start_writing(src_conn, ioerr_xml("iomig", kernels["ioerr"], img), img)
    t, out = migrate_in_thread(dom, dst_conn, [("bandwidth", 4, 1)], flags)
    src_rec.wait(lambda it: ("iter", 1) in it)
    assert t.is_alive(), out
    make_full(tmpfs, img)
    src_rec.wait(lambda it: ("lc",) + SUSPENDED_IOERROR in it)
    out["thread"] = t
    return dom, out


def test_abort_on_error_cancels_the_migration(two, kernels, tmpfs):
    src_conn, dst_conn, src_rec, dst_rec = two
    dom, out = _migrate_with_error(two, kernels, tmpfs,
                                   mig.VIR_MIGRATE_LIVE | mig.VIR_MIGRATE_UNSAFE
                                   | mig.VIR_MIGRATE_ABORT_ON_ERROR)
    out["thread"].join(30)
    err = out.get("exc")
    assert err is not None, out
    assert (err.code, err.domain) == (ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                      ErrorDomain.VIR_FROM_QEMU)
    assert err.message == "operation failed: job 'migration out' failed due to I/O error"
    # as libvirt 9.0: the failed Perform runs the guest again (it ran at
    # Begin), its retried write fails again on the still-full disk: the
    # guest is on the source only, paused on its I/O error
    items = src_rec.wait(lambda it: it.count(("lc",) + SUSPENDED_IOERROR) >= 2)
    assert src_rec.lifecycle() == [RESUMED_UNPAUSED, STARTED_BOOTED, SUSPENDED_IOERROR,
                                   RESUMED_MIGRATED, SUSPENDED_IOERROR]
    second = items.index(("lc",) + RESUMED_MIGRATED)
    assert [i for i in items[second:] if i[0] != "iter"][:4] == [
        ("lc",) + RESUMED_MIGRATED,
        ("io", str(tmpfs / "disk.img"), "ide0-0-0", ACTION_PAUSE),
        ("io_reason", str(tmpfs / "disk.img"), "ide0-0-0", ACTION_PAUSE, "enospc"),
        ("lc",) + SUSPENDED_IOERROR]
    assert api.virDomainGetState(dom, 0) == PAUSED_IOERROR
    assert until(lambda: api.virConnectListAllDomains(dst_conn, 0) == [], 10)
    assert dst_rec.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert api.virDomainGetJobInfo(dom).type == mig.VIR_DOMAIN_JOB_NONE
    # Begin refuses it now, as long as the error stands
    with pytest.raises(VirtError) as exc:
        api.virDomainMigrate3(dom, dst_conn, [], mig.VIR_MIGRATE_LIVE
                              | mig.VIR_MIGRATE_ABORT_ON_ERROR)
    assert (exc.value.code, exc.value.message) == (
        ErrorNumber.VIR_ERR_OPERATION_INVALID,
        "Requested operation is not valid: cannot migrate domain with I/O error")
    # freed space and resumed, the guest runs on where it was
    free_space(tmpfs)
    api.virDomainResume(dom)
    assert api.virDomainGetState(dom, 0) == RUNNING_UNPAUSED


def test_without_the_flag_the_migration_goes_on(two, kernels, tmpfs):
    """libvirt 9.0 (two libvirtd): the source pauses on the error and migrates
    paused (no SUSPENDED/MIGRATED); the destination's Finish resumes the guest,
    whose retried write fails there too on the shared, still-full disk."""
    src_conn, dst_conn, src_rec, dst_rec = two
    dom, out = _migrate_with_error(two, kernels, tmpfs,
                                   mig.VIR_MIGRATE_LIVE | mig.VIR_MIGRATE_UNSAFE)
    assert api.virDomainGetState(dom, 0) == PAUSED_IOERROR
    api.virDomainMigrateSetMaxSpeed(dom, 10000, 0)   # the rest at full speed
    out["thread"].join(60)
    assert "error" not in out, out
    ddom = out["dom"]
    items = dst_rec.wait(lambda it: ("lc",) + SUSPENDED_IOERROR in it)
    src_rec.wait(lambda it: ("lc",) + STOPPED_MIGRATED in it)   # events come on their own
    assert src_rec.lifecycle() == [RESUMED_UNPAUSED, STARTED_BOOTED, SUSPENDED_IOERROR,
                                   STOPPED_MIGRATED]
    assert [i for i in items if i[0] != "iter"][:5] == [
        ("lc",) + STARTED_MIGRATED, ("lc",) + RESUMED_MIGRATED,
        ("io", str(tmpfs / "disk.img"), "ide0-0-0", ACTION_PAUSE),
        ("io_reason", str(tmpfs / "disk.img"), "ide0-0-0", ACTION_PAUSE, "enospc"),
        ("lc",) + SUSPENDED_IOERROR]
    assert api.virDomainGetState(ddom, 0)[0] == 3   # PAUSED on the destination only
    assert api.virConnectListAllDomains(src_conn, 0) == []
