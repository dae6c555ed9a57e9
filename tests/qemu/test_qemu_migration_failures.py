"""A migration that fails in each phase, with real QEMU: whatever fails, the
guest ends up running on exactly one side, with libvirt 9.0's events and
errors.  (Prepare failing on the destination: test_qemu_storage_migration;
an abort in precopy and in post-copy: test_qemu_migration, test_qemu_postcopy.)

Perform is broken by killing the destination's QEMU while memory moves;
Finish and Confirm by killing one side's QEMU between two phases, driving the
v3 phases by hand as a peer-to-peer client would."""

from __future__ import annotations

import dataclasses
import os
import signal
from typing import Any, Optional

import pytest

from qemutest import domxml, kernels, until  # noqa: F401
from test_qemu_migration import (RESUMED_MIGRATED, STARTED_MIGRATED, STOPPED_FAILED,  # noqa: F401
                                 STOPPED_MIGRATED, SUSPENDED_MIGRATED, two, migrate_in_thread)
from pyvirt import api, migration as mig
from pyvirt.errors import VirtError

LIVE = mig.VIR_MIGRATE_LIVE
RUNNING_BOOTED, RUNNING_MIGRATED, RUNNING_MIGRATION_CANCELED = (1, 1), (1, 2), (1, 6)


def _kill_qemu(conn: Any, name: str) -> None:
    dom = api.virDomainLookupByName(conn, name)
    os.kill(conn.driver.runtime[dom.uuid].process.pid, signal.SIGKILL)


def _phases(dom: Any, dconn: Any, flags: int) -> dict[str, Any]:
    """Begin, Prepare and Perform of the v3 protocol; what Finish and Confirm need."""
    src, dst = dom.conn.driver, dconn.driver
    params = mig.MigrationParams()
    cookie, params.dom_xml = src.domain_migrate_begin3_params(dom, params, flags)
    cookie, uri = dst.domain_migrate_prepare3_params(dconn, params, cookie, flags)
    cookie = src.domain_migrate_perform3_params(
        dom, None, dataclasses.replace(params, uri=uri), cookie, flags)
    return {"src": src, "dst": dst, "params": params, "cookie": cookie}


def _one_side(src_conn: Any, dst_conn: Any, name: str, on_source: bool) -> None:
    names = [[api.virDomainGetName(d) for d in api.virConnectListAllDomains(c, 0)
              if api.virDomainIsActive(d)] for c in (src_conn, dst_conn)]
    assert names == ([[name], []] if on_source else [[], [name]])


def test_destination_killed_during_perform(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("fperf", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    # 1 MiB/s: the dirtying guest never converges
    t, result = migrate_in_thread(src, dst_conn, [("bandwidth", 4, 1)], LIVE)
    src_ev.wait(lambda items: any(i[0] == "iter" for i in items) or not t.is_alive(), 60)
    _kill_qemu(dst_conn, "fperf")
    t.join(60)
    code, message = result["err"]
    assert code == 9 and message.startswith("operation failed: job 'migration out' failed: ")
    dst_ev.wait(lambda items: ("lc",) + STOPPED_FAILED in items)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert src_ev.lifecycle() == []
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    _one_side(src_conn, dst_conn, "fperf", on_source=True)
    assert api.virDomainGetJobStats(src, 0) == (mig.VIR_DOMAIN_JOB_NONE, [])


def test_destination_killed_before_finish(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("ffin", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    run = _phases(src, dst_conn, LIVE)
    assert api.virDomainGetState(src, 0)[0] == 3        # paused: memory moved
    _kill_qemu(dst_conn, "ffin")
    dst_ev.wait(lambda items: ("lc",) + STOPPED_FAILED in items)
    with pytest.raises(VirtError) as finish:
        run["dst"].domain_migrate_finish3_params(dst_conn, run["params"], run["cookie"],
                                                 LIVE, False)
    assert (finish.value.code, str(finish.value)) == (
        42, "Domain not found: no domain with matching name 'ffin'")
    run["src"].domain_migrate_confirm3_params(src, run["params"], None, LIVE, True)
    # the source runs again: RESUMED/MIGRATED, RUNNING/MIGRATION_CANCELED
    src_ev.wait(lambda items: ("lc",) + RESUMED_MIGRATED in items)
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, RESUMED_MIGRATED]
    assert api.virDomainGetState(src, 0) == RUNNING_MIGRATION_CANCELED
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    _one_side(src_conn, dst_conn, "ffin", on_source=True)
    # and it can migrate again
    ddom = api.virDomainMigrate3(src, dst_conn, [], LIVE)
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED


def test_source_killed_before_confirm(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("fconf", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    run = _phases(src, dst_conn, LIVE)
    ddom, cookie = run["dst"].domain_migrate_finish3_params(
        dst_conn, run["params"], run["cookie"], LIVE, False)
    assert api.virDomainGetState(ddom, 0) == RUNNING_MIGRATED
    _kill_qemu(src_conn, "fconf")
    src_ev.wait(lambda items: ("lc",) + STOPPED_FAILED in items)
    err: Optional[VirtError] = None
    try:
        run["src"].domain_migrate_confirm3_params(src, run["params"], cookie, LIVE, False)
    except VirtError as exc:
        err = exc
    assert err is not None and err.code == 42           # the transient source is gone
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, STOPPED_FAILED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_MIGRATED]
    _one_side(src_conn, dst_conn, "fconf", on_source=False)


def test_tls_without_credentials_fails_prepare(two, kernels):
    """VIR_MIGRATE_TLS on roots without x509 credentials: libvirt 9.0's embed mode
    has QEMU load them from ROOT/etc/pki/qemu (its default directory there, seen
    in a VNC TLS probe) in Prepare, and QEMU's refusal is the error; the guest
    stays on the source."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("tlsm", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, [], LIVE | mig.VIR_MIGRATE_TLS)
    assert (err.value.code, err.value.domain, str(err.value)) == (
        1, 10, "internal error: unable to execute QEMU command 'object-add': Unable to "
               f"access credentials {dst_conn.driver.layout.root}/etc/pki/qemu/ca-cert.pem: "
               "No such file or directory")
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    _one_side(src_conn, dst_conn, "tlsm", on_source=True)
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert dst_ev.lifecycle() == [] and src_ev.lifecycle() == []
    assert api.virDomainGetJobStats(src, 0) == (mig.VIR_DOMAIN_JOB_NONE, [])
    api.virDomainMigrate3(src, dst_conn, [], LIVE)     # the source is free again
    _one_side(src_conn, dst_conn, "tlsm", on_source=False)
