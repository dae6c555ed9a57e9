"""Typed-parameter setters with plain values behave the same on pyvirt's module,
on the real extension over our library and on the system's libvirt."""

from __future__ import annotations

import json

import pytest

from pymodule_runner import BUILD, HERE, run

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(),
                                reason="run `make build` first")


def test_setters_take_the_getters_types():
    outs = {impl: run(impl, HERE / "typed_setters_scenario.py")
            for impl in ("pyvirt", "real", "system")}
    for impl, p in outs.items():
        assert p.returncode == 0, (impl, p.stderr)
    got = {impl: json.loads(p.stdout) for impl, p in outs.items()}
    assert got["pyvirt"] == got["real"] == got["system"]
    assert got["pyvirt"]["blkio"] == 500
