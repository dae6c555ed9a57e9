"""The Python module ``libvirt`` (and libvirt_qemu, libvirt_lxc, libvirtaio),
libvirt-python compatible, calling pyvirt.api directly.

``render(apis, domain_names) -> {path: text}``: pure, no I/O; each module comes
with its type stub (``libvirt.pyi`` beside ``libvirt.py``, see :mod:`.stubs`).  Naming rules and
their exceptions live in :mod:`.names`; per-function facts in :mod:`.plan`.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import jinja2

from ..model import Api, Enum, Macro
from ..shim import source_domain
from . import names as names_mod
from .plan import Method, methods, module_name
from .stubs import precise_for, stub
from .typed_params import typed_dicts

TEMPLATES = os.path.join(os.path.dirname(__file__), "..", "templates", "python")
LIBVIRT_PYTHON_VERSION = "9.0.0"


@dataclass(frozen=True)
class PyClass:
    """One class of the module; ex) name='virDomain' parent='conn'"""
    name: str
    parent: str
    methods: tuple[Method, ...]


def environment() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES),
                              undefined=jinja2.StrictUndefined, trim_blocks=True,
                              lstrip_blocks=True, keep_trailing_newline=True)


def constants(api: Api) -> list[tuple[str, str]]:
    """Every enum value (sentinels aside) and every string macro, sorted by name."""
    out = {e.name: str(e.value) for e in api.of(Enum)
           if not e.sentinel or e.name in names_mod.CONSTANT_EXTRAS}
    for m in api.of(Macro):
        if m.params is None and m.value.startswith('"'):
            out[m.name] = repr(m.value[1:-1])
    return sorted(out.items())


def domain_names(c_sources: dict[str, str]) -> dict[int, str]:
    """The names libvirt prints for each error domain, from shim/errors.c (one place)."""
    for text in c_sources.values():
        m = re.search(r"domain_names\[\]\s*=\s*\{(.*?)\};", text, re.S)
        if m:
            return dict(enumerate(re.findall(r'"((?:[^"\\]|\\.)*)"', m.group(1))))
    raise ValueError("shim/errors.c: no domain_names[] table")


def _values(apis: list[Api]) -> dict[str, int]:
    return {e.name: e.value for a in apis for e in a.of(Enum)}


def _classes(ms: list[Method]) -> list[PyClass]:
    out = []
    for _ctype, (cls, parent) in names_mod.CLASSES.items():
        own = tuple(sorted((m for m in ms if m.cls == cls), key=lambda m: m.name))
        out.append(PyClass(cls, "stream" if cls == "virStream" else parent, own))
    return out


def _bound(api: Api, ms: list[Method], values: dict[str, int]) -> list[tuple[str, int]]:
    """Entry points the hand-written parts call: (C name, error domain of its file)."""
    planned = {m.fn.name for m in ms}
    return [(f.name, values.get(source_domain(f), 0))
            for f in api.functions if f.name not in planned]


def render(apis: list[Api], c_sources: dict[str, str]) -> dict[str, str]:
    env = environment()
    conv = names_mod.Conventions()
    values = _values(apis)
    out: dict[str, str] = {}
    for api in apis:
        ms = methods(api, conv, values)
        mod = module_name(api)
        if api.name == "libvirt":
            families = [(n, [c for c in codes if c in values])
                        for n, codes in names_mod.ERROR_FAMILIES.items()]
            text = env.get_template("libvirt.py.j2").render(
                api=api, version=LIBVIRT_PYTHON_VERSION, values=values, families=families,
                domain_names=repr(domain_names(c_sources)), helpers=names_mod.RESULT_HELPERS,
                keeps_last_error=names_mod.KEEPS_LAST_ERROR, py_checks=names_mod.PY_ARG_CHECKS,
                none_on_error=names_mod.NONE_ON_ERROR, list_counts=names_mod.LIST_COUNTS,
                module_methods=[m for m in ms if not m.cls], classes=_classes(ms),
                all_methods=ms, bound=_bound(api, ms, values),
                constants=constants(api))
        else:
            text = env.get_template("companion.py.j2").render(
                api=api, module=mod, methods=ms, values=values, constants=constants(api),
                helpers=names_mod.RESULT_HELPERS, keeps_last_error=names_mod.KEEPS_LAST_ERROR,
                py_checks=names_mod.PY_ARG_CHECKS, none_on_error=names_mod.NONE_ON_ERROR,
                list_counts=names_mod.LIST_COUNTS, bound=_bound(api, ms, values))
        out[f"python/{mod}.py"] = text
        precise = precise_for(ms)
        tds = typed_dicts(api) if api.name == "libvirt" else []
        out[f"python/{mod}.pyi"] = stub(text, precise, tds)
        if api.name == "libvirt":
            direct = {m.fn.name for m in ms if m.cls and m.result in ("value", "status")
                      and re.match(names_mod.NEVER_BLOCKS, m.fn.name)}
            out["python/libvirt_asyncio.py"] = env.get_template("asyncio.py.j2").render(
                api=api, module_methods=[m for m in ms if not m.cls], classes=_classes(ms),
                direct=direct)
            out["python/libvirt_asyncio.pyi"] = stub(out["python/libvirt_asyncio.py"],
                                                     precise, tds)
    out["python/libvirtaio.py"] = env.get_template("libvirtaio.py.j2").render()
    out["python/libvirtaio.pyi"] = stub(out["python/libvirtaio.py"], {}, [])
    return out
