"""The shared I/O-error rules of pyvirt.migration (VIR_MIGRATE_ABORT_ON_ERROR),
as libvirt 9.0's qemu_migration.c has them: qemuMigrationSrcIsAllowed refuses
at Begin, qemuMigrationAnyCompleted aborts while the migration runs."""

from __future__ import annotations

import threading

import pytest

from pyvirt import errors, migration as mig
from pyvirt.domainstate import DomainPausedReason as Paused, DomainRunningReason as Running
from pyvirt.domainstate import DomainState as S
from pyvirt.errors import ErrorDomain, ErrorNumber

Q = ErrorDomain.VIR_FROM_QEMU
IOERR = (S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_IOERROR)


def _job(flags: int, phase: mig.Phase = mig.Phase.PERFORM3,
         direction: mig.Direction = mig.Direction.OUT) -> mig.MigrationJob:
    job = mig.MigrationJob(direction, flags, mig.MigrationParams())
    path = {mig.Phase.BEGIN3: [mig.Phase.BEGIN3],
            mig.Phase.PERFORM3: [mig.Phase.BEGIN3, mig.Phase.PERFORM3],
            mig.Phase.PERFORM3_DONE: [mig.Phase.BEGIN3, mig.Phase.PERFORM3,
                                      mig.Phase.PERFORM3_DONE],
            mig.Phase.PREPARE: [mig.Phase.PREPARE]}[phase]
    for p in path:
        job.advance(p)
    return job


ABORT = mig.VIR_MIGRATE_LIVE | mig.VIR_MIGRATE_ABORT_ON_ERROR


def test_io_error_pause_aborts_outgoing_job_with_flag():
    assert mig.aborts_on_io_error(_job(ABORT), *IOERR)
    assert mig.aborts_on_io_error(_job(ABORT, mig.Phase.BEGIN3), *IOERR)


@pytest.mark.parametrize("state", [
    (S.VIR_DOMAIN_RUNNING, Running.VIR_DOMAIN_RUNNING_BOOTED),
    (S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_MIGRATION),
    (S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER),
])
def test_other_states_do_not_abort(state):
    assert not mig.aborts_on_io_error(_job(ABORT), *state)


def test_without_flag_the_migration_goes_on():
    assert not mig.aborts_on_io_error(_job(mig.VIR_MIGRATE_LIVE), *IOERR)


def test_only_outgoing_and_cancellable_jobs_abort():
    assert not mig.aborts_on_io_error(None, *IOERR)
    assert not mig.aborts_on_io_error(_job(ABORT, mig.Phase.PREPARE, mig.Direction.IN), *IOERR)
    # past Perform the stream is over: nothing left to cancel
    assert not mig.aborts_on_io_error(_job(ABORT, mig.Phase.PERFORM3_DONE), *IOERR)
    postcopy = _job(ABORT | mig.VIR_MIGRATE_POSTCOPY)
    postcopy.set_status("postcopy-active")
    assert not mig.aborts_on_io_error(postcopy, *IOERR)


def test_abort_error_is_libvirts():
    err = mig.io_error_abort(Q)
    assert (err.code, err.domain) == (ErrorNumber.VIR_ERR_OPERATION_FAILED, Q)
    assert err.message == "operation failed: job 'migration out' failed due to I/O error"


def test_begin_refuses_a_guest_paused_on_io_error_with_flag():
    with pytest.raises(errors.VirtError) as exc:
        mig.check_begin_io_error(ABORT, *IOERR, Q)
    assert (exc.value.code, exc.value.domain) == (ErrorNumber.VIR_ERR_OPERATION_INVALID, Q)
    assert exc.value.message == ("Requested operation is not valid: "
                                 "cannot migrate domain with I/O error")
    # without the flag, offline, or not paused on an I/O error: allowed
    mig.check_begin_io_error(mig.VIR_MIGRATE_LIVE, *IOERR, Q)
    mig.check_begin_io_error(ABORT | mig.VIR_MIGRATE_OFFLINE, *IOERR, Q)
    mig.check_begin_io_error(ABORT, S.VIR_DOMAIN_PAUSED, Paused.VIR_DOMAIN_PAUSED_USER, Q)


def test_wake_rouses_a_waiter():
    job = _job(ABORT)
    woke = threading.Event()

    def wait() -> None:
        with job.cond:
            job.cond.wait(10)
        woke.set()
    t = threading.Thread(target=wait, daemon=True)
    t.start()
    for _ in range(100):
        job.wake()
        if woke.wait(0.05):
            break
    t.join(5)
    assert woke.is_set()


def test_failed_perform_resumes_what_ran_at_begin():
    job = _job(ABORT)
    job.pre_state = S.VIR_DOMAIN_RUNNING
    assert mig.resumes_after_failure(job, *IOERR)     # libvirt 9.0 resumes it too
    assert mig.resumes_after_failure(job, S.VIR_DOMAIN_PAUSED,
                                     Paused.VIR_DOMAIN_PAUSED_MIGRATION)
    assert not mig.resumes_after_failure(job, S.VIR_DOMAIN_RUNNING,
                                         Running.VIR_DOMAIN_RUNNING_BOOTED)
    assert not mig.resumes_after_failure(job, S.VIR_DOMAIN_PAUSED,
                                         Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)
    job.pre_state = S.VIR_DOMAIN_PAUSED               # paused at Begin: stays so
    assert not mig.resumes_after_failure(job, *IOERR)
