"""The generator on a tiny spec: golden output, determinism, error locations,
and a compile check of what it emits. UPDATE_GOLDEN=1 rewrites the golden files."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from generator import render, spec
from generator.spec import SpecError

HERE = Path(__file__).parent
GOLDEN = HERE / "golden"


def tiny_outputs() -> dict[str, str]:
    api = spec.load(str(HERE / "tiny.xml"))
    files = render.headers(api)
    files.update(render.shim([api], {}, {}))
    return files


def test_golden():
    files = tiny_outputs()
    if os.environ.get("UPDATE_GOLDEN"):
        for rel, text in files.items():
            (GOLDEN / rel).parent.mkdir(parents=True, exist_ok=True)
            (GOLDEN / rel).write_text(text)
    on_disk = {str(p.relative_to(GOLDEN)): p.read_text() for p in GOLDEN.rglob("*") if p.is_file()}
    assert sorted(files) == sorted(on_disk)
    for rel, text in files.items():
        assert text == on_disk[rel], rel


def test_deterministic():
    assert tiny_outputs() == tiny_outputs()


def test_spec_round_trips():
    api = spec.load(str(HERE / "tiny.xml"))
    again = HERE / "again.xml"
    try:
        again.write_bytes(spec.dump(api))
        assert spec.load(str(again)) == api
    finally:
        again.unlink()


def test_model_facts():
    api = spec.load(str(HERE / "tiny.xml"))
    fns = {f.name: f for f in api.functions}
    assert fns["virOpen"].ret.error_value == "NULL"
    assert fns["virGetInfo"].ret.error_value == "-1"
    assert fns["virGetInfo"].args[1].dir == "out"
    assert [e.name for e in api.enums if e.sentinel] == ["VIR_STATE_LAST"]


@pytest.mark.parametrize("change, line, message", [
    ('<function name="virGetInfo" file="libvirt-host" version="LIBVIRT_0.1.0">',
     '<function name="virGetInfo" file="libvirt-host" version="LIBVIRT_9.9.9">',
     "virGetInfo: unknown version 'LIBVIRT_9.9.9'"),
    ('<enum name="VIR_STATE_ON" file="libvirt-host" type="virState" value="1"/>',
     '<enum name="VIR_STATE_ON" file="libvirt-host" type="virState" value="one"/>',
     "enum VIR_STATE_ON has a non-integer value 'one'"),
    ('<typedef name="virInfoPtr" file="libvirt-host" type="virInfo *"/>',
     '<typedef name="virInfoPtr" file="libvirt-nope" type="virInfo *"/>',
     "virInfoPtr: unknown file 'libvirt-nope'"),
    ('<arg name="flags" type="unsigned int"/>', '<arg name="flags"/>',
     "<arg> lacks attribute 'type'"),
    ('</struct>', '</strukt>', "Opening and ending tag mismatch"),
    ('<macro name="VIR_UUID_BUFLEN" file="libvirt-common" value="(16)"/>',
     '<macro name="VIR_UUID_BUFLEN" file="libvirt-common" value="(16)" param="long"/>',
     "macro VIR_UUID_BUFLEN: param='long' is not one of int, uint"),
])
def test_errors_name_file_and_line(tmp_path, change, line, message):
    text = (HERE / "tiny.xml").read_text()
    assert change in text
    where = text[: text.index(change)].count("\n") + 1
    bad = tmp_path / "bad.xml"
    bad.write_text(text.replace(change, line))
    with pytest.raises(SpecError) as err:
        spec.load(str(bad))
    assert str(err.value).startswith(f"{bad}:")
    assert message in str(err.value)
    reported = int(str(err.value).split(":")[1])
    assert abs(reported - where) <= 1


def test_emitted_header_compiles(tmp_path):
    for rel, text in tiny_outputs().items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text(text)
    src = tmp_path / "use.c"
    src.write_text('#include <libvirt/libvirt.h>\n'
                   'int main(void) { virInfo i; unsigned char m[VIR_CPU_MAPLEN(9)];\n'
                   '  (void)m; i.value.i = VIR_STATE_ON; return i.value.i - 1; }\n')
    for flags in ([], ["-DVIR_ENUM_SENTINELS"]):
        subprocess.run(["gcc", "-Wall", "-Werror", "-std=c99", "-pedantic", "-I",
                        str(tmp_path / "include"), str(src), "-o", str(tmp_path / "use"), *flags],
                       check=True)
    assert subprocess.run([str(tmp_path / "use")]).returncode == 0
