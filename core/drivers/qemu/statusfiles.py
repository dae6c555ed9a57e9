"""A running domain's status file (libvirt's status XML under the root's
run/qemu), written as its state moves: at once (save_status), or ahead,
while QEMU acts, so that the transition itself is only a rename
(prepare_status, write_ahead; see statuswrite.py for the writing).  A
mixin of QemuHost, whose lock guards all of it."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING, Callable, Optional

from ...domainobj import DomainObj
from ...domainstate import DomainState
from . import blockjob, status
from .statuswrite import PreparedStatus, status_writer

if TYPE_CHECKING:
    from .paths import RootLayout
    from .runtime import Runtime


_HELD = threading.Lock()   # guards Runtime.held_status, the one field taken off the driver's lock


class StatusFiles:
    """Mixin of QemuHost (layout, lock, runtime)."""

    layout: "RootLayout"
    lock: "threading.RLock"
    runtime: "dict[bytes, Runtime]"

    def _status_text(self, obj: DomainObj, rt: Runtime, state: DomainState, reason: int,
                     with_job: bool = True, phase: Optional[str] = None) -> str:
        return self._status_texts(obj, rt, [(state, reason)], with_job, phase)[0]

    def _status_texts(self, obj: DomainObj, rt: Runtime, states: list[tuple[DomainState, int]],
                      with_job: bool = True, phase: Optional[str] = None) -> list[str]:
        """The status of `obj` in each of `states`, the rest formatted once."""
        pid = rt.process.pid if rt.process is not None else 0
        job = obj.private.get("migration") if with_job else None
        job_attrs = None if job is None else {
            "async": f"migration {job.direction.value}", "phase": phase or job.phase.value,
            "flags": hex(job.flags)}
        jobs = list(rt.blockjobs.values())
        body = status.format_body(status.DomainStatus(
            obj.def_, states[0][0], states[0][1], pid, rt.monitor_path, job_attrs, rt.cpu,
            sorted(rt.taints), rt.node_index, blockjob.format_jobs(jobs) if jobs else None))
        return [status.with_state(body, state, reason, pid) for state, reason in states]

    def save_status(self, obj: DomainObj, text: Optional[str] = None) -> None:
        """Persist a running domain's state (lock held); `text`: the status
        as the caller formatted it (a start's first, written ahead)."""
        rt = self.runtime.get(obj.uuid)
        if rt is None or rt.stopped:
            return
        if text is None:
            text = self._status_text(obj, rt, obj.state, obj.reason)
        if text == rt.status_text:   # e.g. start: RESUME's save, then the caller's
            return
        path = self.layout.status_file(obj.name)
        match = next((p for p in rt.ahead if p.text == text and not p.cancelled), None)
        # the ones of this call that did not come true go; armed ones stay for later
        for prep in [p for p in rt.ahead if p is match or p.cancelled or not p.armed]:
            rt.ahead.remove(prep)
            if prep is not match:
                prep.discard()
        if match is not None and match.take():
            os.replace(match.tmp, path)   # written and fsynced ahead: the rename is left
        else:
            if match is not None:
                match.discard()
            status.save_text(path, text)
        rt.status_text = text

    def prepare_status(self, obj: DomainObj, rt: Runtime, expect: tuple[DomainState, int],
                       arm: Optional[tuple[DomainState, int]] = None
                       ) -> Optional[Callable[[Callable[[], bool]], None]]:
        """Get the status of the transition `expect`ed from a monitor call ready,
        and the one of the likely next (`arm`: resume after suspend, suspend after
        resume or start), to be written while QEMU acts: the returned callable,
        the call's `meanwhile` (lock held; see PreparedStatus)."""
        if rt.stopped:
            return None
        texts = self._status_texts(obj, rt, [expect] if arm is None else [expect, arm])
        todo = []
        for index, text in enumerate(texts):
            # on disk (the next call's, though, is what this one replaces),
            # or already armed (or being written)
            if (text == rt.status_text and not index) or any(
                    p.text == text and not p.cancelled for p in rt.ahead):
                continue
            if index:      # one armed status at a time (but the one coming true now)
                for old in [p for p in rt.ahead if p.armed and p.text != texts[0]]:
                    rt.ahead.remove(old)
                    old.discard()
            path = self.layout.status_file(obj.name)
            prep = PreparedStatus.beside(path, text, armed=bool(index))
            rt.ahead.append(prep)
            todo.append(prep)
        if not todo:
            return None

        def meanwhile(answered: Callable[[], bool]) -> None:
            # the next call's by the status thread, beside this one's here:
            # the two fsyncs overlap, and that call finds its status written
            for prep in todo:
                if prep.armed:
                    status_writer.put(prep)
            for prep in todo:
                if not prep.armed:
                    prep.write()
        return meanwhile

    def write_ahead(self, obj: DomainObj, rt: Runtime, state: DomainState, reason: int,
                    with_job: bool = True, background: bool = True,
                    phase: Optional[str] = None) -> Optional[PreparedStatus]:
        """Prepare, armed, the status of a transition that QEMU (or a later
        step) will make (lock held), so that the save_status of that
        transition is only the rename, off the path that waits for it (a
        migration's switchover, the destination's resume).  Written by the
        process's status writer thread, or, without `background`, by the
        caller: the returned one's write(), lock not held, e.g. while a
        monitor call is on its way; None if there is nothing to write.
        `phase`: the migration job's phase that the status will record.  One
        that does not come true is dropped with the others (drop_prepared)."""
        if rt.stopped:
            return None
        text = self._status_text(obj, rt, state, reason, with_job, phase)
        if text == rt.status_text or any(p.text == text and not p.cancelled for p in rt.ahead):
            return None
        path = self.layout.status_file(obj.name)
        prep = PreparedStatus.beside(path, text, armed=True)
        rt.ahead.append(prep)
        if background:
            status_writer.put(prep)
        return prep

    def hold_first_status(self, obj: DomainObj, rt: Runtime) -> None:
        """Keep a start's first status file open (lock held) until the start
        is over: the rename that replaces it (RESUME's) then leaves it to
        the close to free, rather than freeing it inside rename(), 0.1-0.25
        ms on ext4 on the start's path (15 us with the fd held)."""
        with contextlib.suppress(OSError):
            fd = os.open(self.layout.status_file(obj.name), os.O_RDONLY | os.O_CLOEXEC)
            with _HELD:
                rt.held_status = fd

    def release_first_status(self, rt: Runtime) -> None:
        """Close the fd of hold_first_status (any thread; the file it kept
        is freed now, off the start's path).  Not under the driver's lock:
        the QMP thread calls this after a start, and a caller holding that
        lock may be waiting for the QMP thread's answer meanwhile."""
        with _HELD:
            fd, rt.held_status = rt.held_status, None
        if fd is not None:
            os.close(fd)

    @staticmethod
    def drop_prepared(rt: Runtime, armed_too: bool = False) -> None:
        """Drop the prepared statuses that did not come true, once the call
        that prepared them is over (lock held); with `armed_too`, the armed
        one as well (else kept if written, or queued for the status thread)."""
        for prep in [p for p in rt.ahead if armed_too or not p.armed or p.cancelled
                     or not (p.started or p.queued)]:
            rt.ahead.remove(prep)
            prep.discard()
