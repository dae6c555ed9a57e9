"""libvirt-python's documented behaviour, checked on both implementations
(pyvirt's generated module, and the real extension on pyvirt's libvirt.so.0):
each scenario of scenarios.py runs once per implementation in a subprocess."""

from __future__ import annotations

import pytest

from pymodule_runner import BUILD, HERE, IMPLS, run_json

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists()
                                or not (BUILD / "lib" / "libvirt.so.0").exists(),
                                reason="run `make build` first")
VIR_ERR_OPERATION_DENIED, VIR_ERR_NO_DOMAIN, VIR_ERR_INVALID_CONN = 29, 42, 6
VIR_FROM_TEST = 12


_RUNS: dict[str, tuple[dict, str]] = {}


def scenarios(name: str) -> tuple[dict, str]:
    if name not in _RUNS:
        _RUNS[name] = run_json(name, HERE / "scenarios.py")
    return _RUNS[name]


@pytest.fixture(params=IMPLS)
def impl(request):
    return (request.param, *scenarios(request.param))


def get(impl, name):
    value = impl[1][name]
    if isinstance(value, dict) and "exception" in value:
        pytest.fail(f"{impl[0]}: {name}: {value['trace']}")
    return value


def test_connection(impl):
    c = get(impl, "connection")
    assert c["uri"] == "test:///default" and c["type"] == "TEST"
    assert c["alive"] == 1 and c["libversion"] == 9000000 == c["getVersion"]
    assert c["info"] == ["i686", 3072, 16, 1400, 2, 2, 2, 2]    # memory in MiB
    assert c["caps_is_xml"] and c["close"] == 0


def test_context_manager_closes(impl):
    c = get(impl, "connection_context_manager")
    assert c == {"inside": 1, "after_close": VIR_ERR_INVALID_CONN}


def test_read_only_connection_refuses_changes(impl):
    c = get(impl, "read_only_connection")
    assert c["lookup"] == "test" and c["define"][0] == VIR_ERR_OPERATION_DENIED


def test_domain_queries(impl):
    d = get(impl, "domain_queries")
    assert d["names"] == ["test"] == d["active"] and d["ids"] == [1]
    assert d["info"] == [1, 8388608, 2097152, 2, "int"] and d["state"] == [1, 0]   # libvirt 9.0: reason 0 for the default domain
    assert d["uuidstr"] == "6695eb01-f6a4-8304-79aa-97f2502e193f" and d["uuid_len"] == 16
    assert d["by_id"] == d["by_uuid"] == d["by_uuidstr"] == "test"
    assert d["connect_is_conn"] and d["xml_has_name"]


def test_domain_lifecycle_returns_zero_and_changes_state(impl):
    steps = get(impl, "domain_lifecycle")
    # an inactive domain's ID() is -1 ((unsigned int)-1 in C), not an error
    assert steps == [["defined", 0, [5, 0], -1], ["create", 0, [1, 1], "an id"],
                     ["suspend", 0, [3, 1], "an id"], ["resume", 0, [1, 5], "an id"],
                     ["destroy", 0, [5, 2], -1], ["undefine", 0, None],
                     ["gone", VIR_ERR_NO_DOMAIN, None]]


def test_transient_domain(impl):
    assert get(impl, "domain_transient") == {"persistent": 0, "active": 1, "listed": True,
                                             "after_destroy": VIR_ERR_NO_DOMAIN}


def test_handles_keep_their_connection(impl):
    h = get(impl, "handles_outlive_close")
    assert h == {"close": 1, "still_works": "test", "info": 1}


def test_errors(impl):
    e = get(impl, "errors")
    assert e["before"] is None and e["after_reset"] is None
    assert e["error"][:4] == [VIR_ERR_NO_DOMAIN, VIR_FROM_TEST, e["error"][9], 2]
    assert e["last"] == e["error"][:9] and e["caught"] == [True, True]
    assert e["user_error"] == "mine"                       # no last error: defmsg
    assert e["user_error_after"] != "mine"                 # else: the last error's message
    assert "libvirt: Test Driver error : " in impl[2]     # the default handler prints


def test_error_handler_gets_errors(impl):
    seen = get(impl, "error_handler")
    assert seen and seen[0][:3] == ["ctx", VIR_ERR_NO_DOMAIN, VIR_FROM_TEST]


def test_lifecycle_events_on_default_loop(impl):
    ev = get(impl, "events_default_loop")
    assert ev["id_valid"] and ev["timer"]      # ids count from 0, as libvirt's
    assert ev["events"] == [[True, "ev", 0, 0, "op"], [True, "ev", 2, 0, "op"],
                            [True, "ev", 5, 1, "op"]]
    assert ev["legacy"] == [["ev", 0, 0, 7], ["ev", 2, 0, 7], ["ev", 5, 1, 7]]


def test_event_handles(impl):
    h = get(impl, "event_handle")
    assert h == {"seen": [[True, 1, "o"]], "watch_positive": True, "removed": 0}


def test_both_implementations_agree():
    (a, a_err), (b, b_err) = scenarios("pyvirt"), scenarios("real")
    assert a == b

    def reports(err: str) -> list[str]:    # libvirt's own lines (not Python tracebacks)
        return [line for line in err.splitlines() if line.startswith("libvirt: ")]
    assert reports(a_err) == reports(b_err)
