"""A driver opened again taking over a domain in the middle of a migration
(libvirt's qemuProcessRecoverMigration): a post-copy is followed to its end
or kept paused for VIR_MIGRATE_POSTCOPY_RESUME; anything else is given up."""

from __future__ import annotations

import contextlib
import threading
import time

from ... import errors, migration as mig
from ...domainobj import DomainObj
from ...domainstate import DomainPausedReason, DomainShutoffReason, DomainState as S
from ...events import DomainEventStoppedDetail as Stopped
from .migration_jobs import _FINAL, _JOB_KEY, _SWITCHED_PHASES
from .monitor import qmp_thread
from .runtime import BATCH_KEY, Runtime


class MigrationRecovery:
    """Mixed into Migration (which supplies _take_job, _postcopy_failed, the
    resets and the ends of either side; QemuDriver the rest)."""

    def recover_migration(self, obj: DomainObj, rt: Runtime, saved: dict[str, str]) -> None:
        """libvirt's qemuProcessRecoverMigration: a post-copy migration (the
        guest's memory split between the hosts) stays as a paused job that
        VIR_MIGRATE_POSTCOPY_RESUME recovers; one that had not switched over
        is given up: the source cancels it and runs on, the destination dies."""
        direction = (mig.Direction.OUT if saved.get("async") == "migration out"
                     else mig.Direction.IN)
        try:
            phase = mig.Phase(saved.get("phase", "none"))
            flags = int(saved.get("flags", "0"), 16)
        except ValueError:
            phase, flags = mig.Phase.NONE, 0
        try:
            qstatus = self._monitor_call(rt, "query-migrate").get("status")  # type: ignore[attr-defined]
        except errors.VirtError:
            qstatus = None
        job = mig.MigrationJob(direction, flags, mig.MigrationParams())
        job.phase, job.status = phase, qstatus
        # a completed migration whose guest already runs on the destination
        # (post-copy, or the destination's own Finish) is followed to its end
        switched = direction is mig.Direction.IN or (
            obj.state == S.VIR_DOMAIN_PAUSED and obj.reason in (
                DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY,
                DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED))
        if job.in_postcopy or qstatus == "completed" and phase in _SWITCHED_PHASES and switched:
            lock = self._take_job(obj.uuid)
            with self.lock:  # type: ignore[attr-defined]
                obj.private[_JOB_KEY] = job
                obj.private["migration_lock"] = lock
            if qstatus in ("postcopy-active", "completed") and phase in (
                    mig.Phase.PERFORM3, mig.Phase.PERFORM3_DONE, mig.Phase.PREPARE,
                    mig.Phase.PERFORM_RESUME, mig.Phase.PREPARE_RESUME, mig.Phase.FINISH3):
                # still running, or over while no driver was there: followed to
                # its end unattended, as libvirt does (a job recorded as paused
                # stays paused, even if QEMU has not noticed the pause yet)
                if direction is mig.Direction.OUT:
                    with self.lock:  # type: ignore[attr-defined]
                        if BATCH_KEY not in obj.private:   # as Perform takes it
                            obj.private[BATCH_KEY] = qmp_thread.batch()
                threading.Thread(target=self._follow_postcopy, args=(obj, rt, job),
                                 name="pyvirt-qemu-postcopy", daemon=True).start()
                return
            with self.lock:  # type: ignore[attr-defined]
                job.phase = mig.Phase.POSTCOPY_FAILED
            self._postcopy_failed(obj, job)
            return
        if direction is mig.Direction.IN:
            self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,  # type: ignore[attr-defined]
                              DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FAILED)
            return
        if phase is mig.Phase.PERFORM3_DONE:
            # a precopy migration that QEMU completed and Perform reported: the
            # destination's Finish may run the guest there, so the source must
            # not run it too, nor end it before Finish is known: it stays
            # paused and whoever drives the migration decides (as libvirt)
            with self.lock:  # type: ignore[attr-defined]
                self.save_status(obj)  # type: ignore[attr-defined]
            return
        call = lambda c, a=None: self._monitor_call(rt, c, a)  # type: ignore[attr-defined]  # noqa: E731
        with contextlib.suppress(errors.VirtError):
            if qstatus not in _FINAL and qstatus is not None:
                call("migrate_cancel")
            for bjob in call("query-block-jobs"):
                if str(bjob.get("device", "")).startswith("drive-"):
                    call("block-job-cancel", {"device": bjob["device"], "force": True})
        self._reset_outgoing(rt, job)  # type: ignore[attr-defined]
        with self.lock:  # type: ignore[attr-defined]
            resume = (obj.state == S.VIR_DOMAIN_PAUSED and obj.reason
                      == DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION)
            self.save_status(obj)  # type: ignore[attr-defined]
        if resume:
            with contextlib.suppress(errors.VirtError):
                call("cont")

    def _follow_postcopy(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob) -> None:
        """A post-copy taken over by a reopened driver, with no API call waiting
        for it (libvirt's unattended migration): when QEMU completes it, the
        source stops as Confirm would (STOPPED/MIGRATED, JOB_COMPLETED) and the
        destination runs on as Finish would (RESUMED/MIGRATED); if it breaks,
        it is a paused post-copy, for VIR_MIGRATE_POSTCOPY_RESUME."""
        stop_at = _FINAL + ("postcopy-paused",)
        polled = 0.0
        while True:
            with job.cond:
                if job.status not in stop_at:
                    job.cond.wait(0.2)
                status = job.status
            if rt.stopped or obj.private.get(_JOB_KEY) is not job:
                return   # destroyed, or QEMU went away (its exit handler ended the job)
            if status not in stop_at and time.monotonic() - polled > 1.0:
                polled = time.monotonic()   # an event missed in the takeover? ask
                with contextlib.suppress(errors.VirtError):
                    job.set_status(str(self._monitor_call(  # type: ignore[attr-defined]
                        rt, "query-migrate").get("status")))
                continue
            if status in stop_at:
                break
        if status != "completed":
            with self.lock:  # type: ignore[attr-defined]
                job.phase = mig.Phase.POSTCOPY_FAILED
            self._postcopy_failed(obj, job)
            return
        if job.direction is mig.Direction.OUT:
            job.phase = mig.Phase.CONFIRM3   # from PERFORM3 too: no advance()
            self._source_done(obj, rt, job, True)  # type: ignore[attr-defined]
            return
        self._reset_incoming(rt, job)  # type: ignore[attr-defined]
        job.phase = mig.Phase.FINISH3
        with self.lock:  # type: ignore[attr-defined]
            self._resumed_migrated(obj)  # type: ignore[attr-defined]
            self._end_job(obj)
            self.save_status(obj)  # type: ignore[attr-defined]
