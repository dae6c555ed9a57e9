"""The generated Go package (bindings/go): its own `go test` and the shared
examples, on pyvirt's libvirt.so.0 and on the system's, with the same output.
Skips when Go is not installed."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from generator import spec
from generator.bindings import load_overrides
from generator.go import Conventions, plan
from support import BUILD, LIBDIR, coverage_section, ROOT, SPECS, have_system_libvirt, needs_build, on_pyvirt, run

GO = ROOT / "bindings" / "go"
EXAMPLES = sorted(p.name for p in (GO / "examples").iterdir() if p.is_dir())
OUT = BUILD / "bindings" / "go"

pytestmark = [needs_build, pytest.mark.skipif(shutil.which("go") is None,
                                              reason="Go is not installed (apt-get install golang-go)")]


def go_env() -> dict:
    # Either library's headers work (they are identical); ours are always there.
    return dict(os.environ, PKG_CONFIG_PATH=str(LIBDIR / "pkgconfig"), GOFLAGS="-mod=mod",
                GOPROXY="off", GO111MODULE="on", GOCACHE=str(BUILD / "go-cache"),
                GOPATH=str(BUILD / "go-path"))


@pytest.fixture(scope="module")
def built() -> Path:
    subprocess.run([sys.executable, "-m", "generator", "--bindings", str(ROOT / "bindings"),
                    str(BUILD), *map(str, SPECS)], cwd=ROOT, check=True)
    OUT.mkdir(parents=True, exist_ok=True)
    cmds = [["go", "test", "-c", "-o", str(OUT / "libvirt.test"), "."]]
    cmds += [["go", "build", "-o", str(OUT / e), f"./examples/{e}"] for e in EXAMPLES]
    for cmd in cmds:
        r = subprocess.run(cmd, cwd=GO, env=go_env(), capture_output=True, text=True, timeout=300)
        assert r.returncode == 0, r.stdout + r.stderr
    return OUT


def system_env() -> dict:
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    return env


libraries = pytest.mark.parametrize("library", ["pyvirt", pytest.param("system", marks=pytest.mark.skipif(
    not have_system_libvirt(), reason="libvirt0 is not installed"))])


@libraries
def test_go_test(built, library):
    env = on_pyvirt() if library == "pyvirt" else system_env()
    r = run([str(built / "libvirt.test"), "-test.v"], env=env, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "--- FAIL" not in r.stdout


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_same_output(built, example):
    ours = run([str(built / example)], env=on_pyvirt(), timeout=60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    if not have_system_libvirt():
        pytest.skip("libvirt0 is not installed: nothing to compare with")
    theirs = run([str(built / example)], env=system_env(), timeout=60)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert ours.stdout == theirs.stdout


def test_names_follow_conventions(built):
    """Every generated method is spelled as Conventions says, from the same plan."""
    apis = [spec.load(str(p)) for p in SPECS]
    pkg = plan(apis, load_overrides(str(GO / "overrides.toml")))
    text = (GO / "libvirt_gen.go").read_text()
    conv = Conventions()
    assert conv.object("virDomainPtr") == "Domain"
    for m in pkg.methods:
        recv = rf"\(o \*{m.recv}\) " if m.recv else ""
        assert re.search(rf"^func {recv}{m.name}\(", text, re.M), m.cname
    assert "func (o *Connect) DomainLookupByName(name string) (rv *Domain, err error)" in text
    assert "func (o *Domain) GetState(flags uint) (stateOut int, reasonOut int, err error)" in text


def test_coverage_report(built):
    head, left_out = coverage_section("Go")
    assert re.fullmatch(r"Go: \d+ of \d+ functions generated, \d+ left out", head)
    for name, why in left_out:
        assert name.startswith("vir") and why, (name, why)


def test_render_is_deterministic():
    from generator.go import render
    apis = [spec.load(str(p)) for p in SPECS]
    ov = load_overrides(str(GO / "overrides.toml"))
    assert render(apis, ov) == render(apis, ov)


GUEST_URI = "test://" + str(ROOT / "tests" / "core" / "data" / "host-guest.xml")


@pytest.mark.parametrize("uri", ["test:///default", GUEST_URI])
def test_struct_outputs_same_on_both(built, uri):
    """Struct-array outputs (memory stats, disk errors, FS info, DHCP leases)."""
    cmd = [str(built / "libvirt.test"), "-test.run", "^TestStructOutputs$", "-test.v"]
    ours = run(cmd, env=on_pyvirt({"PYVIRT_GUEST_URI": uri}), timeout=60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    lines = [x for x in ours.stdout.splitlines() if x.startswith("OUT ")]
    assert lines, ours.stdout
    if not have_system_libvirt():
        pytest.skip("libvirt0 is not installed: nothing to compare with")
    theirs = run(cmd, env=dict(system_env(), PYVIRT_GUEST_URI=uri), timeout=60)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert lines == [x for x in theirs.stdout.splitlines() if x.startswith("OUT ")]
