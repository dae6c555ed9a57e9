"""Listing a driver's domains, the same for every driver (DomainListing), and
virConnectListAllDomains' filter: flags come in groups; a domain passes when,
for every group with a bit set, it has one of those bits."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..domainobj import DomainObj
from ..domainstate import DomainState

VIR_CONNECT_LIST_DOMAINS_ACTIVE = 1 << 0
VIR_CONNECT_LIST_DOMAINS_INACTIVE = 1 << 1
VIR_CONNECT_LIST_DOMAINS_PERSISTENT = 1 << 2
VIR_CONNECT_LIST_DOMAINS_TRANSIENT = 1 << 3
VIR_CONNECT_LIST_DOMAINS_RUNNING = 1 << 4
VIR_CONNECT_LIST_DOMAINS_PAUSED = 1 << 5
VIR_CONNECT_LIST_DOMAINS_SHUTOFF = 1 << 6
VIR_CONNECT_LIST_DOMAINS_OTHER = 1 << 7
VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE = 1 << 8
VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE = 1 << 9
VIR_CONNECT_LIST_DOMAINS_AUTOSTART = 1 << 10
VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART = 1 << 11
VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT = 1 << 12
VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT = 1 << 13
VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT = 1 << 14
VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT = 1 << 15

LIST_ALL_FLAGS = (1 << 16) - 1


def _properties(obj: DomainObj) -> int:
    """The flag bits that describe `obj`."""
    bits = (VIR_CONNECT_LIST_DOMAINS_ACTIVE if obj.is_active()
            else VIR_CONNECT_LIST_DOMAINS_INACTIVE)
    bits |= (VIR_CONNECT_LIST_DOMAINS_PERSISTENT if obj.persistent
             else VIR_CONNECT_LIST_DOMAINS_TRANSIENT)
    bits |= {DomainState.VIR_DOMAIN_RUNNING: VIR_CONNECT_LIST_DOMAINS_RUNNING,
             DomainState.VIR_DOMAIN_PAUSED: VIR_CONNECT_LIST_DOMAINS_PAUSED,
             DomainState.VIR_DOMAIN_SHUTOFF: VIR_CONNECT_LIST_DOMAINS_SHUTOFF,
             }.get(obj.state, VIR_CONNECT_LIST_DOMAINS_OTHER)
    bits |= (VIR_CONNECT_LIST_DOMAINS_AUTOSTART if obj.autostart
             else VIR_CONNECT_LIST_DOMAINS_NO_AUTOSTART)
    bits |= (VIR_CONNECT_LIST_DOMAINS_MANAGEDSAVE if obj.has_managed_save
             else VIR_CONNECT_LIST_DOMAINS_NO_MANAGEDSAVE)
    bits |= (VIR_CONNECT_LIST_DOMAINS_HAS_SNAPSHOT if obj.private.get("snapshots")
             else VIR_CONNECT_LIST_DOMAINS_NO_SNAPSHOT)
    bits |= (VIR_CONNECT_LIST_DOMAINS_HAS_CHECKPOINT if obj.private.get("checkpoints")
             else VIR_CONNECT_LIST_DOMAINS_NO_CHECKPOINT)
    return bits


_GROUPS = (0x3, 0xC, 0xF0, 0x300, 0xC00, 0x3000, 0xC000)


def matches(obj: DomainObj, flags: int) -> bool:
    if not flags:
        return True
    props = _properties(obj)
    return all(not (flags & group) or (flags & group & props) for group in _GROUPS)


class DomainListing:
    """The listing entry points, for a driver with `lock`, `domains` (a
    DomainObjList), `_handle(conn, obj)` and the names its errors use."""

    list_all_function = "ConnectListAllDomains"   # libvirt names the driver's function
    error_domain = errors.ErrorDomain.VIR_FROM_NONE
    lock: Any
    domains: Any

    def connect_num_of_domains(self) -> int:
        with self.lock:
            return sum(1 for o in self.domains if o.is_active())

    def connect_list_domains(self, maxids: int) -> list[int]:
        with self.lock:
            return [o.id for o in self.domains if o.is_active()][:maxids]

    def connect_num_of_defined_domains(self) -> int:
        with self.lock:
            return sum(1 for o in self.domains if not o.is_active())

    def connect_list_defined_domains(self, maxnames: int) -> list[str]:
        with self.lock:
            return [o.name for o in self.domains if not o.is_active()][:maxnames]

    def connect_list_all_domains(self, conn: Any, flags: int) -> list[Any]:
        errors.check_flags(flags, LIST_ALL_FLAGS, self.list_all_function, self.error_domain)
        handle = self._handle  # type: ignore[attr-defined]
        with self.lock:
            if not flags:   # the common case: no filter, no call per domain
                return [handle(conn, o) for o in self.domains]
            return [handle(conn, o) for o in self.domains if matches(o, flags)]

    def stats_targets(self, doms: Any) -> list[DomainObj]:
        """The domains bulk statistics are about (lock held): all of them, or
        those of `doms` still defined, in the caller's order."""
        if doms is None:
            return list(self.domains)
        found = (self.domains.find_by_uuid(d.uuid) for d in doms)
        return [o for o in found if o is not None]
