"""The test driver's domain snapshots: a tree of saved definitions per
domain, the current one, revert and delete.  Mixed into TestDriver."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

from ... import errors, events
from ...conf.snapshot import (MomentDef, disk_targets, format_snapshot_xml,
                              parse_moment_xml)
from ...domainobj import DomainObj
from ...domainstate import DomainRunningReason, DomainShutoffReason, DomainState
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventType
from ...objects import Domain, DomainSnapshot

T = ErrorDomain.VIR_FROM_TEST
SNAP = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
CREATE_REDEFINE, CREATE_CURRENT, CREATE_NO_METADATA, CREATE_HALT = 1, 2, 4, 8
LIST_ROOTS = LIST_DESCENDANTS = 1
LIST_LEAVES, LIST_NO_LEAVES, LIST_INACTIVE, LIST_ACTIVE = 4, 8, 32, 64
DELETE_CHILDREN, DELETE_METADATA_ONLY, DELETE_CHILDREN_ONLY = 1, 2, 4
REVERT_RUNNING, REVERT_PAUSED, REVERT_FORCE = 1, 2, 4
# FROM_SNAPSHOT details of lifecycle events, and the paused reason
_STARTED_FROM_SNAPSHOT, _SUSPENDED_FROM_SNAPSHOT, _STOPPED_FROM_SNAPSHOT = 3, 5, 6
_PAUSED_FROM_SNAPSHOT = 7
_STATE_NAMES = {DomainState.VIR_DOMAIN_RUNNING: "running", DomainState.VIR_DOMAIN_PAUSED:
                "paused", DomainState.VIR_DOMAIN_SHUTOFF: "shutoff"}


def _no_snapshot(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN_SNAPSHOT, T, detail)


def snapshots_of(obj: DomainObj) -> dict[str, MomentDef]:
    snaps: dict[str, MomentDef] = obj.private.setdefault("snapshots", {})
    return snaps


class SnapshotMixin:
    """Snapshot entry points of the test driver."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _event(self, obj: DomainObj, event: int, detail: int) -> None: ...
        def _stop(self, obj: DomainObj, dom: Optional[Domain], reason: int) -> None: ...
        def _stop_with_event(self, obj: DomainObj, dom: Optional[Domain], reason: int,
                             detail: int) -> None: ...
        def stopped_event_id(self, obj: DomainObj) -> int: ...
        def start_domain(self, obj: DomainObj, reason: int) -> None: ...

    def _snap(self, snapshot: DomainSnapshot) -> tuple[DomainObj, MomentDef]:
        obj = self._obj(snapshot.domain)
        found = snapshots_of(obj).get(snapshot.name)
        if found is None:
            raise _no_snapshot(f"no domain snapshot with matching name '{snapshot.name}'")
        return obj, found

    @staticmethod
    def _children(obj: DomainObj, name: Optional[str], descendants: bool) -> list[MomentDef]:
        snaps = snapshots_of(obj)
        direct = [s for s in snaps.values() if s.parent == name]
        if not descendants:
            return direct
        out = []
        for child in direct:
            out.append(child)
            out.extend(SnapshotMixin._children(obj, child.name, True))
        return out

    def _filter(self, obj: DomainObj, snaps: list[MomentDef], flags: int) -> list[MomentDef]:
        out = []
        for snap in snaps:
            leaf = not self._children(obj, snap.name, False)
            if flags & (LIST_LEAVES | LIST_NO_LEAVES) and not (
                    (flags & LIST_LEAVES and leaf) or (flags & LIST_NO_LEAVES and not leaf)):
                continue
            inactive = snap.state == "shutoff"
            if flags & (LIST_INACTIVE | LIST_ACTIVE) and not (
                    (flags & LIST_INACTIVE and inactive) or (flags & LIST_ACTIVE and not inactive)):
                continue
            out.append(snap)
        return out

    def _list(self, dom: Domain, flags: int) -> list[MomentDef]:
        obj = self._obj(dom)
        snaps = list(snapshots_of(obj).values())
        if flags & LIST_ROOTS:
            snaps = [s for s in snaps if s.parent is None]
        return self._filter(obj, snaps, flags)

    def _list_children(self, snapshot: DomainSnapshot, flags: int) -> list[MomentDef]:
        obj, snap = self._snap(snapshot)
        return self._filter(obj, self._children(obj, snap.name, bool(flags & LIST_DESCENDANTS)),
                            flags)

    # -- create
    def domain_snapshot_create_xml(self, dom: Domain, xml: str, flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0x3FF, "testDomainSnapshotCreateXML")
        new = parse_moment_xml(xml, "domainsnapshot", SNAP)
        with self.lock:
            obj = self._obj(dom)
            if obj.private.get("checkpoints"):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, T,
                                    "cannot create snapshot while checkpoint exists")
            snaps = snapshots_of(obj)
            if new.name in snaps:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                    ErrorDomain.VIR_FROM_DOMAIN,
                                    f"domain moment {new.name} already exists")
            new.state = _STATE_NAMES.get(obj.state, "running")
            new.domain = obj.def_.copy()
            new.disks = disk_targets(new.domain)
            new.parent = obj.private.get("current_snapshot")
            if not flags & CREATE_NO_METADATA:
                snaps[new.name] = new
                obj.private["current_snapshot"] = new.name
            if flags & CREATE_HALT and obj.is_active():
                self._stop_with_event(obj, dom, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT,
                                      _STOPPED_FROM_SNAPSHOT)
            return DomainSnapshot(dom, new.name)

    # -- listing and lookups
    def domain_snapshot_num(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0x7FF, "testDomainSnapshotNum")
        with self.lock:
            return len(self._list(dom, flags))

    def domain_snapshot_list_names(self, dom: Domain, flags: int) -> list[str]:
        errors.check_flags(flags, 0x7FF, "testDomainSnapshotListNames")
        with self.lock:
            return [s.name for s in self._list(dom, flags)]

    def domain_list_all_snapshots(self, dom: Domain, flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, 0x7FF, "testDomainListAllSnapshots")
        with self.lock:
            return [DomainSnapshot(dom, s.name) for s in self._list(dom, flags)]

    def domain_snapshot_num_children(self, snapshot: DomainSnapshot, flags: int) -> int:
        errors.check_flags(flags, 0x7FF, "testDomainSnapshotNumChildren")
        with self.lock:
            return len(self._list_children(snapshot, flags))

    def domain_snapshot_list_children_names(self, snapshot: DomainSnapshot,
                                            flags: int) -> list[str]:
        errors.check_flags(flags, 0x7FF, "testDomainSnapshotListChildrenNames")
        with self.lock:
            return [s.name for s in self._list_children(snapshot, flags)]

    def domain_snapshot_list_all_children(self, snapshot: DomainSnapshot,
                                          flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, 0x7FF, "testDomainSnapshotListAllChildren")
        with self.lock:
            return [DomainSnapshot(snapshot.domain, s.name)
                    for s in self._list_children(snapshot, flags)]

    def domain_snapshot_lookup_by_name(self, dom: Domain, name: str,
                                       flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "testDomainSnapshotLookupByName")
        with self.lock:
            self._snap(DomainSnapshot(dom, name))
            return DomainSnapshot(dom, name)

    def domain_has_current_snapshot(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "testDomainHasCurrentSnapshot")
        with self.lock:
            return int(self._obj(dom).private.get("current_snapshot") is not None)

    def domain_snapshot_current(self, dom: Domain, flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "testDomainSnapshotCurrent")
        with self.lock:
            current = self._obj(dom).private.get("current_snapshot")
            if current is None:
                raise _no_snapshot("the domain does not have a current snapshot")
            return DomainSnapshot(dom, current)

    def domain_snapshot_get_parent(self, snapshot: DomainSnapshot,
                                   flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "testDomainSnapshotGetParent")
        with self.lock:
            _, snap = self._snap(snapshot)
            if snap.parent is None:
                raise _no_snapshot(f"snapshot '{snap.name}' does not have a parent")
            return DomainSnapshot(snapshot.domain, snap.parent)

    def domain_snapshot_is_current(self, snapshot: DomainSnapshot, flags: int) -> int:
        errors.check_flags(flags, 0, "testDomainSnapshotIsCurrent")
        with self.lock:
            obj, snap = self._snap(snapshot)
            return int(obj.private.get("current_snapshot") == snap.name)

    def domain_snapshot_has_metadata(self, snapshot: DomainSnapshot, flags: int) -> int:
        errors.check_flags(flags, 0, "testDomainSnapshotHasMetadata")
        with self.lock:
            self._snap(snapshot)
            return 1

    def domain_snapshot_get_xml_desc(self, snapshot: DomainSnapshot, flags: int) -> str:
        errors.check_flags(flags, 1, "testDomainSnapshotGetXMLDesc")
        with self.lock:
            return format_snapshot_xml(self._snap(snapshot)[1])

    # -- revert and delete
    def domain_revert_to_snapshot(self, snapshot: DomainSnapshot, flags: int) -> None:
        """Revert as libvirt 9.0's test driver does.  A running domain reverted to a
        running or paused snapshot is stopped and started again (STOPPED, STARTED
        FROM_SNAPSHOT), never resumed in place.  Reverting to a shut-off snapshot
        with RUNNING or PAUSED announces STARTED (and SUSPENDED) without starting
        the domain: libvirt 9.0 does exactly that."""
        errors.check_flags(flags, REVERT_RUNNING | REVERT_PAUSED | REVERT_FORCE,
                           "testDomainRevertToSnapshot")
        with self.lock:
            obj, snap = self._snap(snapshot)
            start_flags = flags & (REVERT_RUNNING | REVERT_PAUSED)
            if not obj.persistent and snap.state == "shutoff" and not start_flags:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "transient domain needs to request run or pause "
                                    "to revert to inactive snapshot")
            if obj.is_active():
                self._halt_for_revert(obj, snapshot.domain)
            obj.def_ = snap.domain.copy()
            obj.def_.id = -1
            paused = (not flags & REVERT_RUNNING
                      and (snap.state == "paused" or flags & REVERT_PAUSED))
            if snap.state != "shutoff":
                self.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_FROM_SNAPSHOT)
                obj.private["no_start_copy"] = True   # see stopped_event_id
                snapshot.domain.id = obj.id
                if paused:
                    obj.set_state(DomainState.VIR_DOMAIN_PAUSED, _PAUSED_FROM_SNAPSHOT)
            if snap.state != "shutoff" or start_flags:
                self._event(obj, DomainEventType.VIR_DOMAIN_EVENT_STARTED, _STARTED_FROM_SNAPSHOT)
                if paused:
                    self._event(obj, DomainEventType.VIR_DOMAIN_EVENT_SUSPENDED,
                                _SUSPENDED_FROM_SNAPSHOT)
            obj.private["current_snapshot"] = snap.name

    def _halt_for_revert(self, obj: DomainObj, dom: Domain) -> None:
        """Shut a domain off before loading a snapshot; a transient one stays listed."""
        dom_id = self.stopped_event_id(obj)
        if obj.new_def is not None:
            obj.def_, obj.new_def = obj.new_def, None
        obj.set_state(DomainState.VIR_DOMAIN_SHUTOFF,
                      DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT)
        obj.def_.id = -1
        dom.id = -1
        events.queue_lifecycle(self, obj.name, obj.uuid, dom_id,
                               DomainEventType.VIR_DOMAIN_EVENT_STOPPED, _STOPPED_FROM_SNAPSHOT)

    def domain_snapshot_delete(self, snapshot: DomainSnapshot, flags: int) -> None:
        errors.check_flags(flags, DELETE_CHILDREN | DELETE_METADATA_ONLY | DELETE_CHILDREN_ONLY,
                           "testDomainSnapshotDelete")
        with self.lock:
            obj, snap = self._snap(snapshot)
            snaps = snapshots_of(obj)
            doomed = []
            if flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY):
                doomed = self._children(obj, snap.name, True)
            if not flags & DELETE_CHILDREN_ONLY:
                doomed.append(snap)
                for child in snaps.values():
                    if child.parent == snap.name:
                        child.parent = snap.parent
            current = obj.private.get("current_snapshot")
            for gone in doomed:
                snaps.pop(gone.name, None)
                if current == gone.name:
                    current = snap.parent if not flags & DELETE_CHILDREN_ONLY else snap.name
            obj.private["current_snapshot"] = current
