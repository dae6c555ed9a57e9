"""Domain snapshots of the QEMU driver (libvirt 9.0's qemu_snapshot.c):
internal ones, kept in the domain's qcow2 images.  The tree, the current
one and the listings are the shared SnapshotList (drivers/snapshots.py);
the files and qemu-img are snapshotdisk.py's.  As libvirt 9.0 does, seen
on this machine (tests/qemu/test_qemu_snapshots.py):

    shut off      qemu-img snapshot -c NAME on each qcow2 disk; no event
    running       stop (SUSPENDED/PAUSED, PAUSED/SAVE), HMP ``savevm "NAME"``,
                  cont (RESUMED/UNPAUSED)              -> RUNNING/UNPAUSED
                  HALT: STOPPED/FROM_SNAPSHOT instead of the cont
    paused        HMP savevm alone; no event
    revert to a running or paused snapshot: a new QEMU with -loadvm NAME
                  [STOPPED/FROM_SNAPSHOT], STARTED/FROM_SNAPSHOT, then
                  RESUMED/FROM_SNAPSHOT (RUNNING/FROM_SNAPSHOT) or
                  SUSPENDED/FROM_SNAPSHOT (PAUSED/FROM_SNAPSHOT)
    revert to a shut-off one: [STOPPED/FROM_SNAPSHOT], qemu-img snapshot -a,
                  with RUNNING or PAUSED a plain start announced
                  STARTED/FROM_SNAPSHOT (and SUSPENDED/FROM_SNAPSHOT)
                  a persistent domain then DEFINED/FROM_SNAPSHOT
    delete        qemu-img snapshot -d (shut off) or HMP ``delvm "NAME"``
    disk-only of a shut-off domain: a qcow2 overlay per disk (qemu-img
                  create), the definition moved onto them; no event
External snapshots of a running domain, and deleting an external one's data,
are not done here: libvirt's "not supported" error."""

from __future__ import annotations

import contextlib

from lxml import etree

from ... import errors, viruuid
from ...conf import xmlutil
from ...conf.domain import DomainDef
from ...conf.snapshot import SnapshotDef, format_snapshot
from ...domainobj import DomainObj
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutoffReason,
                            DomainState as S)
from ...errors import ErrorNumber
from ...events import (DomainEventDefinedDetail as Defined, DomainEventStartedDetail as Started,
                       DomainEventStoppedDetail as Stopped, DomainEventSuspendedDetail as Suspended,
                       DomainEventType as E)
from ...objects import Domain, DomainSnapshot
from .. import snapshots as sn
from ..snapshots import SnapshotList, snapshots_of
from . import snapshotdisk
from .runtime import qemu_error
from .snapshotcreate import Q, SN, SnapshotCreate, unsupported

REVERT_FLAGS = sn.REVERT_RUNNING | sn.REVERT_PAUSED | sn.REVERT_FORCE | sn.REVERT_RESET_NVRAM
DELETE_FLAGS = sn.DELETE_CHILDREN | sn.DELETE_METADATA_ONLY | sn.DELETE_CHILDREN_ONLY


class Snapshots(SnapshotCreate):
    """Mixed into QemuDriver."""

    def load_snapshots(self) -> None:
        """Every domain's snapshots, read back from the root (driver load)."""
        for obj in self.domains:
            snaps = snapshotdisk.load(self.layout, obj.name, obj.def_.os.arch)
            if len(snaps):
                obj.private["snapshots"] = snaps

    def discard_snapshots(self, obj: DomainObj) -> None:
        obj.private.pop("snapshots", None)
        snapshotdisk.remove_all(self.layout, obj.name)

    def rename_snapshots(self, obj: DomainObj, old_name: str) -> None:
        """A renamed domain's snapshot files move to its new name's folder
        (qemuDomainRenameCallback; lock held)."""
        for snap in snapshots_of(obj):
            self._write_snapshot(obj, snap)
        snapshotdisk.remove_all(self.layout, old_name)

    def undefine_snapshots(self, obj: DomainObj, flags: int) -> None:
        """What virDomainUndefineFlags does with the snapshots of an inactive domain."""
        count = len(snapshots_of(obj))
        if obj.is_active() or not count:
            return
        if not flags & 2:   # VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"cannot delete inactive domain with {count} snapshots")
        self.discard_snapshots(obj)

    # -- listing and lookups
    def domain_snapshot_num(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainSnapshotNum", Q)
        with self.lock:
            return len(self._snapshot_list(dom)[1].listing(None, flags))

    def domain_snapshot_list_names(self, dom: Domain, flags: int) -> list[str]:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainSnapshotListNames", Q)
        with self.lock:
            return [s.name for s in self._snapshot_list(dom)[1].listing(None, flags)]

    def domain_list_all_snapshots(self, dom: Domain,
                                  flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainListAllSnapshots", Q)
        with self.lock:
            return [DomainSnapshot(dom, s.name)
                    for s in self._snapshot_list(dom)[1].listing(None, flags)]

    def domain_snapshot_num_children(self, snapshot: DomainSnapshot,
                                     flags: int) -> int:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainSnapshotNumChildren", Q)
        with self.lock:
            _, snaps, snap = self._snapshot_of(snapshot)
            return len(snaps.listing(snap.name, flags))

    def domain_snapshot_list_children_names(self, snapshot: DomainSnapshot,
                                            flags: int) -> list[str]:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainSnapshotListChildrenNames", Q)
        with self.lock:
            _, snaps, snap = self._snapshot_of(snapshot)
            return [s.name for s in snaps.listing(snap.name, flags)]

    def domain_snapshot_list_all_children(self, snapshot: DomainSnapshot,
                                          flags: int) -> list[DomainSnapshot]:
        errors.check_flags(flags, sn.LIST_FLAGS, "qemuDomainSnapshotListAllChildren", Q)
        with self.lock:
            _, snaps, snap = self._snapshot_of(snapshot)
            return [DomainSnapshot(snapshot.domain, s.name)
                    for s in snaps.listing(snap.name, flags)]

    def domain_snapshot_lookup_by_name(self, dom: Domain, name: str,
                                       flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "qemuDomainSnapshotLookupByName", Q)
        with self.lock:
            self._snapshot_list(dom)[1].find(name, Q)
            return DomainSnapshot(dom, name)

    def domain_has_current_snapshot(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainHasCurrentSnapshot", Q)
        with self.lock:
            return int(self._snapshot_list(dom)[1].current is not None)

    def domain_snapshot_current(self, dom: Domain, flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "qemuDomainSnapshotCurrent", Q)
        with self.lock:
            current = self._snapshot_list(dom)[1].current
            if current is None:
                raise sn.no_snapshot("the domain does not have a current snapshot", Q)
            return DomainSnapshot(dom, current)

    def domain_snapshot_get_parent(self, snapshot: DomainSnapshot,
                                   flags: int) -> DomainSnapshot:
        errors.check_flags(flags, 0, "qemuDomainSnapshotGetParent", Q)
        with self.lock:
            snap = self._snapshot_of(snapshot)[2]
            if snap.parent is None:
                raise sn.no_snapshot(f"snapshot '{snap.name}' does not have a parent", Q)
            return DomainSnapshot(snapshot.domain, snap.parent)

    def domain_snapshot_is_current(self, snapshot: DomainSnapshot,
                                   flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainSnapshotIsCurrent", Q)
        with self.lock:
            _, snaps, snap = self._snapshot_of(snapshot)
            return int(snaps.current == snap.name)

    def domain_snapshot_has_metadata(self, snapshot: DomainSnapshot,
                                     flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainSnapshotHasMetadata", Q)
        with self.lock:
            self._snapshot_of(snapshot)
            return 1

    def domain_snapshot_get_xml_desc(self, snapshot: DomainSnapshot,
                                     flags: int) -> str:
        errors.check_flags(flags, 1, "qemuDomainSnapshotGetXMLDesc", Q)   # XML_SECURE
        with self.lock:
            snap = self._snapshot_of(snapshot)[2]
            return format_snapshot(snap, viruuid.format(snapshot.domain.uuid))

    # -- revert
    def domain_revert_to_snapshot(self, snapshot: DomainSnapshot,
                                  flags: int) -> None:
        """qemuSnapshotRevert; the transitions and their events are listed above."""
        errors.check_flags(flags, REVERT_FLAGS, "qemuSnapshotRevert", Q)
        with self.job(snapshot.domain.uuid):
            with self.lock:
                obj, _, snap = self._snapshot_of(snapshot)
                self._snapshot_revert_validate(obj, snap, flags)
                assert snap.domain is not None
                config = snap.domain.copy()
                config.name = obj.name
                inactive = (snap.inactive_domain.copy() if snap.inactive_domain is not None
                            else config.copy() if snap.active else config)
                inactive.name = obj.name
                rt = self.runtime.get(obj.uuid)
            if obj.is_active() and rt is not None:   # a transient one stays, stopped
                self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT,
                                  DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT,
                                  keep=True)
            if snap.active:
                self._revert_to_active(obj, snap, config, inactive, flags)
            else:
                self._revert_to_inactive(obj, snap, inactive, flags)
            snapshot.domain.id = obj.id
            with self.lock:
                self._set_current_snapshot(obj, snap)
                self._write_snapshot(obj, snap)
                if obj.persistent:
                    self._save_config(obj.persistent_def())
                    self.event(obj, E.VIR_DOMAIN_EVENT_DEFINED,
                               Defined.VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT)

    def _snapshot_revert_validate(self, obj: DomainObj, snap: SnapshotDef,
                         flags: int) -> None:
        if not obj.persistent and not snap.active and not flags & (sn.REVERT_RUNNING
                                                                   | sn.REVERT_PAUSED):
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                "transient domain needs to request run or pause to revert "
                                "to inactive snapshot")
        if snap.external:
            raise unsupported("revert to external snapshot not supported yet")
        if snap.domain is None:
            raise errors.report(ErrorNumber.VIR_ERR_SNAPSHOT_REVERT_RISKY, Q,
                                f"snapshot '{snap.name}' lacks domain '{obj.name}' rollback info")
        if not flags & sn.REVERT_FORCE and not snap.active and \
                self.layout.managed_save_file(obj.name).exists():
            raise errors.report(ErrorNumber.VIR_ERR_SNAPSHOT_REVERT_RISKY, Q,
                                "snapshot without memory state, removal of existing managed "
                                "saved state strongly recommended to avoid corruption")
        if snap.state == "pmsuspended":
            raise unsupported("qemu doesn't support reversion of snapshot taken in "
                               "PMSUSPENDED state", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)

    def _revert_to_active(self, obj: DomainObj, snap: SnapshotDef,
                       config: DomainDef, inactive: DomainDef, flags: int) -> None:
        """qemuSnapshotRevertActive (job held, QEMU stopped): a new QEMU loads
        the snapshot (-loadvm), started paused."""
        with self.lock:
            obj.def_ = config
            obj.new_def = inactive if obj.persistent else None
        try:
            self.start(obj, paused=True, boot_details=None, loadvm=snap.name)
        finally:
            with self.lock:
                self.event(obj, E.VIR_DOMAIN_EVENT_STARTED,
                           Started.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT)
        rt = self.runtime[obj.uuid]
        if not flags & sn.REVERT_RUNNING and (snap.state == "paused"
                                              or flags & sn.REVERT_PAUSED):
            with self.lock:
                obj.set_state(S.VIR_DOMAIN_PAUSED,
                              DomainPausedReason.VIR_DOMAIN_PAUSED_FROM_SNAPSHOT)
                self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED,
                           Suspended.VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT)
                self.save_status(obj)
            return
        with self.lock:
            rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_FROM_SNAPSHOT
        self._monitor_call(rt, "cont")

    def _revert_to_inactive(self, obj: DomainObj, snap: SnapshotDef,
                         inactive: DomainDef, flags: int) -> None:
        """qemuSnapshotRevertInactive (job held, QEMU stopped): the disks go
        back with qemu-img, then a plain start if asked."""
        assert snap.domain is not None
        if not snapshotdisk.for_each_qcow2(snap.domain, snap, "-a", True):
            with self.lock:
                if not obj.persistent:
                    self.discard_snapshots(obj)
                    self.domains.remove(obj)
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                             f"failed to revert to snapshot '{snap.name}'")
        with self.lock:
            obj.def_ = inactive
        if flags & (sn.REVERT_RUNNING | sn.REVERT_PAUSED):
            self.start(obj, paused=bool(flags & sn.REVERT_PAUSED),
                       boot_details=(Started.VIR_DOMAIN_EVENT_STARTED_FROM_SNAPSHOT,
                                     Suspended.VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT))

    # -- delete
    def domain_snapshot_delete(self, snapshot: DomainSnapshot,
                               flags: int) -> None:
        """qemuSnapshotDelete: the images' internal snapshots (unless
        METADATA_ONLY), then the records, children moving up to the parent."""
        errors.check_flags(flags, DELETE_FLAGS, "qemuSnapshotDelete", Q)
        with self.job(snapshot.domain.uuid):
            with self.lock:
                obj, snaps, snap = self._snapshot_of(snapshot)
                metadata_only = bool(flags & sn.DELETE_METADATA_ONLY)
                if not metadata_only:
                    self._snapshot_delete_validate(obj, snaps, snap, flags)
                doomed = snaps.doomed(snap, flags)
            for gone in doomed:
                if not metadata_only:
                    self._discard_snapshot_data(obj, gone)
                with self.lock:
                    below = snaps.descendants(gone.name)
                    for other in below:
                        _drop_chain_end(other, gone)
                    changed = snaps.remove(gone.name) + below
                    snapshotdisk.remove(self.layout, obj.name, gone.name)
                    for other in {id(x): x for x in changed}.values():
                        self._write_snapshot(obj, other)

    def _snapshot_delete_validate(self, obj: DomainObj, snaps: SnapshotList,
                         snap: SnapshotDef, flags: int) -> None:
        if not snap.external and obj.is_active() and snap.domain is not None:
            bad = snapshotdisk.same_sources(snap.domain, obj.def_,
                                            [d.name for d in snap.disks])
            if bad is not None:
                raise unsupported(f"disk image '{bad}' for internal snapshot '{snap.name}' is "
                                   f"not the same as disk image currently used by VM",
                                   ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        if flags & (sn.DELETE_CHILDREN | sn.DELETE_CHILDREN_ONLY):
            kinds = {s.external for s in snaps.descendants(snap.name)}
            if kinds == {True, False}:
                raise unsupported("deletion of external and internal children disk snapshots "
                                   "not supported")
            if True in kinds:
                raise unsupported("deletion of external children disk snapshots not supported")
        if snap.external:
            if flags & sn.DELETE_CHILDREN:
                raise unsupported("deletion of external disk snapshots with children not "
                                   "supported")
            # not done here (yet): libvirt commits the overlays with a block job
            raise errors.no_support("virDomainSnapshotDelete", SN)

    def _discard_snapshot_data(self, obj: DomainObj, snap: SnapshotDef) -> None:
        """qemuSnapshotDiscardImpl's disk part (job held): errors do not stop
        the deletion, as in libvirt."""
        with self.lock:
            rt = self.runtime.get(obj.uuid)
            active = obj.is_active() and rt is not None
        if not active:
            snapshotdisk.for_each_qcow2(snap.domain or obj.def_, snap, "-d", True)
            return
        assert rt is not None
        with contextlib.suppress(errors.VirtError):
            self._hmp_line(rt, f'delvm "{snap.name}"')



def _drop_chain_end(snap: SnapshotDef, gone: SnapshotDef) -> None:
    """qemuSnapshotDeleteUpdateDisks on a descendant of a deleted snapshot:
    in its definitions, each disk that `gone` held loses the first element
    of its backing chain with the same (empty) source as `gone`'s disk,
    that is the chain's end, <backingStore/>; and an external descendant's
    disk still on `gone`'s overlay is put back on the image below it."""
    held = {disk.name: disk for disk in gone.disks if disk.snapshot != "no"}
    for d, was in ((snap.domain, gone.domain),
                   (snap.inactive_domain, gone.inactive_domain or gone.domain)):
        for dev in d.devices if d is not None else []:
            target = dev.find("target")
            if dev.tag != "disk" or target is None or target.get("dev") not in held:
                continue
            disk = held[target.get("dev", "")]
            if snap.external and disk.path and was is not None:
                _back_to(dev, disk.path, was)
            parent = dev
            while (store := parent.find("backingStore")) is not None:
                if not store.get("type") and not len(store):
                    parent.remove(store)
                    break
                parent = store


def _back_to(dev: etree._Element, overlay: str, was: DomainDef) -> None:
    """`dev` on `overlay` takes the source (and format) its disk had in `was`."""
    source = dev.find("source")
    if source is None or overlay not in (source.get("file"), source.get("dev")):
        return
    target = dev.find("target")
    old = next((o for o in was.devices if o.tag == "disk" and o.find("target") is not None
                and o.find("target").get("dev") == target.get("dev")), None)  # type: ignore
    if old is None or old.find("source") is None:
        return
    dev.replace(source, xmlutil.copy_element(old.find("source")))  # type: ignore[arg-type]
    driver, old_driver = dev.find("driver"), old.find("driver")
    if driver is not None and old_driver is not None and old_driver.get("type"):
        driver.set("type", old_driver.get("type", ""))
    dev.set("type", old.get("type", "file"))
