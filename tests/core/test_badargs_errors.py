"""Bad arguments to entry points test:///default does not implement: libvirt
checks them in its public API layer (and read-only connections) before it
asks the driver, so the caller sees INVALID_ARG or OPERATION_DENIED, not
NO_SUPPORT.  Through the C ABI (badargs_scenario.py, the same table on both
libraries) and through pyvirt.api."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import api, ours

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).resolve().parent / "badargs_scenario.py"
OUR_LIBS = ROOT / "build" / "lib"
REAL_LIBS = Path("/usr/lib/x86_64-linux-gnu")
NO_SUPPORT, INVALID_ARG, DENIED = 3, 8, 29
FROM_NONE, FROM_DOMAIN, FROM_NETWORK, FROM_SECRET, FROM_NWFILTER = 0, 20, 19, 30, 33

# virDomainLxcEnterCGroup is carried out by libvirt in the calling process
# (it moves the caller into the container's control groups); pyvirt's test
# host has none and reports NO_SUPPORT.
KNOWN = {"virDomainLxcEnterCGroup-ok"}


def _c_errors(libdir: Path) -> dict:
    p = subprocess.run(["/usr/bin/python3", str(SCENARIO), str(libdir)], cwd="/",
                       capture_output=True, text=True, timeout=60,
                       env={"PATH": "/usr/bin:/bin"})
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def c_errors() -> dict:
    if not (OUR_LIBS / "libvirt.so.0").exists():
        pytest.skip("not built")
    return _c_errors(OUR_LIBS)


def test_checks_before_no_support_through_c(c_errors):
    e = c_errors
    assert e["virSecretLookupByUUIDString-bad"] == [
        INVALID_ARG, FROM_SECRET, "uuidstr in virSecretLookupByUUIDString must be a valid UUID"]
    assert e["virSecretLookupByUUIDString-ok"] == [
        NO_SUPPORT, FROM_SECRET,
        "this function is not supported by the connection driver: virSecretLookupByUUID"]
    assert e["virSecretDefineXML-null"] == [
        INVALID_ARG, FROM_SECRET, "xml in virSecretDefineXML must not be NULL"]
    assert e["virNWFilterDefineXML-null"] == [
        INVALID_ARG, FROM_NWFILTER, "xmlDesc in virNWFilterDefineXML must not be NULL"]
    assert e["virConnectBaselineHypervisorCPU-null"][:2] == [INVALID_ARG, FROM_DOMAIN]
    assert e["virConnectBaselineCPU-null"] == [
        INVALID_ARG, FROM_DOMAIN, "xmlCPUs in virConnectBaselineCPU must not be NULL"]
    assert e["virNodeAllocPages-npages0"] == [
        INVALID_ARG, FROM_DOMAIN, "npages in virNodeAllocPages must not be zero"]
    assert e["virDomainSetLaunchSecurityState-empty"] == [
        INVALID_ARG, FROM_DOMAIN,
        "nparams in virDomainSetLaunchSecurityState must be greater than zero"]
    assert e["virConnectNetworkEventRegisterAny-both"] == [
        INVALID_ARG, FROM_NETWORK, "cb in virConnectNetworkEventRegisterAny must not be NULL"]
    assert e["virConnectNetworkEventRegisterAny-id"] == [
        INVALID_ARG, FROM_NETWORK, "eventID in virConnectNetworkEventRegisterAny must be less than 1"]
    assert e["virDomainQemuAttach-pid"][:2] == [INVALID_ARG, FROM_NONE]
    assert e["virDomainSetMemoryParameters-null0"][:2] == [INVALID_ARG, FROM_DOMAIN]
    assert e["virDomainGetSecurityLabelList-null"] == [
        INVALID_ARG, FROM_DOMAIN, "seclabels in virDomainGetSecurityLabelList must not be NULL"]
    assert e["virDomainLxcOpenNamespace-null"] == [
        INVALID_ARG, FROM_NONE, "fdlist in virDomainLxcOpenNamespace must not be NULL"]
    assert e["virNodeGetSEVInfo-null"][2] == "nparams in virNodeGetSEVInfo must not be NULL"
    assert e["virDomainSetSchedulerParameters-neg"][2] == (
        "nparams in virDomainSetSchedulerParameters must be zero or greater")
    # a check libvirt does not make leaves the call to the driver
    for name in ("virConnectSetIdentity-null", "virDomainSaveParams-null",
                 "virDomainAuthorizedSSHKeysSet-keys", "virNodeGetSEVInfo-params"):
        assert e[name][0] == NO_SUPPORT, name
    assert e["virNodeAllocPages-startCell"][0] == NO_SUPPORT
    assert e["virDomainBlockCopy-null0"][0] == NO_SUPPORT


@pytest.mark.skipif(not (REAL_LIBS / "libvirt-lxc.so.0").exists(), reason="no real libvirt")
def test_c_errors_as_real(c_errors):
    theirs = _c_errors(REAL_LIBS)
    assert set(theirs) == set(c_errors)
    differ = {k: (c_errors[k], theirs[k]) for k in theirs if c_errors[k] != theirs[k]}
    assert {k: v for k, v in differ.items() if k not in KNOWN} == {}


@pytest.fixture
def roconn():
    c = api.virConnectOpenReadOnly("test:///default")
    yield c
    api.virConnectClose(c)


def test_core_order_of_checks(conn, roconn):
    d = api.virDomainLookupByName(roconn, "test")
    denied = ("err", DENIED, FROM_DOMAIN)
    # read-only first for these ...
    assert ours(lambda: api.virDomainBlockResize(d, None, 1, 0))[:3] == denied
    assert ours(lambda: api.virNodeAllocPages(roconn, [], [], 0, 0, 0))[:3] == denied
    assert ours(lambda: api.virSecretDefineXML(roconn, None, 0))[:3] == (
        "err", DENIED, FROM_SECRET)
    # ... the argument first for those
    assert ours(lambda: api.virDomainAttachDevice(d, None)) == (
        "err", INVALID_ARG, FROM_DOMAIN, "xml in virDomainAttachDevice must not be NULL")
    assert ours(lambda: api.virDomainAttachDevice(d, "<disk/>"))[:3] == denied
    assert ours(lambda: api.virNWFilterDefineXML(roconn, None))[:3] == (
        "err", INVALID_ARG, FROM_NWFILTER)
    assert ours(lambda: api.virNWFilterLookupByUUIDString(conn, "nope")) == (
        "err", INVALID_ARG, FROM_NWFILTER,
        "uuidstr in virNWFilterLookupByUUIDString must be a valid UUID")
    assert ours(lambda: api.virDomainFDAssociate(d, None, [], 0)) == (
        "err", INVALID_ARG, FROM_DOMAIN, "nfds in virDomainFDAssociate must not be zero")
