"""Every domain event, operation by operation: event_survey_scenario.py registers a
callback for each domain event ID (LIFECYCLE .. MEMORY_DEVICE_SIZE_CHANGE) and runs
each operation on a fresh running domain of test:///default.  EXPECTED is what real
libvirt 9.0 emits (lifecycle payload: event, detail, and whether the event's domain
has an id ("id") or not (-1); METADATA_CHANGE: type, nsuri);
an operation that fails ends with ["error", code, domain].  The same table must come
out of pyvirt's generated module, of python3-libvirt on pyvirt's libvirt.so.0, and of
real libvirt when it is installed.

Of note: libvirt 9.0's test driver emits no REBOOT, TUNABLE, DEVICE_*, BLOCK_*,
PMSUSPEND, AGENT or BLOCK_THRESHOLD events (those calls either emit nothing or are
unsupported there); a running domain reverted to a running snapshot is stopped and
started again; reverting to a shut-off snapshot with RUNNING announces STARTED
without starting anything; renaming leaves the caller's handle with its old name.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from conftest import need_real
from python.pymodule_runner import BUILD, run_json

SCENARIO = Path(__file__).resolve().parent / "event_survey_scenario.py"

# operation -> events, as real libvirt 9.0 emits them
EXPECTED = {
    'abortJob': [["error", 3, 20]],
    'addIOThread': [],
    'addIOThread-config': [],
    'agentSetResponseTimeout': [["error", 3, 20]],
    'attachDevice': [["error", 3, 20]],
    'attachDevice-config': [["error", 3, 20]],
    'blockCommit': [["error", 3, 20]],
    'blockCopy': [["error", 3, 20]],
    'blockJobAbort': [["error", 3, 20]],
    'blockPull': [["error", 3, 20]],
    'blockRebase': [["error", 3, 20]],
    'blockResize': [["error", 3, 20]],
    'checkpoint-create': [],
    'coreDump': [],
    'coreDump-crash': [[0, "D", 5, 2, -1]],
    'createXML-destroy': [[0, "Dn", 2, 0, "id"], [0, "Dn", 5, 1, "id"]],
    'createXML-paused': [["error", 8, 12]],
    'define-undefine-new': [[0, "Dn", 0, 0, -1], [0, "Dn", 1, 0, -1]],
    'delIOThread': [],
    'destroy': [[0, "D", 5, 1, -1]],
    'destroyFlags-graceful': [[0, "D", 5, 1, -1]],
    'detachDevice': [["error", 3, 20]],
    'detachDeviceAlias': [["error", 3, 20]],
    'fsFreeze-thaw': [],
    'fsTrim': [],
    'inactive-create': [[0, "D", 5, 1, -1], [0, "D", 2, 0, "id"]],
    'inactive-createWithFlags-paused': [[0, "D", 5, 1, -1], ["error", 8, 12]],
    'inactive-reboot': [[0, "D", 5, 1, -1], ["error", 55, 20]],
    'inactive-setMemoryFlags-config': [[0, "D", 5, 1, -1]],
    'inactive-setMetadata': [[0, "D", 5, 1, -1], [23, "D", 1, None]],
    'inactive-setVcpusFlags-config': [[0, "D", 5, 1, -1]],
    'inactive-snapshot-create-revert': [[0, "D", 5, 1, -1]],
    'inactive-undefine-managedsave': [[0, "D", 5, 4, -1], [0, "D", 1, 0, -1]],
    'injectNMI': [],
    'managedsave-remove': [[0, "D", 5, 4, -1]],
    'managedsave-start': [[0, "D", 5, 4, -1], [0, "D", 2, 0, "id"]],
    'migrate': [["error", 3, 20]],
    'migrateSetMaxSpeed': [["error", 3, 20]],
    'paused-destroy': [[0, "D", 3, 0, "id"], [0, "D", 5, 1, -1]],
    'paused-managedsave-start': [[0, "D", 3, 0, "id"], [0, "D", 5, 4, -1], [0, "D", 2, 0, "id"]],
    'paused-save-restore': [[0, "D", 3, 0, "id"], [0, "D", 5, 4, -1], [0, "D", 2, 2, "id"]],
    'paused-shutdown': [[0, "D", 3, 0, "id"], [0, "D", 5, 0, -1]],
    'paused-snapshot-halt': [[0, "D", 3, 0, "id"], [0, "D", 5, 6, -1]],
    'pinEmulator': [],
    'pinIOThread': [],
    'pinVcpu': [],
    'pinVcpuFlags-config': [["error", 8, 12]],
    'pmSuspend': [["error", 3, 20]],
    'pmSuspend-disk': [["error", 3, 20]],
    'pmSuspend-wakeup': [["error", 3, 20]],
    'reboot': [],
    'reboot-paused': [[0, "D", 3, 0, "id"]],
    'redefine-inactive': [[0, "D", 5, 1, -1], [0, "D", 0, 1, -1]],
    'redefine-running': [[0, "D", 0, 1, "id"]],
    'rename-inactive': [[0, "D", 5, 1, -1], [0, "D", 1, 1, -1], [0, "D-r", 0, 2, -1], [0, "D-r", 1, 1, -1], [0, "D", 0, 2, -1]],
    'reset': [],
    'save-restore': [[0, "D", 5, 4, -1], [0, "D", 2, 2, "id"]],
    'save-restore-paused': [[0, "D", 5, 4, -1], ["error", 8, 12]],
    'screenshot': [],
    'sendKey': [],
    'setAutostart': [],
    'setBlkioParameters': [],
    'setBlockIoTune': [["error", 8, 12]],
    'setBlockThreshold': [["error", 3, 20]],
    'setGuestVcpus': [["error", 3, 20]],
    'setIOThreadParams': [],
    'setInterfaceParameters': [],
    'setLifecycleAction': [],
    'setMaxMemory-inactive': [[0, "D", 5, 1, -1]],
    'setMemory': [],
    'setMemoryFlags-config': [],
    'setMemoryParameters': [],
    'setMemoryStatsPeriod': [["error", 1, 12]],
    'setMetadata': [[23, "D", 1, None]],
    'setMetadata-description': [[23, "D", 0, None]],
    'setMetadata-element': [[23, "D", 2, "http://k/"]],
    'setMetadata-remove': [[23, "D", 1, None]],
    'setNumaParameters': [],
    'setPerfEvents': [],
    'setSchedulerParameters': [],
    'setSchedulerParametersFlags-config': [["error", 8, 12]],
    'setTime': [],
    'setUserPassword': [],
    'setVcpu': [["error", 3, 20]],
    'setVcpus': [],
    'setVcpusFlags-config': [],
    'shutdown': [[0, "D", 5, 0, -1]],
    'shutdownFlags': [[0, "D", 5, 0, -1]],
    'snapshot-create': [],
    'snapshot-create-halt': [[0, "D", 5, 6, -1]],
    'snapshot-delete': [],
    'snapshot-revert': [[0, "D", 5, 6, -1], [0, "D", 2, 3, "id"]],
    'snapshot-revert-from-stopped': [[0, "D", 5, 1, -1], [0, "D", 2, 3, "id"]],
    'snapshot-revert-paused': [[0, "D", 5, 6, -1], [0, "D", 2, 3, "id"], [0, "D", 3, 5, "id"]],
    'suspend': [[0, "D", 3, 0, "id"]],
    'suspend-resume': [[0, "D", 3, 0, "id"], [0, "D", 4, 0, "id"]],
    'suspend-suspend': [[0, "D", 3, 0, "id"], ["error", 1, 12]],
    'transient-coreDump-crash': [[0, "Dt", 2, 0, "id"], [0, "Dt", 5, 2, "id"]],
    'transient-define': [[0, "Dt", 2, 0, "id"], [0, "Dt", 0, 0, "id"], [0, "Dt", 5, 1, -1], [0, "Dt", 1, 0, -1]],
    'transient-lifecycle': [[0, "Dt", 2, 0, "id"], [0, "Dt", 3, 0, "id"], [0, "Dt", 4, 0, "id"], [0, "Dt", 5, 0, "id"]],
    'transient-managedsave': [[0, "Dt", 2, 0, "id"], [0, "Dt", 5, 1, "id"], ["error", 55, 12]],
    'transient-save-restore': [[0, "Dt", 2, 0, "id"], [0, "Dt", 5, 4, "id"], [0, "Dt", 2, 2, "id"], [0, "Dt", 5, 1, "id"]],
    'transient-snapshot-revert': [[0, "Dt", 2, 0, "id"], [0, "Dt", 5, 6, "id"], [0, "Dt", 2, 3, "id"], [0, "Dt", 5, 1, -1]],
    'undefine-inactive': [[0, "D", 5, 1, -1], [0, "D", 1, 0, -1]],
    'undefine-running': [[0, "D", 1, 0, "id"]],
    'updateDevice': [["error", 3, 20]],
}


@pytest.fixture(scope="module")
def survey():
    """impl -> its table, each computed once."""
    cache: dict[str, dict] = {}

    def get(impl: str) -> dict:
        if impl not in cache:
            cache[impl] = run_json(impl, SCENARIO)[0]
        return cache[impl]
    return get


def _differences(got: dict, want: dict) -> dict:
    return {op: {"got": got.get(op), "want": want.get(op)}
            for op in sorted(set(got) | set(want)) if got.get(op) != want.get(op)}


@pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(), reason="not built")
def test_events_of_each_operation_pyvirt_module(survey):
    assert _differences(survey("pyvirt"), EXPECTED) == {}


@pytest.mark.skipif(not (BUILD / "lib" / "libvirt.so.0").exists(), reason="not built")
@need_real
def test_events_of_each_operation_through_the_shim(survey):
    assert _differences(survey("real"), EXPECTED) == {}


@need_real
def test_table_is_what_real_libvirt_emits(survey):
    assert _differences(survey("system"), EXPECTED) == {}
