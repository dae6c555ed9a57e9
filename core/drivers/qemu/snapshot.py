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
"""

from __future__ import annotations

import contextlib
import threading
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Optional

from ... import errors, viruuid
from ...conf.domain import DomainDef
from ...conf.snapshot import (PARSE_OFFLINE, PARSE_REDEFINE, PARSE_VALIDATE, SnapshotDef,
                              align_disks, format_snapshot, parse_snapshot_xml)
from ...conf import xmlutil
from ...domainobj import DomainObj
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutoffReason,
                            DomainState as S)
from ...errors import ErrorDomain, ErrorNumber
from ...events import (DomainEventDefinedDetail as Defined, DomainEventStartedDetail as Started,
                       DomainEventStoppedDetail as Stopped, DomainEventSuspendedDetail as Suspended,
                       DomainEventType as E)
from ...objects import Domain, DomainSnapshot
from .. import snapshots as sn
from ..snapshots import SnapshotList, snapshots_of
from . import snapshotdisk
from .runtime import Runtime, qemu_error

if TYPE_CHECKING:
    from ...domainobj import DomainObjList
    from .paths import RootLayout

Q = ErrorDomain.VIR_FROM_QEMU
SN = ErrorDomain.VIR_FROM_DOMAIN_SNAPSHOT
CREATE_FLAGS = 0x3FF
REVERT_FLAGS = sn.REVERT_RUNNING | sn.REVERT_PAUSED | sn.REVERT_FORCE | sn.REVERT_RESET_NVRAM
DELETE_FLAGS = sn.DELETE_CHILDREN | sn.DELETE_METADATA_ONLY | sn.DELETE_CHILDREN_ONLY
_STATE_NAMES = {S.VIR_DOMAIN_RUNNING: "running", S.VIR_DOMAIN_BLOCKED: "blocked",
                S.VIR_DOMAIN_PAUSED: "paused", S.VIR_DOMAIN_SHUTDOWN: "shutdown",
                S.VIR_DOMAIN_SHUTOFF: "shutoff", S.VIR_DOMAIN_CRASHED: "crashed",
                S.VIR_DOMAIN_PMSUSPENDED: "pmsuspended"}


def _unsupported(detail: str, code: int = ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED
                 ) -> errors.VirtError:
    return errors.report(code, Q, detail)


class Snapshots:
    """Mixed into QemuDriver, which supplies the rest."""

    lock: threading.RLock
    if TYPE_CHECKING:
        layout: RootLayout
        domains: DomainObjList
        runtime: dict[bytes, Runtime]
        job: Callable[[bytes], ContextManager[None]]
        event: Callable[[DomainObj, int, int], None]
        _obj: Callable[[Domain], DomainObj]
        _parse: Callable[..., DomainDef]
        _save_config: Callable[[DomainDef], None]
        migratable_xml: Callable[..., str]
        live_def: Callable[[DomainObj], DomainDef]
        start: Callable[..., None]
        stop_process: Callable[..., None]
        _monitor_call: Callable[..., Any]
        save_status: Callable[[DomainObj], None]
        agent_available: Callable[..., bool]

    # -- helpers
    def _snapshot_list(self, dom: Domain) -> tuple[DomainObj, SnapshotList]:
        obj = self._obj(dom)
        return obj, snapshots_of(obj)

    def _snapshot_of(self, snapshot: DomainSnapshot
              ) -> tuple[DomainObj, SnapshotList, SnapshotDef]:
        obj, snaps = self._snapshot_list(snapshot.domain)
        return obj, snaps, snaps.find(snapshot.name, Q)

    def _write_snapshot(self, obj: DomainObj, snap: SnapshotDef) -> None:
        snapshotdisk.write(self.layout, obj.name, viruuid.format(obj.uuid), snapshots_of(obj),
                           snap)

    def _set_current_snapshot(self, obj: DomainObj, snap: SnapshotDef) -> None:
        """qemuSnapshotSetCurrent: the old current one's file says it is no more."""
        snaps = snapshots_of(obj)
        old = snaps.current
        snaps.current = snap.name
        if old is not None and old != snap.name and old in snaps:
            self._write_snapshot(obj, snaps.defs[old])

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

    # -- create
    def domain_snapshot_create_xml(self, dom: Domain, xml: str,
                                   flags: int) -> DomainSnapshot:
        fn = "qemuSnapshotCreateXML"
        errors.check_flags(flags, CREATE_FLAGS, fn, Q)
        if flags & sn.CREATE_QUIESCE and not flags & sn.CREATE_DISK_ONLY:
            raise errors.invalid_arg(Q, fn, "flags",
                                     "Flag 'VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY' is required "
                                     "by flag 'VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE'")
        if flags & sn.CREATE_LIVE and flags & sn.CREATE_REDEFINE:
            raise errors.invalid_arg(Q, fn, "flags",
                                     "Flags 'VIR_DOMAIN_SNAPSHOT_CREATE_LIVE' and "
                                     "'VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE' are mutually "
                                     "exclusive")
        with self.lock:
            obj = self._obj(dom)
            if not obj.persistent and flags & sn.CREATE_HALT:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "cannot halt after transient domain snapshot")
            active = obj.is_active()
        parse = ((PARSE_REDEFINE if flags & sn.CREATE_REDEFINE else 0)
                 | (PARSE_OFFLINE if flags & sn.CREATE_DISK_ONLY or not active else 0)
                 | (PARSE_VALIDATE if flags & sn.CREATE_VALIDATE else 0))
        snap, _ = parse_snapshot_xml(xml, parse, obj.def_.os.arch)
        with self.lock:
            self._validate_new_snapshot(obj, snap, flags)
        with self.job(dom.uuid):
            if flags & sn.CREATE_REDEFINE:
                with self.lock:
                    self._redefine_snapshot(obj, snap, flags)
            else:
                self._create_snapshot(obj, snap, flags)
            return DomainSnapshot(dom, snap.name)

    def _validate_new_snapshot(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """qemuSnapshotCreateXMLValidateDef (lock held)."""
        if not flags & sn.CREATE_NO_METADATA:
            for bad, why in (("/" in snap.name, "name can't contain '/'"),
                             (snap.name.startswith("."), "name can't start with '.'")):
                if bad:
                    raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, Q,
                                        f"invalid snapshot name '{snap.name}': {why}")
        if flags & sn.CREATE_LIVE and (not obj.is_active() or snap.memory != "external"):
            raise _unsupported("live snapshot creation is supported only during full system "
                               "snapshots", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        state = snap.state if flags & sn.CREATE_REDEFINE else _STATE_NAMES.get(obj.state, "")
        if state == "pmsuspended":
            raise _unsupported("qemu doesn't support taking snapshots of PMSUSPENDED guests",
                               ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        if state in ("", "blocked") or (state == "disk-snapshot"
                                         and not flags & sn.CREATE_REDEFINE):
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             f"Invalid domain state {state or 'nostate'}")

    def _redefine_snapshot(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """qemuSnapshotRedefine (lock held): the caller's record, as it is."""
        snaps = snapshots_of(obj)
        snaps.check_cycles(snap)
        other = snaps.defs.get(snap.name)
        if flags & sn.CREATE_DISK_ONLY and snap.state != "disk-snapshot":
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, SN,
                                f"disk-only flag for snapshot {snap.name} requires "
                                f"disk-snapshot state")
        if snap.domain is not None and snap.domain.uuid != obj.uuid:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, SN,
                                f"definition for snapshot {snap.name} must use uuid "
                                f"{viruuid.format(obj.uuid)}")
        if other is not None:
            if other.active != snap.active:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG,
                                    SN,
                                    f"cannot change between online and offline snapshot "
                                    f"state in snapshot {snap.name}")
            if (other.state == "disk-snapshot") != (snap.state == "disk-snapshot"):
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG,
                                    SN,
                                    f"cannot change between disk only and full system in "
                                    f"snapshot {snap.name}")
        domain = snap.domain or (other.domain if other is not None else None)
        if domain is None:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                SN, "missing domain in snapshot")
        external = snap.state == "disk-snapshot" or snap.external
        align_disks(snap, domain, "external" if external else "internal")
        if other is not None:
            if snap.domain is None:
                snap.domain = other.domain
            del snaps.defs[snap.name]
        snaps.defs[snap.name] = snap
        if flags & sn.CREATE_CURRENT:
            self._set_current_snapshot(obj, snap)
        self._write_snapshot(obj, snap)

    def _create_snapshot(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """qemuSnapshotCreate (job held)."""
        with self.lock:
            xml = self.migratable_xml(obj, inactive=not obj.is_active())
            config = (obj.persistent_def().copy() if obj.is_active() and obj.persistent
                      else None)
        # read back as libvirt does (virDomainDefParseString): off the lock,
        # as a define's parse (QEMU's capabilities may be asked)
        domain = self._parse(xml, new_domain=False)
        with self.lock:
            self._align_snapshot(obj, snap, flags, domain, config)
            self._prepare_snapshot(obj, snap, flags)
            snaps = snapshots_of(obj)
            keep = not flags & sn.CREATE_NO_METADATA
            if keep:
                snaps.add(snap)
                snap.parent = snaps.current
            rt = self.runtime.get(obj.uuid)
            active = obj.is_active() and rt is not None
        try:
            if active:
                assert rt is not None
                self._create_active_snapshot(obj, rt, snap, flags)
            else:   # _prepare let only internal ones through
                snapshotdisk.for_each_qcow2(obj.def_, snap, "-c", False)
        except BaseException:
            if keep:
                with self.lock:
                    snaps.defs.pop(snap.name, None)
            raise
        if keep:
            with self.lock:
                self._set_current_snapshot(obj, snap)
                self._write_snapshot(obj, snap)

    def _align_snapshot(self, obj: DomainObj, snap: SnapshotDef, flags: int, domain: DomainDef,
               config: Optional[DomainDef]) -> None:
        """qemuSnapshotCreateAlignDisks (lock held): the definitions kept with
        it (`domain`: the running one, else the definition, as migratable XML
        read back; `config`: a running domain's persistent one), its state and
        memory, a mode for every disk."""
        active = obj.is_active()
        snap.domain, snap.inactive_domain = domain, config
        default = "internal"
        if flags & sn.CREATE_DISK_ONLY:
            default = "external"
            snap.state = "disk-snapshot" if active else "shutoff"
            snap.memory = "no"
        elif snap.memory == "external":
            snap.state = _STATE_NAMES[obj.state]
            default = "external"
        else:
            snap.state = _STATE_NAMES[obj.state]
            if active and snap.memory == "no":
                raise _unsupported("internal snapshot of a running VM must include the "
                                   "memory state", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
            snap.memory = "no" if snap.state == "shutoff" else "internal"
        align_disks(snap, snap.domain, default)

    def _prepare_snapshot(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """qemuSnapshotPrepare (lock held): what the disks allow."""
        active = obj.is_active()
        disks = {dev.find("target").get("dev"): dev  # type: ignore[union-attr]
                 for dev in obj.def_.devices
                 if dev.tag == "disk" and dev.find("target") is not None}
        internal = forbid = False
        external = 0
        for want in snap.disks:
            dev = disks.get(want.name)
            if want.snapshot == "internal":
                internal = True
                if snap.state == "disk-snapshot" and active:
                    raise _unsupported(f"active qemu domains require external disk snapshots; "
                                       f"disk {want.name} requested internal")
                kind = dev.get("type", "file") if dev is not None else "file"
                if not active and kind not in ("file", "block"):
                    proto = dev.find("source").get("protocol", "") if (  # type: ignore[union-attr]
                        dev is not None and dev.find("source") is not None) else ""
                    raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                     f"internal inactive snapshots are not supported on "
                                     f"'network' disks using '{proto}' protocol"
                                     if kind == "network" else
                                     f"internal inactive snapshots are not supported on "
                                     f"'{kind}' disks")
                driver = dev.find("driver") if dev is not None else None
                fmt = driver.get("type", "") if driver is not None else ""
                if fmt and fmt != "qcow2":
                    raise _unsupported(f"internal snapshot for disk {want.name} unsupported "
                                       f"for storage type {fmt}")
            elif want.snapshot == "external":
                external += 1
            elif want.snapshot == "manual":
                forbid = True
            elif want.snapshot == "no" and dev is not None:
                source = dev.find("source")
                if source is not None and source.attrib and dev.find("readonly") is None:
                    forbid = True
        if not internal and not external and snap.memory == "no":
            raise _unsupported("nothing selected for snapshot")
        if (snap.memory == "internal" and not internal) or (internal and forbid):
            raise _unsupported("internal and full system snapshots require all disks to be "
                               "selected for snapshot")
        if snap.state == "disk-snapshot" and not external:
            raise _unsupported("disk-only snapshots require at least one disk to be selected "
                               "for snapshot")
        if (internal and external) or (snap.memory == "internal" and external) or (
                snap.memory == "external" and internal):
            raise _unsupported("mixing internal and external targets for a snapshot is not "
                               "yet supported")
        if internal and any(e.tag == "loader" and e.get("type") == "pflash"
                            for e in obj.def_.os.extra):
            # the variable store could not take (or would be swamped by) the state
            raise _unsupported("internal snapshots of a VM with pflash based firmware are "
                               "not supported", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        if external or snap.memory == "external":
            if active and flags & sn.CREATE_QUIESCE:   # the freeze comes first
                self.agent_available(obj)
            # not done here (yet): overlays made with qemu-img or blockdev-snapshot
            raise errors.no_support("virDomainSnapshotCreateXML", SN)

    def _create_active_snapshot(self, obj: DomainObj, rt: Runtime, snap: SnapshotDef,
                       flags: int) -> None:
        """qemuSnapshotCreateActiveInternal (job held): savevm with the CPUs
        stopped by libvirt, so that QEMU's own pause is not taken for the user's."""
        with self.lock:
            resume = obj.state == S.VIR_DOMAIN_RUNNING
            if resume:
                rt.paused_reason = DomainPausedReason.VIR_DOMAIN_PAUSED_SAVE
        try:
            if resume:
                self._monitor_call(rt, "stop")
            self._hmp_savevm(rt, snap.name)
            with self.lock:
                snap.cookie = self._snapshot_cookie(obj, rt)
            if flags & sn.CREATE_HALT:
                resume = False
                self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_FROM_SNAPSHOT,
                                  DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FROM_SNAPSHOT)
        finally:
            if resume and not rt.stopped:
                with self.lock:
                    rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED
                self._monitor_call(rt, "cont")

    def _hmp_line(self, rt: Runtime, line: str) -> str:
        reply = self._monitor_call(rt, "human-monitor-command", {"command-line": line})
        return reply if isinstance(reply, str) else ""

    def _hmp_savevm(self, rt: Runtime, name: str) -> None:
        """qemuMonitorTextCreateSnapshot."""
        reply = self._hmp_line(rt, f'savevm "{name}"')
        if ("Error while creating snapshot" in reply or "Could not open VM state file" in reply
                or "State blocked by non-migratable device" in reply or "Error: " in reply
                or ("Error" in reply and "while writing VM" in reply)):
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                             f"Failed to take snapshot: {reply}")
        if "No block device can accept snapshots" in reply:
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                             "this domain does not have a device to take snapshots")

    def _snapshot_cookie(self, obj: DomainObj, rt: Runtime) -> list[str]:
        """qemuDomainSaveCookieFormat: the CPU QEMU gave the guest and
        whether the user networks could use a slirp helper (lock held)."""
        lines: list[str] = []
        cpu = self.live_def(obj).verbatim.get("cpu") if rt.cpu is not None else None
        if cpu is not None:
            lines += xmlutil.element_lines(cpu, 4)
        if not any(dev.tag == "interface" and dev.get("type") == "user"
                   for dev in obj.def_.devices):
            lines.append("    <slirpHelper/>")
        return lines

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
            raise _unsupported("revert to external snapshot not supported yet")
        if snap.domain is None:
            raise errors.report(ErrorNumber.VIR_ERR_SNAPSHOT_REVERT_RISKY, Q,
                                f"snapshot '{snap.name}' lacks domain '{obj.name}' rollback info")
        if not flags & sn.REVERT_FORCE and not snap.active and \
                self.layout.managed_save_file(obj.name).exists():
            raise errors.report(ErrorNumber.VIR_ERR_SNAPSHOT_REVERT_RISKY, Q,
                                "snapshot without memory state, removal of existing managed "
                                "saved state strongly recommended to avoid corruption")
        if snap.state == "pmsuspended":
            raise _unsupported("qemu doesn't support reversion of snapshot taken in "
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
                raise _unsupported(f"disk image '{bad}' for internal snapshot '{snap.name}' is "
                                   f"not the same as disk image currently used by VM",
                                   ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        if flags & (sn.DELETE_CHILDREN | sn.DELETE_CHILDREN_ONLY):
            kinds = {s.external for s in snaps.descendants(snap.name)}
            if kinds == {True, False}:
                raise _unsupported("deletion of external and internal children disk snapshots "
                                   "not supported")
            if True in kinds:
                raise _unsupported("deletion of external children disk snapshots not supported")
        if snap.external:
            if flags & sn.DELETE_CHILDREN:
                raise _unsupported("deletion of external disk snapshots with children not "
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
    that is the chain's end, <backingStore/>."""
    held = {disk.name for disk in gone.disks if disk.snapshot != "no"}
    for d in (snap.domain, snap.inactive_domain):
        for dev in d.devices if d is not None else []:
            target = dev.find("target")
            if dev.tag != "disk" or target is None or target.get("dev") not in held:
                continue
            parent = dev
            while (store := parent.find("backingStore")) is not None:
                if not store.get("type") and not len(store):
                    parent.remove(store)
                    break
                parent = store
