"""Statuses written ahead: a transition's status file written and fsynced
into a temp file while QEMU works, so that the transition itself costs only
the rename (QemuHost.prepare_status, write_ahead, save_status); and the one
thread that writes the ones prepared in the background."""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import queue
import threading
from pathlib import Path
from typing import Optional

from .paths import write_synced

_SEQ = itertools.count()
PREPARED_WAIT = 10.0     # a transition's status, being written ahead, before writing it anew


@dataclasses.dataclass(eq=False)
class PreparedStatus:
    """The status a domain is expected to reach, written and fsynced ahead
    into a temp file of its own while QEMU works (booting, stopping, going
    on), so that the transition itself costs only the rename.  Nothing is
    renamed before QEMU has reported the transition, and only if the status
    then is exactly `text`; otherwise the temp file is dropped.  An `armed`
    one is for the likely next call (a resume after a suspend, a suspend
    after a resume or a start), written by the status thread while the
    current one goes on, and kept until it comes true or another is armed."""
    text: str
    tmp: Path
    ready: threading.Event = dataclasses.field(default_factory=threading.Event)
    armed: bool = False    # for a later call's transition, not this one's
    ok: bool = False
    started: bool = False
    queued: bool = False   # given to the status thread, which will write it
    cancelled: bool = False
    _lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)

    def write(self) -> None:
        """On the API thread, lock not held (the QMP thread may wait for it)."""
        with self._lock:
            if self.cancelled:
                self.ready.set()
                return
            self.started = True
        try:
            write_synced(self.tmp, self.text)
            self.ok = True
        except OSError:
            pass
        finally:
            self.ready.set()

    def take(self) -> bool:
        """Written and fsynced, ready for the rename?  Waits for a write in
        progress; one nobody has started is cancelled rather than waited for
        (its writer may be waiting on what comes after this transition)."""
        with self._lock:
            if not self.started:
                self.cancelled = True
                self.ready.set()
                return False
        return self.ready.wait(PREPARED_WAIT) and self.ok

    def discard(self) -> None:
        with self._lock:
            self.cancelled = True
            started = self.started
        if not started:
            self.ready.set()   # nobody writes it now
        else:
            self.ready.wait(PREPARED_WAIT)
            with contextlib.suppress(OSError):
                os.unlink(self.tmp)

    @classmethod
    def beside(cls, path: Path, text: str, armed: bool) -> "PreparedStatus":
        """One for the status file `path`, in a temp file of its own beside it."""
        return cls(text, path.with_name(f".{path.name}.{os.getpid()}.{next(_SEQ)}.tmp"),
                   armed=armed)


class StatusWriter:
    """One daemon thread writing statuses prepared ahead, in turn (started on
    first use): no thread to create on the path of the caller, and no two
    fsyncs of ours competing for the journal."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queue: Optional[queue.SimpleQueue[PreparedStatus]] = None

    def put(self, prep: PreparedStatus) -> None:
        with self._lock:
            if self._queue is None:
                self._queue = queue.SimpleQueue()
                threading.Thread(target=self._run, args=(self._queue,),
                                 name="pyvirt-status", daemon=True).start()
            prep.queued = True
            self._queue.put(prep)

    def is_current(self) -> bool:
        """Whether the caller runs on this thread."""
        return threading.current_thread().name == "pyvirt-status"

    @staticmethod
    def _run(q: "queue.SimpleQueue[PreparedStatus]") -> None:
        while True:
            q.get().write()


status_writer = StatusWriter()
