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
