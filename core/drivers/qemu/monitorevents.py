"""libvirt-qemu's QEMU monitor events (virConnectDomainQemuMonitorEventRegister),
as libvirt 9.0's QEMU driver gives them.

Every QMP event of a domain is queued, before the driver acts on it (libvirt
emits it first), as (event name, seconds, micros, data) for the callbacks
registered for it: QEMU's timestamp (-1 and 0 without one), the data as
libvirt's JSON text (qmptext) or None when the event has none.  A callback
takes every event, one name (NOCASE: in any case), or those a regular
expression finds (REGEX; Python's re, GLib's error wording for the usual
mistakes).  A callback for every event is a duplicate of any other one of
the same function, domain and connection (libvirt's "already tracked").
"""

from __future__ import annotations

import re
from typing import Any, Callable, Optional

from ... import errors
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...events import KIND_QEMU_MONITOR, DomainEvent, dispatcher
from ...objects import Connect, Domain
from . import qmptext

N = ErrorDomain.VIR_FROM_NONE
VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX = 1
VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE = 2


def event_relay(host: object, obj: DomainObj) -> Callable[[Any], None]:
    """The monitor's raw-event hook for `obj` (QMP thread): one dictionary
    lookup when nobody listens."""
    name, uuid = obj.name, obj.uuid

    def relay(msg: Any) -> None:
        if not dispatcher.listening(host, KIND_QEMU_MONITOR):
            return
        stamp = msg.get("timestamp")
        seconds, micros = -1, 0
        if isinstance(stamp, dict):
            seconds, micros = int(stamp.get("seconds", -1)), int(stamp.get("microseconds", 0))
        details = None
        if "data" in msg:
            details = qmptext.dumps(qmptext.loads(bytes(msg)).get("data"))
        dispatcher.queue(DomainEvent(host, 0, name, uuid, obj.id,
                                     (str(msg["event"]), seconds, micros, details),
                                     KIND_QEMU_MONITOR))
    return relay


def _event_filter(event: str, flags: int) -> Callable[[DomainEvent], bool]:
    if flags & VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX:
        try:
            nocase = flags & VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE
            pattern = re.compile(event, re.IGNORECASE if nocase else 0)
        except re.error as exc:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, N,
                                f"failed to compile regex '{event}': "
                                f"Error while compiling regular expression ‘{event}’ "
                                f"at char {_regex_error(event, exc)}") from None
        return lambda ev: pattern.search(ev.args[0]) is not None
    if flags & VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE:
        folded = event.lower()
        return lambda ev: ev.args[0].lower() == folded
    return lambda ev: ev.args[0] == event


def _regex_error(pattern: str, exc: re.error) -> str:
    """"N: message" in GLib's words (its PCRE) for the mistakes Python's re
    names alike; else re's own words at re's place."""
    pos, msg = exc.pos or 0, exc.msg
    end = len(pattern)
    if msg.startswith("missing ), unterminated subpattern"):
        return f"{end}: missing terminating )"
    if msg == "unbalanced parenthesis":
        return f"{pos}: missing terminating )"
    if msg == "unterminated character set":
        return f"{end}: missing terminating ] for character class"
    if msg in ("nothing to repeat", "multiple repeat"):
        return f"{pos}: nothing to repeat"
    if msg == "bad escape (end of pattern)":
        return f"{end}: \\ at end of pattern"
    if msg.startswith("bad character range "):
        return f"{pos + len(msg) - len('bad character range ') - 1}: " \
               "range out of order in character class"
    if msg == "look-behind requires fixed-width pattern":
        start = max(pattern.rfind("(?<", 0, pos + 3), 0)
        return f"{start}: lookbehind assertion is not fixed length"
    if msg == "min repeat greater than max repeat":
        return f"{pattern.find('}', pos)}: numbers out of order in {{}} quantifier"
    return f"{pos}: {msg}"


class MonitorEvents:
    """Mixed into QemuDriver: the registration entry points."""

    def connect_domain_qemu_monitor_event_register(
            self, conn: Connect, dom: Optional[Domain], event: Optional[str],
            cb: Callable[..., Any], freecb: Optional[Callable[[], None]], flags: int) -> int:
        errors.check_flags(flags, VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_REGEX
                           | VIR_CONNECT_DOMAIN_QEMU_MONITOR_EVENT_REGISTER_NOCASE,
                           "virDomainQemuMonitorEventStateRegisterID", N)
        accept = _event_filter(event, flags) if event is not None else None
        return dispatcher.register(conn, dom, 0, cb, freecb, legacy=False,
                                   kind=KIND_QEMU_MONITOR, accept=accept)

    def connect_domain_qemu_monitor_event_deregister(self, conn: Connect,
                                                     callback_id: int) -> None:
        dispatcher.deregister_any(conn, callback_id)

