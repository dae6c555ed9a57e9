"""What QEMU says about block jobs, and their end (qemu_blockjob.c's event
processing): the QMP thread records the state a JOB_STATUS_CHANGE asks for
(lock held) and a worker acts on it under the domain's job, unless an API
call waits for the job (abort without ASYNC), which then acts itself.
READY emits BLOCK_JOB and BLOCK_JOB_2 with status READY; the end reads
the job's error (query-jobs), dismisses it, changes the disk's chain in
the live definition (disknodes.rewrite; a copy's end is blockcopy.py's),
drops the nodes of the images left out (blockdev-del) and emits the two
events with the final status.  A driver opened on a running domain takes
its jobs over from the status file."""

from __future__ import annotations

import contextlib
import os
import threading
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from . import affect, blockjob, disknodes
from .blockjob import BlockJob
from .disknodes import Layer
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from .runtime import Runtime


class BlockJobEvents:
    """Mixed into QemuDriver through BlockJobs (lock, job, runtime, _monitor_call, ...)."""

    lock: threading.RLock
    closed: bool
    if TYPE_CHECKING:
        runtime: dict[bytes, Runtime]
        def _save_config(self, d: DomainDef) -> None: ...
        def save_status(self, obj: DomainObj, text: Optional[str] = None) -> None: ...
        def job(self, uuid: bytes) -> AbstractContextManager[None]: ...
        def _monitor_call(self, rt: Runtime, cmd: str, args: Any = None) -> Any: ...

    # -- blockcopy.py's BlockCopy supplies the end of a copy
    def copy_concluded(self, obj: DomainObj, job: BlockJob, disk: etree._Element,
                       chain: list[Layer], success: bool) -> tuple[list[Layer], list[Layer]]:
        raise NotImplementedError

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
                            blockjob.mirror_state(disk, "yes")
                        self._emit(obj, disk, job, "ready")
                    self.save_status(obj)
            return
        self._conclude(obj, rt, job, newstate)

    def _job_disk(self, obj: DomainObj, job: BlockJob) -> Optional[etree._Element]:
        return next((d for d in disknodes.disks_of(obj.def_) if blockjob.target_of(d) == job.disk), None)

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
                    if blockjob.target_of(d) == blockjob.target_of(disk)), None)
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
