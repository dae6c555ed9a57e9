"""A migration job seen from outside its phases: job information and
statistics, abort (also the post-copy pause), the switch to post-copy, and
the max downtime and speed parameters (libvirt's qemuDomainGetJobStats,
qemuDomainAbortJobFlags, qemuDomainMigrate{Set,Get}Max*)."""

from __future__ import annotations

import contextlib
from typing import Optional

from ... import errors, migration as mig
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import nbd
from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN   # virDomainObjCheckActive's
# where a domain keeps its job, its last completed job and a max speed set while inactive
_JOB_KEY, _DONE_KEY = "migration", "completed_job"
_MAX_SPEED_KEY = "migration_max_speed"
_FINAL = ("completed", "failed", "cancelled")   # QEMU's statuses of a migration over
# phases after which a migration that QEMU reports completed had switched over
_SWITCHED_PHASES = (mig.Phase.PERFORM3_DONE, mig.Phase.FINISH3)


class MigrationJobs:
    """Mixed into Migration (QemuDriver supplies lock, runtime, _obj, _monitor_call)."""

    # -- job information
    def domain_get_job_info(self, dom: Domain) -> mig.DomainJobInfo:
        with self.lock:  # type: ignore[attr-defined]
            obj, _ = self._active_rt(dom)
            job = obj.private.get(_JOB_KEY)
        if job is None:
            return mig.DomainJobInfo()
        self._refresh_stats(dom, job)
        return job.job_info(mig.VIR_DOMAIN_JOB_UNBOUNDED)

    def domain_get_job_stats(self, dom: Domain, flags: int) -> tuple[int, mig.TypedParams]:
        errors.check_flags(flags, mig.VIR_DOMAIN_JOB_STATS_COMPLETED
                           | mig.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED,
                           "qemuDomainGetJobStats", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            if flags & mig.VIR_DOMAIN_JOB_STATS_COMPLETED:
                done = obj.private.get(_DONE_KEY)
                if done is None:
                    return mig.VIR_DOMAIN_JOB_NONE, []
                if not flags & mig.VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED:
                    obj.private.pop(_DONE_KEY, None)
                return mig.VIR_DOMAIN_JOB_COMPLETED, done.typed_stats()
            self._active_rt(dom)
            job = obj.private.get(_JOB_KEY)
        if job is None:
            return mig.VIR_DOMAIN_JOB_NONE, []
        if job.direction is mig.Direction.IN:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                "migration statistics are available only on the source host")
        self._refresh_stats(dom, job)
        return mig.VIR_DOMAIN_JOB_UNBOUNDED, job.typed_stats()

    def _refresh_stats(self, dom: Domain, job: mig.MigrationJob) -> None:
        with self.lock:  # type: ignore[attr-defined]
            rt = self.runtime.get(dom.uuid)  # type: ignore[attr-defined]
        if rt is None or job.phase not in (mig.Phase.PERFORM3, mig.Phase.PERFORM3_DONE,
                                           mig.Phase.PERFORM_RESUME) or \
                job.direction is not mig.Direction.OUT:
            return
        with contextlib.suppress(errors.VirtError):
            job.update_from_qemu(self._monitor_call(rt, "query-migrate"))  # type: ignore[attr-defined]
            nbd.refresh_stats(lambda c, a: self._monitor_call(rt, c, a),  # type: ignore[attr-defined]
                              job)

    def domain_abort_job(self, dom: Domain) -> None:
        self.domain_abort_job_flags(dom, 0)

    def domain_abort_job_flags(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY,
                           "qemuDomainAbortJobFlags", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj, rt = self._active_rt(dom)
            job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY)
            if flags & mig.VIR_DOMAIN_ABORT_JOB_POSTCOPY:
                if (job is None or rt is None or job.direction is not mig.Direction.OUT
                        or job.status != "postcopy-active"
                        or job.phase in (mig.Phase.POSTCOPY_FAILED, mig.Phase.BEGIN_RESUME)):
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "current job is not outgoing migration in "
                                        "post-copy mode")
                # both QEMUs go postcopy-paused; the event rules and Finish/Confirm
                # turn that into POSTCOPY_FAILED on both sides
                cmd = "migrate-pause"
            else:
                if job is None or rt is None:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "no job is active on the domain")
                if job.direction is mig.Direction.IN:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "cannot abort incoming migration; use "
                                        "virDomainDestroy instead")
                if job.in_postcopy:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "cannot abort migration in post-copy mode")
                job.abort_requested = True
                cmd = "migrate_cancel"
        self._monitor_call(rt, cmd)  # type: ignore[attr-defined]

    def domain_migrate_start_post_copy(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainMigrateStartPostCopy", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj, rt = self._active_rt(dom)
            job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY)
            if job is None or job.direction is not mig.Direction.OUT:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "post-copy can only be started while outgoing "
                                    "migration is in progress")
            if not job.flags & mig.VIR_MIGRATE_POSTCOPY:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "switching to post-copy requires migration to be "
                                    "started with VIR_MIGRATE_POSTCOPY flag")
        self._monitor_call(rt, "migrate-start-postcopy")  # type: ignore[attr-defined]

    # -- max downtime and max speed (QEMU's migration parameters)
    def _active_rt(self, dom: Domain) -> tuple[DomainObj, Runtime]:
        """The domain and its QEMU (host lock held); 'domain is not running' if none."""
        obj = self._obj(dom)  # type: ignore[attr-defined]
        rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
        if rt is None or not obj.is_active():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                "domain is not running")
        return obj, rt

    def _migration_parameter(self, dom: Domain, name: str) -> int:
        with self.lock:  # type: ignore[attr-defined]
            _, rt = self._active_rt(dom)
        info = self._monitor_call(rt, "query-migrate-parameters")  # type: ignore[attr-defined]
        if name not in info:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"Querying migration parameter '{name}' is not supported "
                                "by QEMU binary")
        return int(info[name])

    def _set_migration_parameter(self, dom: Domain, name: str, value: int) -> None:
        with self.lock:  # type: ignore[attr-defined]
            _, rt = self._active_rt(dom)
        self._monitor_call(rt, "migrate-set-parameters", {name: value})  # type: ignore[attr-defined]

    def domain_migrate_set_max_downtime(self, dom: Domain, downtime: int, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainMigrateSetMaxDowntime", Q)
        self._set_migration_parameter(dom, "downtime-limit", downtime)

    def domain_migrate_get_max_downtime(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainMigrateGetMaxDowntime", Q)
        return self._migration_parameter(dom, "downtime-limit")

    def domain_migrate_get_compression_cache(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainMigrateGetCompressionCache", Q)
        return self._migration_parameter(dom, "xbzrle-cache-size")

    def domain_migrate_set_compression_cache(self, dom: Domain, size: int, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainMigrateSetCompressionCache", Q)
        self._set_migration_parameter(dom, "xbzrle-cache-size", size)

    def domain_migrate_set_max_speed(self, dom: Domain, bandwidth: int, flags: int) -> None:
        errors.check_flags(flags, mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY,
                           "qemuDomainMigrateSetMaxSpeed", Q)
        postcopy = bool(flags & mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY)
        if bandwidth > mig.BANDWIDTH_MAX:
            raise errors.report(ErrorNumber.VIR_ERR_OVERFLOW, Q,
                                f"bandwidth must be less than {mig.BANDWIDTH_MAX + 1}")
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            if not postcopy and not obj.is_active():   # kept for the next migration
                obj.private[_MAX_SPEED_KEY] = bandwidth
                return
        name = "max-postcopy-bandwidth" if postcopy else "max-bandwidth"
        self._set_migration_parameter(dom, name, bandwidth << 20)
        if not postcopy:
            with self.lock:  # type: ignore[attr-defined]
                obj.private[_MAX_SPEED_KEY] = bandwidth

    def domain_migrate_get_max_speed(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY,
                           "qemuDomainMigrateGetMaxSpeed", Q)
        if flags & mig.VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY:
            value = self._migration_parameter(dom, "max-postcopy-bandwidth")
            return (value + (1 << 20) - 1) >> 20
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            speed: int = obj.private.get(_MAX_SPEED_KEY, mig.BANDWIDTH_MAX)
            return speed
