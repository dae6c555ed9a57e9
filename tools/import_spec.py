"""Maintenance command: import or refresh apispec/ from the system's libvirt.

Reads the installed headers (/usr/include/libvirt) with pycparser and the symbol
versions of the installed libraries with readelf, and writes apispec/<lib>.xml.
The checked-in spec stays the source of truth: the build never runs this.

Only facts are imported (prototypes, enum values, struct layouts, macros,
symbol versions). Binding annotations come from the rules in annotate.py, and
descriptions are our own words, kept in apispec/descriptions.txt-style data
when written; nothing of libvirt's documentation text is read.

    python3 tools/import_spec.py [--include /usr/include] [--libdir DIR] [--out apispec]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field, replace

from pycparser import c_ast, c_generator, c_parser

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import annotate  # noqa: E402  (sibling module of this tool)
from generator import model as m  # noqa: E402
from generator import spec  # noqa: E402

# Which headers make up which library; order is the include order of the umbrella header.
LIBRARIES = {
    "libvirt": {
        "soname": "libvirt.so.0",
        "umbrella": ["libvirt.h", "virterror.h"],
        "headers": ["libvirt-common.h", "libvirt-host.h", "libvirt-domain.h",
                    "libvirt-domain-checkpoint.h", "libvirt-domain-snapshot.h",
                    "libvirt-event.h", "libvirt-interface.h", "libvirt-network.h",
                    "libvirt-nodedev.h", "libvirt-nwfilter.h", "libvirt-secret.h",
                    "libvirt-storage.h", "libvirt-stream.h", "virterror.h"],
    },
    "libvirt-qemu": {"soname": "libvirt-qemu.so.0", "umbrella": ["libvirt-qemu.h"],
                     "headers": ["libvirt-qemu.h"]},
    "libvirt-lxc": {"soname": "libvirt-lxc.so.0", "umbrella": ["libvirt-lxc.h"],
                    "headers": ["libvirt-lxc.h"]},
}

# Preprocessor plumbing that the header templates write themselves.
INFRA_MACROS = re.compile(r"^(__VIR_\w+|LIBVIRT_\w+_H|LIBVIRT_H|VIR_DEPRECATED|VIR_EXPORT_VAR)$")

FAKE_SYS_TYPES = "typedef unsigned long size_t;\ntypedef long ssize_t;\n"


def preprocess(include: str, umbrella: list[str], sentinels: bool) -> str:
    with tempfile.TemporaryDirectory() as fake:
        os.makedirs(os.path.join(fake, "sys"))
        with open(os.path.join(fake, "sys", "types.h"), "w") as f:
            f.write(FAKE_SYS_TYPES)
        with open(os.path.join(fake, "all.h"), "w") as f:
            f.writelines(f"#include <libvirt/{h}>\n" for h in umbrella)
        cmd = ["gcc", "-E", "-nostdinc", "-I", fake, "-I", include,
               "-D__VIR_LIBVIRT_H_INCLUDES__", "-DVIR_DEPRECATED=", "-DVIR_EXPORT_VAR=extern"]
        if sentinels:
            cmd.append("-DVIR_ENUM_SENTINELS")
        cmd.append(os.path.join(fake, "all.h"))
        return subprocess.run(cmd, check=True, capture_output=True, text=True).stdout


def ctype(node: c_ast.Node) -> str:
    """The C type of a declaration's type node, without the declared name."""
    gen = c_generator.CGenerator()
    if isinstance(node, c_ast.TypeDecl):
        node = c_ast.TypeDecl(None, node.quals, node.align, node.type)
    text = gen.visit(c_ast.Typename(None, [], None, _strip_names(node)))
    return re.sub(r"\s*\*", " *", text).replace("* *", "**").replace("* *", "**").strip()


def _strip_names(node):
    if isinstance(node, c_ast.TypeDecl):
        return c_ast.TypeDecl(None, node.quals, node.align, node.type)
    if isinstance(node, c_ast.PtrDecl):
        return c_ast.PtrDecl(node.quals, _strip_names(node.type))
    if isinstance(node, c_ast.ArrayDecl):
        return c_ast.ArrayDecl(_strip_names(node.type), node.dim, node.dim_quals)
    return node


def evaluate(expr, known: dict[str, int]) -> int:
    if isinstance(expr, c_ast.Constant):
        return int(expr.value.rstrip("uUlL"), 0)
    if isinstance(expr, c_ast.ID):
        return known[expr.name]
    if isinstance(expr, c_ast.UnaryOp):
        v = evaluate(expr.expr, known)
        return {"-": -v, "~": ~v, "+": v}[expr.op]
    if isinstance(expr, c_ast.BinaryOp):
        a, b = evaluate(expr.left, known), evaluate(expr.right, known)
        return {"<<": a << b, ">>": a >> b, "|": a | b, "&": a & b,
                "+": a + b, "-": a - b, "*": a * b}[expr.op]
    if isinstance(expr, c_ast.Cast):
        return evaluate(expr.expr, known)
    raise ValueError(f"cannot evaluate {expr}")


@dataclass
class Collected:
    decls: list = field(default_factory=list)   # model records in source order
    enum_values: dict = field(default_factory=dict)


def header_of(node) -> str | None:
    path = node.coord.file if node.coord else ""
    if "/libvirt/" not in path:
        return None
    return os.path.basename(path)[:-2]


def fields_of(struct: c_ast.Struct | c_ast.Union) -> list:
    out = []
    for d in struct.decls or []:
        t = d.type
        array = None
        if isinstance(t, c_ast.ArrayDecl):
            array = evaluate(t.dim, {})
            t = t.type
        inner = t.type if isinstance(t, c_ast.TypeDecl) else None
        if isinstance(inner, (c_ast.Struct, c_ast.Union)) and inner.decls:
            out.append(m.Field(d.name, "union" if isinstance(inner, c_ast.Union) else "struct",
                              array, tuple(fields_of(inner))))
        else:
            out.append(m.Field(d.name, ctype(t), array, deprecated=d.name in ("conn", "dom", "net") and struct.name == "_virError"))
    return out


def collect(ast: c_ast.FileAST, sentinels: set[str]) -> Collected:
    got = Collected()
    for ext in ast.ext:
        hdr = header_of(ext)
        if hdr is None:
            continue
        if isinstance(ext, c_ast.Typedef):
            t = ext.type
            if isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Enum):
                got.decls.append(m.Typedef(ext.name, hdr, "enum"))
                value = -1
                for e in t.type.values.enumerators:
                    value = evaluate(e.value, got.enum_values) if e.value is not None else value + 1
                    got.enum_values[e.name] = value
                    got.decls.append(m.Enum(e.name, hdr, ext.name, value, e.name in sentinels))
            elif isinstance(t, c_ast.PtrDecl) and isinstance(t.type, c_ast.FuncDecl):
                f = t.type
                got.decls.append(m.FuncType(ext.name, hdr, m.Return(ctype(f.type)), params(f)))
            elif isinstance(t, c_ast.TypeDecl) and isinstance(t.type, c_ast.Struct) and t.type.decls:
                raise ValueError(f"{ext.coord}: inline struct typedef not modelled")
            else:
                got.decls.append(m.Typedef(ext.name, hdr, ctype(t)))
        elif isinstance(ext, c_ast.Decl):
            t = ext.type
            if isinstance(t, c_ast.FuncDecl):
                got.decls.append(m.Function(ext.name, hdr, "", m.Return(ctype(t.type)), params(t)))
            elif isinstance(t, c_ast.Struct) and t.decls is not None:
                got.decls.append(m.Struct(t.name, hdr, tuple(fields_of(t))))
            elif ext.name and "extern" in ext.storage:
                got.decls.append(m.Variable(ext.name, hdr, ctype(t), ""))
            else:
                raise ValueError(f"{ext.coord}: declaration not modelled")
    return got


def params(f: c_ast.FuncDecl) -> tuple:
    out = []
    for i, p in enumerate(f.args.params if f.args else []):
        t = ctype(p.type)
        if t == "void":   # (void)
            continue
        # A few prototypes leave an argument unnamed (virStreamRecvHole's stream).
        out.append(m.Arg(p.name or UNNAMED.get(t, f"arg{i}"), t))
    return tuple(out)


UNNAMED = {"virStreamPtr": "stream"}

DEFINE = re.compile(r"^#\s*define\s+(\w+)(\([^)]*\))?\s*(.*)$")


def macros(path: str, hdr: str) -> list:
    out, lines = [], open(path).read().split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        while line.endswith("\\"):
            i += 1
            line = line[:-1].rstrip() + " " + lines[i].strip()
        i += 1
        d = DEFINE.match(line)
        if not d or INFRA_MACROS.match(d.group(1)):
            continue
        value = re.sub(r"/\*.*?\*/", "", d.group(3)).strip()
        value = re.sub(r"\s+", " ", value)
        args = d.group(2)
        out.append(m.Macro(d.group(1), hdr, value,
                           tuple(a.strip() for a in args[1:-1].split(",")) if args else None))
    return out


def symbol_versions(library: str) -> tuple[dict[str, str], list]:
    """name -> version node, and the version nodes with their parents, from readelf."""
    syms = subprocess.run(["readelf", "--dyn-syms", "-W", library], check=True,
                          capture_output=True, text=True).stdout
    versions: dict[str, str] = {}
    for line in syms.splitlines():
        cols = line.split()
        if len(cols) >= 8 and cols[6] != "UND" and "@" in cols[7]:
            name, _, node = cols[7].partition("@")
            node = node.lstrip("@")
            if "PRIVATE" not in node:
                versions[name] = node
    defs = subprocess.run(["readelf", "-V", "-W", library], check=True,
                          capture_output=True, text=True).stdout
    defs = defs.split("Version needs")[0]
    nodes: list = []
    for v in re.finditer(r"Name: (\S+)(?:\s+\S+: Parent 1: (\S+))?", defs):
        if v.group(1).startswith("LIB") and "PRIVATE" not in v.group(1):
            nodes.append(m.Version(v.group(1), v.group(2)))
    return versions, nodes


def import_library(lib: str, include: str, libdir: str) -> m.Api:
    info = LIBRARIES[lib]
    with_s = c_parser.CParser().parse(preprocess(include, info["umbrella"], True))
    without = c_parser.CParser().parse(preprocess(include, info["umbrella"], False))
    plain = {d.name for d in collect(without, set()).decls if isinstance(d, m.Enum)}
    every = {d.name for d in collect(with_s, set()).decls if isinstance(d, m.Enum)}
    ours = {h[:-2] for h in info["headers"]}
    decls = [d for d in collect(with_s, every - plain).decls if d.file in ours]
    versions, nodes = symbol_versions(os.path.join(libdir, info["soname"]))
    for i, d in enumerate(decls):
        if isinstance(d, (m.Function, m.Variable)):
            if d.name not in versions:
                raise SystemExit(f"{lib}: {d.name} is declared but not exported")
            decls[i] = replace(d, version=versions.pop(d.name))
    if versions:
        raise SystemExit(f"{lib}: exported but not declared: {sorted(versions)}")
    mac = []
    for h in info["headers"]:
        mac += macros(os.path.join(include, "libvirt", h), h[:-2])
    decls = [annotate.function(d) if isinstance(d, m.Function)
             else annotate.functype(d) if isinstance(d, m.FuncType)
             else annotate.struct(d) if isinstance(d, m.Struct) else d for d in decls]
    return m.Api(lib, info["soname"], tuple(h[:-2] for h in info["headers"]), tuple(nodes),
                 tuple(mac + decls))


LIBDIR = __import__("pathlib").Path("/usr/lib/x86_64-linux-gnu")


def keep_descriptions(api: m.Api, old: m.Api) -> m.Api:
    """Descriptions are ours, written in the spec: a refresh keeps them."""
    info = {(type(d), d.name): d.info for d in old.decls if d.info}
    return replace(api, decls=tuple(replace(d, info=info.get((type(d), d.name), d.info))
                                    for d in api.decls))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--include", default="/usr/include")
    ap.add_argument("--libdir", default=str(LIBDIR))
    ap.add_argument("--out", default=os.path.join(os.path.dirname(__file__), "..", "apispec"))
    opts = ap.parse_args()
    for lib in LIBRARIES:
        api = import_library(lib, opts.include, opts.libdir)
        path = os.path.join(opts.out, lib + ".xml")
        if os.path.exists(path):
            api = keep_descriptions(api, spec.load(path))
        with open(path, "wb") as f:
            f.write(spec.dump(api))
        print(f"{path}: {len(api.functions)} functions, {len(api.enums)} enumerators")


if __name__ == "__main__":
    main()
