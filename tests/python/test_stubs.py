"""The type stubs generated beside the modules (libvirt.pyi & co): mypy accepts
them, a typed program passes `mypy --strict` against them, and they are precise
enough to catch wrong types (TypedDict fields, return values, constants)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pymodule_runner import BUILD, ROOT

STUBS = ["libvirt.pyi", "libvirt_qemu.pyi", "libvirt_lxc.pyi", "libvirtaio.pyi",
         "libvirt_asyncio.pyi"]
TYPED = ROOT / "tests" / "python" / "typed"

pytestmark = [pytest.mark.skipif(not (BUILD / "python" / "libvirt.pyi").exists(),
                                 reason="run `make build` first"),
              pytest.mark.skipif(subprocess.run([sys.executable, "-m", "mypy", "--version"],
                                                capture_output=True).returncode != 0,
                                 reason="mypy is not installed (requirements.txt)")]


def mypy(*args: str) -> subprocess.CompletedProcess[str]:
    # from build/python, so that the stubs are found and pyvirt is never checked
    return subprocess.run([sys.executable, "-m", "mypy", "--no-incremental",
                           "--cache-dir", "/dev/null", *args],
                          cwd=BUILD / "python", capture_output=True, text=True, timeout=300)


def test_stubs_type_check():
    p = mypy(*STUBS)
    assert p.returncode == 0, p.stdout + p.stderr


def test_typed_example_passes_strict():
    p = mypy("--strict", str(TYPED / "example.py"))
    assert p.returncode == 0, p.stdout + p.stderr


def test_stubs_catch_wrong_types():
    p = mypy(str(TYPED / "wrong.py"))
    lines = [ln for ln in p.stdout.splitlines() if ": error:" in ln]
    assert {ln.split(":")[1] for ln in lines} == {"7", "8", "9", "10"}, p.stdout


def test_typed_param_fields_come_from_the_spec():
    """The spec's documented kinds type most fields; the hand table keeps the rest."""
    from generator.model import Macro
    from generator.python.typed_params import FIELD_TYPES, field_type
    from generator.spec import load
    api = load(str(ROOT / "apispec" / "libvirt.xml"))
    documented = [m for m in api.of(Macro) if m.param is not None]
    assert len(documented) > 3 * len(FIELD_TYPES)
    assert not {m.name for m in documented} & set(FIELD_TYPES)   # no fact kept twice
    shares = next(m for m in documented if m.name == "VIR_DOMAIN_SCHEDULER_CPU_SHARES")
    assert (shares.param, field_type(shares)) == ("ullong", "int")
