"""The Go package (bindings/go): cgo over libvirt.so.0, generated from the spec.

``plan(apis, overrides) -> Package`` decides every fact the templates need (Go
names and types, the C expression for each argument, what is left out and why);
``render(package) -> {path: text}`` spells it out.  Pure: the caller reads
bindings/go/overrides.toml and writes the files.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field


from .. import bindings as shared
from ..bindings import Unsupported
from ..render import environment
from ..model import OBJECT_TYPES, Api, Enum, Macro, Struct, Typedef
from ..shim import struct_ptrs as shim_struct_ptrs
from .names import SCALARS, Conventions

# Conversion kinds the Go templates spell out; any other kind leaves a function out.
KINDS = {"object", "string", "scalar", "uuid", "callback", "buffer_max", "typed_in", "ints_in",
         "strings_in", "bytes_in", "out_scalar", "out_struct", "out_string", "out_uuid",
         "out_uuidstr", "out_ints", "out_strings", "out_objects", "typed_out", "typed_alloc",
         "out_alloc_strings", "out_bytes", "out_structs", "out_struct_array", "out_struct_block",
         "out_structs_counted", "out_alloc_bytes", "objects_in", "typed_grid",
         "out_alloc_ints", "auth"}


@dataclass(frozen=True)
class GoStep:
    """One argument of a generated method; ex) kind='string' go='name' c='c_name'
    gotype='string'.  length: the C local of an array's count or capacity."""
    kind: str
    arg: str
    go: str
    c: str
    gotype: str = ""
    ctype: str = ""          # cgo type of the C value (or of an array's element)
    elem: str = ""           # Go element type of an output array / struct converter
    length: str = ""         # C local holding the count/capacity
    length_ctype: str = ""   # its cgo type
    nullable: bool = False
    capacity: int = 0        # typed_out: a fixed array size instead of asking the count
    is_input: bool = False
    is_result: bool = False
    shares_length: bool = False   # an earlier input array already set its count
    free: str = ""           # struct arrays: libvirt's free function for one element
    list_free: str = ""      # struct arrays: libvirt's free function for the whole list
    owned: bool = False      # struct arrays: each element's char * fields are the caller's
    ptrtype: str = ""        # struct arrays: cgo's name of the element pointer typedef
    count: str = ""          # output arrays: Go int expression of the elements filled


@dataclass(frozen=True)
class Event:
    """An event ID that a RegisterAny method accepts, and the Go callback type it needs."""
    const: str
    gotype: str
    callback: str


@dataclass(frozen=True)
class GoMethod:
    """One generated method (recv set) or package function."""
    cname: str
    recv: str
    name: str
    params: tuple[tuple[str, str], ...]
    steps: tuple[GoStep, ...]
    results: tuple[tuple[str, str], ...]     # (name, Go type) before err
    result_kind: str
    ret_go: str                              # Go type of the C return value, if returned
    cargs: tuple[str, ...]
    fail: str                                # Go condition on cRet/cErr, '' if it cannot fail
    wrapper: "CWrapper"
    callback_go: str = ""                    # single callback: its Go func type
    callback_c: str = ""                     # single callback: its C trampoline
    callback_ctype: str = ""                 # the C argument's function-pointer type
    events: tuple[Event, ...] = ()
    event_arg: str = ""                      # the Go parameter holding the event ID
    ref_result: str = ""                     # Ref function taken on a borrowed object result
    keyed: bool = False                      # remembers its callback for an unregister method
    unregisters: bool = False                # passes back the callback a keyed method took
    callback_value: str = ""                 # what registerCallback keeps (a callbackSet for several)
    synchronous: bool = False                # callbacks called during the call only
    global_callbacks: bool = False           # process-wide hooks (virEventRegisterImpl)

    @property
    def signature(self) -> str:
        ps = ", ".join(f"{n} {t}" for n, t in self.params)
        rs = [f"{n} {t}" for n, t in self.results]
        if self.fail or self.result_kind in ("status",) or any(s.kind == "typed_in" for s in self.steps):
            rs.append("err error")
        out = f"({', '.join(rs)})" if rs else ""
        recv = f"(o *{self.recv}) " if self.recv else ""
        return f"{recv}{self.name}({ps}) {out}".rstrip()

    @property
    def returns_error(self) -> bool:
        return "err error" in self.signature


@dataclass(frozen=True)
class CWrapper:
    """The C function that calls libvirt and copies its error on the same thread."""
    name: str
    ret: str
    params: tuple[str, ...]
    call: tuple[str, ...]
    fail: str                                # C condition on ret, '' for void


@dataclass(frozen=True)
class GoField:
    name: str
    gotype: str
    conv: str            # Go expression from c (*C.struct_X)


@dataclass(frozen=True)
class GoStruct:
    cname: str
    name: str
    fields: tuple[GoField, ...]
    owned: tuple[str, ...] = ()   # char * fields (cgo names) a caller-filled element owns


@dataclass(frozen=True)
class GoCallback:
    """A callback type: a Go func type, an exported Go trampoline and its C twin."""
    cname: str
    gotype: str
    ret: str                                     # C return type
    cparams: tuple[str, ...]                     # C declarations, user data last
    go_params: tuple[tuple[str, str, str], ...]  # (cgo param name, cgo type, Go expression)
    go_args: tuple[tuple[str, str], ...]         # the Go func's (name, type)
    c_call: tuple[str, ...]                      # arguments the C trampoline passes on
    results: tuple[str, ...] = ()                # the Go func's results (err last if fails)
    answers: tuple[str, ...] = ()                # Go statements storing them in C
    done: str = ""                               # the C result from them
    fails: bool = False                          # synchronous: its last result is an error
    global_: bool = False                        # process-wide hooks: no user data
    caller: bool = False                         # given to a hook: Go calls its C pointer


@dataclass(frozen=True)
class GoEnumType:
    name: str
    values: tuple[tuple[str, int], ...]


@dataclass
class Package:
    methods: list[GoMethod] = field(default_factory=list)
    objects: list[tuple[str, str]] = field(default_factory=list)   # (Go type, C type)
    enums: list[GoEnumType] = field(default_factory=list)
    macros: list[tuple[str, str]] = field(default_factory=list)
    structs: list[GoStruct] = field(default_factory=list)
    callbacks: list[GoCallback] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    libraries: list[str] = field(default_factory=list)
    sliced: set[str] = field(default_factory=set)   # structs needing a fromC...Slice converter



def _scalar(t: str, enums: dict[str, str], conv: Conventions) -> tuple[str, str]:
    if t in SCALARS:
        return SCALARS[t]
    if t in enums and enums[t] in SCALARS:       # a typedef of a plain scalar
        return SCALARS[enums[t]][0], "C." + t
    if t in enums:
        return conv.type_name(t), "C." + t
    raise Unsupported(f"scalar type {t}")


def _struct(s: Struct, conv: Conventions, enums: dict[str, str], ptrs: dict[str, str],
            nested) -> GoStruct:
    """nested(cname) -> the Go struct of an array field's elements (virDomainInterface.addrs,
    virDomainEventGraphicsSubject.identities)."""
    fields = []
    names = {f.name for f in s.fields}
    counts = {f.length for f in s.fields if f.length}   # the slice says its length
    for f in s.fields:
        if f.name in counts:
            continue
        cf = "c." + conv.cfield(f.name)
        shape = shared.nested_field(s, f, ptrs)
        if shape == "object":       # borrowed from the record: the Go value takes a reference
            t = conv.object(f.type)
            fields.append(GoField(conv.field(f.name), "*" + t, f"newRef{t}({cf})"))
        elif shape == "typed":
            fields.append(GoField(conv.field(f.name), "TypedParams",
                                  f"typedParamsFromC({cf}, C.int(c.{conv.cfield('n' + f.name)}))"))
        elif shape == "structs":
            gs = nested(ptrs[f.type])
            fields.append(GoField(conv.field(f.name), "[]" + gs.name,
                                  f"fromC{gs.name}Slice({cf}, int(c.{conv.cfield('n' + f.name)}))"))
        elif f.array and f.type == "char":
            fields.append(GoField(conv.field(f.name), "string", f"C.GoString(&{cf}[0])"))
        elif f.array and f.type == "unsigned char":
            fields.append(GoField(conv.field(f.name), "[]byte",
                                  f"C.GoBytes(unsafe.Pointer(&{cf}[0]), {f.array})"))
        elif f.type in ("char *", "const char *"):
            fields.append(GoField(conv.field(f.name), "string", f"goStringOrEmpty({cf})"))
        elif f.type == "char **" and "n" + f.name in names:      # devAlias, ndevAlias
            fields.append(GoField(conv.field(f.name), "[]string",
                                  f"goStringArray({cf}, int(c.{conv.cfield('n' + f.name)}))"))
        elif f.type == "unsigned char *" and f.name + "len" in names:   # cpumap, cpumaplen
            fields.append(GoField(conv.field(f.name), "[]byte",
                                  f"C.GoBytes(unsafe.Pointer({cf}), C.int(c.{conv.cfield(f.name + 'len')}))"))
        elif not f.array and not f.fields and (f.type in SCALARS or f.type in enums):
            gt = _scalar(f.type, enums, conv)[0]
            fields.append(GoField(conv.field(f.name), gt, f"{gt}({cf})"))
        elif f.length and f.length in names and f.type.endswith("Ptr"):   # identities, nidentity
            elem = nested(f.type[:-3])
            fields.append(GoField(conv.field(f.name), "[]" + elem.name,
                                  f"fromC{elem.name}Slice({cf}, int(c.{conv.cfield(f.length)}))"))
        else:
            raise Unsupported(f"struct {s.name} field {f.name}: {f.type}")
    return GoStruct(s.name, conv.type_name(s.name), tuple(fields),
                    tuple(conv.cfield(n) for n in shared.owned_strings(s)))


class _Planner:
    def __init__(self, apis: list[Api], overrides: dict, conv: Conventions):
        self.apis, self.ov, self.conv = apis, overrides, conv
        self.base = next(a for a in apis if a.name == "libvirt")
        all_decls = [d for a in apis for d in a.decls]
        # enum types, and typedefs of plain scalars (virDomainBlockJobCursor) with their base type
        self.enums = {d.name: d.type for d in all_decls
                      if isinstance(d, Typedef) and (d.type == "enum" or d.type in SCALARS)}
        self.structs = {d.name: d for d in all_decls if isinstance(d, Struct)}
        self.ptrs = shim_struct_ptrs(Api("all", "", (), (), tuple(all_decls)))
        self.typedefs = {d.name: d.type for d in all_decls if isinstance(d, Typedef)}
        self.pkg = Package()
        self.used_structs: dict[str, GoStruct] = {}
        self.used_callbacks: dict[str, GoCallback] = {}

    # -- steps ---------------------------------------------------------------
    def step(self, b: shared.Binding, s, lengths: dict[str, str]) -> GoStep:
        conv, a = self.conv, s.arg
        go, c = conv.param(a.name), conv.cvar(a.name)
        k = s.kind
        if k == "object":
            return GoStep(k, a.name, go, c, "*" + conv.object(s.ctype), is_input=True,
                          nullable=a.nullable)
        if k == "string":
            return GoStep(k, a.name, go, c, "string", nullable=a.nullable, is_input=True)
        if k in ("scalar", "buffer_max"):
            gt, ct = _scalar(a.type, self.enums, conv)
            return GoStep(k, a.name, go, c, gt, ct, is_input=True)
        if k == "uuid":
            return GoStep(k, a.name, go, c, "[]byte", is_input=True)
        if k == "objects_in":     # a NULL-terminated array
            return GoStep(k, a.name, go, c, "[]*" + conv.object(s.ctype), "C." + s.ctype,
                          is_input=True)
        if k == "auth":   # virConnectAuth: credential types and a callback (auth.go)
            return GoStep(k, a.name, go, c, "*" + conv.type_name(a.type.removesuffix("Ptr")),
                          is_input=True, nullable=True)
        if k in ("typed_in", "strings_in", "bytes_in"):
            n = shared.length_arg(b, s.length)
            gt = {"typed_in": "TypedParams", "strings_in": "[]string", "bytes_in": "[]byte"}[k]
            ct = "*C.uchar" if "unsigned char" in a.type else "*C.char"
            return GoStep(k, a.name, go, c, gt, ct, length=conv.cvar(n.name),
                          length_ctype=_scalar(n.type, self.enums, conv)[1], is_input=True)
        if k == "ints_in":
            n = shared.length_arg(b, s.length or a.length)
            gt, ct = _scalar(a.type.replace("const ", "").rstrip(" *"), self.enums, conv)
            return GoStep(k, a.name, go, c, "[]" + gt, ct, length=conv.cvar(n.name),
                          length_ctype=_scalar(n.type, self.enums, conv)[1], is_input=True)
        if k == "callback":
            return GoStep(k, a.name, go, c, "", "C." + s.ctype, is_input=True)
        if k == "out_scalar":
            gt, ct = _scalar(s.ctype, self.enums, conv)
            return GoStep(k, a.name, go, c, gt, ct, is_result=True)
        if k == "out_struct":
            if a.length:
                raise Unsupported(f"output {a.name}: an array of {s.ctype}")
            gs = self.struct(s.ctype)
            return GoStep(k, a.name, go, c, "*" + gs.name, "C.struct_" + s.ctype, gs.name,
                          is_result=True)
        if k in ("out_string", "out_uuidstr"):
            return GoStep(k, a.name, go, c, "string", is_result=True)
        if k == "out_uuid":
            return GoStep(k, a.name, go, c, "[]byte", is_result=True)
        if k in ("out_ints", "out_strings", "out_bytes"):
            cap, count = shared.output_array(b, k, a, s.length, lengths, self._expr, "int(cRet)")
            if k == "out_ints":
                gt, ct = _scalar(s.ctype, self.enums, conv)
                return GoStep(k, a.name, go, c, "[]" + gt, ct, gt, length=cap, is_result=True,
                              count=count)
            if k == "out_bytes":
                ct = {"void *": "unsafe.Pointer", "unsigned char *": "(*C.uchar)"}.get(a.type, "(*C.char)")
                return GoStep(k, a.name, go, c, "[]byte", ct, length=cap,
                              is_result=True, nullable=a.nullable)
            return GoStep(k, a.name, go, c, "[]string", "*C.char", length=cap, is_result=True)
        if k == "out_objects":
            return GoStep(k, a.name, go, c, "[]*" + conv.object(s.ctype), "C." + s.ctype,
                          conv.object(s.ctype), is_result=True)
        if k == "out_alloc_strings":
            return GoStep(k, a.name, go, c, "[]string", is_result=True)
        if k == "out_alloc_bytes":
            if not a.length:
                raise Unsupported(f"output {a.name}: bytes whose length the spec does not give")
            return GoStep(k, a.name, go, c, "[]byte", length=self._expr(b, a.length),
                          is_result=True)
        if k == "out_structs_counted":
            gs = self.struct(s.ctype)
            n = shared.length_arg(b, s.length)
            return GoStep(k, a.name, go, c, "[]" + gs.name, "C.struct_" + s.ctype, gs.name,
                          length=conv.cvar(n.name), length_ctype="C.int", is_result=True,
                          owned=bool(gs.owned))
        if k == "out_alloc_ints":   # file descriptors: counted by the result or an output
            if s.length == "return":
                return GoStep(k, a.name, go, c, "[]int", "C.int", is_result=True)
            n = shared.length_arg(b, s.length)
            return GoStep(k, a.name, go, c, "[]int", "C.int", length=conv.cvar(n.name),
                          length_ctype=_scalar(n.type.rstrip(" *"), self.enums, conv)[1],
                          is_result=True)
        if k in shared.STRUCT_OUTPUTS:
            if b.result != "count":
                raise Unsupported(f"output {a.name}: an array whose count the result does not give")
            gs = self.struct(s.ctype)
            cap = ""
            if k == "out_structs":
                cap = lengths.get(s.length or a.length or "", "")
                if not cap:
                    raise Unsupported(f"output {a.name}: no capacity argument")
            return GoStep(k, a.name, go, c, "[]" + gs.name, "C.struct_" + s.ctype, gs.name,
                          length=cap, is_result=True, free=b.element_free(s),
                          list_free=b.list_free(s), owned=bool(gs.owned),
                          ptrtype="C." + a.type.rstrip(" *"))
        if k == "typed_grid":       # elem: a row's length; count: the rows
            row, rows = shared.grid(s.length)
            return GoStep(k, a.name, go, c, "[]TypedParams", length=self._expr(b, s.length),
                          elem=self._expr(b, row), count=self._expr(b, rows), is_result=True)
        if k in ("typed_out", "typed_alloc"):
            n = shared.length_arg(b, s.length)
            cap = self.ov.get("typed_capacity", {}).get(b.fn.name, {}).get("capacity", 0)
            return GoStep(k, a.name, go, c, "TypedParams", length=conv.cvar(n.name),
                          length_ctype=_scalar(n.type.rstrip(" *"), self.enums, conv)[1],
                          capacity=cap, is_result=True)
        raise Unsupported(f"conversion kind {k}")

    def _expr(self, b: shared.Binding, expr: str) -> str:
        """A length expression of the spec as a Go int (the result is cRet)."""
        return shared.binding_length(b, expr, self.conv.cvar, self.conv.param, "int({})".format,
                                     "cRet")

    def struct(self, cname: str) -> GoStruct:
        if cname not in self.structs:     # a typedef's name: its struct
            td = self.typedefs.get(cname, "")
            cname = td[7:] if td.startswith("struct ") else cname
        if cname not in self.used_structs:
            self.used_structs[cname] = _struct(self.structs[cname], self.conv, self.enums,
                                               self.ptrs, self.nested)
        return self.used_structs[cname]

    def nested(self, cname: str) -> GoStruct:
        """A struct that is also copied as an array field: it gets a Slice converter."""
        gs = self.struct(cname)
        self.pkg.sliced.add(gs.cname)
        return gs

    def callback(self, cb: shared.Callback) -> GoCallback:
        if cb.unsupported:
            raise Unsupported(f"callback {cb.name}: {cb.unsupported}")
        if cb.name in self.used_callbacks:
            return self.used_callbacks[cb.name]
        conv = self.conv
        by_name = {s.arg.name: s for s in cb.steps}
        lengths = {s.length: s for s in cb.steps if s.length}
        cparams, go_params, go_args, c_call = [], [], [], []
        results, answers, done = [], [], "0"
        if not cb.synchronous and cb.outputs:
            raise Unsupported(f"callback {cb.name}: outputs of a callback called later")
        nested = {n.name: n for n in cb.nested}
        frees = {x.arg.free: x for x in cb.steps if x.kind == "callback" and x.arg.free}
        for a in cb.args:
            cparams.append(a.decl())
            s = by_name.get(a.name)
            p = conv.param(a.name)
            if a.type == "void *" and cb.global_:   # the user data of a callback it is given
                go_params.append((p, "unsafe.Pointer", ""))
                c_call.append(a.name)
            elif a.type == "void *":
                go_params.append((p, "C.uintptr_t", ""))
                c_call.append(f"(uintptr_t){a.name}")
            elif a.name in frees:                   # its free function, bound to that data
                data = conv.param(frees[a.name].arg.opaque)
                go_params.append((p, "C.virFreeCallback",
                                  f"func() {{ C.pyvirtgo_call_free({p}, {data}) }}"))
                go_args.append((p, "func()"))
                c_call.append(a.name)
            elif s is not None and s.kind == "callback" and s.ctype in nested:
                go_params.append((p, "C." + s.ctype, self._caller(nested[s.ctype], p, s.arg.opaque)))
                go_args.append((p, conv.type_name(s.ctype)))
                c_call.append(a.name)
            elif a.name in lengths:
                go_params.append((p, "C.int", ""))
                c_call.append(a.name)
            elif s is None:
                raise Unsupported(f"callback {cb.name}: argument {a.name}")
            elif s.kind == "object":
                t = conv.object(a.type)
                go_params.append((p, "C." + a.type, f"&{t}{{ptr: {p}}}"))
                go_args.append((p, "*" + t))
                c_call.append(a.name)
            elif s.kind == "string":
                go_params.append((p, "*C.char", f"goStringOrEmpty({p})"))
                go_args.append((p, "string"))
                c_call.append(f"(char *){a.name}")
            elif s.kind == "scalar":
                gt, ct = _scalar(a.type, self.enums, conv)
                go_params.append((p, ct, f"{gt}({p})"))
                go_args.append((p, gt))
                c_call.append(a.name)
            elif s.kind == "typed_in":
                n = conv.param(s.length)
                go_params.append((p, "C.virTypedParameterPtr", f"typedParamsFromC({p}, C.int({n}))"))
                go_args.append((p, "TypedParams"))
                c_call.append(a.name)
            elif s.kind == "struct_in":   # a struct given to read (graphics addresses)
                gs = self.struct(s.ctype)
                go_params.append((p, f"*C.struct_{s.ctype}", f"fromC{gs.name}({p})"))
                go_args.append((p, "*" + gs.name))
                c_call.append(f"(struct {s.ctype} *){a.name}")
            elif s.kind == "bytes_in":    # the sink's data: it takes all of it
                n = conv.param(s.length)
                go_params.append((p, "*C.char", f"C.GoBytes(unsafe.Pointer({p}), C.int({n}))"))
                go_args.append((p, "[]byte"))
                c_call.append(f"(char *){a.name}")
                done = f"C.int({n})"
            elif s.kind == "out_bytes":   # the source's buffer: it gives up to its length
                n = conv.param(s.length)
                go_params.append((p, "*C.char", ""))
                go_args.append((conv.param(s.length), "int"))
                c_call.append(a.name)
                r = f"r{len(results)}"
                answers += [f"if len({r}) > int({n}) {{ // more than asked for: refused, not cut",
                            "\treturn -1", "}",
                            f"n := copy(unsafe.Slice((*byte)(unsafe.Pointer({p})), int({n})), {r})"]
                results.append("[]byte")
                done = "C.int(n)"
            elif s.kind == "out_scalar":
                gt, ct = _scalar(s.ctype, self.enums, conv)
                go_params.append((p, "*" + ct, ""))
                c_call.append(a.name)
                answers.append(f"*{p} = {ct}(r{len(results)})")
                results.append(gt)
            else:
                raise Unsupported(f"callback {cb.name}: {s.kind}")
        if cb.synchronous:
            results.append("error")
        elif cb.global_ and cb.ft.ret.type == "int":   # a watch or timer id, or a status
            results.append("int")
            done = "C.int(r0)"
        gc = GoCallback(cb.name, conv.type_name(cb.name), cb.ft.ret.type, tuple(cparams),
                        tuple(go_params), tuple(go_args), tuple(c_call), tuple(results),
                        tuple(answers), done if (cb.synchronous or results) else "",
                        cb.synchronous, cb.global_)
        self.used_callbacks[cb.name] = gc
        return gc

    def _caller(self, inner: shared.Callback, ptr: str, opaque: str | None) -> str:
        """A Go func calling a C callback a hook is given, with its user data."""
        gc = self.callback(inner)
        self.used_callbacks[inner.name] = dataclasses.replace(gc, caller=True)
        names = iter(n for n, _ in gc.go_args)
        params, cargs = [], []
        for a in inner.args:
            if a.type == "void *":
                cargs.append(self.conv.param(opaque or a.name))
                continue
            if a.type not in SCALARS and a.type not in self.enums:
                raise Unsupported(f"callback {inner.name}: argument {a.name} given back to C")
            gt, ct = _scalar(a.type, self.enums, self.conv)
            n = next(names)
            params.append(f"{n} {gt}")
            cargs.append(f"{ct}({n})")
        return (f"func({', '.join(params)}) {{ C.pyvirtgo_call_{inner.name}({ptr}, "
                f"{', '.join(cargs)}) }}")

    # -- methods -------------------------------------------------------------
    def method(self, b: shared.Binding) -> GoMethod:
        conv, fn = self.conv, b.fn
        if b.unsupported:
            raise Unsupported(b.unsupported)
        if b.result not in shared.RESULTS:
            raise Unsupported(f"result {b.result or fn.ret.type}")
        for s in b.steps:
            if s.kind not in KINDS:
                raise Unsupported(f"argument {s.arg.name}: conversion kind {s.kind}")
        recv = conv.object(b.owner) if b.owner else ""
        lengths = {s.arg.name: conv.cvar(s.arg.name) for s in b.steps if s.kind == "buffer_max"}
        steps = [self.step(b, s, lengths) for s in b.steps
                 if not (b.owner and s is b.steps[0])]
        counted: set[str] = set()
        for i, s in enumerate(steps):
            if s.is_input and s.length:
                if s.length in counted:
                    steps[i] = dataclasses.replace(s, shares_length=True)
                counted.add(s.length)
        by_arg = {s.arg: s for s in steps}
        cstep = b.callback_step
        # C arguments, in order, as Go expressions; the wrapper's parameters.
        cargs, wparams, wcall = [], [], []
        length_of = {}
        for s in steps:
            if s.length and s.kind in ("typed_in", "strings_in", "bytes_in", "ints_in", "typed_out",
                                       "typed_alloc", "out_structs_counted", "out_alloc_ints"):
                length_of[s.length[2:]] = s
        for i, a in enumerate(fn.args):
            if cstep is not None and a.name == cstep.arg.free:
                wcall.append("pyvirtgo_free_callback")
                continue
            if cstep is not None and a.name == cstep.arg.opaque:
                cargs.append("C.uintptr_t(cbID)")
                wparams.append(f"uintptr_t {a.name}")
                wcall.append(f"(void *){a.name}")
                continue
            wparams.append(a.decl())
            wcall.append(a.name)
            if i == 0 and b.owner:
                cargs.append("o.cptr()")
                continue
            s = by_arg.get(a.name)
            if s is None and b.result == "bytes_sized" and a.name == b.size_arg:
                cargs.append("&cSize")
                continue
            if s is None:
                ls = length_of.get(a.name)
                if ls is None:
                    raise Unsupported(f"argument {a.name}: nothing gives its value")
                cargs.append(f"{ls.length_ctype}({ls.length})" if ls.is_input else f"&{ls.length}")
                continue
            cargs.append(_carg(s))
        params = tuple((s.go, s.gotype if s.kind != "callback" else "") for s in steps if s.is_input)
        events: tuple[Event, ...] = ()
        cb_go = cb_c = cb_ct = event_arg = cb_value = ""
        synchronous = global_callbacks = False
        if cstep is not None:
            cb_ct = "C." + cstep.ctype
            if b.events:
                evs = []
                for e in b.events:
                    try:
                        gc = self.callback(e.callback)
                    except Unsupported as why:
                        self.pkg.left_out[f"{fn.name}({e.enum})"] = str(why)
                        continue
                    evs.append(Event(conv.constant(e.enum), gc.gotype, gc.cname))
                events = tuple(evs)
                ev = next(a for a in fn.args if a.name == "eventID")
                event_arg = conv.param(ev.name)
                params = tuple((n, "interface{}" if t == "" else t) for n, t in params)
            else:
                gcs = {cs.arg.name: self.callback(cb) for cs, cb in zip(b.callback_steps, b.callbacks)}
                gc = gcs[cstep.arg.name]
                cb_go, cb_c = gc.gotype, gc.cname
                typed = {conv.param(n): g.gotype for n, g in gcs.items()}
                params = tuple((n, typed.get(n, t) if t == "" else t) for n, t in params)
                steps = [dataclasses.replace(x, elem=gcs[x.arg].cname, gotype=gcs[x.arg].gotype)
                         if x.kind == "callback" else x for x in steps]
                names = [conv.param(n) for n in gcs]
                cb_value = names[0] if len(names) == 1 else f"callbackSet{{{', '.join(names)}}}"
                synchronous = any(cb.synchronous for cb in b.callbacks)
                global_callbacks = all(cb.global_ for cb in b.callbacks)
        # The result.
        ret_go = ""
        results = []
        if b.result in ("object", "borrowed_object"):
            ret_go = "*" + conv.object(fn.ret.type)
        elif b.result in ("string", "borrowed_string"):
            ret_go = "string"
        elif b.result == "value":
            ret_go = _scalar(fn.ret.type, self.enums, conv)[0]
        elif b.result == "bool":
            ret_go = "bool"
        elif b.result == "bytes_count":
            ret_go = "int"
        elif b.result == "bytes_sized":
            ret_go = "[]byte"
        if ret_go:
            results.append(("rv", ret_go))
        for s in steps:
            if s.is_result:
                results.append((s.arg + "Out", s.gotype))
        ev = fn.ret.error_value
        fail = {"NULL": "cRet == nil", "-1": "cRet < 0",
                "0": "cRet == 0 && cErr.code != 0", None: ""}[ev]
        cfail = {"NULL": "!ret", "-1": "ret < 0", "0": "ret == 0", None: ""}[ev]
        wrapper = CWrapper("pyvirtgo_" + fn.name, fn.ret.type, tuple(wparams), tuple(wcall), cfail)
        ref = ""
        if b.result == "borrowed_object":   # libvirt takes no reference: the Go object does
            ref = f"vir{conv.object(fn.ret.type)}Ref"
        return GoMethod(fn.name, recv, conv.function(b.stem), params, tuple(steps),
                        tuple(results), b.result, ret_go, tuple(cargs), fail, wrapper,
                        cb_go, cb_c, cb_ct, events, event_arg, ref, b.keyed,
                        bool(b.unregisters), cb_value, synchronous, global_callbacks)

    def run(self) -> Package:
        pkg, conv = self.pkg, self.conv
        pkg.methods = shared.plan_all(self.apis, self.ov, "Go", self.method,
                                  lambda m: (m.recv, m.name), pkg.left_out, pkg.libraries)
        pkg.objects = [(conv.object(t), t) for t in OBJECT_TYPES]
        enum_types: dict[str, list[tuple[str, int]]] = {}
        names: set[str] = set()
        for api in self.apis:
            for d in api.decls:
                if isinstance(d, Typedef) and d.type == "enum":
                    enum_types.setdefault(d.name, [])
                elif isinstance(d, Enum) and not d.sentinel:
                    enum_types.setdefault(d.type, []).append((conv.constant(d.name), d.value))
                    names.add(conv.constant(d.name))
        pkg.enums = [GoEnumType(conv.type_name(t), tuple(v)) for t, v in enum_types.items()]
        for api in self.apis:
            for d in api.of(Macro):
                if d.params is None and d.value.startswith('"') and conv.constant(d.name) not in names:
                    pkg.macros.append((conv.constant(d.name), d.value))
                    names.add(conv.constant(d.name))
        pkg.structs = sorted(self.used_structs.values(), key=lambda s: s.name)
        pkg.callbacks = sorted(self.used_callbacks.values(), key=lambda c: c.cname)
        return pkg


def _carg(s: GoStep) -> str:
    k = s.kind
    if k == "scalar":
        return f"{s.ctype}({s.go})"
    if k == "callback":
        return s.c
    if k in ("out_scalar", "out_struct", "out_string", "typed_alloc", "out_objects",
             "out_alloc_strings", "out_alloc_ints", "out_struct_array", "out_struct_block",
             "out_alloc_bytes"):
        return "&" + s.c
    if k in ("out_uuid",):
        return f"&{s.c}[0]"
    if k == "out_uuidstr":
        return f"&{s.c}[0]"
    if k == "bytes_in":
        return f"({s.ctype})({s.c})"
    if k == "out_bytes":
        return f"{s.ctype}({s.c})" if s.ctype == "unsafe.Pointer" else f"{s.ctype}({s.c})"
    if k in ("out_structs_counted", "typed_grid"):
        return s.c
    return s.c



def plan(apis: list[Api], overrides: dict) -> Package:
    return _Planner(apis, overrides, Conventions()).run()



def render(apis: list[Api], overrides: dict) -> dict[str, str]:
    """{path under bindings/: text}, plus the coverage report's text under 'coverage'."""
    pkg = plan(apis, overrides)
    env = environment("go", {})
    specs = ", ".join(f"apispec/{a.name}.xml" for a in apis)
    out = {}
    # Template x.go.j2 writes x_gen.go: the _gen marker keeps generated files out of git.
    for name in ("libvirt.go", "constants.go", "callbacks.go", "wrappers.h", "wrappers.c"):
        base, ext = name.split(".")
        out[f"go/{base}_gen.{ext}"] = env.get_template(name + ".j2").render(pkg=pkg, specs=specs)
    return out


def coverage(apis: list[Api], overrides: dict) -> str:
    pkg = plan(apis, overrides)
    total = sum(len(a.functions) for a in apis)
    left = {k: v for k, v in pkg.left_out.items() if "(" not in k}
    lines = [f"Go: {total - len(left)} of {total} functions generated, {len(left)} left out\n"]
    lines += [f"  {k}: {v}\n" for k, v in sorted(pkg.left_out.items())]
    return "".join(lines)
