"""The error of a call test:///default cannot serve: code, domain and message as
libvirt 9.0 reports them.  libvirt reports under the domain of the source file
that holds the entry point: libvirt-host.c (vir{Connect,Node}*) and
libvirt-domain.c under VIR_FROM_DOMAIN (20), libvirt-network.c under
VIR_FROM_NETWORK, ..., libvirt-qemu.c and libvirt-lxc.c under VIR_FROM_NONE."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import api, need_real, ours, real

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).resolve().parent / "unsupported_scenario.py"
OUR_LIBS = ROOT / "build" / "lib"
REAL_LIBS = Path("/usr/lib/x86_64-linux-gnu")
NO_SUPPORT, INVALID_ARG = 3, 8
FROM_NONE, FROM_DOMAIN, FROM_NETWORK, FROM_STORAGE = 0, 20, 19, 18
FROM_NODEDEV, FROM_SECRET, FROM_NWFILTER, FROM_STREAMS = 22, 30, 33, 38


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


def test_domain_of_each_source_file_through_c(c_errors):
    domains = {name: err[:2] for name, err in c_errors.items()}
    for name in ("virConnectBaselineHypervisorCPU", "virNodeSuspendForDuration",
                 "virConnectSetIdentity", "virDomainAbortJob", "virDomainAttachDevice"):
        assert domains[name] == [NO_SUPPORT, FROM_DOMAIN], name
    assert domains["virNodeGetCellsFreeMemory-maxCells"] == [INVALID_ARG, FROM_DOMAIN]
    assert domains["virNetworkListAllPorts"] == [NO_SUPPORT, FROM_NETWORK]
    assert domains["virConnectGetStoragePoolCapabilities"] == [NO_SUPPORT, FROM_STORAGE]
    assert domains["virNodeDeviceDettach"] == [NO_SUPPORT, FROM_NODEDEV]
    assert domains["virConnectListAllSecrets"] == [NO_SUPPORT, FROM_SECRET]
    assert domains["virConnectNumOfNWFilters"] == [NO_SUPPORT, FROM_NWFILTER]
    assert domains["virStreamSend"] == [NO_SUPPORT, FROM_STREAMS]
    for name in ("virDomainQemuMonitorCommand", "virDomainLxcOpenNamespace"):
        assert domains[name] == [NO_SUPPORT, FROM_NONE], name
    assert c_errors["virConnectBaselineHypervisorCPU"][2] == (
        "this function is not supported by the connection driver: "
        "virConnectBaselineHypervisorCPU")


@pytest.mark.skipif(not (REAL_LIBS / "libvirt-lxc.so.0").exists(), reason="no real libvirt")
def test_c_errors_as_real(c_errors):
    theirs = _c_errors(REAL_LIBS)
    assert {k: v for k, v in c_errors.items() if v != theirs.get(k)} == {}


def test_host_functions_report_under_domain(conn):
    assert ours(lambda: api.virNodeGetCPUStats(conn, -5, 0)) == (
        "err", INVALID_ARG, FROM_DOMAIN,
        "cpuNum in virNodeGetCPUStats only accepts -1 as a negative value")
    assert ours(lambda: api.virNodeGetCellsFreeMemory(conn, 0, 0))[:3] == (
        "err", INVALID_ARG, FROM_DOMAIN)


@need_real
def test_python_errors_as_real(conn, rconn):
    d, r = api.virDomainLookupByName(conn, "test"), rconn.lookupByName("test")
    pairs = [
        (lambda: api.virDomainMigrate(d, conn, 0, None, None, 0),
         lambda: r.migrate(rconn, 0, None, None, 0)),
        (lambda: api.virDomainMigrate2(d, conn, None, 0, None, None, 0),
         lambda: r.migrate2(rconn, None, 0, None, None, 0)),
        (lambda: api.virDomainMigrateToURI(d, "test:///default", 0, None, 0),
         lambda: r.migrateToURI("test:///default", 0, None, 0)),
        (lambda: api.virDomainMigrateToURI(d, "test:///default", 2, None, 0),
         lambda: r.migrateToURI("test:///default", 2, None, 0)),
        (lambda: api.virNodeGetCPUStats(conn, -5, 0), lambda: rconn.getCPUStats(-5, 0)),
    ]
    pairs += [(lambda t=t, s=s: api.virConnectFindStoragePoolSources(conn, t, s, 0),
               lambda t=t, s=s: rconn.findStoragePoolSources(t, s, 0))
              for t, s in (("iscsi", None), ("dir", None), ("bogus", None), ("disk", None),
                           ("vda", "vda"), ("bogus", "<x"), ("logical", "junk"),
                           ("iscsi", "<source/>"), ("logical", None))]
    for mine, theirs in pairs:
        assert ours(mine) == real(theirs)
