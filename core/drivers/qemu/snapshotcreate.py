"""Taking a snapshot with the QEMU driver (qemuSnapshotCreateXML and its
helpers in libvirt 9.0's qemu_snapshot.c): the caller's XML checked, the
definitions and disk modes settled, then qemu-img on a shut-off domain or
HMP savevm on a running one, or a redefinition recorded as it is.  The
mixin also holds what the other snapshot entry points (snapshot.py) share."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any, Callable, ContextManager, Optional

from ... import errors, viruuid
from ...conf.domain import DomainDef
from ...conf.snapshot import (PARSE_OFFLINE, PARSE_REDEFINE, PARSE_VALIDATE, SnapshotDef,
                              align_disks, parse_snapshot_xml)
from ...conf import xmlutil
from ...domainobj import DomainObj
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutoffReason,
                            DomainState as S)
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventStoppedDetail as Stopped
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
_STATE_NAMES = {S.VIR_DOMAIN_RUNNING: "running", S.VIR_DOMAIN_BLOCKED: "blocked",
                S.VIR_DOMAIN_PAUSED: "paused", S.VIR_DOMAIN_SHUTDOWN: "shutdown",
                S.VIR_DOMAIN_SHUTOFF: "shutoff", S.VIR_DOMAIN_CRASHED: "crashed",
                S.VIR_DOMAIN_PMSUSPENDED: "pmsuspended"}


def unsupported(detail: str, code: int = ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED
                 ) -> errors.VirtError:
    return errors.report(code, Q, detail)


class SnapshotCreate:
    """Mixed into QemuDriver (through Snapshots), which supplies the rest."""

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

    def _hmp_line(self, rt: Runtime, line: str) -> str:
        reply = self._monitor_call(rt, "human-monitor-command", {"command-line": line})
        return reply if isinstance(reply, str) else ""

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
            raise unsupported("live snapshot creation is supported only during full system "
                               "snapshots", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        state = snap.state if flags & sn.CREATE_REDEFINE else _STATE_NAMES.get(obj.state, "")
        if state == "pmsuspended":
            raise unsupported("qemu doesn't support taking snapshots of PMSUSPENDED guests",
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
            elif snap.external:
                self._create_inactive_external(obj, snap, flags)
            else:
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
                raise unsupported("internal snapshot of a running VM must include the "
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
                    raise unsupported(f"active qemu domains require external disk snapshots; "
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
                    raise unsupported(f"internal snapshot for disk {want.name} unsupported "
                                       f"for storage type {fmt}")
            elif want.snapshot == "external":
                if not want.fmt:
                    want.fmt = "qcow2"
                elif want.fmt not in ("qcow2", "qed"):
                    raise unsupported(f"external snapshot format for disk {want.name} is "
                                      f"unsupported: {want.fmt}")
                if not active:
                    snapshotdisk.check_external_target(want, dev, bool(
                        flags & sn.CREATE_REUSE_EXT))
                external += 1
            elif want.snapshot == "manual":
                forbid = True
            elif want.snapshot == "no" and dev is not None:
                source = dev.find("source")
                if source is not None and source.attrib and dev.find("readonly") is None:
                    forbid = True
        if not internal and not external and snap.memory == "no":
            raise unsupported("nothing selected for snapshot")
        if (snap.memory == "internal" and not internal) or (internal and forbid):
            raise unsupported("internal and full system snapshots require all disks to be "
                               "selected for snapshot")
        if snap.state == "disk-snapshot" and not external:
            raise unsupported("disk-only snapshots require at least one disk to be selected "
                               "for snapshot")
        if (internal and external) or (snap.memory == "internal" and external) or (
                snap.memory == "external" and internal):
            raise unsupported("mixing internal and external targets for a snapshot is not "
                               "yet supported")
        if internal and any(e.tag == "loader" and e.get("type") == "pflash"
                            for e in obj.def_.os.extra):
            # the variable store could not take (or would be swamped by) the state
            raise unsupported("internal snapshots of a VM with pflash based firmware are "
                               "not supported", ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED)
        if active and (external or snap.memory == "external"):
            if flags & sn.CREATE_QUIESCE:   # the freeze comes first
                self.agent_available(obj)
            # not done here (yet): blockdev-snapshot and a memory image
            raise errors.no_support("virDomainSnapshotCreateXML", SN)

    def _create_inactive_external(self, obj: DomainObj, snap: SnapshotDef, flags: int) -> None:
        """qemuSnapshotCreateInactiveExternal (job held): a qcow2 overlay on
        each disk's image (unless REUSE_EXT: the caller made them), which
        the definition then uses."""
        made = []
        if not flags & sn.CREATE_REUSE_EXT:
            try:
                for disk in snap.disks:
                    if disk.snapshot == "external":
                        assert disk.path is not None
                        if snapshotdisk.make_overlay(obj.def_, disk):
                            made.append(disk.path)
            except BaseException:
                snapshotdisk.unlink_all(made)
                raise
        with self.lock:
            for disk in snap.disks:
                if disk.snapshot == "external":
                    snapshotdisk.use_overlay(obj.def_, disk)
            self._save_config(obj.def_)

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
