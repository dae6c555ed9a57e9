"""Errors libvirt reports before (or instead of) the driver, typed-parameter
setters that ask the getter first, the companion modules, and which calls
clear the last error: the same on pyvirt's module as on libvirt-python over
the system's libvirt (and over pyvirt's libvirt.so.0)."""

from __future__ import annotations

import json
import subprocess

import pytest

from pymodule_runner import BUILD, HERE, SYSPY, run

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(),
                                reason="run `make build` first")
SCENARIO = HERE / "gaps_scenario.py"


def _outcomes(impl: str) -> dict:
    p = run(impl, SCENARIO)
    assert p.returncode == 0, (impl, p.stderr)
    return json.loads(p.stdout.strip().splitlines()[-1])


def _have_system_libvirt() -> bool:
    return subprocess.run([SYSPY, "-c", "import libvirt"], capture_output=True,
                          cwd="/").returncode == 0


@pytest.fixture(scope="module")
def ours() -> dict:
    return _outcomes("pyvirt")


def test_outcomes_on_pyvirt(ours):
    assert ours["lxcOpenNamespace"] == [
        "err", 3, 0, "this function is not supported by the connection driver: "
        "virDomainLxcOpenNamespace"]
    assert ours["qemuAttach-pid"] == [
        "err", 8, 0, "pid_value in virDomainQemuAttach must not be zero"]
    assert ours["secretLookupByUUIDString-bad"] == [
        "err", 8, 30, "uuidstr in virSecretLookupByUUIDString must be a valid UUID"]
    assert ours["secretLookupByUUIDString-ok"][3].endswith(": virSecretLookupByUUID")
    assert ours["listSecrets"][3].endswith(": virConnectNumOfSecrets")
    # the getter runs first: its errors, and LookupError for keys it lacks
    assert ours["setInterfaceParameters-bad"] == [
        "err", 8, 20, "invalid argument: 'nope' is not a known interface"]
    assert ours["setMemoryParameters-bogus"] == ["exc", "LookupError"]
    assert ours["setMemoryParameters-empty"] == ["exc", "LookupError"]
    assert ours["setMemoryParameters-unknown-flag"][3] == (
        "unsupported flags (0x100000) in function testDomainGetMemoryParameters")
    # libvirt-python's own argument checks, and its quirks
    # a UUID of the wrong length never reaches libvirt: the error raised is
    # the thread's last one, left by an earlier call
    assert ours["lookupByUUID-short"][1:] == ours["secretDefineXML-none last"]
    assert ours["getCPUModelNames-none"] == ["exc", "TypeError"]
    assert ours["allocPages-empty"] == ["exc", "LookupError"]
    assert ours["guestVcpus"] == ["ok", None]
    assert ours["guestVcpus last"][0] == 3
    events = ours["last error after success"]
    # the event loop's own functions leave the last error, the others clear it
    for name in ("addTimeout", "addHandle"):
        assert events[name] is not None, name
    for name in ("updateTimeout", "removeTimeout", "updateHandle", "removeHandle"):
        assert events[name][1] is not None, name
    odd = ours["registrations"]
    assert odd["deregister-none"][0] == ["ok", None]
    assert odd["deregister-other"][0] == ["exc", "KeyError"]
    assert odd["deregister-again"][0] == ["ok", None]
    assert odd["domainEventRegisterAny-999"][0][1] == 8   # the earlier call's error
    assert odd["qemuMonitorEventRegister"][0][1] == 3
    for name in ("domainEventRegisterAny", "networkEventDeregisterAny",
                 "nodeDeviceEventRegisterAny", "storagePoolEventDeregisterAny"):
        assert events[name] == ["ok", None], name


@pytest.mark.skipif(not _have_system_libvirt(), reason="python3-libvirt not installed")
@pytest.mark.parametrize("impl", ["system", "real"])
def test_outcomes_as_libvirt_python(ours, impl):
    theirs = _outcomes(impl)
    assert {k: (ours.get(k), v) for k, v in theirs.items() if ours.get(k) != v} == {}
