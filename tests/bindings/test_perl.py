"""The generated Perl module PyVirt (build/bindings/perl, hand-written parts in
bindings/perl): `perl Makefile.PL && make`, its own t/*.t under `prove`, and the
shared examples, on pyvirt's libvirt.so.0 and on the system's, with the same
output as each other and as the Go examples.  Skips without perl, perl's headers
(libperl-dev) or a C compiler."""

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
from generator.perl import Conventions, plan, render
from support import BUILD, LIBDIR, coverage_section, ROOT, SPECS, have_system_libvirt, needs_build, on_pyvirt, run

PERL = ROOT / "bindings" / "perl"
OUT = BUILD / "bindings" / "perl"
EXAMPLES = sorted(p.stem for p in (PERL / "examples").glob("*.pl"))


def _have_perl_headers() -> bool:
    if shutil.which("perl") is None:
        return False
    core = subprocess.run(["perl", "-MConfig", "-e", 'print "$Config{archlibexp}/CORE"'],
                          capture_output=True, text=True).stdout
    return (Path(core) / "perl.h").exists()


pytestmark = [needs_build,
              pytest.mark.skipif(not _have_perl_headers() or shutil.which("prove") is None,
                                 reason="perl and its headers are not installed (apt-get install libperl-dev)"),
              pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                                 reason="no C compiler")]


def build_env() -> dict:
    # Either library's headers work (they are identical); ours are always there.
    return dict(os.environ, PKG_CONFIG_PATH=str(LIBDIR / "pkgconfig"))


@pytest.fixture(scope="module")
def built() -> Path:
    subprocess.run([sys.executable, "-m", "generator", "--bindings", str(ROOT / "bindings"),
                    str(BUILD), *map(str, SPECS)], cwd=ROOT, check=True)
    makefile = OUT / "Makefile"
    # Re-running Makefile.PL rewrites the Makefile, which makes everything rebuild.
    if not makefile.exists() or makefile.stat().st_mtime < (OUT / "Makefile.PL").stat().st_mtime:
        r = subprocess.run(["perl", "Makefile.PL"], cwd=OUT, env=build_env(), capture_output=True,
                           text=True, timeout=120)
        assert r.returncode == 0, r.stdout + r.stderr
    r = subprocess.run(["make"], cwd=OUT, env=build_env(), capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stdout + r.stderr
    return OUT


def system_env() -> dict:
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    return env


def perl_cmd(script: Path) -> list[str]:
    return ["perl", f"-I{OUT / 'blib' / 'lib'}", f"-I{OUT / 'blib' / 'arch'}", str(script)]


libraries = pytest.mark.parametrize("library", ["pyvirt", pytest.param("system", marks=pytest.mark.skipif(
    not have_system_libvirt(), reason="libvirt0 is not installed"))])


@libraries
def test_prove(built, library):
    env = on_pyvirt() if library == "pyvirt" else system_env()
    r = subprocess.run(["prove", "-b", str(PERL / "t")], cwd=built, env=env, capture_output=True,
                       text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "Result: PASS" in r.stdout


def test_no_run_path(built):
    """LD_LIBRARY_PATH must be able to choose the library: no RPATH/RUNPATH baked in."""
    so = built / "blib" / "arch" / "auto" / "PyVirt" / "PyVirt.so"
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    dyn = subprocess.run(["readelf", "-d", str(so)], capture_output=True, text=True).stdout
    assert "libvirt.so.0" in dyn
    assert "RPATH" not in dyn and "RUNPATH" not in dyn


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_same_output(built, example):
    script = PERL / "examples" / f"{example}.pl"
    ours = run(perl_cmd(script), env=on_pyvirt(), timeout=60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    go = BUILD / "bindings" / "go" / example     # built by test_go.py when Go is installed
    if go.exists():
        theirs = run([str(go)], env=on_pyvirt(), timeout=60)
        assert theirs.returncode == 0 and ours.stdout == theirs.stdout, "differs from Go's"
    if not have_system_libvirt():
        pytest.skip("libvirt0 is not installed: nothing to compare with")
    system = run(perl_cmd(script), env=system_env(), timeout=60)
    assert system.returncode == 0, system.stdout + system.stderr
    assert ours.stdout == system.stdout


def test_names_follow_conventions(built):
    """Every generated XSUB is spelled as Conventions says, in its package."""
    apis = [spec.load(str(p)) for p in SPECS]
    mod = plan(apis, load_overrides(str(PERL / "overrides.toml")))
    text = (built / "PyVirt.xs").read_text()
    conv = Conventions()
    assert conv.object("virDomainPtr") == "PyVirt::Domain"
    assert conv.function("DomainLookupByName") == "domain_lookup_by_name"
    assert conv.function("GetXMLDesc") == "get_xml_desc"
    assert conv.function("MigrateToURI3") == "migrate_to_uri3"
    sections = re.split(r"^MODULE = PyVirt\s+PACKAGE = (\S+)$", text, flags=re.M)
    subs = {pkg: set(re.findall(r"^(\w+)\(\.\.\.\)$", body, re.M))
            for pkg, body in zip(sections[1::2], sections[2::2])}
    for f in mod.functions:
        assert f.name in subs[f.klass or "PyVirt"], f.cname
    for klass, _, _ in mod.objects:
        assert "DESTROY" in subs[klass]
    pm = (built / "lib" / "PyVirt.pm").read_text()
    assert "    DOMAIN_RUNNING => 1,\n" in pm


def test_coverage_report(built):
    head, left_out = coverage_section("Perl")
    assert re.fullmatch(r"Perl: \d+ of \d+ functions generated, \d+ left out", head)
    for name, why in left_out:
        assert name.startswith("vir") and why, (name, why)


def test_render_is_deterministic():
    apis = [spec.load(str(p)) for p in SPECS]
    ov = load_overrides(str(PERL / "overrides.toml"))
    assert render(apis, ov, "../../../bindings/perl") == render(apis, ov, "../../../bindings/perl")


GUEST_URI = "test://" + str(ROOT / "tests" / "core" / "data" / "host-guest.xml")


@pytest.mark.parametrize("uri", ["test:///default", GUEST_URI])
def test_struct_outputs_same_on_both(built, uri):
    """Struct-array outputs: the same OUT lines on both libraries and as Go's test prints."""
    script = PERL / "t" / "40-struct-outputs.t"
    ours = run(perl_cmd(script), env=on_pyvirt({"PYVIRT_GUEST_URI": uri}), timeout=60)
    assert ours.returncode == 0, ours.stdout + ours.stderr
    lines = [x for x in ours.stdout.splitlines() if x.startswith("OUT ")]
    assert lines, ours.stdout
    gotest = BUILD / "bindings" / "go" / "libvirt.test"   # built by test_go.py
    if gotest.exists():
        go = run([str(gotest), "-test.run", "^TestStructOutputs$"],
                 env=on_pyvirt({"PYVIRT_GUEST_URI": uri}), timeout=60)
        assert lines == [x for x in go.stdout.splitlines() if x.startswith("OUT ")], "differs from Go's"
    if not have_system_libvirt():
        pytest.skip("libvirt0 is not installed: nothing to compare with")
    theirs = run(perl_cmd(script), env=dict(system_env(), PYVIRT_GUEST_URI=uri), timeout=60)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert lines == [x for x in theirs.stdout.splitlines() if x.startswith("OUT ")]
