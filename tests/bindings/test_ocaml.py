"""The generated OCaml library pyvirt (build/bindings/ocaml, hand-written parts in
bindings/ocaml): `make` and `make install` (ocamlfind install into a private
folder), its own tests (bindings/ocaml/tests, TAP executables), and the shared
examples, on pyvirt's libvirt.so.0 and on the system's, with the same output as
each other and as the Go and Perl examples.  Skips without ocamlfind and ocamlopt
(ocaml-nox, ocaml-findlib) or a C compiler."""

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
from generator.ocaml import Conventions, plan, render
from support import BUILD, LIBDIR, coverage_section, ROOT, SPECS, have_system_libvirt, needs_build, on_pyvirt, run

OCAML = ROOT / "bindings" / "ocaml"
OUT = BUILD / "bindings" / "ocaml"
SITE = OUT / "site"          # `ocamlfind install -destdir`: the package as users get it
BIN = OUT / "bin"
EXAMPLES = sorted(p.stem for p in (OCAML / "examples").glob("*.ml"))
TESTS = sorted(p.stem for p in (OCAML / "tests").glob("test_*.ml"))

pytestmark = [needs_build,
              pytest.mark.skipif(shutil.which("ocamlfind") is None or shutil.which("ocamlopt") is None,
                                 reason="OCaml is not installed (apt-get install ocaml-nox ocaml-findlib)"),
              pytest.mark.skipif(shutil.which("gcc") is None and shutil.which("cc") is None,
                                 reason="no C compiler")]


def build_env() -> dict:
    # Either library's headers work (they are identical); ours are always there.
    return dict(os.environ, PKG_CONFIG_PATH=str(LIBDIR / "pkgconfig"), OCAMLPATH=str(SITE))


def _ok(r: subprocess.CompletedProcess) -> None:
    assert r.returncode == 0, r.stdout + r.stderr


def _compile(sources: list[Path], exe: Path, native: bool = True) -> None:
    """Compile copies of sources (ocamlfind writes its objects beside them)."""
    src = BIN / "src" / exe.name
    shutil.rmtree(src, ignore_errors=True)
    src.mkdir(parents=True)
    for s in sources:
        shutil.copy(s, src / s.name)
    tool = "ocamlopt" if native else "ocamlc"
    _ok(subprocess.run(["ocamlfind", tool, "-package", "pyvirt,unix", "-linkpkg",
                        "-ccopt", f"-L{LIBDIR}", *[s.name for s in sources], "-o", str(exe)],
                       cwd=src, env=build_env(), capture_output=True, text=True, timeout=120))


@pytest.fixture(scope="module")
def built() -> Path:
    subprocess.run([sys.executable, "-m", "generator", "--bindings", str(ROOT / "bindings"),
                    str(BUILD), *map(str, SPECS)], cwd=ROOT, check=True)
    _ok(subprocess.run(["make"], cwd=OUT, env=build_env(), capture_output=True, text=True,
                       timeout=300))
    shutil.rmtree(SITE, ignore_errors=True)
    SITE.mkdir(parents=True)
    _ok(subprocess.run(["make", "install", f"DESTDIR={SITE}"], cwd=OUT, env=build_env(),
                       capture_output=True, text=True, timeout=60))
    BIN.mkdir(exist_ok=True)
    for t in TESTS:
        _compile([OCAML / "tests" / "harness.ml", OCAML / "tests" / f"{t}.ml"], BIN / t)
    for e in EXAMPLES:
        _compile([OCAML / "examples" / f"{e}.ml"], BIN / e)
    return OUT


def system_env() -> dict:
    env = dict(os.environ)
    env.pop("LD_LIBRARY_PATH", None)
    return env


libraries = pytest.mark.parametrize("library", ["pyvirt", pytest.param("system", marks=pytest.mark.skipif(
    not have_system_libvirt(), reason="libvirt0 is not installed"))])


@libraries
@pytest.mark.parametrize("name", TESTS)
def test_ocaml_tests(built, library, name):
    env = on_pyvirt() if library == "pyvirt" else system_env()
    r = run([str(BIN / name)], env=env, timeout=60)
    assert r.returncode == 0 and "not ok" not in r.stdout, r.stdout + r.stderr
    assert re.search(r"^1\.\.\d+$", r.stdout, re.M)


def test_installed_package(built):
    listed = subprocess.run(["ocamlfind", "list"], env=build_env(), capture_output=True,
                            text=True).stdout
    assert re.search(r"^pyvirt\s", listed, re.M)
    for f in ("META", "pyvirt.cmi", "pyvirt.mli", "pyvirt.cmxa", "pyvirt.cma", "dllpyvirt_stubs.so"):
        assert (SITE / "pyvirt" / f).exists(), f


def test_no_run_path(built):
    """LD_LIBRARY_PATH must be able to choose the library: no RPATH/RUNPATH baked in."""
    if shutil.which("readelf") is None:
        pytest.skip("readelf is not installed")
    for f in (OUT / "dllpyvirt_stubs.so", BIN / EXAMPLES[0]):
        dyn = subprocess.run(["readelf", "-d", str(f)], capture_output=True, text=True).stdout
        assert "libvirt.so.0" in dyn
        assert "RPATH" not in dyn and "RUNPATH" not in dyn, f


def test_bytecode(built):
    """The .cma with its stub DLL: a bytecode build of an example prints the same."""
    exe = BIN / "list_domains.byte"
    _compile([OCAML / "examples" / "list_domains.ml"], exe, native=False)
    env = on_pyvirt({"CAML_LD_LIBRARY_PATH": str(SITE / "pyvirt")})
    byte, native = run([str(exe)], env=env), run([str(BIN / "list_domains")], env=env)
    _ok(byte)
    assert byte.stdout == native.stdout


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_same_output(built, example):
    ours = run([str(BIN / example)], env=on_pyvirt(), timeout=60)
    _ok(ours)
    go = BUILD / "bindings" / "go" / example     # built by test_go.py when Go is installed
    if go.exists():
        theirs = run([str(go)], env=on_pyvirt(), timeout=60)
        assert theirs.returncode == 0 and ours.stdout == theirs.stdout, "differs from Go's"
    perl_lib = BUILD / "bindings" / "perl" / "blib"     # built by test_perl.py
    if (perl_lib / "arch").exists():
        script = ROOT / "bindings" / "perl" / "examples" / f"{example}.pl"
        theirs = run(["perl", f"-I{perl_lib / 'lib'}", f"-I{perl_lib / 'arch'}", str(script)],
                     env=on_pyvirt(), timeout=60)
        assert theirs.returncode == 0 and ours.stdout == theirs.stdout, "differs from Perl's"
    if not have_system_libvirt():
        pytest.skip("libvirt0 is not installed: nothing to compare with")
    system = run([str(BIN / example)], env=system_env(), timeout=60)
    _ok(system)
    assert ours.stdout == system.stdout


def test_names_follow_conventions(built):
    """Every generated function is declared as Conventions says, in its module."""
    apis = [spec.load(str(p)) for p in SPECS]
    lib = plan(apis, load_overrides(str(OCAML / "overrides.toml")))
    conv = Conventions()
    assert conv.object_type("virDomainPtr") == "domain"
    assert conv.object_type("virNWFilterBindingPtr") == "nw_filter_binding"
    assert conv.object_module("virDomainPtr") == "Domain"
    assert conv.function("DomainLookupByName") == "domain_lookup_by_name"
    assert conv.function("GetXMLDesc") == "get_xml_desc"
    assert conv.function("MigrateToURI3") == "migrate_to_uri3"
    assert conv.function("Open") == "open_"
    assert conv.constant("VIR_DOMAIN_RUNNING") == "domain_running"
    assert conv.struct("_virDomainInfo") == "domain_info"
    mli = (built / "pyvirt.mli").read_text()
    sections = re.split(r"^module (\w+) : sig$", mli, flags=re.M)
    vals = {"": set(re.findall(r"^val (\w+) :", sections[0], re.M))}
    for mod, body in zip(sections[1::2], sections[2::2]):
        vals[mod] = set(re.findall(r"^  val (\w+) :", body, re.M))
    for f in lib.functions:
        assert f.name in vals[f.module], f.cname
    for module, t, _, _ in lib.objects:
        assert f"\ntype {t}\n" in mli and module in vals
    assert "val domain_running : int\n" in mli
    assert "  val get_name : domain -> string\n" in mli
    assert 'let domain_running = 1\n' in (built / "pyvirt.ml").read_text()


def test_coverage_report(built):
    head, left_out = coverage_section("OCaml")
    assert re.fullmatch(r"OCaml: \d+ of \d+ functions generated, \d+ left out", head)
    for name, why in left_out:
        assert name.startswith("vir") and why, (name, why)


def test_render_is_deterministic():
    apis = [spec.load(str(p)) for p in SPECS]
    ov = load_overrides(str(OCAML / "overrides.toml"))
    assert render(apis, ov, "../../../bindings/ocaml") == render(apis, ov, "../../../bindings/ocaml")


def test_signatures():
    """The plan's OCaml types for a few functions of each shape."""
    apis = [spec.load(str(p)) for p in SPECS]
    lib = plan(apis, load_overrides(str(OCAML / "overrides.toml")))
    sig = {(f.module, f.name): f.signature for f in lib.functions}
    assert sig["", "connect_open"] == "?name:string -> unit -> connect"
    assert sig["Domain", "get_state"] == "?flags:int -> domain -> int * int"
    assert sig["Domain", "get_info"] == "domain -> domain_info"
    assert sig["Domain", "is_active"] == "domain -> bool"
    assert sig["Domain", "get_memory_parameters"] == "?flags:int -> domain -> typed_params"
    assert sig["Connect", "list_all_domains"] == "?flags:int -> connect -> domain array"
    assert sig["Connect", "domain_event_register_any"] == (
        "connect -> domain option -> int -> domain_event_register_any_callback -> int")
    assert sig["", "event_add_timeout"] == "int -> (int -> unit) -> int"
    lifecycle = next(v for v in lib.variants if v.name == "domain_event_register_any_callback")
    assert lifecycle.constructors[0] == ("Domain_event", "connect -> domain -> int -> int -> unit")
    assert "virDomainRef" in lib.left_out and "virConnectDomainEventRegisterAny" not in lib.left_out


GUEST_URI = "test://" + str(ROOT / "tests" / "core" / "data" / "host-guest.xml")


@pytest.mark.parametrize("uri", ["test:///default", GUEST_URI])
def test_struct_outputs_same_on_both(built, uri):
    """Struct-array outputs: the same OUT lines on both libraries and as Go's test prints."""
    exe = str(BIN / "test_struct_outputs")
    ours = run([exe], env=on_pyvirt({"PYVIRT_GUEST_URI": uri}), timeout=60)
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
    theirs = run([exe], env=dict(system_env(), PYVIRT_GUEST_URI=uri), timeout=60)
    assert theirs.returncode == 0, theirs.stdout + theirs.stderr
    assert lines == [x for x in theirs.stdout.splitlines() if x.startswith("OUT ")]
