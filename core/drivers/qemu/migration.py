"""Migration, the QEMU-specific half (libvirt's qemu_migration.c): the five
v3 phases as driver entry points (job statistics, abort and migration
parameters are migration_jobs.py's).  The phase
machine, cookie, parameters and event rules are pyvirt.migration's.

QMP traffic as libvirt 9.0 (shared/reference/libvirt-qemu, section 4.4):

    dst  migrate-set-capabilities return-path, late-block-activate (+events)
    dst  migrate-incoming tcp:[::]:PORT            -> STARTED/MIGRATED
    src  migrate-set-capabilities pause-before-switchover, return-path (+events)
    src  migrate-set-parameters max-bandwidth
    src  getfd "migrate" (our own TCP connection), migrate fd:migrate
    src  STOP, MIGRATION pre-switchover -> migrate-continue at once
    dst  MIGRATION completed -> Finish: cont        -> RESUMED/MIGRATED
    src  Confirm: QEMU stopped                      -> STOPPED/MIGRATED, JOB_COMPLETED

Post-copy (VIR_MIGRATE_POSTCOPY): postcopy-ram on both sides; the client's
virDomainMigrateStartPostCopy sends migrate-start-postcopy; Perform returns at
postcopy-active, Finish sends cont (RESUMED/POSTCOPY) and waits for completed
(RESUMED/MIGRATED).  VIR_DOMAIN_ABORT_JOB_POSTCOPY sends migrate-pause: both
QEMUs go postcopy-paused, both jobs stay in phase POSTCOPY_FAILED (the job
lock held) until VIR_MIGRATE_POSTCOPY_RESUME: dst migrate-recover, src
migrate {resume: true}.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import uuid as uuidmod
from typing import Any, Optional

from ... import errors, events, migration as mig
from ...domainobj import DomainObj
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutoffReason,
                            DomainState as S)
from ...errors import ErrorDomain, ErrorNumber
from ...events import (DomainEventDefinedDetail, DomainEventID,
                       DomainEventResumedDetail as Resumed,
                       DomainEventStartedDetail as Started, DomainEventStoppedDetail as Stopped,
                       DomainEventSuspendedDetail as Suspended, DomainEventType as E,
                       DomainEventUndefinedDetail)
from ...objects import Connect, Domain
from . import blockjobs, migration_tls, miguri, nbd, tuning
from .migration_jobs import _DONE_KEY, _FINAL, _JOB_KEY, _MAX_SPEED_KEY, MigrationJobs
from .migration_recovery import MigrationRecovery
from .monitor import qmp_thread
from .paths import remove_durably
from .runtime import BATCH_KEY, JOB_WAIT, Runtime, end_batch, qemu_error

Q = ErrorDomain.VIR_FROM_QEMU
UNLIMITED_BANDWIDTH = 9223372036853727232   # QEMU's "unlimited", as libvirt sets it
MIGRATION_WAIT = 3600.0
PAUSE_WAIT = 10.0                           # for a source QEMU to see migrate-pause
_FD_NAME = "migrate"
_SWITCHED = ("postcopy-active", "postcopy-paused")   # Perform's end in post-copy
ALL_FLAGS = (1 << 21) - 1


_next_port = [0]   # where the next search starts


def _free_port(lo: int, hi: int) -> int:
    """A port of qemu.conf's migration range that binds now. The search goes
    round the range from after the last port given, so a port just released
    (its QEMU still exiting, or in TIME_WAIT) is not handed out again at once."""
    span = hi - lo + 1
    for i in range(span):
        port = lo + (_next_port[0] - lo + i) % span
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            try:
                probe.bind(("::", port))
            except OSError:
                continue
        _next_port[0] = port + 1
        return port
    raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                     f"Unable to find an unused port in range 'migration' "
                     f"({lo}-{hi})")


class Migration(MigrationRecovery, MigrationJobs):
    """Mixed into QemuDriver (which supplies job, lock, _running, start, ...)."""

    # -- host identity, for the cookie's same-host check
    @property
    def host_uuid(self) -> bytes:
        path = self.layout.lib_dir / "hostuuid"  # type: ignore[attr-defined]
        try:
            return uuidmod.UUID(path.read_text().strip()).bytes
        except (OSError, ValueError):
            value = uuidmod.uuid4()
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(str(value) + "\n")
            return value.bytes

    def _cookie(self, obj: DomainObj, stats: Optional[dict[str, int]] = None,
                nbd_disks: Optional[dict[str, int]] = None,
                nbd_port: Optional[int] = None) -> bytes:
        return mig.Cookie(obj.name, obj.uuid, socket.gethostname(), self.host_uuid,
                          stats or {}, nbd_disks or {}, nbd_port).format()

    def _take_job(self, uuid: bytes) -> threading.Lock:
        with self.lock:  # type: ignore[attr-defined]
            lock: threading.Lock = self._jobs.setdefault(  # type: ignore[attr-defined]
                uuid, threading.Lock())
        if not lock.acquire(timeout=JOB_WAIT):
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_TIMEOUT,
                             "cannot acquire state change lock")
        return lock

    def _migration_of(self, dom: Domain) -> tuple[DomainObj, Runtime, mig.MigrationJob]:
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            job = obj.private.get(_JOB_KEY)
            rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
            if job is None or rt is None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "domain is not being migrated")
            return obj, rt, job

    def _advance(self, obj: DomainObj, job: mig.MigrationJob, phase: mig.Phase) -> None:
        """Move the job to `phase` and record it in the status file, so that a
        driver opened again on this root recovers the migration from where it
        really is (libvirt saves the status at each phase change too)."""
        with self.lock:  # type: ignore[attr-defined]
            job.advance(phase)
            self.save_status(obj)  # type: ignore[attr-defined]

    def _end_job(self, obj: DomainObj) -> None:
        end_batch(obj)
        job = obj.private.pop(_JOB_KEY, None)
        lock = obj.private.pop("migration_lock", None)
        if lock is not None and job is not None:
            lock.release()

    # -- QMP events during a migration (QMP thread, host lock held)
    def on_migration_event(self, obj: DomainObj, rt: Runtime, name: str,
                           data: dict[str, Any]) -> None:
        job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY)
        if job is None:
            return
        if name == "MIGRATION_PASS" and job.direction is mig.Direction.OUT:
            job.iteration = int(data.get("pass", 0))
            events.queue_domain_event(self, DomainEventID.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                                      obj.name, obj.uuid, obj.id, job.iteration)
        elif name in ("JOB_STATUS_CHANGE", "BLOCK_JOB_COMPLETED"):
            nbd.on_job_event(job, name, data)
        elif name == "MIGRATION":
            status = str(data.get("status"))
            self._apply(obj, mig.correction_on_status(
                job, status, obj.state == S.VIR_DOMAIN_PAUSED, obj.reason))
            job.set_status(status)
            if (status == "active" and job.direction is mig.Direction.IN
                    and job.phase is mig.Phase.PREPARE
                    and not job.flags & mig.VIR_MIGRATE_PAUSED):
                # the stream comes: Finish's statuses (the guest resumed with
                # the job on, then the job over) written by the status writer
                # meanwhile, so that the destination's resume is a rename
                running = (DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY
                           if job.flags & mig.VIR_MIGRATE_POSTCOPY
                           else DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATED)
                self.write_ahead(obj, rt, S.VIR_DOMAIN_RUNNING, running)  # type: ignore[attr-defined]
                self.write_ahead(obj, rt, S.VIR_DOMAIN_RUNNING,  # type: ignore[attr-defined]
                                 DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATED,
                                 with_job=False)

    def continue_switchover(self, obj: DomainObj, rt: Runtime, status: str) -> bool:
        """QEMU waits at pre-switchover, the guest stopped, until it hears
        migrate-continue: sent from the QMP thread before anything else is
        done about the event (or the STOP before it), it is the downtime's
        only share of ours.  With storage mirrors Perform ends them first.
        True if it was sent here."""
        job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY)
        if (status == "pre-switchover" and job is not None and mig.continues_at_once(job)
                and rt.monitor is not None):
            job.continued = True
            rt.monitor.execute_soon("migrate-continue", {"state": "pre-switchover"},
                                    lambda error: self._continued(job, error))
            return True
        return False

    @staticmethod
    def _continued(job: mig.MigrationJob, error: Optional[str]) -> None:
        if error is not None:
            with job.cond:
                job.continue_error = error
                job.cond.notify_all()

    def _apply(self, obj: DomainObj, change: Optional[mig.StateChange]) -> None:
        """A state change of the shared event rules (host lock held)."""
        if change is None:
            return
        obj.set_state(S(change.state), change.reason)
        self.event(obj, E(change.event), change.detail)  # type: ignore[attr-defined]
        self.save_status(obj)  # type: ignore[attr-defined]

    # -- Begin (source)
    def domain_migrate_begin3_params(self, dom: Domain, params: mig.MigrationParams,
                                     flags: int) -> tuple[bytes, str]:
        errors.check_flags(flags, ALL_FLAGS, "qemuDomainMigrateBegin3Params", Q)
        unsupported = flags & ~mig.SUPPORTED_FLAGS
        if unsupported:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                f"migration flags 0x{unsupported:x} are not supported yet")
        if flags & mig.VIR_MIGRATE_POSTCOPY_RESUME:
            with self.lock:  # type: ignore[attr-defined]
                obj = self._obj(dom)  # type: ignore[attr-defined]
                job = self._resumable(obj, flags, mig.Direction.OUT)
                job.advance(mig.Phase.BEGIN_RESUME)
                job.flags, job.params = flags, params
                return self._cookie(obj), self.migratable_xml(obj)  # type: ignore[attr-defined]
        nbd.check_begin(flags, params)
        tuning.check(flags, params)
        migration_tls.check_forced(self.config, flags)  # type: ignore[attr-defined]
        lock = self._take_job(dom.uuid)
        try:
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                mig.check_begin_io_error(flags, obj.state, obj.reason, Q)
                if not flags & mig.VIR_MIGRATE_OFFLINE:
                    blockjobs.check_no_block_job(rt)
                if flags & mig.VIR_MIGRATE_UNDEFINE_SOURCE and not obj.persistent:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "cannot undefine transient domain")
                disks = nbd.disks_to_copy(obj.def_, params) if flags & mig.NON_SHARED else []
            sizes = (nbd.capacities(lambda c, a: self._monitor_call(rt, c, a),  # type: ignore[attr-defined]
                                    disks) if disks else {})
            with self.lock:  # type: ignore[attr-defined]
                job = mig.MigrationJob(mig.Direction.OUT, flags, params)
                job.advance(mig.Phase.BEGIN3)
                job.pre_state = int(obj.state)
                job.copy_disks = disks
                obj.private[_JOB_KEY] = job
                obj.private["migration_lock"] = lock
                obj.private.pop(_DONE_KEY, None)
                # written while the destination starts, with Perform's, both
                # renamed in when Perform begins (QEMU is told nothing before)
                self.write_ahead(obj, rt, obj.state, obj.reason)  # type: ignore[attr-defined]
                self.write_ahead(obj, rt, obj.state, obj.reason,  # type: ignore[attr-defined]
                                 phase=mig.Phase.PERFORM3.value)
                return (self._cookie(obj, nbd_disks=sizes),
                        self.migratable_xml(obj))  # type: ignore[attr-defined]
        except BaseException:
            lock.release()
            raise

    def _resumable(self, obj: DomainObj, flags: int,
                   direction: mig.Direction) -> mig.MigrationJob:
        """The paused post-copy job that VIR_MIGRATE_POSTCOPY_RESUME recovers
        (qemuMigrationAnyCanResume's checks and wording)."""
        if not flags & mig.VIR_MIGRATE_POSTCOPY:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "resuming failed post-copy migration requires post-copy "
                                "to be enabled")
        if not obj.is_active():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                "domain is not running")
        job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY)
        if job is None or job.direction is not direction:
            what = "outgoing" if direction is mig.Direction.OUT else "incoming"
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"domain '{obj.name}' is not processing {what} migration")
        if not job.in_postcopy:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"migration of domain {obj.name} is not in post-copy phase")
        if job.phase is not mig.Phase.POSTCOPY_FAILED:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                f"post-copy migration of domain {obj.name} has not failed")
        return job

    # -- Prepare (destination)
    def domain_migrate_prepare3_params(self, dconn: Connect, params: mig.MigrationParams,
                                       cookiein: Optional[bytes],
                                       flags: int) -> tuple[bytes, str]:
        cookie = mig.Cookie.parse(cookiein)
        if cookie is not None and cookie.hostuuid == self.host_uuid:
            from ... import viruuid
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             "Attempt to migrate guest to the same host "
                             f"{viruuid.format(cookie.hostuuid)}")
        if not params.dom_xml:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                "no domain XML passed")
        new = self._parse(params.dom_xml)  # type: ignore[attr-defined]
        if params.dname:
            new.name = params.dname
        migration_tls.check_forced(self.config, flags)  # type: ignore[attr-defined]
        ports = (self.config.migration_port_min,  # type: ignore[attr-defined]
                 self.config.migration_port_max)  # type: ignore[attr-defined]
        target = miguri.prepare(params, flags)
        listen = params.listen_address or "::"
        if target is not None and target.is_unix:
            listen_uri, uri_out = f"unix:{target.socket_path}", params.uri
        else:
            host = target.host if target is not None else None
            port = (target.port if target is not None else None) or _free_port(*ports)
            listen_uri = f"tcp:[{listen}]:{port}" if ":" in listen else f"tcp:{listen}:{port}"
            uri_out = f"tcp:{host or socket.gethostname()}:{port}"
        if flags & mig.VIR_MIGRATE_POSTCOPY_RESUME:
            return self._prepare_resume(new.name, flags, params, listen_uri), uri_out
        tuning.check(flags, params)
        disks = nbd.destination_disks(new, cookie, flags)
        nbd_addr = (miguri.nbd_server(params, listen, lambda: _free_port(*ports))
                    if disks else None)
        with self.lock:  # type: ignore[attr-defined]
            obj = self.domains.add_live(new)  # type: ignore[attr-defined]
        lock = self._take_job(obj.uuid)
        job = mig.MigrationJob(mig.Direction.IN, flags, params)
        job.advance(mig.Phase.PREPARE)
        with self.lock:  # type: ignore[attr-defined]
            obj.private[_JOB_KEY] = job
            obj.private["migration_lock"] = lock
            obj.private.pop(_DONE_KEY, None)

        def incoming(rt: Runtime) -> None:
            tls = (migration_tls.enable(self._qmp(rt), self.config,  # type: ignore[attr-defined]
                                        True, None)
                   if flags & mig.VIR_MIGRATE_TLS else {})
            caps, qparams = tuning.destination(flags, params)
            tuning.apply(self._qmp(rt), job, {
                "events": True, "return-path": True, "late-block-activate": True,
                **({"postcopy-ram": True} if flags & mig.VIR_MIGRATE_POSTCOPY else {}),
                **caps}, {**tls, **qparams})
            if nbd_addr is not None:
                job.nbd_port = nbd.start_server(
                    lambda c, a: self._monitor_call(rt, c, a),  # type: ignore[attr-defined]
                    disks, nbd_addr)
            with self.lock:   # start's own status at its end, written meanwhile
                ahead = self.write_ahead(  # type: ignore[attr-defined]
                    obj, rt, S.VIR_DOMAIN_PAUSED,
                    DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION, background=False)
            self._monitor_call(rt, "migrate-incoming",  # type: ignore[attr-defined]
                               {"uri": listen_uri},
                               meanwhile=(lambda answered: ahead.write())
                               if ahead is not None else None)
        try:
            self.start(obj, paused=True, incoming=incoming,  # type: ignore[attr-defined]
                       started_detail=Started.VIR_DOMAIN_EVENT_STARTED_MIGRATED)
        except BaseException:
            with self.lock:  # type: ignore[attr-defined]
                self._end_job(obj)
                if not obj.is_active() and not obj.persistent:
                    self.domains.remove(obj)  # type: ignore[attr-defined]
            raise
        return self._cookie(obj, nbd_port=job.nbd_port), uri_out

    def _prepare_resume(self, name: str, flags: int, params: mig.MigrationParams,
                        listen_uri: str) -> bytes:
        with self.lock:  # type: ignore[attr-defined]
            obj = self.domains.find_by_name(name)  # type: ignore[attr-defined]
            if obj is None:
                raise errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, Q,
                                    f"no domain with matching name '{name}'")
            job = self._resumable(obj, flags, mig.Direction.IN)
            rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
            job.advance(mig.Phase.PREPARE_RESUME)
            job.flags, job.params = flags, params
        job.set_status("postcopy-recover")   # until QEMU's own events say more
        try:
            self._monitor_call(rt, "migrate-recover", {"uri": listen_uri})  # type: ignore[attr-defined]
        except BaseException:
            job.advance(mig.Phase.POSTCOPY_FAILED)
            raise
        return self._cookie(obj)

    def _reset_outgoing(self, rt: Runtime, job: mig.MigrationJob) -> None:
        """The source's migration capabilities and parameters as they were,
        its TLS credentials gone: the migration is given up."""
        with contextlib.suppress(errors.VirtError):
            tuning.reset(self._qmp(rt), job, {"pause-before-switchover": False,
                                              "return-path": False})
        if job.flags & mig.VIR_MIGRATE_TLS:
            migration_tls.reset(self._qmp(rt))

    # -- Perform (source)
    def domain_migrate_perform3_params(self, dom: Domain, dconnuri: Optional[str],
                                       params: mig.MigrationParams,
                                       cookiein: Optional[bytes], flags: int) -> bytes:
        obj, rt, job = self._migration_of(dom)
        resume = bool(flags & mig.VIR_MIGRATE_POSTCOPY_RESUME)
        if not resume:
            with self.lock:  # type: ignore[attr-defined]
                self.save_status(obj)  # type: ignore[attr-defined]  # Begin's, written ahead
        self._advance(obj, job, mig.Phase.PERFORM_RESUME if resume else mig.Phase.PERFORM3)
        cookie = mig.Cookie.parse(cookiein)
        if cookie is not None and cookie.nbd_port is not None:
            job.nbd_port = cookie.nbd_port
        # until the job ends: a post-copy's switchover comes after Perform
        if BATCH_KEY not in obj.private:
            obj.private[BATCH_KEY] = qmp_thread.batch()
        try:
            return self._perform(obj, rt, job, params, flags, resume)
        except errors.VirtError:
            if resume or job.in_postcopy:
                self._postcopy_failed(obj, job)
            else:
                self._restore_state(obj, rt, job)
            raise

    def _restore_state(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob) -> None:
        """Run the source again after a failed Perform (see resumes_after_failure)."""
        with self.lock:  # type: ignore[attr-defined]
            if not mig.resumes_after_failure(job, obj.state, obj.reason):
                return
            rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED
        with contextlib.suppress(errors.VirtError):
            self._monitor_call(rt, "cont")  # type: ignore[attr-defined]

    def _perform(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob,
                 params: mig.MigrationParams, flags: int, resume: bool) -> bytes:
        target = miguri.perform(params, flags)
        host = target.host
        qparams: dict[str, Any] = {}
        caps: dict[str, bool] = {}
        if not resume:   # capabilities cannot change while a migration is paused
            if flags & mig.VIR_MIGRATE_TLS:
                qparams = migration_tls.enable(
                    self._qmp(rt), self.config, False,  # type: ignore[attr-defined]
                    migration_tls.source_hostname(params, host))
            caps, tuned = tuning.source(flags, params)
            qparams.update(tuned)
            caps = {"events": True, "pause-before-switchover": True, "return-path": True,
                    "late-block-activate": False,
                    **({"postcopy-ram": True} if flags & mig.VIR_MIGRATE_POSTCOPY else {}),
                    **caps}
            speed = params.bandwidth or obj.private.get(_MAX_SPEED_KEY, mig.BANDWIDTH_MAX)
            qparams["max-bandwidth"] = min(speed << 20, UNLIMITED_BANDWIDTH)
        if params.bandwidth_postcopy or resume:
            qparams["max-postcopy-bandwidth"] = params.bandwidth_postcopy << 20
        if resume:
            self._monitor_call(rt, "migrate-set-parameters", qparams)  # type: ignore[attr-defined]
        else:
            tuning.apply(self._qmp(rt), job, caps, qparams)
        if job.copy_disks and not resume:
            self._copy_storage(rt, job, params, host)
        qemu_uri = (miguri.qemu_uri(target) if flags & mig.VIR_MIGRATE_PARALLEL
                    else self._connect_fd(rt, target))
        if not flags & mig.VIR_MIGRATE_LIVE:   # offline-ish: pause first, as libvirt
            with self.lock:  # type: ignore[attr-defined]
                running = obj.state == S.VIR_DOMAIN_RUNNING
                if running:
                    rt.paused_reason = DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION
            if running:
                self._monitor_call(rt, "stop")  # type: ignore[attr-defined]
        if not resume:
            job.set_status("setup")
        if job.abort_requested:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_ABORTED, Q,
                                "job 'migration out' canceled by client")
        if resume:
            # migrate-pause shuts the connection down; the source QEMU notices
            # only at its next write (it may sleep in its rate limit), and
            # refuses to resume before it has paused
            with job.cond:
                job.cond.wait_for(lambda: job.status == "postcopy-paused", PAUSE_WAIT)
            job.set_status("postcopy-recover")   # until QEMU's own events say more
        stop_ahead = None
        if not resume:
            with self.lock:  # type: ignore[attr-defined]
                reason = mig.paused_reason_on_stop(job)
                if obj.state == S.VIR_DOMAIN_RUNNING and reason is not None:
                    # the status of the switchover's STOP, written here while
                    # QEMU starts migrating: its handler (QMP thread) then only
                    # renames it, while QEMU waits in pre-switchover
                    stop_ahead = self.write_ahead(  # type: ignore[attr-defined]
                        obj, rt, S.VIR_DOMAIN_PAUSED, reason, background=False)
        self._monitor_call(rt, "migrate",  # type: ignore[attr-defined]
                           {"uri": qemu_uri, "detach": True, "resume": resume},
                           meanwhile=(lambda answered: stop_ahead.write())
                           if stop_ahead is not None else None)
        status = self._wait_out(obj, rt, job, bool(flags & mig.VIR_MIGRATE_POSTCOPY))
        if status == "postcopy-paused":
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "job 'migration out' failed in post-copy phase")
        if status not in ("completed", "postcopy-active"):
            if job.abort_requested or status == "cancelled":
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_ABORTED, Q,
                                    "job 'migration out' canceled by client")
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                f"job 'migration out' failed: {self._qemu_failure(rt, status)}")
        with contextlib.suppress(errors.VirtError):
            job.update_from_qemu(self._monitor_call(rt, "query-migrate"))  # type: ignore[attr-defined]
        # recorded before Perform returns: a driver opened again after this point
        # must not take the migration for an unfinished one (cancel and cont)
        # while the destination's Finish runs the guest there
        self._advance(obj, job, mig.Phase.PERFORM3_DONE)
        return self._cookie(obj, {"time_elapsed": job.elapsed_ms(),
                                  "downtime": job.downtime_ms or 0,
                                  "started": job.started_wall_ms})

    def _copy_storage(self, rt: Runtime, job: mig.MigrationJob,
                      params: mig.MigrationParams, host: Optional[str]) -> None:
        """Mirror the disks to the destination's NBD server until all are READY."""
        server = miguri.nbd_server(params, host or "localhost", lambda: job.nbd_port or 0)
        if server["type"] == "unix" and job.flags & mig.VIR_MIGRATE_TLS:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                "NBD migration with TLS is not supported over UNIX socket")
        if server["type"] == "inet" and server["port"] == "0":
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             "the destination did not start an NBD server")
        call = lambda c, a: self._monitor_call(rt, c, a)  # type: ignore[attr-defined]  # noqa: E731
        nbd.start_mirrors(call, job, job.copy_disks, server, params.bandwidth,
                          bool(job.flags & mig.VIR_MIGRATE_NON_SHARED_INC))
        nbd.wait_ready(job, lambda: not rt.stopped and not (
            rt.process is not None and rt.process.exited.is_set()))

    def _connect_fd(self, rt: Runtime, target: miguri.MigURI) -> str:
        """Connect to the destination ourselves and give QEMU the socket
        (one channel: libvirt's MIGRATION_DEST_CONNECT_HOST / _SOCKET)."""
        with miguri.connect(target) as sock:
            self._send_migration_fd(rt, sock.fileno(), _FD_NAME)
        return f"fd:{_FD_NAME}"

    def _qmp(self, rt: Runtime) -> tuning.Call:
        return lambda cmd, args: self._monitor_call(rt, cmd, args)  # type: ignore[attr-defined]

    def _send_migration_fd(self, rt: Runtime, fd: int, name: str) -> None:
        from .monitor import MonitorError
        if rt.monitor is None:
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED, "domain is no longer running")
        try:
            rt.monitor.send_fd(fd, name)
        except MonitorError as exc:
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             f"unable to execute QEMU command 'getfd': {exc}") from None

    def _wait_out(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob,
                  postcopy: bool) -> str:
        """Wait for the outgoing migration to end (or to switch to post-copy);
        continue at pre-switchover."""
        end = time.monotonic() + MIGRATION_WAIT
        done_written = False
        stop_at = _FINAL + _SWITCHED if postcopy else _FINAL
        done_ahead = None
        if not postcopy and job.phase is mig.Phase.PERFORM3:
            with self.lock:  # type: ignore[attr-defined]
                # Perform's last status (the guest paused at the switchover,
                # the stream done), written after migrate-continue
                done_ahead = self.write_ahead(  # type: ignore[attr-defined]
                    obj, rt, S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION,
                    background=False, phase=mig.Phase.PERFORM3_DONE.value)
        while True:
            with job.cond:
                switching = job.status == "pre-switchover" or job.continued
                if job.status not in stop_at and job.continue_error is None and not (
                        switching and not done_written):
                    job.cond.wait(0.2)
                status = job.status
            if job.continue_error is not None:
                raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                 "unable to execute QEMU command 'migrate-continue': "
                                 f"{job.continue_error}")
            if status in _SWITCHED and postcopy:
                return str(status)
            with self.lock:  # type: ignore[attr-defined]
                io_abort = mig.aborts_on_io_error(job, obj.state, obj.reason)
            if io_abort and status not in _FINAL:
                self._cancel_out(rt, job)
                raise mig.io_error_abort(Q)
            # (continued from the QMP thread, QEMU may be past pre-switchover)
            if (status == "pre-switchover" or job.continued) and not done_written:
                done_written = True
                if not job.continued:   # storage mirrors: the disks end in sync first
                    job.continued = True
                    nbd.finish_mirrors(
                        lambda c, a: self._monitor_call(rt, c, a),  # type: ignore[attr-defined]
                        job, False, lambda: not rt.stopped)
                    self._monitor_call(rt, "migrate-continue",  # type: ignore[attr-defined]
                                       {"state": "pre-switchover"})
                if done_ahead is not None:
                    done_ahead.write()   # while QEMU sends the rest
                continue
            if status in _FINAL:
                return str(status)
            if rt.stopped or (rt.process is not None and rt.process.exited.is_set()):
                return "exited"
            if time.monotonic() > end:
                return "timeout"

    def _cancel_out(self, rt: Runtime, job: mig.MigrationJob) -> None:
        """Cancel QEMU's outgoing migration and wait until it says so
        (qemuMigrationSrcCancel with wait)."""
        with contextlib.suppress(errors.VirtError):
            self._monitor_call(rt, "migrate_cancel")  # type: ignore[attr-defined]
        with job.cond:
            job.cond.wait_for(lambda: job.status in _FINAL or rt.stopped, PAUSE_WAIT)

    def _qemu_failure(self, rt: Runtime, status: Optional[str]) -> str:
        if status == "exited":
            return "domain is no longer running"
        try:
            info = self._monitor_call(rt, "query-migrate")  # type: ignore[attr-defined]
            return str(info.get("error-desc") or status)
        except errors.VirtError:
            return str(status)

    # -- Finish (destination)
    def domain_migrate_finish3_params(self, dconn: Connect, params: mig.MigrationParams,
                                      cookiein: Optional[bytes], flags: int,
                                      cancelled: bool) -> tuple[Optional[Domain], bytes]:
        cookie = mig.Cookie.parse(cookiein)
        name = params.dname or (cookie.name if cookie else None)
        with self.lock:  # type: ignore[attr-defined]
            obj = self.domains.find_by_name(name) if name else None  # type: ignore[attr-defined]
            job: Optional[mig.MigrationJob] = obj.private.get(_JOB_KEY) if obj else None
            rt = self.runtime.get(obj.uuid) if obj else None  # type: ignore[attr-defined]
        if obj is None or job is None or job.direction is not mig.Direction.IN:
            raise errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, Q,
                                f"no domain with matching name '{name}'")
        if job.in_postcopy and (cancelled or rt is None):
            # the guest's memory is split: keep it for a POSTCOPY_RESUME
            self._postcopy_failed(obj, job)
            return None, b""
        if cancelled or rt is None:
            self._kill_incoming(obj, rt, job)
            return None, b""
        status = self._wait_in(rt, job, _FINAL + _SWITCHED)
        if status not in ("completed", "postcopy-active"):
            self._finish_failed(obj, rt, job, status)
        stats = cookie.stats if cookie else {}
        done = mig.CompletedJob(mig.VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN,
                                int(time.time() * 1000) - stats.get("started",
                                                                    job.started_wall_ms),
                                stats.get("downtime"), {})
        reset_caps = status == "completed" and job.phase is mig.Phase.PREPARE
        if job.nbd_port is not None or params.disks_uri:
            nbd.stop_server(lambda c, a: self._monitor_call(rt, c, a))  # type: ignore[attr-defined]
        if flags & mig.VIR_MIGRATE_PERSIST_DEST and job.phase is mig.Phase.PREPARE:
            self._persist(obj, params)
        with self.lock:  # type: ignore[attr-defined]
            start = (not flags & mig.VIR_MIGRATE_PAUSED and obj.state == S.VIR_DOMAIN_PAUSED)
            if start:
                rt.running_reason = (DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATED
                                     if job.status == "completed"
                                     else DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY)
        if start:
            try:
                self._monitor_call(rt, "cont")  # type: ignore[attr-defined]
            except errors.VirtError:
                if job.in_postcopy:
                    self._finish_failed(obj, rt, job, "cont")
                self._kill_incoming(obj, rt, job)
                raise
        if reset_caps:   # after cont, as libvirt: the guest runs first
            self._reset_incoming(rt, job)
        postcopy = status != "completed" or job.phase is not mig.Phase.PREPARE
        if status != "completed":   # post-copy: the pages still come from the source
            status = self._wait_in(rt, job, _FINAL + ("postcopy-paused",))
            if status != "completed":
                self._finish_failed(obj, rt, job, status)
            self._reset_incoming(rt, job)
        job.advance(mig.Phase.FINISH3)
        with self.lock:  # type: ignore[attr-defined]
            self._resumed_migrated(obj)
            if flags & mig.VIR_MIGRATE_PAUSED and obj.state == S.VIR_DOMAIN_PAUSED:
                obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_USER)
                self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED,  # type: ignore[attr-defined]
                           Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED)
            if not postcopy:   # after post-copy libvirt keeps no completed stats here
                obj.private[_DONE_KEY] = done
            self._end_job(obj)
            self.save_status(obj)  # type: ignore[attr-defined]
            return self._handle(dconn, obj), self._cookie(obj)  # type: ignore[attr-defined]

    def _reset_incoming(self, rt: Runtime, job: mig.MigrationJob) -> None:
        """The destination's migration capabilities and parameters as they
        were, its TLS credentials gone (after cont: the guest runs first)."""
        with contextlib.suppress(errors.VirtError):
            tuning.reset(self._qmp(rt), job, {"events": False, "return-path": False,
                                              "late-block-activate": False,
                                              "postcopy-ram": False})
        if job.flags & mig.VIR_MIGRATE_TLS:
            migration_tls.reset(self._qmp(rt))

    def _resumed_migrated(self, obj: DomainObj) -> None:
        """Post-copy over on the destination: RUNNING/MIGRATED (lock held)."""
        if obj.state == S.VIR_DOMAIN_RUNNING and obj.reason in (
                DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY,
                DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED):
            self._apply(obj, mig.StateChange(
                S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATED,
                E.VIR_DOMAIN_EVENT_RESUMED, Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED))

    def _finish_failed(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob,
                       status: str) -> None:
        """Raise Finish's failure: in post-copy the domain stays (paused job),
        before it the destination is killed."""
        if job.in_postcopy and status != "exited":
            self._postcopy_failed(obj, job)
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "job 'migration in' failed in post-copy phase")
        self._kill_incoming(obj, rt, job)
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                            f"job 'migration in' failed: {status}")

    def _postcopy_failed(self, obj: DomainObj, job: mig.MigrationJob) -> None:
        """A post-copy migration that cannot go on now: the job stays, in phase
        POSTCOPY_FAILED, with its lock, for VIR_MIGRATE_POSTCOPY_RESUME."""
        with self.lock:  # type: ignore[attr-defined]
            if job.phase is not mig.Phase.POSTCOPY_FAILED:
                job.advance(mig.Phase.POSTCOPY_FAILED)
            self._apply(obj, mig.failed_in_postcopy(job, obj.state == S.VIR_DOMAIN_PAUSED,
                                                    obj.reason))
            self.save_status(obj)  # type: ignore[attr-defined]  # a later driver resumes it

    def _wait_in(self, rt: Runtime, job: mig.MigrationJob, stop_at: tuple[str, ...]) -> str:
        end = time.monotonic() + MIGRATION_WAIT
        while True:
            with job.cond:
                if job.status not in stop_at:
                    job.cond.wait(0.2)
                if job.status in stop_at:
                    return str(job.status)
            if rt.stopped or (rt.process is not None and rt.process.exited.is_set()):
                return "exited"
            if time.monotonic() > end:
                return "timeout"

    def _kill_incoming(self, obj: DomainObj, rt: Optional[Runtime],
                       job: mig.MigrationJob) -> None:
        """The destination gives up: STOPPED/FAILED, the domain goes."""
        if mig.Phase.FINISH3_CANCELLED in mig.TRANSITIONS[job.phase]:
            job.advance(mig.Phase.FINISH3_CANCELLED)
        if rt is not None:
            self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED,  # type: ignore[attr-defined]
                              DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FAILED)
        with self.lock:  # type: ignore[attr-defined]
            self._end_job(obj)

    def _persist(self, obj: DomainObj, params: mig.MigrationParams) -> None:
        persistent = (self._parse(params.persistent_xml)  # type: ignore[attr-defined]
                      if params.persistent_xml else None)
        with self.lock:  # type: ignore[attr-defined]
            existed = obj.persistent
            d = persistent or obj.def_
            self._save_config(d)  # type: ignore[attr-defined]
            obj.persistent = True
            if persistent is not None:
                obj.new_def = persistent
            self.event(obj, E.VIR_DOMAIN_EVENT_DEFINED,  # type: ignore[attr-defined]
                       DomainEventDefinedDetail.VIR_DOMAIN_EVENT_DEFINED_UPDATED if existed
                       else DomainEventDefinedDetail.VIR_DOMAIN_EVENT_DEFINED_ADDED)

    # -- Confirm (source)
    def _source_done(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob,
                     refresh: bool) -> None:
        """The guest runs on the destination: the source's QEMU goes
        (STOPPED/MIGRATED), JOB_COMPLETED with the job's figures (asked of
        QEMU once more if `refresh`), kept for a persistent domain."""
        if refresh:
            with contextlib.suppress(errors.VirtError):
                job.update_from_qemu(self._monitor_call(rt, "query-migrate"))  # type: ignore[attr-defined]
        done = job.freeze()
        self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_MIGRATED,  # type: ignore[attr-defined]
                          DomainShutoffReason.VIR_DOMAIN_SHUTOFF_MIGRATED)
        with self.lock:  # type: ignore[attr-defined]
            events.queue_domain_event(self, DomainEventID.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                                      obj.name, obj.uuid, -1, done.typed_stats())
            if obj.persistent:
                obj.private[_DONE_KEY] = done
            self._end_job(obj)

    def domain_migrate_confirm3_params(self, dom: Domain, params: mig.MigrationParams,
                                       cookiein: Optional[bytes], flags: int,
                                       cancelled: bool) -> None:
        obj, rt, job = self._migration_of(dom)
        if cancelled and job.in_postcopy:
            self._postcopy_failed(obj, job)   # the guest's memory is split: keep both
            return
        if cancelled:
            self._confirm_cancelled(obj, rt, job)
            return
        job.advance(mig.Phase.CONFIRM3)
        # the final figures of post-copy come from QEMU now
        self._source_done(obj, rt, job, bool(job.flags & mig.VIR_MIGRATE_POSTCOPY))
        with self.lock:  # type: ignore[attr-defined]
            if flags & mig.VIR_MIGRATE_UNDEFINE_SOURCE and obj.persistent:
                remove_durably(self.layout.config_file(obj.name))  # type: ignore[attr-defined]
                if obj.autostart:
                    remove_durably(self.layout.autostart_link(obj.name))  # type: ignore[attr-defined]
                self.event(obj, E.VIR_DOMAIN_EVENT_UNDEFINED,  # type: ignore[attr-defined]
                           DomainEventUndefinedDetail.VIR_DOMAIN_EVENT_UNDEFINED_REMOVED)
                obj.persistent = False
                if self.domains.find_by_uuid(obj.uuid) is obj:  # type: ignore[attr-defined]
                    self.domains.remove(obj)  # type: ignore[attr-defined]

    def _confirm_cancelled(self, obj: DomainObj, rt: Runtime, job: mig.MigrationJob) -> None:
        """The migration failed: the guest stays here, running again if we paused it."""
        job.advance(mig.Phase.CONFIRM3_CANCELLED)
        try:
            if job.mirrors or job.nbd_nodes:
                nbd.finish_mirrors(
                    lambda c, a: self._monitor_call(rt, c, a),  # type: ignore[attr-defined]
                    job, True, lambda: not rt.stopped)
            if job.status not in _FINAL and job.status is not None:
                with contextlib.suppress(errors.VirtError):
                    self._monitor_call(rt, "migrate_cancel")  # type: ignore[attr-defined]
            self._reset_outgoing(rt, job)
            with self.lock:  # type: ignore[attr-defined]
                resume = (obj.state == S.VIR_DOMAIN_PAUSED and obj.reason
                          == DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION)
            if resume:
                with contextlib.suppress(errors.VirtError):
                    self._monitor_call(rt, "cont")  # type: ignore[attr-defined]
        finally:
            with self.lock:  # type: ignore[attr-defined]
                self._end_job(obj)
                self.drop_prepared(rt, armed_too=True)  # type: ignore[attr-defined]
