"""Shared paths, skips and helpers for the tests (run by `make test` after `make build`)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "build"
LIBDIR = BUILD / "lib"
SYSTEM_LIBDIR = Path("/usr/lib/x86_64-linux-gnu")
SPECS = [ROOT / "apispec" / f"{n}.xml" for n in ("libvirt", "libvirt-qemu", "libvirt-lxc")]


def have_system_libvirt() -> bool:
    return (Path("/usr/include/libvirt/libvirt.h").exists()
            and (SYSTEM_LIBDIR / "libvirt.so.0").exists())


needs_system_libvirt = pytest.mark.skipif(not have_system_libvirt(),
                                          reason="libvirt-dev and libvirt0 are not installed")
needs_build = pytest.mark.skipif(not (LIBDIR / "libvirt.so.0").exists(),
                                 reason="run `make build` first")


def compile_c(src: Path, out: Path, *flags: str) -> Path:
    cmd = ["gcc", "-Wall", "-o", str(out), str(src), *flags]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return out


def system_libvirt_flags() -> list[str]:
    return subprocess.run(["pkg-config", "--cflags", "--libs", "libvirt"], check=True,
                          capture_output=True, text=True).stdout.split()


def on_pyvirt(extra: dict | None = None) -> dict:
    """Environment that makes a program load pyvirt's libvirt.so.0 instead of the system's."""
    env = dict(os.environ, LD_LIBRARY_PATH=str(LIBDIR))
    env.update(extra or {})
    return env


def run(cmd: list[str], env: dict | None = None, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)


__all__ = ["ROOT", "BUILD", "LIBDIR", "SPECS", "needs_system_libvirt", "needs_build",
           "compile_c", "system_libvirt_flags", "on_pyvirt", "run", "shutil"]


def coverage_section(language: str) -> tuple[str, list[tuple[str, str]]]:
    """build/bindings/coverage.txt's section for one language: its head line
    ('Perl: 473 of 526 functions generated, 53 left out') and each function
    left out with its reason."""
    text = (BUILD / "bindings" / "coverage.txt").read_text()
    head, *lines = text[text.index(f"{language}: "):].split("\n\n")[0].splitlines()
    return head, [tuple(line.strip().partition(": ")[::2]) for line in lines]  # type: ignore[misc]


def pyvirt_module() -> Any:
    """pyvirt's generated `libvirt` module, loaded under its own name: in the
    test process `libvirt` is python3-libvirt, the reference (tests/core
    imports it), and putting build/python on sys.path would make whichever
    is imported first win for the whole session."""
    import importlib.util
    import sys
    module = sys.modules.get("pyvirt_libvirt")
    if module is None:
        spec = importlib.util.spec_from_file_location("pyvirt_libvirt",
                                                      BUILD / "python" / "libvirt.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules["pyvirt_libvirt"] = module
        spec.loader.exec_module(module)
    return module
