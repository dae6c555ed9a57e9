"""The QMP thread yields to QEMU while a migration goes out (monitor.py,
QmpThread.batch): SCHED_BATCH from the first hold to the last release."""

import os

import pytest

from pyvirt.drivers.qemu.monitor import qmp_thread


def policy() -> int:
    return os.sched_getscheduler(qmp_thread._tid)


@pytest.mark.skipif(not hasattr(os, "SCHED_BATCH"), reason="Linux scheduling policies")
def test_batch_held_until_the_last_release() -> None:
    qmp_thread.loop()
    assert policy() == os.SCHED_OTHER
    first = qmp_thread.batch()
    second = qmp_thread.batch()
    assert policy() == os.SCHED_BATCH
    first()
    first()   # a second release of the same hold counts nothing
    assert policy() == os.SCHED_BATCH
    second()
    assert policy() == os.SCHED_OTHER
