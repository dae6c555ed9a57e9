"""Rendering: model -> {relative path: text}, one function per target. No I/O here."""

from __future__ import annotations

import dataclasses
import keyword
import os
from dataclasses import dataclass, field

import jinja2

from . import c_filters
from . import shim as shim_plan
from .events import EVENT_FAMILIES
from .model import Api, Enum, FuncType, Function, Macro, Struct, Typedef, Variable

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
LIBVIRT_VERSION = "9.0.0"


def environment(target: str, filters: dict) -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(os.path.join(TEMPLATES, target)),
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(filters)
    return env


@dataclass
class HeaderItem:
    """One thing a header declares, in order; an enum type gathers its values."""
    kind: str
    name: str
    decl: object = None
    values: list = field(default_factory=list)
    params: tuple | None = None
    value: str = ""


KINDS = {Function: "function", FuncType: "functype", Struct: "struct", Variable: "variable"}


def header_items(api: Api, file: str) -> list[HeaderItem]:
    items: list[HeaderItem] = []
    enums: dict[str, HeaderItem] = {}
    for d in api.in_file(file):
        if isinstance(d, Macro):
            items.append(HeaderItem("macro", d.name, d, params=d.params, value=d.value))
        elif isinstance(d, Typedef) and d.type == "enum":
            enums[d.name] = HeaderItem("enum", d.name, d)
            items.append(enums[d.name])
        elif isinstance(d, Enum):
            enums[d.type].values.append(d)
        elif isinstance(d, Typedef):
            items.append(HeaderItem("typedef", d.name, d))
        else:
            items.append(HeaderItem(KINDS[type(d)], d.name, d))
    return items


def headers(api: Api) -> dict[str, str]:
    env = environment("c", c_filters.FILTERS)
    tpl = env.get_template("header.h.j2")
    files = list(api.files) + (["libvirt"] if api.name == "libvirt" else [])
    out = {}
    for f in files:
        guard = ("" if f.startswith("libvirt") else "LIBVIRT_") + f.upper().replace("-", "_") + "_H"
        out[f"include/libvirt/{f}.h"] = tpl.render(api=api, file=f, guard=guard,
                                                   decls=header_items(api, f))
    lib = api.soname.split(".so")[0][3:]
    out[f"lib/pkgconfig/{api.name}.pc"] = env.get_template("libvirt.pc.j2").render(
        api=api, version=LIBVIRT_VERSION, lib=lib)
    return out


def pyname(name: str) -> str:
    """A C argument name usable in Python (libvirt has an argument called 'from')."""
    return name + "_" if keyword.iskeyword(name) else name


def _with_base(apis: list[Api], api: Api) -> list[Api]:
    """libvirt's own spec first, for the types that -qemu and -lxc use."""
    return [a for a in apis if a.name == "libvirt" and a is not api] + [api]


def _cdef_items(apis: list[Api], api: Api, natives: set[str]) -> list[HeaderItem]:
    """Types of every library up to this one, plus this one's C-implemented functions."""
    items = []
    for a in _with_base(apis, api):
        for f in a.files:
            for it in header_items(a, f):
                if it.kind in ("macro", "variable"):
                    continue
                if it.kind == "function" and (a is not api or it.name not in natives):
                    continue
                items.append(it)
    return items


def _shim_limits(p: shim_plan.Plan) -> shim_plan.Plan:
    """Kinds the bindings convert but no extern needs yet: no driver passes file
    descriptors back (virDomainLxcOpenNamespace), so the extern reports it unsupported."""
    if any(s.kind == "out_alloc_ints" for s in p.steps) and not p.unsupported:
        return dataclasses.replace(p, unsupported="file descriptor outputs")
    return p


def shim(apis: list[Api], c_sources: dict[str, str], handwritten: dict[str, str]) -> dict[str, str]:
    """Per library: cffi declarations, the embedding API, the version script, and
    the Python externs module; handwritten names are externs written under shim/."""
    env = environment("shim", {**c_filters.FILTERS, "pyname": pyname})
    out: dict[str, str] = {}
    for api in apis:
        ours = {f.name for f in api.functions}
        natives = shim_plan.natives_in(c_sources, api)
        modules = sorted({m for n, m in handwritten.items() if n in ours})
        plans = [_shim_limits(p) for p in shim_plan.plans(api, natives, set(handwritten) & ours)]
        if api.name == "libvirt":   # the error functions (pyvirt_reset_error) live here
            plans = [dataclasses.replace(p, c_entry=True)
                     if not p.native and not p.handwritten
                     and p.fn.name not in shim_plan.KEEPS_LAST_ERROR else p for p in plans]
        key = api.name.replace("-", "_")
        by_version: dict[str, list[str]] = {v.name: [] for v in api.versions}
        for d in api.exports:
            by_version[d.version].append(d.name)
        out[f"shim/{api.name}/symbols.map"] = env.get_template("symbols.map.j2").render(
            api=api, by_version={k: sorted(v) for k, v in by_version.items()})
        out[f"shim/{api.name}/cdef.h"] = env.get_template("cdef.h.j2").render(
            api=api, decls=_cdef_items(apis, api, natives))
        externs = {p.fn.name: dataclasses.replace(p.fn, name=p.extern_name)
                   for p in plans if not p.native}
        out[f"shim/{api.name}/embedding.h"] = "".join(
            c_filters.prototype(f) + ";\n" for f in externs.values())
        entries = [(p.fn, externs[p.fn.name]) for p in plans if p.c_entry]
        if entries:
            out[f"shim/{api.name}/entry.c"] = env.get_template("entry.c.j2").render(
                api=api, entries=entries, prefix=shim_plan.ENTRY_PREFIX)
        out[f"shim/{api.name}/coverage.txt"] = "".join(
            f"{p.fn.name}: " + ("C (shim/)" if p.native else
                                "hand-written Python (shim/pyvirt_shim)" if p.handwritten else
                                f"not converted: {p.unsupported}" if p.unsupported else
                                "Python extern") + "\n" for p in sorted(plans, key=lambda p: p.fn.name))
        structs = {}
        for a in _with_base(apis, api):
            structs.update(shim_plan.struct_fields(a))
        functypes = {}
        for a in _with_base(apis, api):
            functypes.update(shim_plan.functypes(a))
        values = {e.name: e.value for a in _with_base(apis, api) for e in a.enums}
        object_errors = {t: (values[code], values.get(dom), noun)
                         for t, (code, dom, noun) in shim_plan.OBJECT_ERRORS.items()
                         if code in values}
        ptrs = {}
        for a in _with_base(apis, api):
            ptrs.update(shim_plan.struct_ptrs(a))
        out[f"shimpy/pyvirt_externs/{key}.py"] = env.get_template("externs.py.j2").render(
            api=api, plans=plans, module=f"_pyvirt_{key}_cffi", struct_fields=structs,
            struct_ptrs=repr(ptrs),
            event_callbacks=repr({f: types for f, (_, types) in EVENT_FAMILIES.items()}),
            values=values, object_errors=repr(object_errors), functypes=repr(functypes),
            own_functypes=repr(shim_plan.functypes(api)),
            handwritten=modules, result_expressions=shim_plan.RESULT_EXPRESSIONS,
            keeps_last_error=shim_plan.KEEPS_LAST_ERROR,
            unchecked_arrays=shim_plan.UNCHECKED_ARRAYS,
            non_negative_counts=shim_plan.NON_NEGATIVE_COUNTS,
            required_outputs=shim_plan.REQUIRED_OUTPUTS, count_first=shim_plan.COUNT_FIRST)
    out["shimpy/pyvirt_externs/__init__.py"] = "# Generated by pyvirt's generator; do not edit.\n"
    return out
