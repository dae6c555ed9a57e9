"""The event loop: libvirt's default implementation and the slot an
application fills with its own loop (virEventRegisterImpl).

Watches and timers are numbered from 1.  Callbacks get
``callback(watch, fd, events)`` and ``callback(timer)``; the opaque pointer
of the C API is folded into the callable by the caller.  ``free_cb`` (or
None) takes no argument and runs once the watch or timer is removed.

The default loop blocks in poll() (which releases the GIL) and is woken by
a byte written to a pipe whenever another thread changes its watches or
timers, so no thread ever sleeps-and-polls.  Callbacks run on the thread
that calls :meth:`DefaultEventLoop.run_once`, with no lock held.
"""

from __future__ import annotations

import dataclasses
import enum
import os
import select
import threading
import time
from typing import Callable, Optional, Protocol

HandleCallback = Callable[[int, int, int], None]
TimeoutCallback = Callable[[int], None]
FreeCallback = Optional[Callable[[], None]]


class EventHandleType(enum.IntFlag):
    VIR_EVENT_HANDLE_READABLE = 1
    VIR_EVENT_HANDLE_WRITABLE = 2
    VIR_EVENT_HANDLE_ERROR = 4
    VIR_EVENT_HANDLE_HANGUP = 8


_TO_POLL = ((1, select.POLLIN | select.POLLPRI), (2, select.POLLOUT),
            (4, select.POLLERR), (8, select.POLLHUP))


def _to_poll(events: int) -> int:
    return sum(p for v, p in _TO_POLL if events & v)


def _from_poll(revents: int) -> int:
    return sum(v for v, p in _TO_POLL if revents & p)


class EventImpl(Protocol):
    """The six operations of an event loop, as virEventRegisterImpl takes them."""
    def add_handle(self, fd: int, events: int, cb: HandleCallback, ff: FreeCallback) -> int: ...
    def update_handle(self, watch: int, events: int) -> None: ...
    def remove_handle(self, watch: int) -> int: ...
    def add_timeout(self, ms: int, cb: TimeoutCallback, ff: FreeCallback) -> int: ...
    def update_timeout(self, timer: int, ms: int) -> None: ...
    def remove_timeout(self, timer: int) -> int: ...


@dataclasses.dataclass
class _Handle:
    watch: int
    fd: int
    events: int
    cb: HandleCallback
    ff: FreeCallback
    deleted: bool = False


@dataclasses.dataclass
class _Timeout:
    timer: int
    frequency: int  # ms; -1 disabled, 0 every iteration
    expires: float
    cb: TimeoutCallback
    ff: FreeCallback
    deleted: bool = False


class DefaultEventLoop:
    """libvirt's default poll()-based loop (virEventRegisterDefaultImpl)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._handles: dict[int, _Handle] = {}
        self._timeouts: dict[int, _Timeout] = {}
        self._next_watch = 1
        self._next_timer = 1
        self._running: set[int] = set()   # threads inside run_once (one, normally)
        # The poll set, kept between iterations and rebuilt only when a watch
        # changes (building one per iteration was a third of an event's cost).
        # `_poller_in_use` is the cached one while a thread waits in it: a second
        # thread running the loop at once builds its own (poll objects are not
        # reentrant).
        self._poller: Optional["select.poll"] = None
        self._poller_in_use: Optional["select.poll"] = None
        self._garbage = False   # a watch or timer is marked deleted: _cleanup has work
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)

    def _wakeup(self) -> None:
        """Wake the loop unless the caller is the loop itself (it re-reads its state
        before it blocks again). Called with the lock held."""
        running = self._running
        if running and (len(running) > 1 or threading.get_ident() not in running):
            try:
                os.write(self._wake_w, b"\0")
            except BlockingIOError:
                pass  # the pipe is full: the loop is awake already

    # -- watches
    def add_handle(self, fd: int, events: int, cb: HandleCallback, ff: FreeCallback) -> int:
        with self._lock:
            watch = self._next_watch
            self._next_watch += 1
            self._handles[watch] = _Handle(watch, fd, events, cb, ff)
            self._poller = None
            self._wakeup()
            return watch

    def update_handle(self, watch: int, events: int) -> None:
        with self._lock:
            handle = self._handles.get(watch)
            if handle is not None and not handle.deleted:
                handle.events = events
                self._poller = None
                self._wakeup()

    def remove_handle(self, watch: int) -> int:
        with self._lock:
            handle = self._handles.get(watch)
            if handle is None or handle.deleted:
                return -1
            handle.deleted = True
            self._poller = None
            self._garbage = True
            self._wakeup()
            return 0

    # -- timers
    def add_timeout(self, ms: int, cb: TimeoutCallback, ff: FreeCallback) -> int:
        with self._lock:
            timer = self._next_timer
            self._next_timer += 1
            self._timeouts[timer] = _Timeout(timer, ms, time.monotonic() + max(ms, 0) / 1000,
                                             cb, ff)
            self._wakeup()
            return timer

    def update_timeout(self, timer: int, ms: int) -> None:
        with self._lock:
            timeout = self._timeouts.get(timer)
            if timeout is not None and not timeout.deleted:
                timeout.frequency = ms
                if ms >= 0:   # a disabled timer needs no expiry, nor a loop woken for it
                    timeout.expires = time.monotonic() + ms / 1000
                    self._wakeup()

    def remove_timeout(self, timer: int) -> int:
        with self._lock:
            timeout = self._timeouts.get(timer)
            if timeout is None or timeout.deleted:
                return -1
            timeout.deleted = True
            self._garbage = True
            self._wakeup()
            return 0

    # -- running
    def _poller_for_wait(self) -> "select.poll":
        """Called with the lock held."""
        poller = self._poller
        if poller is None or poller is self._poller_in_use:
            poller = select.poll()
            poller.register(self._wake_r, select.POLLIN)
            for h in self._handles.values():
                if not h.deleted and h.events:
                    poller.register(h.fd, _to_poll(h.events))
            if self._poller is None:
                self._poller = poller
        if poller is self._poller:
            self._poller_in_use = poller
        return poller

    def _take_due(self, now: float) -> list[_Timeout]:
        """The timers due at `now`, rescheduled. Called with the lock held."""
        due = [t for t in self._timeouts.values()
               if not t.deleted and t.frequency >= 0 and t.expires <= now]
        for t in due:
            t.expires = now + t.frequency / 1000
        return due

    def run_once(self) -> int:
        """One iteration: wait, run due timers, then ready watches (virEventRunDefaultImpl)."""
        me = threading.get_ident()
        revents: Optional[dict[int, int]] = None
        with self._lock:
            self._running.add(me)
            live = [t.expires for t in self._timeouts.values()
                    if not t.deleted and t.frequency >= 0]
            now = time.monotonic()
            first = min(live) if live else None
            if first is not None and first <= now and not self._handles:
                # A timer is due and there is no watch: poll(0) would find only the
                # wake-up pipe, which matters to a loop about to block, not to this one.
                poller = None
                due = self._take_due(now)
            else:
                poller = self._poller_for_wait()
                wait = None if first is None else max(0.0, first - now)
        if poller is not None:
            try:
                ready = poller.poll(None if wait is None else int(wait * 1000 + 0.999))
            except InterruptedError:
                ready = []
            with self._lock:
                if poller is self._poller_in_use:
                    self._poller_in_use = None
                revents = dict(ready)
                # drain the wake-up pipe only when it woke us (saves a failing read)
                if revents.pop(self._wake_r, None) is not None:
                    try:
                        while os.read(self._wake_r, 512):
                            pass
                    except BlockingIOError:
                        pass
                due = self._take_due(time.monotonic())
        for t in due:
            if not t.deleted:
                t.cb(t.timer)
        if revents:   # most iterations only run timers (event delivery is one)
            with self._lock:
                fired = [(h, _from_poll(revents[h.fd])) for h in self._handles.values()
                         if not h.deleted and h.fd in revents]
            for h, events in fired:
                if not h.deleted:
                    h.cb(h.watch, h.fd, events)
        self._cleanup(me)
        return 0

    def _cleanup(self, me: int) -> None:
        if not self._garbage:
            # Without the lock: _wakeup reading a stale set only writes the pipe once
            # too often, or skips it for a loop that re-reads its state anyway.
            self._running.discard(me)
            return
        with self._lock:
            self._running.discard(me)
            if not self._garbage:
                return
            self._garbage = False
            gone_h = [h for h in self._handles.values() if h.deleted]
            gone_t = [t for t in self._timeouts.values() if t.deleted]
            for h in gone_h:
                del self._handles[h.watch]
            for t in gone_t:
                del self._timeouts[t.timer]
        for ff in [x.ff for x in gone_h] + [x.ff for x in gone_t]:
            if ff is not None:
                ff()


class ExternalEventImpl:
    """An application's own loop, given as six callables (virEventRegisterImpl)."""

    def __init__(self, add_handle: Callable[..., int], update_handle: Callable[..., None],
                 remove_handle: Callable[..., int], add_timeout: Callable[..., int],
                 update_timeout: Callable[..., None], remove_timeout: Callable[..., int]) -> None:
        self._funcs = (add_handle, update_handle, remove_handle,
                       add_timeout, update_timeout, remove_timeout)

    def add_handle(self, fd: int, events: int, cb: HandleCallback, ff: FreeCallback) -> int:
        return int(self._funcs[0](fd, events, cb, ff)) if self._funcs[0] else -1

    def update_handle(self, watch: int, events: int) -> None:
        if self._funcs[1]:
            self._funcs[1](watch, events)

    def remove_handle(self, watch: int) -> int:
        return int(self._funcs[2](watch) or 0) if self._funcs[2] else -1

    def add_timeout(self, ms: int, cb: TimeoutCallback, ff: FreeCallback) -> int:
        return int(self._funcs[3](ms, cb, ff)) if self._funcs[3] else -1

    def update_timeout(self, timer: int, ms: int) -> None:
        if self._funcs[4]:
            self._funcs[4](timer, ms)

    def remove_timeout(self, timer: int) -> int:
        return int(self._funcs[5](timer) or 0) if self._funcs[5] else -1


class _Registry:
    """Which loop the process uses; libvirt keeps exactly one, process-wide."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.current: Optional[EventImpl] = None
        self.default: Optional[DefaultEventLoop] = None

    def default_loop(self) -> DefaultEventLoop:
        with self.lock:
            if self.default is None:
                self.default = DefaultEventLoop()
            return self.default


_registry = _Registry()


def register_default_impl() -> None:
    loop = _registry.default_loop()
    with _registry.lock:
        _registry.current = loop


def register_impl(impl: EventImpl) -> None:
    with _registry.lock:
        _registry.current = impl


def current_impl() -> Optional[EventImpl]:
    return _registry.current


def run_default_impl() -> int:
    loop = _registry.default    # once made, never replaced: no lock to read it
    return (loop if loop is not None else _registry.default_loop()).run_once()
