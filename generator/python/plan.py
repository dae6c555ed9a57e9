"""The Python module's plan: for each C function, the method or function that
libvirt-python offers, its parameters, the pyvirt.api call it makes and how the
result comes back.  Templates only spell these facts out.
"""

from __future__ import annotations

import keyword
import re
from dataclasses import dataclass

from ..model import OBJECT_TYPES, Api, Function, Struct, Typedef
from ..shim import source_domain
from .names import (CLASSES, FIXED, MAXIMA, PARAM_HINTS, RENAMES, SUBMODULES, USER_MAXIMA,
                    Conventions)

SCALARS = {"int": "int", "unsigned int": "int", "long": "int", "unsigned long": "int",
           "long long": "int", "unsigned long long": "int", "size_t": "int",
           "unsigned char": "int", "double": "float", "char *": "str",
           "const char *": "str"}
MAXLEN = "_MAXLEN"
BYTE_BUFFERS = ("void *", "char *")


def names_in(length: str | None) -> set[str]:
    """The arguments a length annotation names; ex) 'maxinfo*maplen' -> both
    ('return', 'null' and macros such as VIR_UUID_BUFLEN aside)."""
    return {n for n in re.findall(r"[A-Za-z_]\w*", length or "")
            if n not in ("return", "null") and not re.fullmatch(r"[A-Z0-9_]+", n)}


def pyname(name: str) -> str:
    return name + "_" if keyword.iskeyword(name) else name


@dataclass(frozen=True)
class Param:
    """A parameter of the generated Python function; ex) name='flags' default='0'"""
    name: str
    hint: str
    default: str | None = None

    def decl(self) -> str:
        d = f" = {self.default}" if self.default is not None else ""
        return f"{self.name}: {self.hint}{d}"


@dataclass(frozen=True)
class Method:
    """One generated method (cls set) or module function (cls '').

    call: Python expressions, the pyvirt.api arguments in C order.
    result: how the api's value becomes libvirt-python's (a Result.KIND).
    result_cls/parent: for wrapped handles, the class and its constructor's first argument.
    """
    fn: Function
    cls: str
    name: str
    params: tuple[Param, ...]
    call: tuple[str, ...]
    result: str
    result_hint: str
    result_cls: str = ""
    parent: str = ""
    error_domain: int = 0
    fields: tuple[str, ...] = ()   # a "struct" result of scalar fields: their names, in order

    @property
    def signature(self) -> str:
        ps = [p.decl() for p in self.params]
        return ", ".join((["self"] if self.cls else []) + ps)

    @property
    def doc(self) -> str:
        return (self.fn.info or f"Calls {self.fn.name}.").replace("\\", "\\\\").replace('"""', "'''")


def _scalar_fields(api: Api, ptr_type: str) -> tuple[str, ...]:
    """The fields of the struct `ptr_type` points to, if all are plain scalars
    (the Python module then lists them without a lookup per call)."""
    typedefs = {d.name: d.type for d in api.decls if isinstance(d, Typedef)}
    target = typedefs.get(typedefs.get(ptr_type, "")[:-2], "")
    struct = next((d for d in api.decls if isinstance(d, Struct)
                   and "struct " + d.name == target), None)
    if struct is None or any(f.array or f.fields or "*" in f.type for f in struct.fields):
        return ()
    return tuple(f.name for f in struct.fields)


def _struct_ptrs(api: Api) -> set[str]:
    typedefs = {d.name: d.type for d in api.decls if isinstance(d, Typedef)}
    return {n for n, t in typedefs.items()
            if t.endswith(" *") and typedefs.get(t[:-2], "").startswith("struct ")}


def _parent(cls: str, result_cls: str, params: tuple[Param, ...], fn: Function) -> str:
    """The first constructor argument of a wrapped result."""
    me = "self" if cls else pyname(fn.args[0].name)
    if result_cls in ("virDomainSnapshot", "virDomainCheckpoint"):
        return me if cls in ("virDomain", "") else "self._dom"
    if result_cls == "virNetworkPort":
        return me if cls in ("virNetwork", "") else "self._net"
    other_conn = [a for a in fn.args[1:] if a.type == "virConnectPtr" and a.dir == "in"]
    if other_conn:       # virDomainMigrate: the domain lives on dconn
        return pyname(other_conn[0].name)
    if cls == "virConnect":
        return "self"
    if not cls:          # libvirt_qemu.qemuAttach(conn, ...)
        return me if fn.args[0].type == "virConnectPtr" else f"{me}._conn"
    return "self._conn"


def _types_from(fn: Function, api: Api, renames: dict[str, str]) -> str | None:
    """The core call of the getter matching a typed-parameter setter
    (virDomainSetMemoryParameters -> virDomainGetMemoryParameters), made with the
    setter's own arguments: libvirt-python reads each field's type from it."""
    getter = api.by_name.get(fn.name.replace("Set", "Get", 1)) if "Set" in fn.name else None
    if not isinstance(getter, Function):
        return None
    lengths = set().union(*(names_in(a.length) for a in getter.args))
    setter = {a.name for a in fn.args}
    args = []
    for i, a in enumerate(getter.args):
        if a.dir != "in" or a.name in lengths:
            continue
        if i == 0 and a.type in OBJECT_TYPES:
            args.append("self._o")
        elif a.name in setter:
            args.append(pyname(renames.get(a.name, a.name)))
        else:
            return None
    return f"_api_{getter.name}({', '.join(args)})"


def plan(fn: Function, api: Api, names: Conventions, values: dict[str, int]) -> Method:
    cls = names.class_of(fn)
    structs = _struct_ptrs(api)
    args = list(fn.args)
    call: list[str] = []
    if cls and fn.args and CLASSES.get(fn.args[0].type, ("",))[0] == cls:
        args = args[1:]
        call = ["self._o"]
    renames = RENAMES.get(fn.name, {})
    lengths = set().union(*(names_in(a.length) for a in fn.args))
    consumed = lengths | {a.opaque for a in fn.args if a.opaque} | {a.free for a in fn.args if a.free}
    out_lengths = set().union(*(names_in(a.length) for a in fn.args if a.dir != "in"))
    # lengths the caller gives: a peek's byte count, and the USER_MAXIMA table
    user = {a.length for a in fn.args if a.dir == "out" and a.type in BYTE_BUFFERS} \
        | {USER_MAXIMA.get(fn.name)}
    user.discard(None)
    # an input array whose length the caller states: checked, not passed on
    stated = {a.name: pyname(renames.get(a.length, a.length)) for a in fn.args
              if a.dir == "in" and a.length in user}
    stated_lengths = {a.length for a in fn.args if a.name in stated}
    fixed_args = FIXED.get(fn.name, {})
    params: list[Param] = []
    outs = []
    for a in args:
        n = pyname(renames.get(a.name, a.name))
        if MAXIMA.get(fn.name) == a.name:
            call.append(MAXLEN)
            continue
        if a.name in fixed_args:
            call.append(fixed_args[a.name])
            continue
        if a.dir != "in":
            if a.name not in consumed:
                outs.append(a)
            continue
        if a.name in consumed and a.name not in user:
            if a.name in out_lengths:
                call.append(MAXLEN)     # libvirt-python asks for everything
            continue
        hint = "Any"
        if a.type in OBJECT_TYPES:
            hint = f"Optional['{CLASSES[a.type][0]}']"
            expr = f"_unwrap({n})"
        elif a.type == "virTypedParameterPtr":
            hint = "Dict[str, Any]"
            getter = _types_from(fn, api, renames)
            hints = PARAM_HINTS.get(fn.name)
            expr = (f"_params_in({n}, lambda: {getter})" if getter
                    else f"_params_in({n}, hints={hints!r})" if hints else f"_params_in({n})")
        else:
            hint = SCALARS.get(a.type, "Any")
            if hint == "str" and a.type == "const char *":
                hint = "Optional[str]"
            expr = n
        if a.name in stated:
            expr = f"_sized({n}, {stated[a.name]}, '{fn.name}')"
        params.append(Param(n, hint, names.default(fn, a.name)))
        if a.name not in stated_lengths:
            call.append(expr)
    # a parameter with a default forces defaults on every later one
    seen_default = False
    fixed = []
    for p in params:
        if p.default is not None:
            seen_default = True
        elif seen_default:
            p = Param(p.name, p.hint, "None")
        fixed.append(p)
    params = fixed
    r = fn.ret
    result_cls, parent = "", ""
    fields: tuple[str, ...] = ()
    if r.type in OBJECT_TYPES:
        result, result_cls = "object", CLASSES[r.type][0]
        hint = f"'{result_cls}'"
    elif len(outs) == 1 and outs[0].type.endswith("Ptr **") and outs[0].type[:-3] in OBJECT_TYPES:
        result, result_cls = "objects", CLASSES[outs[0].type[:-3]][0]
        hint = f"List['{result_cls}']"
    elif any(o.type.startswith("virTypedParameterPtr") for o in outs):
        result, hint = "params", "Dict[str, Any]"
    elif len(outs) == 1 and outs[0].type in structs:
        result, hint = "struct", "List[Any]"
        fields = _scalar_fields(api, outs[0].type)
    elif outs:
        result, hint = ("value" if len(outs) == 1 else "list"), "Any"
    elif r.type in ("char *", "const char *"):
        result, hint = "value", "str"
    elif r.type == "void":
        result, hint = "none", "None"
    else:
        result, hint = "status", "int"
    if result_cls == "virConnect" and cls:
        result = "conn"      # virXxxGetConnect: the connection the object was made from
    elif result_cls and result_cls != "virConnect":
        parent = _parent(cls, result_cls, tuple(params), fn)
    return Method(fn, cls, names.method_name(fn), tuple(params), tuple(call), result, hint,
                  result_cls, parent, values.get(source_domain(fn), 0), fields)


def methods(api: Api, names: Conventions, values: dict[str, int]) -> list[Method]:
    return [plan(f, api, names, values) for f in api.functions if not names.skipped(f)]


def module_name(api: Api) -> str:
    return SUBMODULES.get(api.name, api.name.replace("-", "_"))
