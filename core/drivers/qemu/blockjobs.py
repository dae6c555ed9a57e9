"""Block jobs on the QEMU driver, as libvirt 9.0's with -blockdev
(qemu_driver.c's qemuDomainBlock*, qemu_block.c's qemuBlockCommit and
qemuBlockPivot): pull (block-stream), commit (block-commit, the active
layer's too), copy (blockdev-mirror: blockcopy.py), their information,
speed and end (abort, pivot).

A job is QEMU's job under libvirt's id (blockjob.py), kept in the
runtime's `blockjobs` and in the status file.  QEMU's JOB_STATUS_CHANGE
events say where it is: the QMP thread records the state asked for and
a worker acts on it under the domain's job (libvirt's event thread), or,
when an API call waits for the job (abort without ASYNC), that call does.
A job that reaches READY emits BLOCK_JOB / BLOCK_JOB_2 with status READY;
one that ends has its error read (query-jobs), is dismissed, changes the
disk's chain in the live definition (disknodes.rewrite) and QEMU's nodes
(blockdev-del of the images left out), then emits the two events with
its final status."""

from __future__ import annotations

import contextlib
import os
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainBlockJobInfo
from ..metadata import find_disk
from . import affect, blockjob, disknodes
from .blockjob import BlockJob
from .disknodes import Layer
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
LLONG_MAX = (1 << 63) - 1
WAIT_STEP = 0.2

REBASE_SHALLOW, REBASE_REUSE_EXT, REBASE_COPY_RAW, REBASE_COPY = 1, 2, 4, 8
REBASE_RELATIVE, REBASE_COPY_DEV, REBASE_BANDWIDTH_BYTES = 16, 32, 64
PULL_BANDWIDTH_BYTES = 64
COMMIT_SHALLOW, COMMIT_DELETE, COMMIT_ACTIVE, COMMIT_RELATIVE = 1, 2, 4, 8
COMMIT_BANDWIDTH_BYTES = 16
ABORT_ASYNC, ABORT_PIVOT = 1, 2
INFO_BANDWIDTH_BYTES = SPEED_BANDWIDTH_BYTES = 1


def _invalid(detail: str, domain: int = Q) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, domain, detail)


def speed_bytes(bandwidth: int, in_bytes: bool) -> int:
    """A bandwidth in MiB/s (or bytes/s) as QEMU's speed in bytes/s."""
    if in_bytes:
        return bandwidth
    if bandwidth > LLONG_MAX >> 20:
        raise errors.report(ErrorNumber.VIR_ERR_OVERFLOW, Q,
                            f"bandwidth must be less than {LLONG_MAX >> 20}")
    return bandwidth << 20


def check_no_block_job(rt: Runtime) -> None:
    """A save or a migration waits for no block job: libvirt refuses them
    while one runs (qemuMigrationSrcIsAllowed; lock held)."""
    if any(job.running() for job in rt.blockjobs.values()):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                            "domain has active block job")


def disk_by_name(d: DomainDef, name: str) -> etree._Element:
    """qemuDomainDiskByName."""
    disk = find_disk(d, name)
    if disk is None:
        raise _invalid(f"disk '{name}' not found in domain")
    return disk


def target_of(disk: etree._Element) -> str:
    target = disk.find("target")
    return target.get("dev", "") if target is not None else ""


def chain_of(disk: etree._Element) -> list[Layer]:
    """The images of `disk` top down; a disk not running has its source alone."""
    found = disknodes.images(disk)
    if found:
        return found
    source, driver = disk.find("source"), disk.find("driver")
    path = source.get("file", "") if source is not None else ""
    return [Layer(0, path, driver.get("type", "raw") if driver is not None else "raw")]


def relative_backing(chain: list[Layer], first: int, base: int) -> Optional[str]:
    """virStorageSourceGetRelativeBackingPath: the name of chain[base] relative
    to the image above chain[first], through the names each image's header
    gives its backing file; None when one of them is absolute."""
    path = ""
    for pos in range(first, base + 1):
        named = disknodes.qcow2_backing_name(chain[pos - 1].path)
        if named is None or named.startswith("/"):
            return None
        folder = path.rpartition("/")[0]
        path = f"{folder}/{named}" if folder else named
    return path


class BlockJobs:
    """Mixed into QemuDriver (lock, job, runtime, _obj, _monitor_call, ...)."""

    lock: threading.RLock
    closed: bool
    if TYPE_CHECKING:
        runtime: dict[bytes, Runtime]
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _save_config(self, d: DomainDef) -> None: ...
        def save_status(self, obj: DomainObj, text: Optional[str] = None) -> None: ...
        def job(self, uuid: bytes) -> AbstractContextManager[None]: ...
        def _monitor_call(self, rt: Runtime, cmd: str, args: Any = None) -> Any: ...
        def _next_node(self, obj: DomainObj, rt: Runtime, count: int) -> int: ...

    # -- what blockcopy.py's BlockCopy supplies
    def rebase_copy(self, dom: Domain, disk: str, base: str, bandwidth: int,
                    flags: int) -> None:
        raise NotImplementedError

    def copy_concluded(self, obj: DomainObj, job: BlockJob, disk: etree._Element,
                       chain: list[Layer], success: bool) -> tuple[list[Layer], list[Layer]]:
        raise NotImplementedError

    # -- shared steps
    def _active_disk(self, dom: Domain, name: str) -> tuple[DomainObj, Runtime, etree._Element]:
        """The running domain's disk `name` (lock held; the job too)."""
        obj = self._obj(dom)
        rt = self.runtime.get(obj.uuid)
        if not obj.is_active() or rt is None:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D, "domain is not running")
        return obj, rt, disk_by_name(obj.def_, name)

    @staticmethod
    def disk_job(rt: Runtime, disk: etree._Element) -> Optional[BlockJob]:
        target = target_of(disk)
        return next((j for j in rt.blockjobs.values() if j.disk == target), None)

    def check_disk_job_inactive(self, rt: Runtime, disk: etree._Element) -> None:
        """qemuDomainDiskBlockJobIsActive: no job runs on `disk` (a block job
        or a hot unplug asks; lock held)."""
        dst = target_of(disk)
        job = self.disk_job(rt, disk)
        if disk.find("mirror") is not None:
            raise errors.report(ErrorNumber.VIR_ERR_BLOCK_COPY_ACTIVE, Q,
                                f"disk '{dst}' already in active block job")
        if job is not None and job.running():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"disk '{dst}' already in active block job")

    def check_no_job(self, rt: Runtime, disk: etree._Element) -> None:
        """qemuDomainDiskBlockJobIsActive, then qemuDomainDiskBlockJobIsSupported."""
        self.check_disk_job_inactive(rt, disk)
        dst = target_of(disk)
        target = disk.find("target")
        if target is not None and target.get("bus") == "sd":
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"block jobs are not supported on disk '{dst}' using bus 'sd'")
        if disk.find("transient") is not None:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                f"block jobs are not supported on transient disk '{dst}'")

    def start_block_job(self, obj: DomainObj, rt: Runtime, job: BlockJob, cmd: str,
                        args: dict[str, Any],
                        on_started: Optional[Callable[[], None]] = None) -> None:
        """Register `job`, run QEMU's command, mark it running (job held)."""
        with self.lock:
            rt.blockjobs[job.name] = job
            self.save_status(obj)
        try:
            self._monitor_call(rt, cmd, args)
        except errors.VirtError:
            with self.lock:
                rt.blockjobs.pop(job.name, None)
                self.save_status(obj)
            raise
        with self.lock:
            if job.state == "new":
                job.state = "running"
            if on_started is not None:
                on_started()
            self.save_status(obj)

    # -- information and speed
    def domain_get_block_job_info(self, dom: Domain, disk: str,
                                  flags: int) -> DomainBlockJobInfo:
        errors.check_flags(flags, INFO_BANDWIDTH_BYTES, "qemuDomainGetBlockJobInfo", Q)
        with self.job(dom.uuid):
            with self.lock:
                obj, rt, found = self._active_disk(dom, disk)
                job = self.disk_job(rt, found)
            if job is None:
                return DomainBlockJobInfo()
            raw = {j.get("device"): j for j in self._monitor_call(rt, "query-block-jobs")}
            return blockjob.info(job, raw.get(job.name), bool(flags & INFO_BANDWIDTH_BYTES))

    def domain_block_job_set_speed(self, dom: Domain, disk: str, bandwidth: int,
                                   flags: int) -> None:
        errors.check_flags(flags, SPEED_BANDWIDTH_BYTES, "qemuDomainBlockJobSetSpeed", Q)
        speed = speed_bytes(bandwidth, bool(flags & SPEED_BANDWIDTH_BYTES))
        with self.job(dom.uuid):
            with self.lock:
                obj, rt, found = self._active_disk(dom, disk)
                job = self._job_or_error(rt, found)
            self._monitor_call(rt, "block-job-set-speed", {"device": job.name, "speed": speed})

    def _job_or_error(self, rt: Runtime, disk: etree._Element) -> BlockJob:
        job = self.disk_job(rt, disk)
        if job is None:
            raise _invalid(f"disk {target_of(disk)} does not have an active block job")
        return job

    # -- pull
    def domain_block_pull(self, dom: Domain, disk: str, bandwidth: int, flags: int) -> None:
        errors.check_flags(flags, PULL_BANDWIDTH_BYTES, "qemuDomainBlockPull", Q)
        self._pull(dom, disk, None, bandwidth, flags)

    def domain_block_rebase(self, dom: Domain, disk: str, base: Optional[str], bandwidth: int,
                            flags: int) -> None:
        errors.check_flags(flags, REBASE_SHALLOW | REBASE_REUSE_EXT | REBASE_COPY
                           | REBASE_COPY_RAW | REBASE_RELATIVE | REBASE_COPY_DEV
                           | REBASE_BANDWIDTH_BYTES, "qemuDomainBlockRebase", Q)
        if flags & REBASE_COPY:
            self.rebase_copy(dom, disk, base or "", bandwidth, flags)
            return
        self._pull(dom, disk, base, bandwidth, flags)

    def _pull(self, dom: Domain, disk: str, base: Optional[str], bandwidth: int,
              flags: int) -> None:
        """qemuDomainBlockPullCommon."""
        if flags & REBASE_RELATIVE and not base:
            raise _invalid("flag VIR_DOMAIN_BLOCK_REBASE_RELATIVE is valid only with "
                           "non-null base")
        with self.job(dom.uuid):
            with self.lock:
                obj, rt, found = self._active_disk(dom, disk)
                self.check_no_job(rt, found)
                chain = chain_of(found)
                base_pos = None
                backing = None
                if base is not None:
                    base_pos, _ = blockjob.lookup(chain, 0, base, target_of(found))
                    if flags & REBASE_RELATIVE:
                        backing = relative_backing(chain, 1, base_pos)
                        if backing is None:
                            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                                "can't keep relative backing relationship")
                speed = speed_bytes(bandwidth, bool(flags & PULL_BANDWIDTH_BYTES))
                top = chain[0]
                job = BlockJob(blockjob.job_name("pull", target_of(found), top.index), "pull",
                               target_of(found), flags)
                args: dict[str, Any] = {"device": top.node, "job-id": job.name}
                if speed:
                    args["speed"] = speed
                if base_pos is not None:
                    job.base = chain[base_pos].index
                    args["base-node"] = chain[base_pos].node
                    args["backing-file"] = backing or chain[base_pos].path
                args.update({"auto-finalize": True, "auto-dismiss": False})
            self.start_block_job(obj, rt, job, "block-stream", args)

    # -- commit
    def domain_block_commit(self, dom: Domain, disk: str, base: Optional[str],
                            top: Optional[str], bandwidth: int, flags: int) -> None:
        errors.check_flags(flags, COMMIT_SHALLOW | COMMIT_ACTIVE | COMMIT_RELATIVE
                           | COMMIT_DELETE | COMMIT_BANDWIDTH_BYTES, "qemuDomainBlockCommit", Q)
        with self.job(dom.uuid):
            with self.lock:
                obj = self._obj(dom)
                speed = speed_bytes(bandwidth, bool(flags & COMMIT_BANDWIDTH_BYTES))
                found = disk_by_name(obj.def_, disk)
                dst = target_of(found)
                chain = chain_of(found)
                top_pos, parent = 0, None
                if top is not None and top != dst:
                    top_pos, parent = blockjob.lookup(chain, None, top, dst)
                if base is None and flags & COMMIT_SHALLOW:
                    base_pos: Optional[int] = top_pos + 1 if top_pos + 1 < len(chain) else None
                else:
                    base_pos, _ = blockjob.lookup(chain, top_pos, base, dst)
                rt = self.runtime.get(obj.uuid)
                if not obj.is_active() or rt is None:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                        "domain is not running")
                job, backing = self._commit_job(rt, found, chain, top_pos, parent, base_pos,
                                                flags)
                args: dict[str, Any] = {"device": chain[0].node, "job-id": job.name}
                if speed:
                    args["speed"] = speed
                args.update({"top-node": chain[top_pos].node,
                             "base-node": disknodes.node_name(job.base or 0)})
                if backing is not None:
                    args["backing-file"] = backing
                args.update({"auto-finalize": True, "auto-dismiss": False})

            def started() -> None:
                if job.mirror is not None:
                    _set_mirror(found, job.mirror, "active-commit", None)
            self.start_block_job(obj, rt, job, "block-commit", args, started)

    def _commit_job(self, rt: Runtime, disk: etree._Element, chain: list[Layer], top_pos: int,
                    parent: Optional[int], base_pos: Optional[int],
                    flags: int) -> tuple[BlockJob, Optional[str]]:
        """qemuBlockCommit's checks, then its job and the backing file name
        the image above top gets (none for an active commit) (lock held)."""
        dst = target_of(disk)
        self.check_no_job(rt, disk)
        if not chain[0].path:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                f"disk {dst} has no source file to be committed")
        if top_pos == 0 and not flags & COMMIT_ACTIVE:
            raise _invalid(f"commit of '{dst}' active layer requires active flag")
        if top_pos != 0 and flags & COMMIT_ACTIVE:
            raise _invalid(f"active commit requested but '{chain[top_pos].path}' is not active")
        if top_pos == len(chain) - 1 or base_pos is None:
            raise _invalid(f"top '{chain[top_pos].path}' in chain for '{chain[0].path}' has "
                           "no backing file")
        if flags & COMMIT_SHALLOW and base_pos != top_pos + 1:
            raise _invalid(f"base '{chain[base_pos].path}' is not immediately below "
                           f"'{chain[top_pos].path}' in chain for '{chain[0].path}'")
        relative = None
        if flags & COMMIT_RELATIVE and top_pos != 0:
            relative = relative_backing(chain, top_pos, base_pos)
            if relative is None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "can't keep relative backing relationship")
        kind = "active-commit" if top_pos == 0 else "commit"
        job = BlockJob(blockjob.job_name(kind, dst, chain[top_pos].index), kind, dst, flags,
                       base=chain[base_pos].index, top=chain[top_pos].index,
                       topparent=chain[parent].index if parent is not None else None,
                       delete=bool(flags & COMMIT_DELETE))
        if kind == "active-commit":
            job.mirror = chain[base_pos]
            return job, None
        return job, relative or chain[base_pos].path

    # -- abort and pivot
    def domain_block_job_abort(self, dom: Domain, disk: str, flags: int) -> None:
        errors.check_flags(flags, ABORT_ASYNC | ABORT_PIVOT, "qemuDomainBlockJobAbort", Q)
        with self.job(dom.uuid):
            with self.lock:
                obj, rt, found = self._active_disk(dom, disk)
                job = self._job_or_error(rt, found)
                if job.state in ("aborting", "pivoting"):
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        f"block job on disk '{job.disk}' is still being ended")
                synchronous = not flags & ABORT_ASYNC
                job.synchronous = synchronous
            try:
                if flags & ABORT_PIVOT:
                    self._pivot(rt, job, found)
                    state = "pivoting"
                else:
                    self._monitor_call(rt, "block-job-cancel", {"device": job.name})
                    state = "aborting"
                with self.lock:
                    job.state = state
                    if found.find("mirror") is not None:
                        _mirror_state(found, blockjob.MIRROR_STATE[state])
                    self.save_status(obj)
                if synchronous:
                    self._wait_end(obj, rt, job)
                    if flags & ABORT_PIVOT and job.state == "failed":
                        detail = f": {job.errmsg}" if job.errmsg else ""
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                            f"block job '{job.name}' failed while "
                                            f"pivoting{detail}")
            finally:
                if synchronous:
                    job.synchronous = False
                    self.block_job_update(obj, rt, job)

    def _pivot(self, rt: Runtime, job: BlockJob, disk: etree._Element) -> None:
        """qemuBlockPivot (job held)."""
        if job.state != "ready":
            raise errors.report(ErrorNumber.VIR_ERR_BLOCK_COPY_ACTIVE, Q,
                                f"block job '{job.name}' not ready for pivot yet")
        if job.kind not in ("copy", "active-commit"):
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"job type '{job.kind}' does not support pivot")
        self.before_pivot(rt, job, disk)
        self._monitor_call(rt, "job-complete", {"id": job.name})

    def before_pivot(self, rt: Runtime, job: BlockJob, disk: etree._Element) -> None:
        """What a pivot does first for its kind of job (blockcopy.py)."""

    def _wait_end(self, obj: DomainObj, rt: Runtime, job: BlockJob) -> None:
        """Until `job` has ended, acting on QEMU's word here (job held)."""
        self.block_job_update(obj, rt, job)
        while job.running():
            with job.cond:
                if job.newstate is None:
                    job.cond.wait(WAIT_STEP)
            if rt.stopped:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                    "domain is not running")
            self.block_job_update(obj, rt, job)

    # -- what QEMU says (QMP thread), and acting on it
    def on_block_job_event(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """A JOB_STATUS_CHANGE (lock held): qemuProcessHandleJobStatusChange."""
        job = rt.blockjobs.get(str(data.get("id")))
        state = blockjob.qemu_state(str(data.get("status")))
        if job is None or state is None or state == "pending":
            return
        with job.cond:
            job.newstate = state
            job.cond.notify_all()
        if not job.synchronous:
            threading.Thread(target=self._block_job_worker, args=(obj, rt, job),
                             name="pyvirt-blockjob", daemon=True).start()

    def _block_job_worker(self, obj: DomainObj, rt: Runtime, job: BlockJob) -> None:
        while not rt.stopped and not self.closed:
            try:
                with self.job(obj.uuid):
                    if not rt.stopped and not job.synchronous:
                        self.block_job_update(obj, rt, job)
                return
            except errors.VirtError:   # the job lock was busy for long: try again
                continue

    def block_job_update(self, obj: DomainObj, rt: Runtime, job: BlockJob) -> None:
        """qemuBlockJobUpdate: act on the state QEMU asked for (job held)."""
        with job.cond:
            newstate, job.newstate = job.newstate, None
        if newstate is None or rt.stopped:
            return
        if newstate == "ready":
            with self.lock:
                if job.state in ("new", "running"):
                    job.state = "ready"
                    disk = self._job_disk(obj, job)
                    if disk is not None:
                        if disk.find("mirror") is not None:
                            _mirror_state(disk, "yes")
                        self._emit(obj, disk, job, "ready")
                    self.save_status(obj)
            return
        self._conclude(obj, rt, job, newstate)

    def _job_disk(self, obj: DomainObj, job: BlockJob) -> Optional[etree._Element]:
        return next((d for d in disknodes.disks_of(obj.def_) if target_of(d) == job.disk), None)

    def _emit(self, obj: DomainObj, disk: etree._Element, job: BlockJob, status: str) -> None:
        """qemuBlockJobEmitEvents (lock held)."""
        code = blockjob.EVENT_STATUS[status]
        source = disk.find("source")
        path = source.get("file") if source is not None else None
        if path:
            events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_BLOCK_JOB,
                                      obj.name, obj.uuid, obj.id, path, job.type_code, code)
        events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                                  obj.name, obj.uuid, obj.id, job.disk, job.type_code, code)

    def _conclude(self, obj: DomainObj, rt: Runtime, job: BlockJob, newstate: str) -> None:
        """qemuBlockJobEventProcessConcluded (job held)."""
        if newstate == "concluded":
            with contextlib.suppress(errors.VirtError):
                for entry in self._monitor_call(rt, "query-jobs"):
                    if entry.get("id") == job.name:
                        job.errmsg = entry.get("error")
                        newstate = "failed" if job.errmsg else "completed"
        with contextlib.suppress(errors.VirtError):
            self._monitor_call(rt, "job-dismiss", {"id": job.name})
        if newstate in ("completed", "failed") and job.state == "aborting":
            newstate = "cancelled"
        with self.lock:
            disk = self._job_disk(obj, job)
            gone, deleted = self._transition(obj, job, disk, newstate)
        for layer in gone:
            for part in ("format", "storage"):
                with contextlib.suppress(errors.VirtError):
                    self._monitor_call(rt, "blockdev-del",
                                       {"node-name": disknodes.node_name(layer.index, part)})
        for layer in deleted:
            with contextlib.suppress(OSError):
                os.unlink(layer.path)
        with self.lock:
            if disk is not None and newstate in blockjob.EVENT_STATUS:
                self._emit(obj, disk, job, newstate)
            job.state = newstate
            rt.blockjobs.pop(job.name, None)
            self.save_status(obj)
            if obj.persistent and obj.new_def is not None:
                self._save_config(obj.new_def)
        with job.cond:
            job.cond.notify_all()

    def _transition(self, obj: DomainObj, job: BlockJob, disk: Optional[etree._Element],
                    newstate: str) -> tuple[list[Layer], list[Layer]]:
        """qemuBlockJobEventProcessConcludedTransition's change to the disk
        (lock held): the images QEMU drops, and those to delete."""
        if disk is None:
            return [], []
        mirror = disk.find("mirror")
        if mirror is not None:
            mirror.attrib.pop("ready", None)
        chain = disknodes.images(disk)
        positions = {layer.index: pos for pos, layer in enumerate(chain)}
        success = newstate == "completed"
        if job.kind == "copy":
            return self.copy_concluded(obj, job, disk, chain, success)
        if mirror is not None:
            disk.remove(mirror)
        if not success or not chain:
            return [], []
        base = positions.get(job.base) if job.base is not None else None
        if job.kind == "pull":
            if base == 1:
                return [], []   # base right below the top: nothing changes
            keep = [chain[0]] + (chain[base:] if base is not None else [])
            gone = chain[1:base] if base is not None else chain[1:]
            self._rewrite(obj, disk, keep)
            return gone, []
        top = positions.get(job.top) if job.top is not None else None
        if top is None or base is None:
            return [], []
        gone = chain[top:base]
        self._rewrite(obj, disk, chain[:top] + chain[base:])
        if job.kind == "active-commit":
            self.rewrite_config_source(obj, disk, chain[0], chain[base], base == len(chain) - 1)
        return gone, gone if job.delete else []

    def _rewrite(self, obj: DomainObj, disk: etree._Element, layers: list[Layer]) -> None:
        """The disk's new chain in the live definition only (lock held): a
        persistent definition shared with it is split off first where the
        change would show in it (a new source, a chain closed by a bare
        <backingStore/>, which the inactive XML would keep)."""
        before = disknodes.images(disk)
        if len(layers) == 1 or not before or before[0] != layers[0]:
            affect.keep_apart(obj)
        disknodes.rewrite(disk, layers)

    def rewrite_config_source(self, obj: DomainObj, disk: etree._Element, old: Layer,
                              new: Layer, closed: bool) -> None:
        """qemuBlockJobRewriteConfigDiskSource: the persistent definition's
        disk, where it still names `old`, names `new` (lock held); `closed`:
        `new` has no backing image, which libvirt's copy of it keeps as a
        <backingStore/> (a backing chain it found is left out)."""
        if not obj.persistent or obj.new_def is None:
            return
        cfg = next((d for d in disknodes.disks_of(obj.new_def)
                    if target_of(d) == target_of(disk)), None)
        source = cfg.find("source") if cfg is not None else None
        if cfg is None or source is None or source.get("file") != old.path:
            return
        source.set("file", new.path)
        driver = cfg.find("driver")
        if driver is not None:
            driver.set("type", new.fmt)
        for backing in cfg.findall("backingStore"):
            cfg.remove(backing)
        if closed:
            cfg.insert(list(cfg).index(source) + 1, etree.Element("backingStore"))

    # -- a driver opened on a running domain
    def recover_block_jobs(self, obj: DomainObj, rt: Runtime,
                           kept: Optional[etree._Element]) -> None:
        """qemuBlockJobRefreshJobs: the jobs the status kept, brought in line
        with QEMU's; those QEMU no longer has are dropped."""
        jobs = blockjob.parse_jobs(kept)
        if not jobs:
            return
        with self.lock:
            for job in jobs:
                job.newstate = None
                disk = self._job_disk(obj, job)
                if disk is not None and job.kind in ("copy", "active-commit"):
                    job.mirror = blockjob.mirror_of(disk)
                rt.blockjobs[job.name] = job
        try:
            qemu = {j.get("id"): j for j in self._monitor_call(rt, "query-jobs")}
        except errors.VirtError:
            return
        with self.job(obj.uuid):
            for job in jobs:
                entry = qemu.get(job.name)
                if entry is None:
                    with self.lock:
                        rt.blockjobs.pop(job.name, None)
                        disk = self._job_disk(obj, job)
                        mirror = disk.find("mirror") if disk is not None else None
                        if mirror is not None and disk is not None:
                            disk.remove(mirror)
                    continue
                status = entry.get("status")
                if status == "concluded":
                    job.errmsg = entry.get("error")
                    job.newstate = "failed" if job.errmsg else "completed"
                elif status == "ready" and job.state in ("new", "running"):
                    job.newstate = "ready"
                self.block_job_update(obj, rt, job)
            with self.lock:
                self.save_status(obj)


def _set_mirror(disk: etree._Element, layer: Layer, job: str, backing: Optional[bool],
                copy: bool = False, chain: tuple[Layer, ...] = ()) -> None:
    """The disk's <mirror> while a copy or an active commit runs, as
    virDomainDiskDefFormatMirror writes it (`backing`: a closed chain;
    `chain`: the backing images the target brings)."""
    for old in disk.findall("mirror"):
        disk.remove(old)
    mirror = etree.Element("mirror", type="file")
    if copy:
        mirror.set("file", layer.path)
        mirror.set("format", layer.fmt)
    mirror.set("job", job)
    etree.SubElement(mirror, "format", type=layer.fmt)
    etree.SubElement(mirror, "source", file=layer.path, index=str(layer.index))
    if chain:
        mirror.append(disknodes.backing_element(list(chain)))
    elif backing:
        etree.SubElement(mirror, "backingStore")
    after = disk.find("backingStore")
    if after is None:
        after = disk.find("source")
    place = list(disk).index(after) + 1 if after is not None else 0
    disk.insert(place, mirror)


def _mirror_state(disk: etree._Element, state: str) -> None:
    mirror = disk.find("mirror")
    if mirror is not None:
        mirror.set("ready", state)


def wait_created(call: Callable[[str, Any], Any], job_id: str, timeout: float = 60.0) -> None:
    """Until QEMU's blockdev-create job `job_id` concluded (polled: it is
    quick), then dismissed; its error as libvirt reports it."""
    end = time.monotonic() + timeout
    error = None
    while True:
        entry = next((j for j in call("query-jobs", None) if j.get("id") == job_id), None)
        if entry is None or entry.get("status") == "concluded":
            error = entry.get("error") if entry is not None else None
            break
        if time.monotonic() > end:
            error = "timed out"
            break
        time.sleep(0.01)
    with contextlib.suppress(errors.VirtError):
        call("job-dismiss", {"id": job_id})
    if error:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                            f"failed to format image: '{error}'")
