"""Debian's libvirt-go 6.0.0 test suite, run on the system's libvirt and on ours.

The package's sources and _test.go files are copied into a GOPATH under
build/go and compiled once (`go test -c`, linked against the system's libvirt); the
test binary then runs twice: as built, and with LD_LIBRARY_PATH pointing at
pyvirt's build/lib (libvirt.so.0, -qemu, -lxc).  A test that passes on the
real library must pass on ours, except the ones listed in KNOWN_FAILURES,
each with the reason.  The per-test result on ours is written to
build/go-test-report.txt.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from support import BUILD, LIBDIR, have_system_libvirt

SOURCE = Path("/usr/share/gocode/src/github.com/libvirt/libvirt-go")
IMPORT_PATH = "github.com/libvirt/libvirt-go"
REPORT = BUILD / "go-test-report.txt"

# Tests that fail on ours for a reason outside the core; each names it.
KNOWN_FAILURES: dict[str, str] = {
    "TestDomainGetVcpus": "shim: virDomainGetVcpus cpumaps (unsigned char *) not converted",
    "TestSaveDomain": "shim: virDomainRestore's extern passes an undefined name (a_from "
                      "for a_from_), a NameError",
}

_RESULT = re.compile(r"^\s*--- (PASS|FAIL|SKIP): (\S+)", re.M)
_RUN = re.compile(r"^=== RUN\s+(\S+)", re.M)

pytestmark = [
    pytest.mark.skipif(shutil.which("go") is None, reason="go is not installed"),
    pytest.mark.skipif(not SOURCE.is_dir(), reason="golang-github-libvirt-libvirt-go-dev "
                       "is not installed"),
    pytest.mark.skipif(not have_system_libvirt(), reason="libvirt-dev is not installed"),
    pytest.mark.skipif(not (LIBDIR / "libvirt.so.0").exists(), reason="run `make build` first"),
]


@pytest.fixture(scope="module")
def test_binary() -> tuple[Path, Path]:
    """(the compiled test binary, the package directory it runs in).  Both are
    kept under build/go and rebuilt only when Debian's package changes."""
    gopath = BUILD / "go" / "gopath"
    pkg = gopath / "src" / IMPORT_PATH
    binary = BUILD / "go" / "libvirt-go.test"
    stamp = BUILD / "go" / "source.stamp"
    source_id = str(max(p.stat().st_mtime_ns for p in SOURCE.iterdir()))
    if binary.exists() and stamp.exists() and stamp.read_text() == source_id:
        return binary, pkg
    shutil.rmtree(gopath, ignore_errors=True)
    shutil.copytree(SOURCE, pkg)
    env = dict(os.environ, GOPATH=str(gopath), GO111MODULE="off", GOPROXY="off",
               GOFLAGS="", CGO_ENABLED="1")
    env.setdefault("GOCACHE", str(BUILD / "go" / "cache"))
    proc = subprocess.run(["go", "test", "-c", "-vet=off", "-o", str(binary), "."],
                          cwd=pkg, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stamp.write_text(source_id)
    return binary, pkg


def _list_tests(binary: Path, pkg: Path) -> list[str]:
    proc = subprocess.run([str(binary), "-test.list", ".*"], cwd=pkg, capture_output=True,
                          text=True, timeout=60)
    return [line for line in proc.stdout.split() if line.startswith("Test")]


def run_suite(binary: Path, pkg: Path, env: dict[str, str]) -> dict[str, str]:
    """Every test's result: PASS, FAIL or SKIP.  A test that crashes the
    binary counts as FAIL and the run goes on with the tests after it."""
    remaining = _list_tests(binary, pkg)
    results: dict[str, str] = {}
    while remaining:
        pattern = "^(" + "|".join(re.escape(t) for t in remaining) + ")$"
        proc = subprocess.run([str(binary), "-test.v", "-test.timeout", "120s",
                               "-test.run", pattern], cwd=pkg, env=env,
                              capture_output=True, text=True, timeout=300)
        out = proc.stdout + proc.stderr
        for status, name in _RESULT.findall(out):
            results[name] = status
        started = [n for n in _RUN.findall(out) if n not in results]
        for name in started:  # it took the binary down with it
            results[name] = "FAIL"
        left = [t for t in remaining if t not in results]
        if len(left) == len(remaining):
            for name in left:
                results[name] = "FAIL"
            break
        remaining = left
    return results


def test_libvirt_go_suite_passes_on_ours(test_binary: tuple[Path, Path]) -> None:
    binary, pkg = test_binary
    system_env = {k: v for k, v in os.environ.items() if k != "LD_LIBRARY_PATH"}
    real = run_suite(binary, pkg, system_env)
    ours = run_suite(binary, pkg, dict(system_env, LD_LIBRARY_PATH=str(LIBDIR)))

    lines = [f"{ours.get(name, 'MISSING'):7} {name}  (real: {real[name]})"
             + (f"  known: {KNOWN_FAILURES[name]}" if name in KNOWN_FAILURES else "")
             for name in sorted(real)]
    passed = sum(1 for s in ours.values() if s == "PASS")
    summary = (f"libvirt-go on pyvirt: {passed} of {len(real)} pass "
               f"(real libvirt: {sum(1 for s in real.values() if s == 'PASS')})")
    REPORT.write_text(summary + "\n" + "\n".join(lines) + "\n")
    print(summary)

    regressions = sorted(n for n, s in real.items()
                         if s == "PASS" and ours.get(n) != "PASS" and n not in KNOWN_FAILURES)
    assert not regressions, (f"{summary}; pass on real libvirt, fail on ours: "
                             f"{', '.join(regressions)} (see {REPORT})")
