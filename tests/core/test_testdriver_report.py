"""The generated report of test-driver entry points (tools/testdriver_report.py):
every function real libvirt's test driver implements must be implemented in
ours too, or be listed, with a reason, in data/testdriver_missing.toml."""

from __future__ import annotations

import os
import sys
import tomllib

import pytest

from conftest import libvirt

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))
import testdriver_report  # noqa: E402

ALLOWED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                       "testdriver_missing.toml")

pytestmark = [
    pytest.mark.skipif(libvirt is None, reason="real libvirt not installed"),
    pytest.mark.skipif(not os.path.exists(os.path.join(ROOT, "build", "lib", "libvirt.so.0")),
                       reason="build/lib/libvirt.so.0 not built"),
]


@pytest.fixture(scope="module")
def result():
    res = testdriver_report.compare()
    testdriver_report.write_report(testdriver_report.render(res))
    return res


@pytest.fixture(scope="module")
def allowed() -> dict[str, str]:
    with open(ALLOWED, "rb") as f:
        return tomllib.load(f)["missing"]


def _missing(result) -> set[str]:
    real, ours = result["real"], result["ours"]
    return {n for n in result["driver"]
            if testdriver_report.implemented(real[n]) and not testdriver_report.implemented(ours[n])}


def test_every_allowed_gap_has_a_reason(allowed):
    assert all(isinstance(v, str) and v.strip() for v in allowed.values())


def test_no_unlisted_gap(result, allowed):
    unlisted = sorted(_missing(result) - set(allowed))
    assert not unlisted, f"implemented by libvirt's test driver, NO_SUPPORT in ours: {unlisted}"


def test_allow_list_only_shrinks(result, allowed):
    stale = sorted(set(allowed) - _missing(result))
    assert not stale, f"no longer missing: remove from {os.path.basename(ALLOWED)}: {stale}"


def test_no_probe_crashes_ours(result):
    crashed = sorted(n for n, r in result["ours"].items() if r["answer"] in ("crash", "probe-error"))
    assert not crashed, crashed


def test_report_written(result):
    with open(testdriver_report.REPORT, encoding="utf-8") as f:
        text = f.read()
    assert "implemented by libvirt's test driver" in text
