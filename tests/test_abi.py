"""ABI conformance: apispec/ and our libraries against the system's libvirt 9.0.

The system's headers are read with the same importer that made the spec
(tools/import_spec.py), so a difference here is a difference in the checked-in
spec; macros and struct layouts are compared through the C compiler itself.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import replace

import pytest

from generator import spec as specio
from generator.model import Enum, Function, FuncType, Struct, Typedef, Variable
from support import (BUILD, LIBDIR, ROOT, SPECS, compile_c, needs_build, needs_system_libvirt,
                     run)

sys.path.insert(0, str(ROOT / "tools"))
import import_spec  # noqa: E402

pytestmark = needs_system_libvirt
LIBS = ["libvirt", "libvirt-qemu", "libvirt-lxc"]


def c_facts(api) -> dict[tuple[str, str], object]:
    """What must match exactly: C types, names, values, versions (not annotations)."""
    facts = {}
    for d in api.decls:
        if isinstance(d, (Function, FuncType)):
            facts[("function", d.name)] = (d.ret.type, [(a.name, a.type) for a in d.args],
                                           getattr(d, "version", None))
        elif isinstance(d, Enum):
            facts[("enum", d.name)] = (d.type, d.value, d.sentinel)
        elif isinstance(d, (Typedef, Variable, Struct)):
            facts[(type(d).__name__, d.name)] = replace(d, info="")   # descriptions are ours
    return facts


@pytest.fixture(scope="module", params=LIBS)
def both(request):
    ours = specio.load(str(ROOT / "apispec" / f"{request.param}.xml"))
    system = import_spec.import_library(request.param, "/usr/include", str(import_spec.LIBDIR))
    return ours, system


def test_prototypes_enums_and_types_match(both):
    ours, system = both
    a, b = c_facts(ours), c_facts(system)
    missing = sorted(set(b) - set(a))
    extra = sorted(set(a) - set(b))
    differ = sorted(k for k in set(a) & set(b) if a[k] != b[k])
    assert (missing, extra, differ) == ([], [], [])


def test_symbol_versions_nodes_match(both):
    ours, system = both
    assert ours.versions == system.versions


def test_counts():
    counts = {n: len(specio.load(str(ROOT / "apispec" / f"{n}.xml")).exports) for n in LIBS}
    assert counts == {"libvirt": 517, "libvirt-qemu": 6, "libvirt-lxc": 4}


def test_compiler_accepts_every_prototype_and_value(tmp_path):
    """Independent of the importer: our prototypes redeclared after the system's
    headers must compile (a mismatch is a conflicting-types error), and every
    enum value must equal the system's."""
    from generator.c_filters import prototype
    lines = ["#define VIR_ENUM_SENTINELS", "#include <libvirt/libvirt.h>",
             "#include <libvirt/virterror.h>", "#include <libvirt/libvirt-qemu.h>",
             "#include <libvirt/libvirt-lxc.h>"]
    for path in SPECS:
        api = specio.load(str(path))
        lines += [prototype(f) + ";" for f in api.functions]
        lines += [f'_Static_assert({e.name} == {e.value}, "{e.name}");' for e in api.enums]
    src = tmp_path / "redeclare.c"
    src.write_text("\n".join(lines) + "\n")
    out = subprocess.run(["gcc", "-fsyntax-only", "-Werror", "-I/usr/include", str(src)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[:3000]


def _macros(include: str) -> dict[str, str]:
    src = "#include <libvirt/libvirt.h>\n#include <libvirt/virterror.h>\n" \
          "#include <libvirt/libvirt-qemu.h>\n#include <libvirt/libvirt-lxc.h>\n"
    out = subprocess.run(["gcc", "-dM", "-E", "-I", include, "-"], input=src, check=True,
                         capture_output=True, text=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"#define ((?:VIR|LIBVIR)\w*(?:\([^)]*\))?) ?(.*)", line)
        if m:
            found[m.group(1).replace(" ", "")] = re.sub(r"\s+", "", m.group(2))
    return found


@needs_build
def test_macros_match():
    ours, system = _macros(str(BUILD / "include")), _macros("/usr/include")
    system.pop("VIR_DEPRECATED", None), ours.pop("VIR_DEPRECATED", None)
    assert {k: ours.get(k) for k in system} == system


def _layout_probe(tmp_path, include: str) -> str:
    lines = ["#include <stdio.h>", "#include <stddef.h>", "#include <libvirt/libvirt.h>",
             "#include <libvirt/virterror.h>", "int main(void) {"]
    for api in (specio.load(str(p)) for p in SPECS):
        for s in api.of(Struct):
            lines.append(f'printf("{s.name} %zu %zu\\n", sizeof(struct {s.name}), '
                         f'_Alignof(struct {s.name}));')
            for f in s.fields:
                lines.append(f'printf("  {f.name} %zu %zu\\n", offsetof(struct {s.name}, {f.name}),'
                             f' sizeof(((struct {s.name} *)0)->{f.name}));')
    lines += ["return 0;", "}"]
    src = tmp_path / "probe.c"
    src.write_text("\n".join(lines))
    exe = compile_c(src, tmp_path / f"probe-{len(include)}", "-I", include,
                    "-Wno-deprecated-declarations")
    return run([str(exe)]).stdout


@needs_build
def test_struct_layouts_match(tmp_path):
    ours = _layout_probe(tmp_path, str(BUILD / "include"))
    assert ours.count("\n") > 100
    assert ours == _layout_probe(tmp_path, "/usr/include")


def _exports(path) -> list[str]:
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(path)], check=True,
                         capture_output=True, text=True).stdout
    names = []
    for line in out.splitlines():
        cols = line.split()
        if len(cols) >= 8 and cols[6] != "UND" and "@" in cols[7] and "PRIVATE" not in cols[7]:
            names.append(cols[7].replace("@@", "@"))
    return sorted(names)


@needs_build
@pytest.mark.parametrize("lib", LIBS)
def test_exported_symbols_match(lib):
    ours = _exports(LIBDIR / f"{lib}.so.0")
    assert ours == _exports(import_spec.LIBDIR / f"{lib}.so.0")
    assert len(ours) == {"libvirt": 517, "libvirt-qemu": 6, "libvirt-lxc": 4}[lib]


@needs_build
def test_nothing_else_exported():
    """local: * in the version scripts: no cffi or helper symbols leak out."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", str(LIBDIR / "libvirt.so.0")],
                         check=True, capture_output=True, text=True).stdout
    defined = [c[7] for c in (line.split() for line in out.splitlines())
               if len(c) >= 8 and c[6] not in ("UND", "ABS") and c[3] in ("FUNC", "OBJECT")]
    assert all("@LIBVIRT_" in n for n in defined), [n for n in defined if "@LIBVIRT_" not in n]
