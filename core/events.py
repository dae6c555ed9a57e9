"""Domain events: who listens (per connection) and what is pending (one
process-wide queue).

Drivers call :func:`queue_domain_event` while they change a domain (they may
hold their own lock: queueing only appends).  Delivery happens from a timer
in the current event loop implementation, so every callback runs on the
event-loop thread, with no driver or registry lock held, and never inside
the API call that caused the event.

A callback registered with virConnectDomainEventRegisterAny is called as
``callback(conn, dom, *args)`` where args depend on the event id: for
VIR_DOMAIN_EVENT_ID_LIFECYCLE ``(event, detail)``; for REBOOT nothing.
Callbacks are compared with ``==``, so a front end that wraps a C function
pointer should make equal wrappers for equal pointers (and may expose the
pointer as ``c_address`` for error messages).
"""

from __future__ import annotations

import collections
import dataclasses
import enum
import threading
import traceback
import weakref
from typing import Any, Callable, Optional

from . import errors, eventloop
from .errors import ErrorDomain, ErrorNumber
from .objects import Connect, Domain, Network, NodeDevice, StoragePool

# The kinds of object an event is about, and the handle a callback gets.
KIND_DOMAIN, KIND_NETWORK, KIND_POOL, KIND_NODEDEV = "domain", "network", "pool", "nodedev"
# libvirt-qemu's pass-through of every QMP event (virConnectDomainQemuMonitorEventRegister):
# event id 0, args (event name, seconds, micros, details), about a domain
KIND_QEMU_MONITOR = "qemu-monitor"


class DomainEventID(enum.IntEnum):
    VIR_DOMAIN_EVENT_ID_LIFECYCLE = 0
    VIR_DOMAIN_EVENT_ID_REBOOT = 1
    VIR_DOMAIN_EVENT_ID_RTC_CHANGE = 2
    VIR_DOMAIN_EVENT_ID_WATCHDOG = 3
    VIR_DOMAIN_EVENT_ID_IO_ERROR = 4
    VIR_DOMAIN_EVENT_ID_GRAPHICS = 5
    VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON = 6
    VIR_DOMAIN_EVENT_ID_CONTROL_ERROR = 7
    VIR_DOMAIN_EVENT_ID_BLOCK_JOB = 8
    VIR_DOMAIN_EVENT_ID_DISK_CHANGE = 9
    VIR_DOMAIN_EVENT_ID_TRAY_CHANGE = 10
    VIR_DOMAIN_EVENT_ID_PMWAKEUP = 11
    VIR_DOMAIN_EVENT_ID_PMSUSPEND = 12
    VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE = 13
    VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK = 14
    VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED = 15
    VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2 = 16
    VIR_DOMAIN_EVENT_ID_TUNABLE = 17
    VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE = 18
    VIR_DOMAIN_EVENT_ID_DEVICE_ADDED = 19
    VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION = 20
    VIR_DOMAIN_EVENT_ID_JOB_COMPLETED = 21
    VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED = 22
    VIR_DOMAIN_EVENT_ID_METADATA_CHANGE = 23
    VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD = 24
    VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE = 25
    VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE = 26


VIR_DOMAIN_EVENT_ID_LAST = 27


class DomainEventType(enum.IntEnum):
    VIR_DOMAIN_EVENT_DEFINED = 0
    VIR_DOMAIN_EVENT_UNDEFINED = 1
    VIR_DOMAIN_EVENT_STARTED = 2
    VIR_DOMAIN_EVENT_SUSPENDED = 3
    VIR_DOMAIN_EVENT_RESUMED = 4
    VIR_DOMAIN_EVENT_STOPPED = 5
    VIR_DOMAIN_EVENT_SHUTDOWN = 6
    VIR_DOMAIN_EVENT_PMSUSPENDED = 7
    VIR_DOMAIN_EVENT_CRASHED = 8


class DomainEventDefinedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_DEFINED_ADDED = 0
    VIR_DOMAIN_EVENT_DEFINED_UPDATED = 1
    VIR_DOMAIN_EVENT_DEFINED_RENAMED = 2
    VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT = 3


class DomainEventUndefinedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_UNDEFINED_REMOVED = 0
    VIR_DOMAIN_EVENT_UNDEFINED_RENAMED = 1


class DomainEventStartedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_STARTED_BOOTED = 0
    VIR_DOMAIN_EVENT_STARTED_MIGRATED = 1
    VIR_DOMAIN_EVENT_STARTED_RESTORED = 2
    VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT = 3
    VIR_DOMAIN_EVENT_STARTED_WAKEUP = 4


class DomainEventSuspendedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_SUSPENDED_PAUSED = 0
    VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED = 1
    VIR_DOMAIN_EVENT_SUSPENDED_IOERROR = 2
    VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG = 3
    VIR_DOMAIN_EVENT_SUSPENDED_RESTORED = 4
    VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT = 5
    VIR_DOMAIN_EVENT_SUSPENDED_API_ERROR = 6
    VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY = 7
    VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED = 8


class DomainEventResumedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_RESUMED_UNPAUSED = 0
    VIR_DOMAIN_EVENT_RESUMED_MIGRATED = 1
    VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT = 2
    VIR_DOMAIN_EVENT_RESUMED_POSTCOPY = 3
    VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED = 4


class DomainEventShutdownDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED = 0
    VIR_DOMAIN_EVENT_SHUTDOWN_GUEST = 1
    VIR_DOMAIN_EVENT_SHUTDOWN_HOST = 2


class DomainEventStoppedDetail(enum.IntEnum):
    VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN = 0
    VIR_DOMAIN_EVENT_STOPPED_DESTROYED = 1
    VIR_DOMAIN_EVENT_STOPPED_CRASHED = 2
    VIR_DOMAIN_EVENT_STOPPED_MIGRATED = 3
    VIR_DOMAIN_EVENT_STOPPED_SAVED = 4
    VIR_DOMAIN_EVENT_STOPPED_FAILED = 5
    VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT = 6


# Not frozen: a frozen dataclass sets each field through object.__setattr__,
# which made building an event cost more than delivering it.  Treat as read-only.
@dataclasses.dataclass(slots=True)
class DomainEvent:
    """One queued event; `source` is the driver instance that emitted it.
    `kind` names the object kind (domain, network, pool, nodedev); `uuid`
    identifies the object (a node device's name, encoded, for devices)."""
    source: object
    event_id: int
    name: str
    uuid: bytes
    id: int
    args: tuple[Any, ...]
    kind: str = KIND_DOMAIN

    def handle(self, conn: Connect) -> Any:
        if self.kind == KIND_DOMAIN:
            return Domain(conn, self.name, self.uuid, self.id)
        if self.kind == KIND_NETWORK:
            return Network(conn, self.name, self.uuid)
        if self.kind == KIND_POOL:
            return StoragePool(conn, self.name, self.uuid)
        if self.kind == KIND_NODEDEV:
            return NodeDevice(conn, self.name)
        return Domain(conn, self.name, self.uuid, self.id)


@dataclasses.dataclass(eq=False)
class _CallbackRecord:
    callback_id: int
    conn: Connect
    event_id: int
    dom_uuid: Optional[bytes]
    callback: Callable[..., Any]
    free_cb: Optional[Callable[[], None]]
    legacy: bool
    kind: str = KIND_DOMAIN
    accept: Optional[Callable[[DomainEvent], bool]] = None   # a filter of the callback's own
    deleted: bool = False

    def matches(self, ev: DomainEvent) -> bool:
        return (not self.deleted and self.conn.driver is ev.source
                and self.kind == ev.kind and self.event_id == ev.event_id
                and (self.dom_uuid is None or self.dom_uuid == ev.uuid)
                and (self.accept is None or self.accept(ev)))


class EventDispatcher:
    """The callback registry and the queue, with the loop timer that drains it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callbacks: list[_CallbackRecord] = []
        self._sources: dict[object, int] = {}   # driver -> its callbacks: queue() asks
        self._kinds: dict[tuple[object, str], int] = {}   # (driver, kind) -> its callbacks
        self._queue: collections.deque[DomainEvent] = collections.deque()
        # As libvirt's: ids count from 0, legacy ones included, per driver state
        # (test:///default starts again from 0 once its last connection closes).
        self._next_ids: weakref.WeakKeyDictionary[object, int] = weakref.WeakKeyDictionary()
        self._timer = -1
        self._timer_impl: Optional[eventloop.EventImpl] = None

    def _ensure_timer(self) -> None:
        impl = eventloop.current_impl()
        if impl is not None and impl is self._timer_impl and self._timer >= 0:
            return
        # armed at once if events wait (queue() arms only an empty queue's timer)
        timer = (impl.add_timeout(0 if self._queue else -1, self._on_timer, None)
                 if impl is not None else -1)
        if timer < 0:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                                "could not initialize domain event timer")
        self._timer, self._timer_impl = timer, impl

    def register(self, conn: Connect, dom: Optional[Domain], event_id: int,
                 callback: Callable[..., Any], free_cb: Optional[Callable[[], None]],
                 legacy: bool, kind: str = KIND_DOMAIN, key: Optional[bytes] = None,
                 accept: Optional[Callable[[DomainEvent], bool]] = None) -> int:
        """Add a callback; for other kinds than domains `key` names the object.
        As libvirt, one with a filter of its own (`accept`) is never a duplicate,
        while one without is a duplicate of any other, filtered or not."""
        dom_uuid = dom.uuid if dom is not None else key
        with self._lock:
            for rec in self._callbacks if accept is None else ():
                if (rec.conn is conn and rec.event_id == event_id and rec.legacy == legacy
                        and rec.kind == kind
                        and rec.dom_uuid == dom_uuid and rec.callback == callback):
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG,
                                        ErrorDomain.VIR_FROM_NONE,
                                        "event callback already tracked")
            self._ensure_timer()
            callback_id = self._next_ids.get(conn.driver, 0)
            self._next_ids[conn.driver] = callback_id + 1
            self._sources[conn.driver] = self._sources.get(conn.driver, 0) + 1
            self._kinds[conn.driver, kind] = self._kinds.get((conn.driver, kind), 0) + 1
            self._callbacks.append(_CallbackRecord(callback_id, conn, event_id, dom_uuid,
                                                   callback, free_cb, legacy, kind, accept))
            return callback_id

    def listening(self, source: object, kind: str) -> bool:
        """Whether `source` has callbacks for `kind`: lets a driver skip building
        events nobody gets (no lock: a hint, queue() decides)."""
        return (source, kind) in self._kinds

    def _remove(self, rec: _CallbackRecord) -> None:
        """Called with the lock held. As libvirt, the loop timer goes with the last
        callback (libvirtaio's drain() waits for exactly that)."""
        rec.deleted = True
        self._callbacks.remove(rec)
        left = self._sources[rec.conn.driver] - 1
        if left:
            self._sources[rec.conn.driver] = left
        else:
            del self._sources[rec.conn.driver]
        key = (rec.conn.driver, rec.kind)
        if self._kinds[key] > 1:
            self._kinds[key] -= 1
        else:
            del self._kinds[key]
        if not self._callbacks and self._timer_impl is not None and self._timer >= 0:
            self._timer_impl.remove_timeout(self._timer)
            self._timer, self._timer_impl = -1, None
            self._queue.clear()

    def deregister_any(self, conn: Connect, callback_id: int) -> None:
        with self._lock:
            found = [r for r in self._callbacks
                     if not r.legacy and r.callback_id == callback_id and r.conn is conn]
            if not found:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                    f"could not find event callback {callback_id} for deletion")
            self._remove(found[0])
        if found[0].free_cb is not None:
            found[0].free_cb()

    def deregister_legacy(self, conn: Connect, callback: Callable[..., Any]) -> None:
        with self._lock:
            found = [r for r in self._callbacks
                     if r.legacy and r.conn is conn and r.callback == callback]
            if not found:
                address = getattr(callback, "c_address", id(callback))
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                    f"event callback function {address:#x} not registered")
            self._remove(found[0])
        if found[0].free_cb is not None:
            found[0].free_cb()

    def drop_connection(self, conn: Connect) -> None:
        """A closed connection's callbacks go away (their free_cb runs)."""
        with self._lock:
            gone = [r for r in self._callbacks if r.conn is conn]
            for rec in gone:
                self._remove(rec)
        for rec in gone:
            if rec.free_cb is not None:
                rec.free_cb()

    def queue(self, event: DomainEvent) -> None:
        with self._lock:
            if self._timer < 0 or self._timer_impl is None:
                return  # nobody can ever receive it: libvirt drops it too
            if event.source not in self._sources:
                return
            armed = bool(self._queue)   # _on_timer empties the queue as it disarms
            self._queue.append(event)
            impl, timer = self._timer_impl, self._timer
        if not armed:
            impl.update_timeout(timer, 0)

    def _on_timer(self, timer: int) -> None:
        with self._lock:
            # Disarm before draining, under the lock: an event queued after the
            # drain re-arms the timer, so none can be left behind.
            if self._timer_impl is not None:
                self._timer_impl.update_timeout(timer, -1)
            pending = list(self._queue)
            self._queue.clear()
            callbacks = self._callbacks
            deliveries = [(ev, [r for r in callbacks if r.matches(ev)]) for ev in pending]
        for ev, recs in deliveries:
            for rec in recs:
                if rec.deleted:
                    continue
                try:
                    rec.callback(rec.conn, ev.handle(rec.conn), *ev.args)
                except Exception:  # one faulty callback must not stop delivery
                    traceback.print_exc()


dispatcher = EventDispatcher()


def queue_domain_event(source: object, event_id: int, name: str, uuid: bytes,
                       dom_id: int, *args: Any) -> None:
    dispatcher.queue(DomainEvent(source, event_id, name, uuid, dom_id, args))


def queue_lifecycle(source: object, name: str, uuid: bytes, dom_id: int,
                    event: int, detail: int) -> None:
    dispatcher.queue(DomainEvent(source, _LIFECYCLE, name, uuid, dom_id,
                                 (int(event), int(detail))))


_LIFECYCLE = int(DomainEventID.VIR_DOMAIN_EVENT_ID_LIFECYCLE)


def queue_object_event(source: object, kind: str, event_id: int, name: str, key: bytes,
                       *args: Any) -> None:
    """An event about a network, storage pool or node device."""
    dispatcher.queue(DomainEvent(source, event_id, name, key, -1, args, kind))
