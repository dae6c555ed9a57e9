"""libvirt-python's behaviour for networks, storage, interfaces, node devices, secrets,
snapshots, checkpoints and errors (object_scenarios.py), run under pyvirt's module, the
real extension on pyvirt's libvirt.so.0 and, where installed, the real extension on the
system's libvirt (the reference): the three outputs must be equal, and a few values are
pinned here so that a change in all three at once is noticed too."""

from __future__ import annotations

import os

import pytest

from pymodule_runner import BUILD, HERE, run_json

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists()
                                or not (BUILD / "lib" / "libvirt.so.0").exists(),
                                reason="run `make build` first")
SYSTEM = os.path.exists("/usr/lib/python3/dist-packages/libvirt.py")
IMPLS = ("pyvirt", "real") + (("system",) if SYSTEM else ())
SCENARIOS = ("networks", "network_update", "network_events", "event_registration", "storage_pools",
             "storage_volumes", "storage_volume_streams", "storage_events", "interfaces",
             "interface_transactions", "node_devices", "secrets", "snapshots",
             "snapshot_revert", "checkpoints", "error_cases", "last_error")
NO_SUPPORT, OPERATION_INVALID, INVALID_ARG = 3, 55, 8
_RUNS: dict[str, dict] = {}


def results(impl: str) -> dict:
    if impl not in _RUNS:
        _RUNS[impl] = run_json(impl, HERE / "object_scenarios.py")[0]
    return _RUNS[impl]


def get(impl: str, name: str):
    value = results(impl)[name]
    if isinstance(value, dict) and "trace" in value:
        pytest.fail(f"{impl}: {name}: {value['trace']}")
    return value


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("impl", [i for i in IMPLS if i != "pyvirt"])
def test_same_as_pyvirt(impl, name):
    assert get(impl, name) == get("pyvirt", name)


def test_networks():
    n = get("pyvirt", "networks")
    assert n["list"] == ["default"] == n["names"] and n["bridge"] == "virbr0"
    assert n["leases"] == ["error", NO_SUPPORT, 19]           # the test driver has no DHCP
    assert n["steps"] == [["defined", 0, 1], ["autostart", 0, 1], ["create", 0, 1],
                          ["create_again", ["error", OPERATION_INVALID, 12]],
                          ["destroy", 0, 0], ["undefine", 0, ["error", 43, 12]],
                          ["transient", 1, 0], ["transient_destroy", 0, ["error", 43, 12]]]
    u = get("pyvirt", "network_update")
    assert u["add"] == 0 and u["has_host"] and u["delete"] == 0 and not u["gone"]


def test_object_events_ids_count_from_zero():
    e = get("pyvirt", "network_events")
    assert e["id"] == 0 and e["deregister_again"][:2] == ["error", INVALID_ARG]
    assert [ev[1:3] for ev in e["events"]] == [[0, 0], [2, 0], [3, 0], [1, 0]]


def test_second_registration_of_an_event_is_refused():
    r = get("pyvirt", "event_registration")["domain"]
    assert r[1][:2] == ["error", INVALID_ARG]                          # another callback
    assert r[2][0] == r[3][0] == r[4][0] == r[5][0] == "ok"    # object, event, conn; freed


def test_storage():
    p = get("pyvirt", "storage_pools")
    assert p["info"] == [2, 107374182400, 0, 107374182400]
    assert p["steps"][2] == ["create", 0, 1, 2]
    v = get("pyvirt", "storage_volumes")
    assert v["key"] == v["path"] == "/default-pool/v1" and v["info"] == [0, 10485760, 0]
    assert v["clone"] == ["v2", [0, 5242880, 0], ["v1", "v2"]]
    assert v["resize"][0] == ["error", NO_SUPPORT, 18]


def test_snapshots():
    s = get("pyvirt", "snapshots")
    assert s["list"] == [["s1", "s2"], 2, ["s1", "s2"], ["s1"]]
    assert s["revert"] == [0, [3, 7], "s2"] and s["revert_running"] == [0, [1, 4]]
    r = get("pyvirt", "snapshot_revert")
    # an active domain is stopped and started again, each event with FROM_SNAPSHOT details
    assert r["paused<-running/0"] == [["ok", 0], [3, 7], [[5, 6], [2, 3], [3, 5]]]
    assert r["shutoff<-shutoff/1"] == [["ok", 0], [5, 0], [[2, 3]]]


def test_errors():
    e = get("pyvirt", "error_cases")
    assert e["bad_uuid"][:3] == [INVALID_ARG, 19, "uuidstr in virNetworkLookupByUUIDString "
                                                  "must be a valid UUID"]
    assert e["no_network"][:2] == [43, 12] and e["no_volume"][:2] == [50, 12]


def test_success_clears_the_last_error():
    e = get("pyvirt", "last_error")
    assert e["after_error"] and e["after_success"] is None
    assert e["unknown_ids"][0] == [["error", None, None], None]
