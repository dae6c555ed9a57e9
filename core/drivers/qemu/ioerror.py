"""Guest disk I/O errors (libvirt 9.0's qemuProcessHandleIOError and
qemuDomainGetDiskErrors).

QEMU reports a failed guest request with BLOCK_IO_ERROR, naming the disk by
its format node (the device name is empty with -blockdev), and, if the
disk's policy stops the guest, follows it with STOP.  As libvirt, the
driver then queues, in this order and on the same lock:

    IO_ERROR         (srcPath, devAlias, action)
    IO_ERROR_REASON  (srcPath, devAlias, action, reason)
    SUSPENDED/IOERROR  -> PAUSED/IOERROR   (action 'stop' on a running guest only)

reason is "enospc" when QEMU says nospace, "" otherwise (QEMU's own text is
not passed on); a disk QEMU names that the definition lacks gives "" and "".
The STOP that follows finds the guest paused already and adds nothing.
"""

from __future__ import annotations

from typing import Any, Optional

from ... import errors, events
from ...domainobj import DomainObj
from ...domainstate import DomainPausedReason, DomainState as S
from ...errors import ErrorDomain
from ...events import DomainEventID, DomainEventSuspendedDetail as Suspended, DomainEventType as E
from ...objects import Domain
from ...structs import DomainDiskError
from .command import DiskNode, disk_nodes
from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU

# virDomainEventIOErrorAction, by QEMU's action name
IO_ERROR_ACTIONS = {"ignore": 0, "stop": 1, "report": 2}
VIR_DOMAIN_EVENT_IO_ERROR_PAUSE = 1
# virDomainDiskErrorCode, by query-block's io-status
DISK_ERRORS = {"failed": 1, "nospace": 2}


def _disk_of(obj: DomainObj, data: dict[str, Any]) -> Optional[DiskNode]:
    node = data.get("node-name")
    device = data.get("device") or None
    for disk in disk_nodes(obj.def_):
        if device is not None and device in (disk.alias, f"drive-{disk.alias}"):
            return disk
        if device is None and node in disk.node_names():
            return disk
    return None


class IOErrors:
    """Mixed into QemuDriver (which supplies lock, event, save_status, ...)."""

    def on_io_error(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """QEMU's BLOCK_IO_ERROR (QMP thread, host lock held)."""
        disk = _disk_of(obj, data)
        src = (disk.path or "") if disk is not None else ""
        alias = disk.alias if disk is not None else ""
        action = IO_ERROR_ACTIONS.get(str(data.get("action")), 0)
        reason = "enospc" if data.get("nospace") else ""
        events.queue_domain_event(self, DomainEventID.VIR_DOMAIN_EVENT_ID_IO_ERROR,
                                  obj.name, obj.uuid, obj.id, src, alias, action)
        events.queue_domain_event(self, DomainEventID.VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON,
                                  obj.name, obj.uuid, obj.id, src, alias, action, reason)
        if action != VIR_DOMAIN_EVENT_IO_ERROR_PAUSE or obj.state != S.VIR_DOMAIN_RUNNING:
            return
        obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_IOERROR)
        self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED,  # type: ignore[attr-defined]
                   Suspended.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR)
        self.save_status(obj)  # type: ignore[attr-defined]
        job = obj.private.get("migration")
        if job is not None:
            job.wake()   # an outgoing migration may have to abort (ABORT_ON_ERROR)

    def domain_get_disk_errors(self, dom: Domain, maxerrors: int,
                               flags: int) -> list[DomainDiskError]:
        errors.check_flags(flags, 0, "qemuDomainGetDiskErrors", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            blocks = self._monitor_call(rt, "query-block")  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                disks = disk_nodes(obj.def_)
        # io-status by the disk's format node (its device has no name with -blockdev)
        status = {(b.get("inserted") or {}).get("node-name"): b.get("io-status")
                  for b in blocks or []}
        out = []
        for disk in disks:
            code = DISK_ERRORS.get(str(status.get(disk.node)))
            if code is not None and len(out) < maxerrors:
                out.append(DomainDiskError(disk.target, code))
        return out
