"""The test driver's domain snapshots: a tree of saved definitions per
domain, the current one, revert and delete.  Mixed into TestDriver."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

from ... import errors, events
from ...conf import schema
from ...conf.snapshot import (SnapshotDef, SnapshotDisk, disk_targets, format_snapshot,
                              parse_moment_xml)
from ...domainobj import DomainObj
from ...domainstate import DomainRunningReason, DomainShutoffReason, DomainState
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventType
from ...objects import Domain, DomainSnapshot
from ..snapshots import (CREATE_HALT, CREATE_NO_METADATA, CREATE_VALIDATE, DELETE_CHILDREN,
                         DELETE_CHILDREN_ONLY, DELETE_METADATA_ONLY, LIST_FLAGS, REVERT_FORCE,
                         REVERT_PAUSED, REVERT_RUNNING, snapshots_of)

T = ErrorDomain.VIR_FROM_TEST
SNAP = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
# FROM_SNAPSHOT details of lifecycle events, and the paused reason
_STARTED_FROM_SNAPSHOT, _SUSPENDED_FROM_SNAPSHOT, _STOPPED_FROM_SNAPSHOT = 3, 5, 6
_PAUSED_FROM_SNAPSHOT = 7
_STATE_NAMES = {DomainState.VIR_DOMAIN_RUNNING: "running", DomainState.VIR_DOMAIN_PAUSED:
                "paused", DomainState.VIR_DOMAIN_SHUTOFF: "shutoff"}


def _no_snapshot(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN_SNAPSHOT, T, detail)


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

    def _snap(self, snapshot: DomainSnapshot) -> tuple[DomainObj, SnapshotDef]:
        obj = self._obj(snapshot.domain)
        return obj, snapshots_of(obj).find(snapshot.name, T)

    def _list(self, dom: Domain, flags: int) -> list[SnapshotDef]:
        return snapshots_of(self._obj(dom)).listing(None, flags)

    def _list_children(self, snapshot: DomainSnapshot, flags: int) -> list[SnapshotDef]:
        obj, snap = self._snap(snapshot)
        return snapshots_of(obj).listing(snap.name, flags)

    # -- create
    def domain_snapshot_create_xml(self, dom: Domain, xml: str, flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0x3FF, "testDomainSnapshotCreateXML")
        if flags & CREATE_VALIDATE:
            schema.validate(xml, "domainsnapshot.rng")
        new = parse_moment_xml(xml, "domainsnapshot", SNAP)
        with self.lock:
            obj = self._obj(dom)
            if obj.private.get("checkpoints"):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, T,
                                    "cannot create snapshot while checkpoint exists")
            snaps = snapshots_of(obj)
            if new.name in snaps:
                snaps.add(snaps.defs[new.name])   # its error
            state = _STATE_NAMES.get(obj.state, "running")
            domain = obj.def_.copy()
            snap = SnapshotDef(name=new.name, description=new.description, state=state,
                               parent=snaps.current, creation_time=new.creation_time,
                               memory="no" if state == "shutoff" else "internal",
                               disks=[SnapshotDisk(d, "internal") for d in disk_targets(domain)],
                               domain=domain)
            if not flags & CREATE_NO_METADATA:
                snaps.add(snap)
                snaps.current = snap.name
            if flags & CREATE_HALT and obj.is_active():
                self._stop_with_event(obj, dom, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT,
                                      _STOPPED_FROM_SNAPSHOT)
            return DomainSnapshot(dom, new.name)

    # -- listing and lookups
    def domain_snapshot_num(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, LIST_FLAGS, "testDomainSnapshotNum")
        with self.lock:
            return len(self._list(dom, flags))

    def domain_snapshot_list_names(self, dom: Domain, flags: int) -> list[str]:
        errors.check_flags(flags, LIST_FLAGS, "testDomainSnapshotListNames")
        with self.lock:
            return [s.name for s in self._list(dom, flags)]

    def domain_list_all_snapshots(self, dom: Domain, flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, LIST_FLAGS, "testDomainListAllSnapshots")
        with self.lock:
            return [DomainSnapshot(dom, s.name) for s in self._list(dom, flags)]

    def domain_snapshot_num_children(self, snapshot: DomainSnapshot, flags: int) -> int:
        errors.check_flags(flags, LIST_FLAGS, "testDomainSnapshotNumChildren")
        with self.lock:
            return len(self._list_children(snapshot, flags))

    def domain_snapshot_list_children_names(self, snapshot: DomainSnapshot,
                                            flags: int) -> list[str]:
        errors.check_flags(flags, LIST_FLAGS, "testDomainSnapshotListChildrenNames")
        with self.lock:
            return [s.name for s in self._list_children(snapshot, flags)]

    def domain_snapshot_list_all_children(self, snapshot: DomainSnapshot,
                                          flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, LIST_FLAGS, "testDomainSnapshotListAllChildren")
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
            return int(snapshots_of(self._obj(dom)).current is not None)

    def domain_snapshot_current(self, dom: Domain, flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "testDomainSnapshotCurrent")
        with self.lock:
            current = snapshots_of(self._obj(dom)).current
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
            return int(snapshots_of(obj).current == snap.name)

    def domain_snapshot_has_metadata(self, snapshot: DomainSnapshot, flags: int) -> int:
        errors.check_flags(flags, 0, "testDomainSnapshotHasMetadata")
        with self.lock:
            self._snap(snapshot)
            return 1

    def domain_snapshot_get_xml_desc(self, snapshot: DomainSnapshot, flags: int) -> str:
        errors.check_flags(flags, 1, "testDomainSnapshotGetXMLDesc")
        with self.lock:
            return format_snapshot(self._snap(snapshot)[1])

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
            assert snap.domain is not None
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
            snapshots_of(obj).current = snap.name

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
            for gone in snaps.doomed(snap, flags):
                snaps.remove(gone.name)
