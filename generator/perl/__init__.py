"""The Perl module PyVirt (bindings/perl): an XS extension over libvirt.so.0,
generated from the spec.

``plan(apis, overrides) -> Module`` decides every fact the templates need (Perl
names, the C local and conversion of each argument, what is left out and why);
``render(apis, overrides, handwritten) -> {path: text}`` spells it out under
bindings/perl/ of the build folder (PyVirt.xs, lib/PyVirt.pm, Makefile.PL).  Pure:
the caller reads bindings/perl/overrides.toml and writes the files.
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

# Conversion kinds the XS template spells out; any other kind leaves a function out.
KINDS = {"object", "string", "scalar", "uuid", "callback", "buffer_max", "typed_in", "ints_in",
         "strings_in", "bytes_in", "out_scalar", "out_struct", "out_string", "out_uuid",
         "out_uuidstr", "out_ints", "out_strings", "out_objects", "typed_out", "typed_alloc",
         "out_alloc_strings", "out_bytes", "out_structs", "out_struct_array", "out_struct_block",
         "out_structs_counted", "out_alloc_bytes", "objects_in", "typed_grid",
         "out_alloc_ints", "auth"}
ARRAY_OUTPUTS = {"out_ints", "out_strings", "out_objects", "out_alloc_strings",
                 "out_structs_counted", "out_alloc_ints", *shared.STRUCT_OUTPUTS}
NUMERIC_MACRO = re.compile(r"^[0-9\s()+*-]+$")


@dataclass(frozen=True)
class PerlStep:
    """One C argument of a generated XS function; ex) kind='string' c='c_name'
    index=1 (its place on the Perl stack, inputs only).

    ctype: the C type of the local (or of an array's element); read/make: the SV
    reader and constructor for scalars; klass: the Perl package of an object;
    length: the C local of an array's count or capacity, length_ctype its type."""
    kind: str
    arg: str
    c: str
    ctype: str = ""
    index: int = -1
    optional: bool = False
    nullable: bool = False
    read: str = ""
    make: str = ""
    klass: str = ""
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
        return self.index >= 0


@dataclass(frozen=True)
class Event:
    """An event ID a RegisterAny function accepts and the trampoline it selects."""
    const: str
    callback: str


@dataclass(frozen=True)
class PerlFunction:
    """One XS function: a method of klass (recv set) or a function of PyVirt."""
    cname: str
    klass: str
    name: str
    usage: str
    steps: tuple[PerlStep, ...]
    nargs: tuple[int, int]                  # (required, total) Perl arguments incl. $self
    result_kind: str
    ret_ctype: str
    ret_make: str = ""
    ret_klass: str = ""
    cargs: tuple[str, ...] = ()
    fail: str = ""                          # C condition on ret, '' if it cannot fail
    callback_c: str = ""                    # single callback: its trampoline
    callback_ctype: str = ""
    events: tuple[Event, ...] = ()
    event_c: str = ""
    refcount: str = ""
    flatten: bool = False                   # the only output is an array: return its items
    receiver: str = ""                      # C type of $self
    keyed: bool = False                     # remembers its callback for an unregister method
    unregisters: bool = False               # passes back the callback a keyed method took
    synchronous: bool = False               # its callbacks run during the call: a hash of code refs
    global_callbacks: bool = False          # process-wide hooks: the hash is kept (pv_globals)

    @property
    def outputs(self) -> list[PerlStep]:
        return [s for s in self.steps if not s.is_input and s.kind not in ("buffer_max",)]


@dataclass(frozen=True)
class PerlField:
    name: str
    make: str            # C expression of a new SV from c (const struct X *)


@dataclass(frozen=True)
class PerlStruct:
    cname: str
    fields: tuple[PerlField, ...]
    owned: tuple[str, ...] = ()   # char * fields a caller-filled element owns


@dataclass(frozen=True)
class PerlCallback:
    """A callback type: a C trampoline that calls the Perl code ref with SVs."""
    cname: str
    ret: str
    cparams: tuple[str, ...]
    pushes: tuple[str, ...]          # C expressions of the mortal SVs passed, in order
    opaque: str
    # Synchronous (the stream handlers): the code ref is the user data's entry for
    # this type; what it returns (r[0], r[1], ...) is stored by answers; done is the
    # C result when it did not die.
    answers: tuple[str, ...] = ()
    nresults: int = 0
    done: str = ""
    code: str = ""                   # C expression of the code ref to call
    caller: tuple[str, ...] = ()     # given to a hook: C expressions of its arguments from ST(i)


@dataclass
class Module:
    functions: list[PerlFunction] = field(default_factory=list)
    objects: list[tuple[str, str, str]] = field(default_factory=list)  # (package, C type, free fn)
    constants: list[tuple[str, str]] = field(default_factory=list)
    structs: list[PerlStruct] = field(default_factory=list)
    callbacks: list[PerlCallback] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)
    libraries: list[str] = field(default_factory=list)
    sliced: set[str] = field(default_factory=set)   # structs also copied as array fields

    @property
    def packages(self) -> list[tuple[str, list[PerlFunction]]]:
        """XS needs each package's functions together: PyVirt first, then objects."""
        out: dict[str, list[PerlFunction]] = {}
        for f in self.functions:
            out.setdefault(f.klass or Conventions.package, []).append(f)
        return sorted(out.items(), key=lambda kv: (kv[0] != Conventions.package, kv[0]))


def _scalar(t: str, enums: dict[str, str]) -> tuple[str, str]:
    if t in SCALARS:
        return SCALARS[t]
    if t in enums:
        return SCALARS.get(enums[t], ("SvIV", "newSViv"))
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
        self.mod = Module()
        self.used_structs: dict[str, PerlStruct] = {}
        self.used_callbacks: dict[str, PerlCallback] = {}

    def struct(self, cname: str) -> PerlStruct:
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
        for f in s.fields:
            cf = "c->" + f.name
            if f.name in counts:
                continue
            shape = shared.nested_field(s, f, self.ptrs)
            if shape == "object":    # borrowed from the record: the Perl object takes a reference
                make = (f"({cf} ? pv_wrap(aTHX_ (vir{f.type[3:-3]}Ref({cf}), (void *){cf}), "
                        f"\"{self.conv.object(f.type)}\") : newSV(0))")
            elif shape == "typed":
                make = f"pv_typed_to_sv(aTHX_ {cf}, c->n{f.name})"
            elif shape == "structs":
                self.struct(self.ptrs[f.type])
                self.mod.sliced.add(self.ptrs[f.type])
                make = f"pv_structs_{self.ptrs[f.type]}(aTHX_ {cf}, c->n{f.name})"
            elif f.length and f.length in names and f.type.endswith("Ptr"):   # identities, nidentity
                elem = self.struct(f.type[:-3])
                self.mod.sliced.add(elem.cname)
                make = f"pv_structs_{elem.cname}(aTHX_ {cf}, {cf} ? c->{f.length} : 0)"
            elif f.array and f.type == "char":
                make = f"newSVpv({cf}, 0)"
            elif f.array and f.type == "unsigned char":
                make = f"newSVpvn((const char *){cf}, {f.array})"
            elif f.type in ("char *", "const char *"):
                make = f"({cf} ? newSVpv({cf}, 0) : newSV(0))"
            elif f.type == "char **" and "n" + f.name in names:       # devAlias, ndevAlias
                make = f"pv_strings_sv(aTHX_ {cf}, c->n{f.name})"
            elif f.type == "unsigned char *" and f.name + "len" in names:   # cpumap, cpumaplen
                make = f"newSVpvn((const char *){cf}, {cf} ? c->{f.name}len : 0)"
            elif not f.array and not f.fields and (f.type in SCALARS or f.type in self.enums):
                make = f"{_scalar(f.type, self.enums)[1]}({cf})"
            else:
                raise Unsupported(f"struct {s.name} field {f.name}: {f.type}")
            fields.append(PerlField(f.name, make))
        ps = PerlStruct(cname, tuple(fields), shared.owned_strings(s))
        self.used_structs[cname] = ps
        return ps

    def callback(self, cb: shared.Callback) -> PerlCallback:
        if cb.unsupported:
            raise Unsupported(f"callback {cb.name}: {cb.unsupported}")
        if cb.name in self.used_callbacks:
            return self.used_callbacks[cb.name]
        by_name = {s.arg.name: s for s in cb.steps}
        lengths = {s.length for s in cb.steps if s.length}
        pushes, opaque = [], ""
        answers: list[str] = []
        done = "0"
        if not cb.synchronous and cb.outputs:
            raise Unsupported(f"callback {cb.name}: outputs of a callback called later")
        nested = {n.name: n for n in cb.nested}
        frees = {x.arg.free: x for x in cb.steps if x.kind == "callback" and x.arg.free}
        for a in cb.args:
            s = by_name.get(a.name)
            if a.type == "void *" and cb.global_:   # the data of a callback it is given
                continue
            if a.type == "void *":
                opaque = a.name
            elif a.name in frees:                   # its free function: a code ref
                data = frees[a.name].arg.opaque
                pushes.append(f"pv_cfn_new(aTHX_ pv_xs_free, (void (*)(void)){a.name}, {data})")
            elif s is not None and s.kind == "callback" and s.ctype in nested:
                inner = self._caller(nested[s.ctype])
                pushes.append(f"pv_cfn_new(aTHX_ pv_xs_call_{inner.cname}, (void (*)(void)){a.name}, "
                              f"{s.arg.opaque})")
            elif a.name in lengths:
                continue
            elif s is None:
                raise Unsupported(f"callback {cb.name}: argument {a.name}")
            elif s.kind == "object":
                # The callback's object is borrowed: take a reference that DESTROY drops.
                pushes.append(f"pv_wrap(aTHX_ (vir{a.type[3:-3]}Ref({a.name}), (void *){a.name}), "
                              f"\"{self.conv.object(a.type)}\")")
            elif s.kind == "string":
                pushes.append(f"({a.name} ? newSVpv({a.name}, 0) : newSV(0))")
            elif s.kind == "scalar":
                pushes.append(f"{_scalar(a.type, self.enums)[1]}({a.name})")
            elif s.kind == "typed_in":
                pushes.append(f"pv_typed_to_sv(aTHX_ {a.name}, {s.length})")
            elif s.kind == "struct_in":   # a struct given to read: a hash (undef for NULL)
                st = self.struct(s.ctype)
                pushes.append(f"({a.name} ? pv_struct_{st.cname}(aTHX_ {a.name}) : newSV(0))")
            elif s.kind == "bytes_in":    # the sink's data: it takes all of it
                pushes.append(f"newSVpvn({a.name}, {s.length})")
                done = f"(int){s.length}"
            elif s.kind == "out_bytes":   # the source's buffer: its code ref returns the data
                pushes.append(f"newSVuv({s.length})")
                answers.append(f"ret = (int)pv_bytes_into(aTHX_ r[{len(answers)}], {a.name}, {s.length});")
                done = "ret"
            elif s.kind == "out_scalar":
                rd, _ = _scalar(s.ctype, self.enums)
                answers.append(f"*{a.name} = ({s.ctype}){rd}(r[{len(answers)}]);")
            else:
                raise Unsupported(f"callback {cb.name}: {s.kind}")
        if cb.global_ and cb.ft.ret.type == "int":   # a watch or timer id, or a status
            answers.append("ret = SvOK(r[0]) ? (int)SvIV(r[0]) : -1;")
            done = "ret"
        code = (f"pv_callback_in(aTHX_ pv_globals, \"{cb.name}\")" if cb.global_
                else f"pv_callback_in(aTHX_ (HV *){opaque}, \"{cb.name}\")" if cb.synchronous
                else f"(SV *){opaque}")
        pc = PerlCallback(cb.name, cb.ft.ret.type, tuple(a.decl() for a in cb.args),
                          tuple(pushes), opaque, tuple(answers), len(answers),
                          done if (cb.synchronous or answers) else "", code)
        self.used_callbacks[cb.name] = pc
        return pc

    def _caller(self, inner: shared.Callback) -> PerlCallback:
        """A C callback a hook is given, as a code ref: its arguments from ST(i)."""
        pc = self.callback(inner)
        args = []
        for a in inner.args:
            if a.type == "void *":
                args.append("d->opaque")
            elif a.type in SCALARS or a.type in self.enums:
                args.append(f"({a.type}){_scalar(a.type, self.enums)[0]}(ST({len(args)}))")
            else:
                raise Unsupported(f"callback {inner.name}: argument {a.name} given back to C")
        pc = dataclasses.replace(pc, caller=tuple(args))
        self.used_callbacks[inner.name] = pc
        return pc

    def step(self, b: shared.Binding, s, index: int, lengths: dict[str, str]) -> PerlStep:
        conv, a, k = self.conv, s.arg, s.kind
        c = conv.cvar(a.name)
        if k == "object":
            return PerlStep(k, a.name, c, a.type, index, nullable=a.nullable,
                            klass=conv.object(s.ctype))
        if k == "string":
            return PerlStep(k, a.name, c, "const char *", index, nullable=a.nullable)
        if k in ("scalar", "buffer_max"):
            rd, mk = _scalar(a.type, self.enums)
            return PerlStep(k, a.name, c, a.type, index, read=rd, make=mk)
        if k == "uuid":
            return PerlStep(k, a.name, c, "const unsigned char *", index)
        if k == "objects_in":     # a NULL-terminated array
            return PerlStep(k, a.name, c, s.ctype, index, klass=conv.object(s.ctype))
        if k == "auth":   # virConnectAuth: a hash {credtype, callback} (pyvirt_perl.h)
            return PerlStep(k, a.name, c, a.type, index, nullable=True)
        if k in ("typed_in", "strings_in", "bytes_in", "ints_in"):
            n = shared.length_arg(b, s.length or a.length)
            ctype = a.type.replace("const ", "").rstrip(" *").strip()
            rd = mk = ""
            if k == "ints_in":
                rd, mk = _scalar(ctype, self.enums)
            return PerlStep(k, a.name, c, ctype, index, read=rd, length=conv.cvar(n.name),
                            length_ctype=n.type)
        if k == "callback":
            return PerlStep(k, a.name, c, s.ctype, index)
        if k == "out_scalar":
            rd, mk = _scalar(s.ctype, self.enums)
            return PerlStep(k, a.name, c, s.ctype, make=mk)
        if k == "out_struct":
            if a.length:
                raise Unsupported(f"output {a.name}: an array of {s.ctype}")
            self.struct(s.ctype)
            return PerlStep(k, a.name, c, "struct " + s.ctype, elem=s.ctype)
        if k in ("out_string", "out_uuid", "out_uuidstr", "out_alloc_strings"):
            return PerlStep(k, a.name, c)
        if k in ("out_ints", "out_strings", "out_bytes"):
            cap, count = shared.output_array(b, k, a, s.length, lengths, self._expr, "ret")
            if k == "out_ints":
                return PerlStep(k, a.name, c, s.ctype, make=_scalar(s.ctype, self.enums)[1],
                                length=cap, count=count)
            return PerlStep(k, a.name, c, "char *" if k == "out_strings" else "char", length=cap,
                            nullable=a.nullable and k == "out_bytes")
        if k == "out_alloc_bytes":
            if not a.length:
                raise Unsupported(f"output {a.name}: bytes whose length the spec does not give")
            return PerlStep(k, a.name, c, length=self._expr(b, a.length))
        if k == "out_structs_counted":
            ps = self.struct(s.ctype)
            n = shared.length_arg(b, s.length)
            return PerlStep(k, a.name, c, "struct " + s.ctype, elem=s.ctype,
                            length=conv.cvar(n.name), length_ctype="int",
                            owned=bool(ps.owned), count=conv.cvar(n.name))
        if k == "out_objects":
            return PerlStep(k, a.name, c, s.ctype, klass=conv.object(s.ctype))
        if k == "out_alloc_ints":   # file descriptors: counted by the result or an output
            if s.length == "return":
                return PerlStep(k, a.name, c, "int", make="newSViv")
            n = shared.length_arg(b, s.length)
            return PerlStep(k, a.name, c, "int", make="newSViv", length=conv.cvar(n.name),
                            length_ctype=n.type.rstrip(" *"), count=conv.cvar(n.name))
        if k in shared.STRUCT_OUTPUTS:
            if b.result != "count":
                raise Unsupported(f"output {a.name}: an array whose count the result does not give")
            ps = self.struct(s.ctype)
            cap = ""
            if k == "out_structs":
                cap = lengths.get(s.length or a.length or "", "")
                if not cap:
                    raise Unsupported(f"output {a.name}: no capacity argument")
            return PerlStep(k, a.name, c, "struct " + s.ctype, elem=s.ctype, length=cap,
                            free=b.element_free(s), list_free=b.list_free(s),
                            owned=bool(ps.owned))
        if k == "typed_grid":       # elem: a row's length; count: the rows
            row, rows = shared.grid(s.length)
            return PerlStep(k, a.name, c, length=self._expr(b, s.length),
                            elem=self._expr(b, row), count=self._expr(b, rows))
        if k in ("typed_out", "typed_alloc"):
            n = shared.length_arg(b, s.length)
            cap = self.ov.get("typed_capacity", {}).get(b.fn.name, {}).get("capacity", 0)
            return PerlStep(k, a.name, c, length=conv.cvar(n.name),
                            length_ctype=n.type.rstrip(" *"), capacity=cap)
        raise Unsupported(f"conversion kind {k}")

    def _expr(self, b: shared.Binding, expr: str) -> str:
        """A length expression of the spec in C (the result is ret)."""
        return shared.binding_length(b, expr, self.conv.cvar, self.conv.cvar, "(int){}".format,
                                     "ret")

    def function(self, b: shared.Binding) -> PerlFunction:
        conv, fn = self.conv, b.fn
        if b.unsupported:
            raise Unsupported(b.unsupported)
        if b.result not in shared.RESULTS:
            raise Unsupported(f"result {b.result or fn.ret.type}")
        for s in b.steps:
            if s.kind not in KINDS:
                raise Unsupported(f"argument {s.arg.name}: conversion kind {s.kind}")
        klass = conv.object(b.owner) if b.owner else ""
        lengths = {s.arg.name: conv.cvar(s.arg.name) for s in b.steps if s.kind == "buffer_max"}
        steps: list[PerlStep] = []
        index = 1 if b.owner else 0
        counted: set[str] = set()
        for s in b.steps:
            if b.owner and s is b.steps[0]:
                continue
            is_in = s.kind in shared.IN_KINDS
            ps = self.step(b, s, index if is_in else -1, lengths)
            if ps.is_input and ps.length:
                if ps.length in counted:
                    ps = dataclasses.replace(ps, shares_length=True)
                counted.add(ps.length)
            index += is_in
            steps.append(ps)
        # Trailing flags and nullable arguments may be left out (undef / 0), as in Sys::Virt.
        required = index
        for ps in reversed([p for p in steps if p.is_input]):
            if (ps.kind == "scalar" and ps.arg == "flags") or ps.nullable:
                required = ps.index
            else:
                break
        steps = [dataclasses.replace(p, optional=p.is_input and p.index >= required) for p in steps]
        by_arg = {s.arg: s for s in steps}
        cstep = b.callback_step
        length_of = {s.length[2:]: s for s in steps if s.length and s.kind in (
            "typed_in", "strings_in", "bytes_in", "ints_in", "typed_out", "typed_alloc",
            "out_structs_counted", "out_alloc_ints")}
        global_callbacks = bool(b.callbacks) and all(cb.global_ for cb in b.callbacks)
        synchronous = any(cb.synchronous for cb in b.callbacks) or global_callbacks
        if len(b.callback_steps) > 1 and not synchronous:
            raise Unsupported("several callbacks kept after the call")
        cargs = []
        for i, a in enumerate(fn.args):
            if synchronous and a.name == cstep.arg.opaque:
                cargs.append("(void *)c_cbs")
            elif synchronous and a.name in by_arg and by_arg[a.name].kind == "callback":
                cargs.append("pv_cb_" + by_arg[a.name].ctype)
            elif cstep is not None and a.name == cstep.arg.free:
                cargs.append("pv_callback_free")
            elif cstep is not None and a.name == cstep.arg.opaque:
                cargs.append("(void *)c_" + cstep.arg.name + "_sv")
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
        events: tuple[Event, ...] = ()
        cb_c = cb_ct = event_c = ""
        if cstep is not None:
            cb_ct = cstep.ctype
            if b.events:
                evs = []
                for e in b.events:
                    try:
                        pc = self.callback(e.callback)
                    except Unsupported as why:
                        self.mod.left_out[f"{fn.name}({e.enum})"] = str(why)
                        continue
                    evs.append(Event(e.enum, pc.cname))
                events = tuple(evs)
                event_c = conv.cvar("eventID")
            else:
                cb_c = [self.callback(cb) for cb in b.callbacks][0].cname
        ret_make = ret_klass = ""
        if b.result in ("object", "borrowed_object"):
            ret_klass = conv.object(fn.ret.type)
        elif b.result == "value":
            ret_make = _scalar(fn.ret.type, self.enums)[1]
        fail = {"NULL": "ret == NULL", "-1": "ret < 0",
                "0": "ret == 0 && virGetLastErrorCode() != VIR_ERR_OK", None: ""}[fn.ret.error_value]
        outs = [s for s in steps if not s.is_input and s.kind != "buffer_max"]
        ret_shown = b.result in ("object", "borrowed_object", "string", "borrowed_string", "value",
                                 "bool", "bytes_count", "bytes_sized")
        flatten = len(outs) == 1 and outs[0].kind in ARRAY_OUTPUTS and not ret_shown
        name = conv.function(b.stem)
        params = [("$" + s.arg + ("?" if s.optional else "")) for s in steps if s.is_input]
        usage = (f"$self->{name}" if klass else f"{conv.package}::{name}") + f"({', '.join(params)})"
        total = index
        return PerlFunction(fn.name, klass, name, usage, tuple(steps), (required, total), b.result,
                            fn.ret.type, ret_make, ret_klass, tuple(cargs), fail, cb_c, cb_ct,
                            events, event_c, b.refcount, flatten, b.owner, b.keyed,
                            bool(b.unregisters), synchronous, global_callbacks)

    def run(self) -> Module:
        mod, conv = self.mod, self.conv
        mod.functions = shared.plan_all(self.apis, self.ov, "Perl", self.function,
                                  lambda f: (f.klass, f.name), mod.left_out, mod.libraries)
        mod.objects = [(conv.object(t), t, "virConnectClose" if t == "virConnectPtr"
                        else f"vir{t[3:-3]}Free") for t in OBJECT_TYPES]
        names: set[str] = set()
        for api in self.apis:
            for d in api.decls:
                if isinstance(d, Enum) and not d.sentinel and conv.constant(d.name) not in names:
                    mod.constants.append((conv.constant(d.name), str(d.value)))
                    names.add(conv.constant(d.name))
        for api in self.apis:
            for d in api.of(Macro):
                n = conv.constant(d.name)
                if d.params is None and n not in names and (
                        d.value.startswith('"') or NUMERIC_MACRO.match(d.value)):
                    v = d.value if not d.value.startswith('"') else \
                        "'" + d.value[1:-1].replace("\\", "\\\\").replace("'", "\\'") + "'"
                    mod.constants.append((n, v))
                    names.add(n)
        mod.structs = sorted(self.used_structs.values(), key=lambda s: s.cname)
        mod.callbacks = sorted(self.used_callbacks.values(), key=lambda c: c.cname)
        return mod


def _carg(s: PerlStep) -> str:
    if s.kind == "callback":
        return "c_cb"
    if s.kind in ("out_scalar", "out_struct", "out_string", "typed_alloc", "out_objects",
                  "out_alloc_strings", "out_struct_array", "out_struct_block", "out_alloc_bytes",
                  "out_alloc_ints"):
        return "&" + s.c
    if s.kind in ("bytes_in",):
        return f"({s.ctype} *){s.c}"
    if s.kind == "out_bytes":
        return f"(void *){s.c}"
    if s.kind == "strings_in":
        return f"(const char **){s.c}"
    return s.c



def plan(apis: list[Api], overrides: dict) -> Module:
    return _Planner(apis, overrides, Conventions()).run()



def render(apis: list[Api], overrides: dict, handwritten: str) -> dict[str, str]:
    """{path under the build folder: text}: bindings/perl/{PyVirt.xs, lib/PyVirt.pm,
    Makefile.PL}.  handwritten: bindings/perl relative to build/bindings/perl."""
    mod = plan(apis, overrides)
    env = environment("perl", {})
    specs = ", ".join(f"apispec/{a.name}.xml" for a in apis)
    ctx = dict(mod=mod, specs=specs, handwritten=handwritten, package=Conventions.package)
    return {f"bindings/perl/{out}": env.get_template(tpl).render(**ctx) for out, tpl in (
        ("PyVirt.xs", "PyVirt.xs.j2"), ("lib/PyVirt.pm", "PyVirt.pm.j2"),
        ("Makefile.PL", "Makefile.PL.j2"))}


def coverage(apis: list[Api], overrides: dict) -> str:
    mod = plan(apis, overrides)
    total = sum(len(a.functions) for a in apis)
    left = {k: v for k, v in mod.left_out.items() if "(" not in k}
    lines = [f"Perl: {total - len(left)} of {total} functions generated, {len(left)} left out\n"]
    lines += [f"  {k}: {v}\n" for k, v in sorted(mod.left_out.items())]
    return "".join(lines)
