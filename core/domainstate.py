"""A domain's state and reason, and the transitions between them.

libvirt reports a domain's condition as a pair (state, reason), each an
enum of libvirt-domain.h.  Every transition a driver may perform is listed
once in ``TRANSITIONS``: the operation, the states it may start from, and
the (state, reason) it ends in.  Drivers call :func:`transition_target`
instead of testing states themselves; which error a refused transition
raises is the driver's business, since libvirt's drivers word it
differently per operation.
"""

from __future__ import annotations

import dataclasses
import enum


class DomainState(enum.IntEnum):
    VIR_DOMAIN_NOSTATE = 0
    VIR_DOMAIN_RUNNING = 1
    VIR_DOMAIN_BLOCKED = 2
    VIR_DOMAIN_PAUSED = 3
    VIR_DOMAIN_SHUTDOWN = 4
    VIR_DOMAIN_SHUTOFF = 5
    VIR_DOMAIN_CRASHED = 6
    VIR_DOMAIN_PMSUSPENDED = 7


class DomainRunningReason(enum.IntEnum):
    VIR_DOMAIN_RUNNING_UNKNOWN = 0
    VIR_DOMAIN_RUNNING_BOOTED = 1
    VIR_DOMAIN_RUNNING_MIGRATED = 2
    VIR_DOMAIN_RUNNING_RESTORED = 3
    VIR_DOMAIN_RUNNING_FROM_SNAPSHOT = 4
    VIR_DOMAIN_RUNNING_UNPAUSED = 5
    VIR_DOMAIN_RUNNING_MIGRATION_CANCELED = 6
    VIR_DOMAIN_RUNNING_SAVE_CANCELED = 7
    VIR_DOMAIN_RUNNING_WAKEUP = 8
    VIR_DOMAIN_RUNNING_CRASHED = 9
    VIR_DOMAIN_RUNNING_POSTCOPY = 10
    VIR_DOMAIN_RUNNING_POSTCOPY_FAILED = 11


class DomainPausedReason(enum.IntEnum):
    VIR_DOMAIN_PAUSED_UNKNOWN = 0
    VIR_DOMAIN_PAUSED_USER = 1
    VIR_DOMAIN_PAUSED_MIGRATION = 2
    VIR_DOMAIN_PAUSED_SAVE = 3
    VIR_DOMAIN_PAUSED_DUMP = 4
    VIR_DOMAIN_PAUSED_IOERROR = 5
    VIR_DOMAIN_PAUSED_WATCHDOG = 6
    VIR_DOMAIN_PAUSED_FROM_SNAPSHOT = 7
    VIR_DOMAIN_PAUSED_SHUTTING_DOWN = 8
    VIR_DOMAIN_PAUSED_SNAPSHOT = 9
    VIR_DOMAIN_PAUSED_CRASHED = 10
    VIR_DOMAIN_PAUSED_STARTING_UP = 11
    VIR_DOMAIN_PAUSED_POSTCOPY = 12
    VIR_DOMAIN_PAUSED_POSTCOPY_FAILED = 13


class DomainShutdownReason(enum.IntEnum):
    VIR_DOMAIN_SHUTDOWN_UNKNOWN = 0
    VIR_DOMAIN_SHUTDOWN_USER = 1


class DomainShutoffReason(enum.IntEnum):
    VIR_DOMAIN_SHUTOFF_UNKNOWN = 0
    VIR_DOMAIN_SHUTOFF_SHUTDOWN = 1
    VIR_DOMAIN_SHUTOFF_DESTROYED = 2
    VIR_DOMAIN_SHUTOFF_CRASHED = 3
    VIR_DOMAIN_SHUTOFF_MIGRATED = 4
    VIR_DOMAIN_SHUTOFF_SAVED = 5
    VIR_DOMAIN_SHUTOFF_FAILED = 6
    VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT = 7
    VIR_DOMAIN_SHUTOFF_DAEMON = 8


class DomainCrashedReason(enum.IntEnum):
    VIR_DOMAIN_CRASHED_UNKNOWN = 0
    VIR_DOMAIN_CRASHED_PANICKED = 1


S = DomainState


class Operation(enum.Enum):
    """What a driver does to a domain, in libvirt's words."""
    START = "start"
    SUSPEND = "suspend"
    RESUME = "resume"
    SHUTDOWN = "shutdown"
    REBOOT = "reboot"
    DESTROY = "destroy"


@dataclasses.dataclass(frozen=True)
class Transition:
    """One allowed move; ex) SUSPEND from RUNNING to (PAUSED, PAUSED_USER)."""
    operation: Operation
    sources: frozenset[DomainState]
    state: DomainState
    reason: int


_ACTIVE = frozenset({S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_BLOCKED, S.VIR_DOMAIN_PAUSED,
                     S.VIR_DOMAIN_SHUTDOWN, S.VIR_DOMAIN_CRASHED, S.VIR_DOMAIN_PMSUSPENDED})

TRANSITIONS: dict[Operation, Transition] = {t.operation: t for t in (
    Transition(Operation.START, frozenset({S.VIR_DOMAIN_SHUTOFF}),
               S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED),
    Transition(Operation.SUSPEND, frozenset({S.VIR_DOMAIN_RUNNING, S.VIR_DOMAIN_BLOCKED}),
               S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_USER),
    Transition(Operation.RESUME, frozenset({S.VIR_DOMAIN_PAUSED}),
               S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED),
    # libvirt's test driver shuts down anything that is not shut off.
    Transition(Operation.SHUTDOWN, _ACTIVE,
               S.VIR_DOMAIN_SHUTOFF, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SHUTDOWN),
    # Reboot with on_reboot=restart: the guest comes back as freshly booted.
    Transition(Operation.REBOOT, _ACTIVE,
               S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED),
    Transition(Operation.DESTROY, _ACTIVE,
               S.VIR_DOMAIN_SHUTOFF, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_DESTROYED),
)}


# The same facts keyed by plain ints: hashing an enum member runs Python code
# (Enum.__hash__), and these two run on every state change and query.
_ACTIVE_VALUES = frozenset(int(s) for s in _ACTIVE)
_BY_OPERATION = {op._value_: (frozenset(int(s) for s in t.sources), t.state, t.reason)
                 for op, t in TRANSITIONS.items()}


def is_active(state: DomainState) -> bool:
    """A domain is active (has an id) in every state but shut off."""
    return int(state) in _ACTIVE_VALUES


def transition_target(operation: Operation, state: DomainState) -> tuple[DomainState, int] | None:
    """The (state, reason) `operation` leads to from `state`, None if not allowed."""
    sources, target, reason = _BY_OPERATION[operation._value_]
    if int(state) not in sources:
        return None
    return target, reason
