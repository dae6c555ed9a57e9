"""Storage migration over NBD (VIR_MIGRATE_NON_SHARED_DISK and _INC), as
libvirt 9.0 does it with -blockdev:

    src  Begin: the disks to copy and their sizes go into the cookie
    dst  Prepare: the images must exist already (libvirt would pre-create a
         missing one only through a storage pool covering its directory,
         and never for _INC; we have no storage pools, so a missing image
         gets the error libvirt gives when no pool matches); then
         nbd-server-start and block-export-add (writable) per disk, before
         migrate-incoming; the port goes back in the cookie
    src  Perform: blockdev-add of an NBD client node per disk and
         blockdev-mirror to it (sync full, or top for _INC), wait until
         every mirror is READY, then migrate memory; at pre-switchover
         (the guest stopped) block-job-cancel makes each ready mirror end
         in sync, the NBD nodes go (blockdev-del), then migrate-continue
    dst  Finish: nbd-server-stop before the guest runs
    src  Confirm after a failure: the mirrors are cancelled, the nodes go

A job's mirrors are followed through QEMU's JOB_STATUS_CHANGE events
(job.mirrors: job id -> status).
"""

from __future__ import annotations

import contextlib
import os
import time
from typing import Any, Callable, Optional

from ... import errors, migration as mig
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber
from .command import DiskNode, disk_nodes

Q = ErrorDomain.VIR_FROM_QEMU
Call = Callable[[str, Optional[dict[str, Any]]], Any]
MIRROR_WAIT = 3600.0
_ENDED = ("concluded", "null")
_FAILED_BEFORE_READY = ("aborting",) + _ENDED


def export_name(disk: DiskNode) -> str:
    return f"drive-{disk.alias}"


def client_node(disk: DiskNode) -> str:
    return f"migration-{disk.target}-storage"


def disks_to_copy(d: DomainDef, params: mig.MigrationParams) -> list[DiskNode]:
    """The disks a storage migration copies: those named by migrate_disks,
    else every writable disk with a source (qemuMigrationAnyCopyDisk)."""
    nodes = disk_nodes(d)
    if params.migrate_disks is not None:
        targets = {n.target for n in nodes}
        for wanted in params.migrate_disks:
            if wanted not in targets:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                    f"disk target {wanted} not found")
        return [n for n in nodes if n.target in params.migrate_disks and n.path]
    return [n for n in nodes if not n.readonly and n.path]


def check_begin(flags: int, params: mig.MigrationParams) -> None:
    if params.migrate_disks is not None and not flags & mig.NON_SHARED:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                            "use of 'VIR_MIGRATE_PARAM_MIGRATE_DISKS' requires use of "
                            "'VIR_MIGRATE_NON_SHARED_DISK' or 'VIR_MIGRATE_NON_SHARED_INC' flag")


def destination_disks(d: DomainDef, cookie: Optional[mig.Cookie],
                      flags: int) -> list[DiskNode]:
    """The destination's disks that the source will copy into; their images
    must exist here (see the module's docstring)."""
    if not flags & mig.NON_SHARED or cookie is None:
        return []
    out = []
    for disk in disk_nodes(d):
        if disk.target not in cookie.nbd_disks or not disk.path:
            continue
        if not os.path.exists(disk.path):
            if flags & mig.VIR_MIGRATE_NON_SHARED_INC:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                    "pre-creation of storage targets for incremental "
                                    "storage migration is not supported")
            raise errors.report(ErrorNumber.VIR_ERR_NO_STORAGE_POOL,
                                ErrorDomain.VIR_FROM_STORAGE,
                                "no storage pool with matching target path "
                                f"'{os.path.dirname(disk.path)}'")
        out.append(disk)
    return out


def start_server(call: Call, disks: list[DiskNode], addr: dict[str, Any]) -> Optional[int]:
    """Export `disks` writable over NBD; the TCP port (None for a socket)."""
    legacy = {"type": addr["type"], "data": {k: v for k, v in addr.items() if k != "type"}}
    call("nbd-server-start", {"addr": legacy})
    for disk in disks:
        call("block-export-add", {"type": "nbd", "id": export_name(disk),
                                  "node-name": disk.node, "name": export_name(disk),
                                  "writable": True})
    return int(addr["port"]) if addr["type"] == "inet" else None


def stop_server(call: Call) -> None:
    with contextlib.suppress(errors.VirtError):
        call("nbd-server-stop", None)


def capacities(call: Call, disks: list[DiskNode]) -> dict[str, int]:
    nodes = {n.get("node-name"): n for n in call("query-named-block-nodes", {"flat": True})}
    out = {}
    for disk in disks:
        image = (nodes.get(disk.node) or {}).get("image") or {}
        out[disk.target] = int(image.get("virtual-size", 0))
    return out


def start_mirrors(call: Call, job: mig.MigrationJob, disks: list[DiskNode],
                  server: dict[str, Any], speed_mib: int, incremental: bool) -> None:
    for disk in disks:
        call("blockdev-add", {"driver": "nbd", "node-name": client_node(disk),
                              "server": server, "export": export_name(disk)})
        job.nbd_nodes.append(client_node(disk))
        with job.cond:
            job.mirrors[export_name(disk)] = "created"   # before QEMU's events come
        args: dict[str, Any] = {"job-id": export_name(disk), "device": disk.node,
                                "target": client_node(disk),
                                "sync": "top" if incremental else "full"}
        if speed_mib:
            args["speed"] = speed_mib << 20
        try:
            call("blockdev-mirror", args)
        except errors.VirtError:
            with job.cond:
                job.mirrors.pop(export_name(disk), None)
            raise


def on_job_event(job: mig.MigrationJob, name: str, data: dict[str, Any]) -> None:
    """JOB_STATUS_CHANGE / BLOCK_JOB_COMPLETED of one of the job's mirrors."""
    job_id = str(data.get("id") or data.get("device") or "")
    with job.cond:
        if job_id not in job.mirrors:
            return
        if name == "JOB_STATUS_CHANGE":
            job.mirrors[job_id] = str(data.get("status"))
        elif data.get("error"):
            job.mirror_errors[job_id] = str(data["error"])
        job.cond.notify_all()


def _failure(job: mig.MigrationJob, job_id: str) -> errors.VirtError:
    disk = job_id[len("drive-"):]
    detail = job.mirror_errors.get(job_id, "the block job ended before it was ready")
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                         f"migration of disk {disk} failed: {detail}")


def wait_ready(job: mig.MigrationJob, alive: Callable[[], bool]) -> None:
    """Until every mirror is READY (the copy caught up, writes now mirrored)."""
    end = time.monotonic() + MIRROR_WAIT
    while True:
        with job.cond:
            pending = [j for j, st in job.mirrors.items() if st != "ready"]
            failed = [j for j in pending if job.mirrors[j] in _FAILED_BEFORE_READY]
            if not pending or failed or job.abort_requested:
                break
            job.cond.wait(0.2)
        if not alive() or time.monotonic() > end:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "domain is no longer running")
    if job.abort_requested:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_ABORTED, Q,
                            "job 'migration out' canceled by client")
    if failed:
        raise _failure(job, failed[0])


def refresh_stats(call: Call, job: mig.MigrationJob) -> None:
    """disk_total/processed/remaining from the mirrors' progress."""
    if not job.mirrors:
        return
    running = [j for j in call("query-block-jobs", None) if j.get("device") in job.mirrors]
    if not running:
        return
    total = sum(int(j.get("len", 0)) for j in running)
    done = sum(int(j.get("offset", 0)) for j in running)
    job.disk_stats = {"disk_total": total, "disk_processed": done,
                      "disk_remaining": max(total - done, 0)}


def finish_mirrors(call: Call, job: mig.MigrationJob, force: bool,
                   alive: Callable[[], bool]) -> None:
    """Cancel the mirrors and wait for them to end, then drop the NBD client
    nodes.  Not forced (at pre-switchover, guest stopped): each ready mirror
    completes with the destination in sync; a mirror that failed raises."""
    with job.cond:
        live = [j for j, st in job.mirrors.items() if st not in _ENDED]
    if not force:
        with contextlib.suppress(errors.VirtError):
            refresh_stats(call, job)
    for job_id in live:
        with contextlib.suppress(errors.VirtError):   # it may have ended meanwhile
            call("block-job-cancel", {"device": job_id, "force": force})
    end = time.monotonic() + (MIRROR_WAIT if not force else 30.0)
    while alive() and time.monotonic() < end:
        with job.cond:
            if all(job.mirrors[j] in _ENDED for j in live):
                break
            job.cond.wait(0.2)
    with job.cond:
        failed = [j for j in live if j in job.mirror_errors
                  or job.mirrors[j] not in _ENDED]
    for node in job.nbd_nodes:
        with contextlib.suppress(errors.VirtError):
            call("blockdev-del", {"node-name": node})
    job.nbd_nodes.clear()
    if force:
        return
    if failed:
        raise _failure(job, failed[0])
    total = job.disk_stats.get("disk_total", 0)
    if total:
        job.disk_stats = {"disk_total": total, "disk_processed": total, "disk_remaining": 0}
