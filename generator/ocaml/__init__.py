"""The OCaml library pyvirt (bindings/ocaml): C stubs over libvirt.so.0 and a
typed module Pyvirt, generated from the spec.

``plan(apis, overrides) -> Library`` decides every fact the templates need (OCaml
names and types, the C local and conversion of each argument, what is left out and
why); ``render(apis, overrides, handwritten) -> {path: text}`` spells it out under
bindings/ocaml/ of the build folder (pyvirt_stubs.c, pyvirt.ml, pyvirt.mli, META,
Makefile).  Pure: the caller reads bindings/ocaml/overrides.toml and writes the files.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field


from .. import bindings as shared
from ..bindings import Unsupported
from ..render import environment
from ..model import OBJECT_TYPES, Api, Enum, Macro, Struct, Typedef
from ..shim import struct_ptrs as shim_struct_ptrs
from .names import SCALARS, Conventions

# Conversion kinds the stub template spells out; any other kind leaves a function out.
KINDS = {"object", "string", "scalar", "uuid", "callback", "buffer_max", "typed_in", "ints_in",
         "strings_in", "bytes_in", "out_scalar", "out_struct", "out_string", "out_uuid",
         "out_uuidstr", "out_ints", "out_strings", "out_objects", "typed_out", "typed_alloc",
         "out_alloc_strings", "out_bytes", "out_structs", "out_struct_array", "out_struct_block",
         "out_structs_counted", "out_alloc_bytes", "objects_in", "typed_grid",
         "out_alloc_ints", "auth"}
ARRAY_OUTPUTS = {"out_ints", "out_strings", "out_objects", "out_alloc_strings", "out_alloc_ints",
                 *shared.STRUCT_OUTPUTS}
NUMERIC_MACRO = re.compile(r"^[0-9\s()+*-]+$")
# Allocated by a stub before the call and released after it, success or not.
ALLOCATING = {"typed_in", "ints_in", "strings_in", "out_ints", "out_strings", "out_bytes",
              "out_structs", "out_structs_counted", "objects_in", "typed_grid",
              "typed_out", "callback"}


@dataclass(frozen=True)
class OStep:
    """One C argument of a generated stub; ex) kind='string' c='c_name' v='v_name'
    mltype='string' (inputs: v is the stub's OCaml argument; outputs: v is '').

    read/make: value -> C and C -> value conversions of scalars; obj: the object C
    type; length: the C local of an array's count or capacity, length_ctype its type."""
    kind: str
    arg: str
    c: str
    v: str = ""
    mltype: str = ""
    ctype: str = ""
    nullable: bool = False
    optional: bool = False
    label: str = ""
    read: str = ""
    make: str = ""
    obj: str = ""
    length: str = ""
    length_ctype: str = ""
    elem: str = ""
    capacity: int = 0
    shares_length: bool = False
    free: str = ""           # struct arrays: libvirt's free function for one element
    list_free: str = ""      # struct arrays: libvirt's free function for the whole list
    owned: bool = False      # struct arrays: each element's char * fields are the caller's
    count: str = "ret"       # output arrays: C expression of the elements filled

    @property
    def is_input(self) -> bool:
        return bool(self.v)


@dataclass(frozen=True)
class Event:
    """An event ID a RegisterAny function accepts, the trampoline it selects and the
    tag of the callback variant's constructor that must carry the closure."""
    const: str
    callback: str
    tag: int


@dataclass(frozen=True)
class OFunction:
    """One stub and its OCaml function: in module `module` (an object's) or top level."""
    cname: str
    module: str
    name: str
    stub: str
    steps: tuple[OStep, ...]
    result_kind: str
    ret_ctype: str
    ret_make: str
    ret_obj: str
    cargs: tuple[str, ...]
    fail: str
    callback_c: str
    callback_ctype: str
    events: tuple[Event, ...]
    event_c: str
    refcount: str
    receiver: str               # C type of the receiver ('' for none)
    receiver_type: str          # its OCaml type
    results: tuple[tuple[str, str], ...]   # (kind: 'ret' or step arg, OCaml type) in order
    unit_arg: bool              # every OCaml argument is optional: a final ()
    keyed: bool = False         # remembers its callback for an unregister function
    unregisters: bool = False   # passes back the callback a keyed function took
    synchronous: bool = False   # its callbacks run during the call: kept in a struct pv_cbs
    global_callbacks: bool = False   # process-wide hooks: kept in pv_globals

    @property
    def stub_args(self) -> list[str]:
        """The stub's OCaml arguments, in C order."""
        return (["v_self"] if self.receiver else []) + [s.v for s in self.steps if s.is_input]

    @property
    def stub_types(self) -> list[str]:
        out = [self.receiver_type] if self.receiver else []
        out += [(f"({s.mltype})" if "->" in s.mltype else s.mltype) for s in self.steps if s.is_input]
        return out or ["unit"]

    @property
    def result_type(self) -> str:
        if not self.results:
            return "unit"
        return " * ".join((f"({t})" if "*" in t or "->" in t else t) for _, t in self.results)

    @property
    def signature(self) -> str:
        """The OCaml type of the public function; optional arguments first."""
        parts = [f"?{s.label}:{s.mltype.removesuffix(' option')}" for s in self.steps if s.optional]
        if self.receiver:
            parts.append(self.receiver_type)
        parts += [(f"({s.mltype})" if "->" in s.mltype else s.mltype)
                  for s in self.steps if s.is_input and not s.optional]
        if self.unit_arg:
            parts.append("unit")
        return " -> ".join(parts + [self.result_type])

    @property
    def ml_params(self) -> str:
        """The public function's parameters as written in pyvirt.ml."""
        out = []
        for s in self.steps:
            if s.optional:
                out.append(f"?{s.label}" if s.nullable else f"?({s.label} = 0)")
        if self.receiver:
            out.append("self")
        out += [s.label for s in self.steps if s.is_input and not s.optional]
        if self.unit_arg:
            out.append("()")
        return " ".join(out)

    @property
    def ml_call(self) -> str:
        args = (["self"] if self.receiver else []) + [s.label for s in self.steps if s.is_input]
        return f"{self.stub} {' '.join(args) or '()'}"

    @property
    def byte_stub(self) -> bool:
        return len(self.stub_args) > 5

    @property
    def allocated(self) -> list[OStep]:
        return [s for s in self.steps if s.kind in ALLOCATING]


@dataclass(frozen=True)
class OField:
    name: str
    mltype: str
    make: str            # C expression of a value from c (const struct X *)


@dataclass(frozen=True)
class OStruct:
    cname: str
    name: str
    fields: tuple[OField, ...]
    owned: tuple[str, ...] = ()   # char * fields a caller-filled element owns
    uses: tuple[str, ...] = ()    # structs of its array fields: declared before it


@dataclass(frozen=True)
class OCallback:
    """A callback type: a C trampoline that calls the OCaml closure."""
    cname: str
    ret: str
    cparams: tuple[str, ...]
    makes: tuple[str, ...]           # C expressions of the closure's arguments, in order
    mltype: str                      # the closure's OCaml type
    opaque: str
    constructor: str
    # Synchronous (the stream handlers): found by type in the user data (struct
    # pv_cbs); answers store what the closure returns (r, or Field(r, i) of a
    # tuple); done is the C result when it raised nothing.
    answers: tuple[str, ...] = ()
    done: str = ""
    code: str = ""                   # C expression of the closure's root (value *)
    # Given to a hook: the OCaml side makes a closure of pv_call_<cname> over the C
    # pointer; caller: (OCaml type, C conversion) of each argument but the data.
    caller: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Variant:
    """The callback argument of a RegisterAny function: one constructor per callback type."""
    name: str
    constructors: tuple[tuple[str, str], ...]   # (constructor, closure type)


@dataclass
class Library:
    functions: list[OFunction] = field(default_factory=list)
    objects: list[tuple[str, str, str, str]] = field(default_factory=list)  # (module, type, C type, free)
    constants: list[tuple[str, str, str]] = field(default_factory=list)     # (name, type, value)
    structs: list[OStruct] = field(default_factory=list)     # a struct after those it uses
    callbacks: list[OCallback] = field(default_factory=list)
    variants: list[Variant] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    libraries: list[str] = field(default_factory=list)
    sliced: set[str] = field(default_factory=set)   # structs also copied as array fields

    def module_functions(self, module: str) -> list[OFunction]:
        return [f for f in self.functions if f.module == module]


def _scalar(t: str, enums: dict[str, str]) -> tuple[str, str, str]:
    if t in SCALARS:
        return SCALARS[t]
    if t in enums:
        return SCALARS.get(enums[t], SCALARS["int"])
    raise Unsupported(f"scalar type {t}")


class _Planner:
    def __init__(self, apis: list[Api], overrides: dict, conv: Conventions):
        self.apis, self.ov, self.conv = apis, overrides, conv
        all_decls = [d for a in apis for d in a.decls]
        self.enums = {d.name: d.type for d in all_decls
                      if isinstance(d, Typedef) and (d.type == "enum" or d.type in SCALARS)}
        self.structs = {d.name: d for d in all_decls if isinstance(d, Struct)}
        self.ptrs = shim_struct_ptrs(Api("all", "", (), (), tuple(all_decls)))
        self.typedefs = {d.name: d.type for d in all_decls if isinstance(d, Typedef)}
        self.lib = Library()
        self.used_structs: dict[str, OStruct] = {}
        self.used_callbacks: dict[str, OCallback] = {}
        self.variants: dict[str, Variant] = {}

    def struct(self, cname: str) -> OStruct:
        if cname in self.used_structs:
            return self.used_structs[cname]
        if cname not in self.structs:     # a typedef's name: its struct
            td = self.typedefs.get(cname, "")
            cname = td[7:] if td.startswith("struct ") else cname
            if cname in self.used_structs:
                return self.used_structs[cname]
        s = self.structs[cname]
        fields = []
        names = {f.name for f in s.fields}
        counts = {f.length for f in s.fields if f.length}   # the array says its length
        uses = []
        for f in s.fields:
            cf = "c->" + f.name
            if f.name in counts:
                continue
            shape = shared.nested_field(s, f, self.ptrs)
            if shape == "object":    # borrowed from the record: the OCaml value takes a reference
                mt = self.conv.object_type(f.type)
                make = f"(vir{f.type[3:-3]}Ref({cf}), pv_wrap_{mt}({cf}))"
            elif shape == "typed":
                mt, make = "typed_params", f"pv_typed_to_value({cf}, c->n{f.name})"
            elif shape == "structs":
                inner = self.struct(self.ptrs[f.type])
                self.lib.sliced.add(inner.cname)
                uses.append(inner.cname)
                mt, make = inner.name + " array", f"pv_structs_{inner.cname}({cf}, c->n{f.name})"
            elif f.length and f.length in names and f.type.endswith("Ptr"):   # identities, nidentity
                elem = self.struct(f.type[:-3])
                self.lib.sliced.add(elem.cname)
                uses.append(elem.cname)
                mt, make = elem.name + " array", f"pv_structs_{elem.cname}({cf}, {cf} ? c->{f.length} : 0)"
            elif f.array and f.type == "char":
                mt, make = "string", f"caml_copy_string({cf})"
            elif f.array and f.type == "unsigned char":
                mt, make = "string", f"caml_alloc_initialized_string({f.array}, (const char *){cf})"
            elif f.type in ("char *", "const char *"):
                mt, make = "string", f"caml_copy_string({cf} ? {cf} : \"\")"
            elif f.type == "char **" and "n" + f.name in names:       # devAlias, ndevAlias
                mt, make = "string array", f"pv_strings_value({cf}, c->n{f.name})"
            elif f.type == "unsigned char *" and f.name + "len" in names:   # cpumap, cpumaplen
                mt, make = "string", (f"caml_alloc_initialized_string({cf} ? c->{f.name}len : 0, "
                                      f"(const char *){cf})")
            elif not f.array and not f.fields and (f.type in SCALARS or f.type in self.enums):
                mt, _, mk = _scalar(f.type, self.enums)
                make = f"{mk}({cf})"
            else:
                raise Unsupported(f"struct {s.name} field {f.name}: {f.type}")
            if not re.match(r"^[a-z_][A-Za-z0-9_']*$", f.name):
                raise Unsupported(f"struct {s.name} field {f.name}: not an OCaml field name")
            fields.append(OField(self.conv._safe(f.name), mt, make))
        if all(f.mltype == "float" for f in fields):
            raise Unsupported(f"struct {s.name}: only floats (OCaml unboxes such records)")
        os_ = OStruct(cname, self.conv.struct(cname), tuple(fields), shared.owned_strings(s),
                      tuple(uses))
        self.used_structs[cname] = os_
        return os_

    def callback(self, cb: shared.Callback) -> OCallback:
        if cb.unsupported:
            raise Unsupported(f"callback {cb.name}: {cb.unsupported}")
        if cb.name in self.used_callbacks:
            return self.used_callbacks[cb.name]
        conv = self.conv
        by_name = {s.arg.name: s for s in cb.steps}
        lengths = {s.length for s in cb.steps if s.length}
        makes, types, opaque = [], [], ""
        if not cb.synchronous and cb.outputs:
            raise Unsupported(f"callback {cb.name}: outputs of a callback called later")
        answers: list[tuple[str, str]] = []     # (C statement with {r}, OCaml type)
        done = "0"
        nested = {n.name: n for n in cb.nested}
        frees = {x.arg.free: x for x in cb.steps if x.kind == "callback" and x.arg.free}
        for a in cb.args:
            s = by_name.get(a.name)
            if a.type == "void *" and cb.global_:   # the data of a callback it is given
                continue
            if a.type == "void *":
                opaque = a.name
            elif a.name in frees:                   # its free function: unit -> unit
                data = frees[a.name].arg.opaque
                makes.append(f"pv_cfn_closure(\"pyvirt.call_free\", (void (*)(void)){a.name}, {data})")
                types.append("(unit -> unit)")
            elif s is not None and s.kind == "callback" and s.ctype in nested:
                inner = self._caller(nested[s.ctype])
                makes.append(f"pv_cfn_closure(\"pyvirt.call_{inner.cname}\", "
                             f"(void (*)(void)){a.name}, {s.arg.opaque})")
                types.append(f"({inner.mltype})")
            elif a.name in lengths:
                continue
            elif s is None:
                raise Unsupported(f"callback {cb.name}: argument {a.name}")
            elif s.kind == "object":
                # The callback's object is borrowed: the OCaml value owns a new reference.
                makes.append(f"pv_wrap_{conv.object_type(a.type)}((vir{a.type[3:-3]}Ref({a.name}), {a.name}))")
                types.append(conv.object_type(a.type))
            elif s.kind == "string":
                makes.append(f"caml_copy_string({a.name} ? {a.name} : \"\")")
                types.append("string")
            elif s.kind == "scalar":
                mt, _, mk = _scalar(a.type, self.enums)
                makes.append(f"{mk}({a.name})")
                types.append(mt)
            elif s.kind == "typed_in":
                makes.append(f"pv_typed_to_value({a.name}, {s.length})")
                types.append("typed_params")
            elif s.kind == "struct_in":   # a struct given to read: a record
                st = self.struct(s.ctype)
                makes.append(f"pv_struct_{st.cname}({a.name} ? {a.name} : "
                             f"&(const struct {st.cname}){{0}})")
                types.append(st.name)
            elif s.kind == "bytes_in":    # the sink's data: it takes all of it
                makes.append(f"caml_alloc_initialized_string({s.length}, {a.name})")
                types.append("string")
                done = f"(int){s.length}"
            elif s.kind == "out_bytes":   # the source's room; the closure returns the data
                makes.append(f"Val_long({s.length})")
                types.append("int")
                answers.append((f"ret = (int)pv_bytes_into({{r}}, {a.name}, {s.length});", "string"))
                done = "ret"
            elif s.kind == "out_scalar":
                mt, rd, _ = _scalar(s.ctype, self.enums)
                answers.append((f"*{a.name} = ({s.ctype}){rd}({{r}});", mt))
            else:
                raise Unsupported(f"callback {cb.name}: {s.kind}")
        if not makes:
            raise Unsupported(f"callback {cb.name}: no arguments")
        if cb.global_ and cb.ft.ret.type == "int":   # a watch or timer id, or a status
            answers.append(("ret = Int_val({r});", "int"))
            done = "ret"
        result = " * ".join(t for _, t in answers) or "unit"
        stores = tuple(st.format(r="r" if len(answers) == 1 else f"Field(r, {i})")
                       for i, (st, _) in enumerate(answers))
        oc = OCallback(cb.name, cb.ft.ret.type, tuple(a.decl() for a in cb.args), tuple(makes),
                       " -> ".join(types + [result]), opaque, conv.callback_constructor(cb.name),
                       stores, done if (cb.synchronous or answers) else "",
                       (f"pv_cbs_find(&pv_globals, \"{cb.name}\")" if cb.global_
                        else f"pv_cbs_find((struct pv_cbs *){opaque}, \"{cb.name}\")"
                        if cb.synchronous else f"(value *){opaque}"))
        self.used_callbacks[cb.name] = oc
        return oc

    def _caller(self, inner: shared.Callback) -> OCallback:
        """A C callback a hook is given, as an OCaml closure (pv_call_<name>)."""
        oc = self.callback(inner)
        args = []
        for a in inner.args:
            if a.type == "void *":
                continue
            if a.type not in SCALARS and a.type not in self.enums:
                raise Unsupported(f"callback {inner.name}: argument {a.name} given back to C")
            mt, rd, _ = _scalar(a.type, self.enums)
            args.append((mt, f"({a.type}){rd}"))
        oc = dataclasses.replace(oc, caller=tuple(args))
        self.used_callbacks[inner.name] = oc
        return oc

    def step(self, b: shared.Binding, s, lengths: dict[str, str]) -> OStep:
        conv, a, k = self.conv, s.arg, s.kind
        c, v = conv.cvar(a.name), "v_" + a.name
        label = conv.function(a.name)
        if k == "object":
            t = conv.object_type(s.ctype)
            return OStep(k, a.name, c, v, t + (" option" if a.nullable else ""), a.type,
                         nullable=a.nullable, label=label, obj=t)
        if k == "string":
            return OStep(k, a.name, c, v, "string option" if a.nullable else "string",
                         "const char *", nullable=a.nullable, label=label)
        if k in ("scalar", "buffer_max"):
            mt, rd, mk = _scalar(a.type, self.enums)
            return OStep(k, a.name, c, v, mt, a.type, label=label, read=rd, make=mk)
        if k == "uuid":
            return OStep(k, a.name, c, v, "string", "const unsigned char *", label=label)
        if k == "objects_in":     # a NULL-terminated array
            t = conv.object_type(s.ctype)
            return OStep(k, a.name, c, v, t + " array", s.ctype, label=label, obj=t)
        if k == "auth":   # virConnectAuth: a record {credtype; callback} (types.j2)
            return OStep(k, a.name, c, v, "auth option", a.type, nullable=True, label=label)
        if k in ("typed_in", "strings_in", "bytes_in", "ints_in"):
            n = shared.length_arg(b, s.length or a.length)
            ctype = a.type.replace("const ", "").rstrip(" *").strip()
            mt, rd = {"typed_in": ("typed_params", ""), "strings_in": ("string array", ""),
                      "bytes_in": ("string", "")}.get(k, ("", ""))
            if k == "ints_in":
                et, rd, _ = _scalar(ctype, self.enums)
                mt = et + " array"
            return OStep(k, a.name, c, v, mt, ctype, label=label, read=rd,
                         length=conv.cvar(n.name), length_ctype=n.type)
        if k == "callback":
            return OStep(k, a.name, c, v, "", s.ctype, label=label)
        if k == "out_scalar":
            mt, _, mk = _scalar(s.ctype, self.enums)
            return OStep(k, a.name, c, mltype=mt, ctype=s.ctype, make=mk)
        if k == "out_struct":
            if a.length:
                raise Unsupported(f"output {a.name}: an array of {s.ctype}")
            st = self.struct(s.ctype)
            return OStep(k, a.name, c, mltype=st.name, ctype="struct " + s.ctype, elem=s.ctype)
        if k in ("out_string", "out_uuid", "out_uuidstr", "out_bytes"):
            pass
        if k in ("out_string", "out_uuid", "out_uuidstr"):
            return OStep(k, a.name, c, mltype="string")
        if k == "out_alloc_strings":
            return OStep(k, a.name, c, mltype="string array")
        if k == "out_alloc_ints":   # file descriptors: counted by the result or an output
            if s.length == "return":
                return OStep(k, a.name, c, mltype="int array", ctype="int", make="Val_int")
            n = shared.length_arg(b, s.length)
            return OStep(k, a.name, c, mltype="int array", ctype="int", make="Val_int",
                         length=conv.cvar(n.name), length_ctype=n.type.rstrip(" *"),
                         count=conv.cvar(n.name))
        if k in ("out_ints", "out_strings", "out_bytes"):
            cap, count = shared.output_array(b, k, a, s.length, lengths, self._expr, "ret")
            if k == "out_ints":
                et, _, mk = _scalar(s.ctype, self.enums)
                return OStep(k, a.name, c, mltype=et + " array", ctype=s.ctype, make=mk, length=cap,
                             count=count)
            return OStep(k, a.name, c, mltype="string array" if k == "out_strings" else "string",
                         ctype="char *" if k == "out_strings" else "char", length=cap,
                         nullable=a.nullable and k == "out_bytes")
        if k == "out_alloc_bytes":
            if not a.length:
                raise Unsupported(f"output {a.name}: bytes whose length the spec does not give")
            return OStep(k, a.name, c, mltype="string", length=self._expr(b, a.length))
        if k == "out_structs_counted":
            st = self.struct(s.ctype)
            n = shared.length_arg(b, s.length)
            return OStep(k, a.name, c, mltype=st.name + " array", ctype="struct " + s.ctype,
                         elem=s.ctype, length=conv.cvar(n.name), length_ctype="int",
                         owned=bool(st.owned), count=conv.cvar(n.name))
        if k in shared.STRUCT_OUTPUTS:
            if b.result != "count":
                raise Unsupported(f"output {a.name}: an array whose count the result does not give")
            st = self.struct(s.ctype)
            cap = ""
            if k == "out_structs":
                cap = lengths.get(s.length or a.length or "", "")
                if not cap:
                    raise Unsupported(f"output {a.name}: no capacity argument")
            return OStep(k, a.name, c, mltype=st.name + " array", ctype="struct " + s.ctype,
                         elem=s.ctype, length=cap, free=b.element_free(s),
                         list_free=b.list_free(s), owned=bool(st.owned))
        if k == "out_objects":
            t = conv.object_type(s.ctype)
            return OStep(k, a.name, c, mltype=t + " array", ctype=s.ctype, obj=t)
        if k == "typed_grid":       # elem: a row's length; count: the rows
            row, rows = shared.grid(s.length)
            return OStep(k, a.name, c, mltype="typed_params array",
                         length=self._expr(b, s.length), elem=self._expr(b, row),
                         count=self._expr(b, rows))
        if k in ("typed_out", "typed_alloc"):
            n = shared.length_arg(b, s.length)
            cap = self.ov.get("typed_capacity", {}).get(b.fn.name, {}).get("capacity", 0)
            return OStep(k, a.name, c, mltype="typed_params", length=conv.cvar(n.name),
                         length_ctype=n.type.rstrip(" *"), capacity=cap)
        raise Unsupported(f"conversion kind {k}")

    def _expr(self, b: shared.Binding, expr: str) -> str:
        """A length expression of the spec in C (the result is ret)."""
        return shared.binding_length(b, expr, self.conv.cvar, self.conv.cvar, "(int){}".format,
                                     "ret")

    def _variant(self, b: shared.Binding, cbs: list[OCallback]) -> Variant:
        name = self.conv.function(b.stem) + "_callback"
        var = Variant(name, tuple((c.constructor, c.mltype) for c in cbs))
        self.variants[name] = var
        return var

    def function(self, b: shared.Binding) -> OFunction:
        conv, fn = self.conv, b.fn
        if b.unsupported:
            raise Unsupported(b.unsupported)
        if b.result not in shared.RESULTS:
            raise Unsupported(f"result {b.result or fn.ret.type}")
        for s in b.steps:
            if s.kind not in KINDS:
                raise Unsupported(f"argument {s.arg.name}: conversion kind {s.kind}")
        lengths = {s.arg.name: conv.cvar(s.arg.name) for s in b.steps if s.kind == "buffer_max"}
        steps: list[OStep] = []
        counted: set[str] = set()
        for s in b.steps:
            if b.owner and s is b.steps[0]:
                continue
            os_ = self.step(b, s, lengths)
            if os_.is_input and os_.length and os_.kind != "buffer_max":
                if os_.length in counted:
                    os_ = dataclasses.replace(os_, shares_length=True)
                counted.add(os_.length)
            steps.append(os_)
        # The callback argument's type: a closure, or a variant for a RegisterAny family.
        cstep = b.callback_step
        events: tuple[Event, ...] = ()
        cb_c = event_c = ""
        ocs: dict[str, OCallback] = {}
        if cstep is not None:
            if b.events:
                supported: list[OCallback] = []
                evs = []
                for e in b.events:
                    try:
                        oc = self.callback(e.callback)
                    except Unsupported as why:
                        self.lib.left_out[f"{fn.name}({e.enum})"] = str(why)
                        continue
                    if oc not in supported:
                        supported.append(oc)
                    evs.append(Event(e.enum, oc.cname, supported.index(oc)))
                events = tuple(evs)
                event_c = conv.cvar("eventID")
                cbtype = self._variant(b, supported).name
            else:
                ocs = {cs.arg.name: self.callback(cb) for cs, cb in zip(b.callback_steps, b.callbacks)}
                oc = ocs[cstep.arg.name]
                cb_c, cbtype = oc.cname, oc.mltype
            steps = [dataclasses.replace(p, mltype=ocs[p.arg].mltype if not b.events else cbtype)
                     if p.kind == "callback" else p for p in steps]
        # Trailing flags and nullable arguments are optional (?flags, ?name).
        inputs = [p for p in steps if p.is_input]
        optional: set[str] = set()
        for p in reversed(inputs):
            if (p.kind == "scalar" and p.arg == "flags" and p.mltype == "int") or p.nullable:
                optional.add(p.arg)
            else:
                break
        steps = [dataclasses.replace(p, optional=p.arg in optional) if p.is_input else p
                 for p in steps]
        unit_arg = not b.owner and all(p.optional for p in steps if p.is_input)
        by_arg = {s.arg: s for s in steps}
        length_of = {s.length[2:]: s for s in steps if s.length and s.kind in (
            "typed_in", "strings_in", "bytes_in", "ints_in", "typed_out", "typed_alloc",
            "out_structs_counted", "out_alloc_ints")}
        global_callbacks = bool(b.callbacks) and all(cb.global_ for cb in b.callbacks)
        synchronous = any(cb.synchronous for cb in b.callbacks)
        if len(b.callback_steps) > 1 and not (synchronous or global_callbacks):
            raise Unsupported("several callbacks kept after the call")
        cargs = []
        for i, a in enumerate(fn.args):
            if synchronous and a.name == cstep.arg.opaque:
                cargs.append("(void *)&c_cbs")
            elif (synchronous or global_callbacks) and a.name in by_arg \
                    and by_arg[a.name].kind == "callback":
                cargs.append("pv_cb_" + by_arg[a.name].ctype)
            elif cstep is not None and a.name == cstep.arg.free:
                cargs.append("pv_callback_free")
            elif cstep is not None and a.name == cstep.arg.opaque:
                cargs.append("(void *)c_" + cstep.arg.name + "_root")
            elif i == 0 and b.owner:
                cargs.append("o")
            elif a.name in by_arg:
                cargs.append(_carg(by_arg[a.name]))
            elif b.result == "bytes_sized" and a.name == b.size_arg:
                cargs.append("&c_size")
            elif a.name in length_of:
                ls = length_of[a.name]
                cargs.append(ls.length if ls.is_input else "&" + ls.length)
            else:
                raise Unsupported(f"argument {a.name}: nothing gives its value")
        ret_make = ret_obj = ""
        results: list[tuple[str, str]] = []
        if b.result in ("object", "borrowed_object"):
            ret_obj = conv.object_type(fn.ret.type)
            results.append(("ret", ret_obj))
        elif b.result == "value":
            mt, _, ret_make = _scalar(fn.ret.type, self.enums)
            results.append(("ret", mt))
        elif b.result in ("string", "borrowed_string"):
            results.append(("ret", "string"))
        elif b.result == "bytes_count":
            results.append(("ret", "int"))
        elif b.result == "bytes_sized":
            results.append(("ret", "string"))
        elif b.result == "bool":
            results.append(("ret", "bool"))
        results += [(s.arg, s.mltype) for s in steps if not s.is_input]
        fail = {"NULL": "ret == NULL", "-1": "ret < 0",
                "0": "ret == 0 && virGetLastErrorCode() != VIR_ERR_OK", None: ""}[fn.ret.error_value]
        return OFunction(fn.name, conv.object_module(b.owner) if b.owner else "",
                         conv.function(b.stem), conv.stub(fn.name), tuple(steps), b.result,
                         fn.ret.type, ret_make, ret_obj, tuple(cargs), fail, cb_c,
                         cstep.ctype if cstep is not None else "", events, event_c, b.refcount,
                         b.owner, conv.object_type(b.owner) if b.owner else "", tuple(results),
                         unit_arg, b.keyed, bool(b.unregisters), synchronous, global_callbacks)

    def run(self) -> Library:
        lib, conv = self.lib, self.conv
        lib.functions = shared.plan_all(self.apis, self.ov, "OCaml", self.function,
                                  lambda f: (f.module, f.name), lib.left_out, lib.libraries)
        lib.objects = [(conv.object_module(t), conv.object_type(t), t,
                        "virConnectClose" if t == "virConnectPtr" else f"vir{t[3:-3]}Free")
                       for t in OBJECT_TYPES]
        top = {f.name for f in lib.functions if not f.module}
        names: set[str] = set()
        for api in self.apis:
            for d in api.decls:
                if isinstance(d, Enum) and not d.sentinel and conv.constant(d.name) not in names:
                    lib.constants.append((conv.constant(d.name), "int", _int(d.value)))
                    names.add(conv.constant(d.name))
        for api in self.apis:
            for d in api.of(Macro):
                n = conv.constant(d.name)
                if d.params is None and n not in names and (
                        d.value.startswith('"') or NUMERIC_MACRO.match(d.value)):
                    if d.value.startswith('"'):
                        lib.constants.append((n, "string", d.value))
                    else:
                        lib.constants.append((n, "int", _int(d.value)))
                    names.add(n)
        clash = names & top
        if clash:
            raise ValueError(f"OCaml constants named as functions: {sorted(clash)}")
        # A record type comes before the records that hold it as an array field.
        ordered: list[OStruct] = []

        def place(st: OStruct) -> None:
            if st not in ordered:
                for u in st.uses:
                    place(self.used_structs[u])
                ordered.append(st)
        for st in sorted(self.used_structs.values(), key=lambda s: s.cname):
            place(st)
        lib.structs = ordered
        lib.callbacks = sorted(self.used_callbacks.values(), key=lambda c: c.cname)
        lib.variants = sorted(self.variants.values(), key=lambda v: v.name)
        return lib


def _int(value) -> str:
    """An OCaml integer expression: negative literals in parentheses."""
    v = str(value).strip()
    return f"({v})" if v.startswith("-") or " " in v else v


def _carg(s: OStep) -> str:
    if s.kind == "callback":
        return "c_cb"
    if s.kind in ("out_scalar", "out_struct", "out_string", "typed_alloc", "out_objects",
                  "out_alloc_strings", "out_struct_array", "out_struct_block", "out_alloc_bytes",
                  "out_alloc_ints"):
        return "&" + s.c
    if s.kind == "bytes_in":
        return f"({s.ctype} *){s.c}"
    if s.kind == "out_bytes":
        return f"(void *){s.c}"
    if s.kind == "strings_in":
        return f"(const char **){s.c}"
    return s.c



def plan(apis: list[Api], overrides: dict) -> Library:
    return _Planner(apis, overrides, Conventions()).run()



def render(apis: list[Api], overrides: dict, handwritten: str) -> dict[str, str]:
    """{path under the build folder: text}: bindings/ocaml/{pyvirt_stubs.c, pyvirt.ml,
    pyvirt.mli, META, Makefile}.  handwritten: bindings/ocaml relative to
    build/bindings/ocaml."""
    lib = plan(apis, overrides)
    env = environment("ocaml", {})
    specs = ", ".join(f"apispec/{a.name}.xml" for a in apis)
    ctx = dict(lib=lib, specs=specs, handwritten=handwritten, conv=Conventions())
    return {f"bindings/ocaml/{out}": env.get_template(out + ".j2").render(**ctx)
            for out in ("pyvirt_stubs.c", "pyvirt.ml", "pyvirt.mli", "META", "Makefile")}


def coverage(apis: list[Api], overrides: dict) -> str:
    lib = plan(apis, overrides)
    total = sum(len(a.functions) for a in apis)
    left = {k: v for k, v in lib.left_out.items() if "(" not in k}
    lines = [f"OCaml: {total - len(left)} of {total} functions generated, {len(left)} left out\n"]
    lines += [f"  {k}: {v}\n" for k, v in sorted(lib.left_out.items())]
    return "".join(lines)
