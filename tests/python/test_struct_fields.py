"""The module lists a struct result's fields by the spec's names, in the spec's order
(`[ret.state, ret.maxMem, ...]`, generated): every core dataclass standing for
such a struct must carry exactly those fields, in that order."""

from __future__ import annotations

import dataclasses

import pytest

from generator.model import Enum, Typedef
from generator.python.names import Conventions
from generator.python.plan import methods
from generator.spec import load
from pymodule_runner import ROOT
from pyvirt import migration, structs

API = load(str(ROOT / "apispec" / "libvirt.xml"))


def _core_dataclasses() -> dict[str, list[str]]:
    """C struct name (from the docstring's first word) -> the dataclass's fields."""
    out = {}
    for module in (structs, migration):
        for cls in vars(module).values():
            if isinstance(cls, type) and dataclasses.is_dataclass(cls) and cls.__doc__:
                cname = cls.__doc__.split()[0].rstrip(";.:")
                out[cname] = [f.name for f in dataclasses.fields(cls)]
    return out


def _inlined() -> list[tuple[str, str, tuple[str, ...]]]:
    values = {e.name: e.value for e in API.of(Enum)}
    return [(m.fn.name, [a for a in m.fn.args if a.dir == "out"][0].type, m.fields)
            for m in methods(API, Conventions(), values) if m.result == "struct" and m.fields]


def test_some_results_are_inlined():
    assert "virDomainGetInfo" in [name for name, _, _ in _inlined()]


@pytest.mark.parametrize("fn,ptr,fields", _inlined(), ids=lambda v: v if isinstance(v, str) else "")
def test_core_dataclass_has_the_spec_fields(fn, ptr, fields):
    typedefs = {d.name: d.type for d in API.decls if isinstance(d, Typedef)}
    core = _core_dataclasses().get(typedefs[ptr].removesuffix(" *"))
    if core is None:
        pytest.skip(f"{fn}: no core dataclass for {ptr}")
    assert core == list(fields), fn
