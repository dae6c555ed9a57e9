"""virDomainCoreDump and virDomainCoreDumpWithFormat as libvirt 9.0's QEMU
driver makes them (qemuDomainCoreDumpWithFormat, doCoreDump).

Unless LIVE, a running guest is paused first (PAUSED/DUMP: SUSPENDED/PAUSED)
and resumed after, whatever the outcome.  The file is created (0600, an
existing one keeps its mode and is truncated) before anything else can
fail, and removed on failure if the dump created it.  MEMORY_ONLY: QEMU's
dump-guest-memory writes an ELF core, or a kdump / win-dmp format when
QEMU offers it, through a passed file descriptor, detached; its
DUMP_COMPLETED event ends it (a LIVE one is paused and resumed by QEMU
itself: those events too).  Without MEMORY_ONLY the dump is QEMU's
migration stream, as a save's.  Then CRASH stops the guest
(STOPPED/CRASHED, SHUTOFF/CRASHED), RESET resets it before the resume.
BYPASS_CACHE: the written pages are dropped from the page cache (libvirt
writes through O_DIRECT).

Not done as libvirt: the JOB_COMPLETED event (with the migration's
statistics) of a dump without MEMORY_ONLY.
"""

from __future__ import annotations

import os
import threading
import time
from typing import Any, Optional

from ... import errors
from ...domainobj import DomainObj
from ...domainstate import DomainPausedReason, DomainRunningReason, DomainShutoffReason
from ...domainstate import DomainState as S
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventStoppedDetail as Stopped
from ...objects import Domain
from .runtime import Runtime, qemu_error

Q = ErrorDomain.VIR_FROM_QEMU
VIR_DUMP_CRASH = 1
VIR_DUMP_LIVE = 2
VIR_DUMP_BYPASS_CACHE = 4
VIR_DUMP_RESET = 8
VIR_DUMP_MEMORY_ONLY = 16
DUMP_FLAGS = (VIR_DUMP_CRASH | VIR_DUMP_LIVE | VIR_DUMP_BYPASS_CACHE | VIR_DUMP_RESET
              | VIR_DUMP_MEMORY_ONLY)
# virDomainCoreDumpFormat -> QEMU's format (elf: QEMU's default, not named)
FORMATS = ("elf", "kdump-zlib", "kdump-lzo", "kdump-snappy", "win-dmp")
DUMP_WAIT = 3600.0
FINALIZE_WAIT = 5.0   # QEMU leaving finish-migrate after a dump to a file
_FD_NAME = "dump"
_PENDING = "dump"   # obj.private: the detached dump's completion


class _Pending:
    def __init__(self) -> None:
        self.done = threading.Event()
        self.error: Optional[str] = None


def _create(path: str) -> tuple[int, bool]:
    """The dump file opened for writing, and whether it was created now."""
    try:
        return os.open(path, os.O_WRONLY | os.O_TRUNC | os.O_CLOEXEC), False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise _create_error(path, exc) from None
    try:
        return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_TRUNC | os.O_CLOEXEC,
                       0o600), True
    except OSError as exc:
        raise _create_error(path, exc) from None


def _create_error(path: str, exc: OSError) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                         f"Failed to create file '{path}': {os.strerror(exc.errno or 0)}")


class CoreDump:
    """Mixed into QemuDriver (which supplies job, lock, _running, _monitor_call,
    stop_process and SaveRestore's _stream_out)."""

    def domain_core_dump_with_format(self, dom: Domain, to: str, dumpformat: int,
                                     flags: int) -> None:
        errors.check_flags(flags, DUMP_FLAGS, "qemuDomainCoreDumpWithFormat", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                resume = obj.state == S.VIR_DOMAIN_RUNNING
                if resume and not flags & VIR_DUMP_LIVE:
                    rt.paused_reason = DomainPausedReason.VIR_DOMAIN_PAUSED_DUMP
            paused = False
            if resume and not flags & VIR_DUMP_LIVE:
                self._monitor_call(rt, "stop")  # type: ignore[attr-defined]
                paused = True
            ok = False
            try:
                self._dump(obj, rt, to, dumpformat, flags)
                ok = paused = True
            finally:
                self._after_dump(obj, rt, ok, resume and paused, flags)

    def domain_core_dump(self, dom: Domain, to: str, flags: int) -> None:
        self.domain_core_dump_with_format(dom, to, 0, flags)

    def _after_dump(self, obj: DomainObj, rt: Runtime, ok: bool, resume: bool,
                    flags: int) -> None:
        if ok and flags & VIR_DUMP_CRASH:
            self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_CRASHED,  # type: ignore[attr-defined]
                              DomainShutoffReason.VIR_DOMAIN_SHUTOFF_CRASHED)
            return
        if rt.stopped or not (resume or flags & VIR_DUMP_RESET):
            return
        if ok and flags & VIR_DUMP_RESET:
            self._monitor_call(rt, "system_reset")  # type: ignore[attr-defined]
        if resume:
            self._until_migration_finalized(rt)
            with self.lock:  # type: ignore[attr-defined]
                rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED
            self._monitor_call(rt, "cont")  # type: ignore[attr-defined]

    def _until_migration_finalized(self, rt: Runtime) -> None:
        """QEMU reports a migration to a file completed a moment before it
        leaves the finish-migrate state, and refuses 'cont' until it has
        ("Migration is not finalized yet")."""
        deadline = time.monotonic() + FINALIZE_WAIT
        while self._monitor_call(rt, "query-status").get(  # type: ignore[attr-defined]
                "status") == "finish-migrate" and time.monotonic() < deadline:
            time.sleep(0.001)

    def _dump(self, obj: DomainObj, rt: Runtime, path: str, dumpformat: int, flags: int) -> None:
        fd, created = _create(path)
        try:
            if flags & VIR_DUMP_MEMORY_ONLY:
                self._memory_dump(obj, rt, fd, FORMATS[dumpformat])
            else:
                if dumpformat != 0:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED,
                                     "kdump-compressed format is only supported with "
                                     "memory-only dump")
                self._stream_out(rt, fd)  # type: ignore[attr-defined]
            if flags & VIR_DUMP_BYPASS_CACHE:
                os.fdatasync(fd)
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
        except BaseException:
            os.close(fd)
            if created:
                os.unlink(path)
            raise
        os.close(fd)

    def _memory_dump(self, obj: DomainObj, rt: Runtime, fd: int, fmt: str) -> None:
        call = self._monitor_call  # type: ignore[attr-defined]
        if fmt != "elf":
            offered = call(rt, "query-dump-guest-memory-capability").get("formats", [])
            if fmt not in offered:
                raise qemu_error(ErrorNumber.VIR_ERR_INVALID_ARG,
                                 f"unsupported dumpformat '{fmt}' for this QEMU binary")
        self._send_fd(rt, fd, _FD_NAME)  # type: ignore[attr-defined]  # SaveRestore's
        pending = _Pending()
        with self.lock:  # type: ignore[attr-defined]
            obj.private[_PENDING] = pending
        try:
            args: dict[str, Any] = {"paging": False, "protocol": f"fd:{_FD_NAME}",
                                    "detach": True}
            if fmt != "elf":
                args["format"] = fmt
            call(rt, "dump-guest-memory", args)
            while not pending.done.wait(0.5):
                if rt.stopped or (rt.process is not None and rt.process.exited.is_set()):
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                     "domain is no longer running")
                status = call(rt, "query-dump").get("status")   # an event lost?
                if status in ("completed", "failed") and not pending.done.wait(0.5):
                    pending.error = pending.error or (None if status == "completed" else "")
                    break
        finally:
            with self.lock:  # type: ignore[attr-defined]
                obj.private.pop(_PENDING, None)
        if pending.error is not None:
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                             f"memory-only dump failed: {pending.error}" if pending.error
                             else "memory-only dump failed for unknown reason")

    def on_dump_completed(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        pending = obj.private.get(_PENDING)
        if pending is None:
            return
        result = data.get("result") or {}
        if result.get("status") == "failed" or "error" in data:
            pending.error = str(data.get("error") or "")
        pending.done.set()
