"""Block jobs on the QEMU driver, as libvirt 9.0's with -blockdev
(qemu_driver.c's qemuDomainBlock*, qemu_block.c's qemuBlockCommit and
qemuBlockPivot): pull (block-stream), commit (block-commit, the active
layer's too), copy (blockdev-mirror: blockcopy.py), their information,
speed and end (abort, pivot).

A job is QEMU's job under libvirt's id (blockjob.py), kept in the
runtime's `blockjobs` and in the status file; what QEMU then says about
it, and its end, is blockjobevents.py's."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import TYPE_CHECKING, Any, Callable, Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainBlockJobInfo
from ..metadata import find_disk
from . import blockjob, disknodes
from .blockjob import BlockJob
from .blockjobevents import BlockJobEvents
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


class BlockJobs(BlockJobEvents):
    """Mixed into QemuDriver through BlockCopy: the API's side of block jobs."""

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
        target = blockjob.target_of(disk)
        return next((j for j in rt.blockjobs.values() if j.disk == target), None)

    def check_disk_job_inactive(self, rt: Runtime, disk: etree._Element) -> None:
        """qemuDomainDiskBlockJobIsActive: no job runs on `disk` (a block job
        or a hot unplug asks; lock held)."""
        dst = blockjob.target_of(disk)
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
        dst = blockjob.target_of(disk)
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
            raise _invalid(f"disk {blockjob.target_of(disk)} does not have an active block job")
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
                    base_pos, _ = blockjob.lookup(chain, 0, base, blockjob.target_of(found))
                    if flags & REBASE_RELATIVE:
                        backing = relative_backing(chain, 1, base_pos)
                        if backing is None:
                            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                                "can't keep relative backing relationship")
                speed = speed_bytes(bandwidth, bool(flags & PULL_BANDWIDTH_BYTES))
                top = chain[0]
                job = BlockJob(blockjob.job_name("pull", blockjob.target_of(found), top.index), "pull",
                               blockjob.target_of(found), flags)
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
                dst = blockjob.target_of(found)
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
                    blockjob.set_mirror(found, job.mirror, "active-commit", None)
            self.start_block_job(obj, rt, job, "block-commit", args, started)

    def _commit_job(self, rt: Runtime, disk: etree._Element, chain: list[Layer], top_pos: int,
                    parent: Optional[int], base_pos: Optional[int],
                    flags: int) -> tuple[BlockJob, Optional[str]]:
        """qemuBlockCommit's checks, then its job and the backing file name
        the image above top gets (none for an active commit) (lock held)."""
        dst = blockjob.target_of(disk)
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
                        blockjob.mirror_state(found, blockjob.MIRROR_STATE[state])
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
