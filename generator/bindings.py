"""What every generated language binding (Go, Perl, OCaml) needs to know about a
C function, decided once: its receiver, its inputs and outputs, what its result
means, and the callbacks it takes.

Argument conversion kinds are the C shim's (generator/shim.py ``plan``): a binding
calls the same C functions with the same arguments, so it reuses that
classification as is and only adds what a caller of the C API sees but the shim
does not (what an int result means, which callback type an event ID selects).
Per-language choices (names, types, what a language leaves out) live in
generator/<lang>/ and bindings/<lang>/overrides.toml.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from . import shim as shim_plan
from .events import EVENT_FAMILIES
from .model import OBJECT_TYPES, Api, Arg, FuncType, Function, Return
from .shim import IN_KINDS, OUT_KINDS, Step

# An <return type='int'/> is a 0/-1 status unless the function counts, tests or
# hands out an id; the spec cannot say which, libvirt's naming does.
BOOL_RESULT = re.compile(r"^vir\w*?(Is|Has)[A-Z]\w*$")
VALUE_RESULT = re.compile(
    r"NumOf|Num$|NumChildren|GetMax|Compare|EventRegister(Any)?$|^virEventAdd|GetVcpusFlags"
    r"|GetUsageType|^virStreamSend$|OpenGraphicsFD|^virGetLastError(Code|Domain)$|^virConnectClose$")

RESULTS = ("none", "status", "bool", "value", "object", "borrowed_object", "string",
           "borrowed_string",
           "count", "bytes_count", "bytes_sized")


@dataclass(frozen=True)
class Callback:
    """A C callback type as a binding delivers it: its arguments (the user-data
    slot removed) classified as inputs from C; ex) virConnectDomainEventCallback."""
    ft: FuncType
    steps: tuple[Step, ...]
    unsupported: str = ""
    # Called during the call that takes it (user data, no free function: the
    # stream handlers): it can fail, and its int result is -1 then, else the
    # length of the bytes it gave or took (virStreamSourceFunc), else 0.
    synchronous: bool = False
    # Process-wide hooks without user data (virEventRegisterImpl's): the binding
    # keeps one set; their void * belongs to a callback they are given (nested).
    global_: bool = False
    nested: tuple["Callback", ...] = ()

    @property
    def outputs(self) -> list[Step]:
        """What the callback answers: bytes, numbers (virStreamSourceHoleFunc)."""
        return [s for s in self.steps if s.kind in OUT_KINDS]

    @property
    def name(self) -> str:
        return self.ft.name

    @property
    def args(self) -> tuple[Arg, ...]:
        """The C arguments in order, the user-data slot last."""
        return self.ft.args


@dataclass(frozen=True)
class EventChoice:
    """One event ID of a RegisterAny family and the callback type it selects."""
    enum: str
    callback: Callback


@dataclass(frozen=True)
class Binding:
    """One C function as the bindings call it; ex) virDomainGetName ->
    owner='virDomainPtr', stem='GetName', result='string'.

    steps: the shim's conversion steps (inputs, outputs, callbacks) in C order.
    unsupported: why no binding can call it yet (a conversion kind is missing).
    """
    fn: Function
    owner: str
    stem: str
    steps: tuple[Step, ...]
    result: str
    unsupported: str = ""
    refcount: str = ""
    callbacks: tuple[Callback, ...] = ()       # what the callback argument may be
    events: tuple[EventChoice, ...] = ()        # for a RegisterAny family
    element_frees: tuple[tuple[str, str], ...] = ()   # (argument, libvirt's free function)
    list_frees: tuple[tuple[str, str], ...] = ()      # (argument, libvirt's list free function)
    # A callback without user data that undoes a registration (virConnectDomainEventDeregister)
    # names the registering function; that one is 'keyed': the binding remembers which
    # function it registered per object, to pass libvirt the same C pointer back.
    unregisters: str = ""
    keyed: bool = False

    def element_free(self, s: Step) -> str:
        """The spec's function freeing one element of a struct-array output
        (virNetworkDHCPLeaseFree); '' when the caller frees its strings and block."""
        return dict(self.element_frees).get(s.arg.name, "")

    def list_free(self, s: Step) -> str:
        """The spec's function freeing a whole struct-array output, elements and
        all (virDomainStatsRecordListFree); '' when there is none."""
        return dict(self.list_frees).get(s.arg.name, "")

    @property
    def inputs(self) -> list[Step]:
        return [s for s in self.steps if s.kind in IN_KINDS and not (self.owner and s is self.steps[0])]

    @property
    def outputs(self) -> list[Step]:
        return [s for s in self.steps if s.kind in OUT_KINDS]

    @property
    def callback_step(self) -> Step | None:
        return next((s for s in self.steps if s.kind == "callback"), None)

    @property
    def callback_steps(self) -> list[Step]:
        """Every callback argument; several share one user data (virStreamSparseSendAll)."""
        return [s for s in self.steps if s.kind == "callback"]

    @property
    def ret(self) -> Return:
        return self.fn.ret

    @property
    def error_value(self) -> str | None:
        return self.fn.ret.error_value

    @property
    def size_arg(self) -> str:
        """For a bytes_sized result (virSecretGetValue): the output receiving its size."""
        return next((a.name for a in self.fn.args if a.name.endswith("_size") and a.dir == "out"), "")


def _result(fn: Function, plan: shim_plan.Plan) -> str:
    if plan.refcount:
        return "value" if fn.name == "virConnectClose" else "status"
    r = plan.result
    if r == "void":
        return "none"
    if r == "expression" or fn.name in shim_plan.VALUE_WITH_OUTPUTS or any(
            s.kind == "typed_grid" for s in plan.steps):
        return "value"   # the C result itself is the answer (vCPUs filled, host CPUs,
                         # parameters per row)
    if r == "value" and fn.ret.type == "int":
        if BOOL_RESULT.match(fn.name):
            return "bool"
        return "value" if VALUE_RESULT.search(fn.name) else "status"
    return r


# Struct outputs: how the caller gets the elements and gives their memory back.
STRUCT_OUTPUTS = ("out_structs", "out_struct_array", "out_struct_block")


def _element_frees(full: Api, steps: tuple[Step, ...], suffix: str = "Free",
                   arg: str = "") -> tuple[tuple[str, str], ...]:
    """For a virXPtr ** output: the spec's virXFree(virXPtr), if there is one; with
    suffix 'ListFree' and arg ' *', virXListFree(virXPtr *) for the whole list."""
    out = []
    for s in steps:
        if s.kind == "out_struct_array":
            ptr = s.arg.type[:-3]
            f = full.by_name.get(ptr[:-3] + suffix)
            if isinstance(f, Function) and len(f.args) == 1 and f.args[0].type == ptr + arg:
                out.append((s.arg.name, f.name))
    return tuple(out)


LENGTH_TERM = re.compile(r"^(?:VIR_CPU_MAPLEN\((\w+)\)|(\w+))$")


def length_expr(expr: str, term) -> str:
    """An array length the spec gives as an expression of arguments, in a language:
    'maxinfo*maplen' -> term('maxinfo') * term('maplen'); 'VIR_CPU_MAPLEN(return)'
    -> ((term('return') + 7) / 8).  term(name) gives a name's integer expression
    and raises Unsupported for one it does not know."""
    parts = []
    for t in expr.split("*"):
        m = LENGTH_TERM.match(t.strip())
        if m is None:
            raise Unsupported(f"length {expr}")
        parts.append(f"(({term(m.group(1))} + 7) / 8)" if m.group(1) else term(m.group(2)))
    return " * ".join(parts)


def binding_length(b: Binding, expr: str, local, param, cast, ret: str) -> str:
    """length_expr for one binding's arguments: a buffer's capacity and an input
    array's count by their C locals (local(name)), other scalars by param(name),
    the result as ret; cast(x) makes each term an integer of the language."""
    names = {"return": ret}
    for s in b.steps:
        if s.kind == "buffer_max":
            names[s.arg.name] = local(s.arg.name)
        elif s.kind == "scalar":
            names[s.arg.name] = param(s.arg.name)
        elif s.kind in ("ints_in", "strings_in", "bytes_in") and s.length:
            names[s.length] = local(s.length)

    def term(n: str) -> str:
        if n not in names:
            raise Unsupported(f"length {expr}: {n} is not an input")
        return cast(names[n])
    return length_expr(expr, term)


def length_arg(b: Binding, name: str | None) -> Arg:
    """The argument that a step's length names (Unsupported when none does)."""
    a = next((x for x in b.fn.args if x.name == name), None)
    if a is None:
        raise Unsupported(f"length {name} is not an argument")
    return a


def output_array(b: Binding, kind: str, arg: Arg, length: str | None,
                 lengths: dict[str, str], expr, ret: str) -> tuple[str, str]:
    """A caller-allocated output array's (capacity, count) in a language: the
    capacity from its length argument or a product of inputs (maxinfo*maplen,
    through expr), the count from the result (ret) or, for a product, the whole
    capacity (virNodeGetFreePages).  Bytes need no count."""
    spec = length or arg.length or ""
    cap = lengths.get(spec)
    if cap is None and "*" in spec:
        cap = expr(b, spec)
    count = ret if b.result == "count" else ""
    if kind != "out_bytes" and not count and "*" in spec:
        count = cap
    if kind != "out_bytes" and not count:
        raise Unsupported(f"output {arg.name}: an array whose count the result does not give")
    if cap is None:
        raise Unsupported(f"output {arg.name}: no capacity argument")
    return cap, count


def grid(expr: str) -> tuple[str, str]:
    """The row length and row count of a 'typed_grid' output's length 'a*b': b rows
    of a entries each (virDomainGetCPUStats: nparams*ncpus)."""
    row, rows = expr.split("*")
    return row.strip(), rows.strip()


def nested_field(struct, f, struct_ptrs: dict[str, str]) -> str:
    """What a pointer field of a returned struct holds, when a binding can copy it:
    'object' (virDomainStatsRecord.dom: a borrowed object), 'typed' (params counted
    by nparams), 'structs' (virDomainInterface.addrs counted by naddrs), or ''."""
    counted = "n" + f.name in {x.name for x in struct.fields}
    if f.type in OBJECT_TYPES:
        return "object"
    if f.type == "virTypedParameterPtr" and counted:
        return "typed"
    if f.type in struct_ptrs and counted:
        return "structs"
    return ""


def owned_strings(struct) -> tuple[str, ...]:
    """The char * fields of a struct the caller filled (virDomainDiskError.disk):
    the caller frees them after copying."""
    return tuple(f.name for f in struct.fields if f.type == "char *" and not f.array)


def owner_of(fn: Function) -> str:
    """The receiver: the first argument when it is an object passed in."""
    if fn.args and fn.args[0].type in OBJECT_TYPES and fn.args[0].dir == "in":
        return fn.args[0].type
    return ""


def stem_of(fn: Function, owner: str) -> str:
    """virDomainGetName -> GetName on Domain; virDomainLookupByName -> DomainLookupByName
    on Connect; virNodeGetInfo -> NodeGetInfo; virGetVersion -> GetVersion."""
    base = owner[3:-3] if owner else ""
    if base and fn.name.startswith("vir" + base) and len(fn.name) > 3 + len(base):
        return fn.name[3 + len(base):]
    return fn.name[3:]


def _callback_function(ft: FuncType) -> Function:
    """A callback's arguments as a function's, so that the shim's rules classify
    them: the user-data slot dropped, (params, nparams) paired."""
    args = [a for a in ft.args if a.type != "void *"]
    fixed = []
    for i, a in enumerate(args):
        nxt = args[i + 1] if i + 1 < len(args) else None
        if a.type == "virTypedParameterPtr" and nxt is not None and nxt.name == "nparams":
            a = dataclasses.replace(a, length=nxt.name)
        fixed.append(a)
    return Function(ft.name, ft.file, "", Return("void"), tuple(fixed))


def _callback(ft: FuncType, p: shim_plan.Plan) -> Callback:
    extra: list[str] = []
    bad = [s.kind for s in p.steps if s.kind not in ("object", "string", "scalar", "typed_in",
                                                       "bytes_in", "out_bytes", "out_scalar", "buffer_max",
                                                       "struct_in", "callback")]
    problems = [x for x in [p.unsupported, *extra, *(f"{k} argument" for k in bad)] if x]
    return Callback(ft, p.steps, "; ".join(problems))


def _sync(cb: Callback, arg: Arg) -> Callback:
    return dataclasses.replace(cb, synchronous=bool(arg.opaque and not arg.free))


def bindings(api: Api, apis: list[Api] | None = None) -> list[Binding]:
    """Every function of api, classified; apis gives the base library's types to
    the -qemu and -lxc specs."""
    full = _merged(api, apis or [api])
    fts = [d for d in full.decls if isinstance(d, FuncType)]
    pseudo = [_callback_function(ft) for ft in fts]
    plans = {p.fn.name: p for p in shim_plan.plans(
        dataclasses.replace(full, decls=full.decls + tuple(pseudo)), set(), set())}
    cbs_by_name = {ft.name: _callback(ft, plans[ft.name]) for ft in fts}
    cbs_by_name = {n: dataclasses.replace(c, nested=tuple(
        cbs_by_name[s.ctype] for s in c.steps if s.kind == "callback" and s.ctype in cbs_by_name))
        for n, c in cbs_by_name.items()}
    ours = {f.name for f in api.functions}
    frees = {fn.name: _element_frees(full, plans[fn.name].steps) for fn in api.functions}
    list_frees = {fn.name: _element_frees(full, plans[fn.name].steps, "ListFree", " *")
                  for fn in api.functions}
    # A free function that a struct-array output's method calls itself.
    used_by = {f: fn for fn, fs in frees.items() for _, f in fs}
    for fn, fs in list_frees.items():
        for _, f in fs:
            used_by[f] = f"{used_by[f]} and {fn}" if f in used_by else fn
    partners = _unregister_partners(api, plans)
    out = []
    for fn in api.functions:
        p = plans[fn.name]
        owner = owner_of(fn)
        cbs: tuple[Callback, ...] = ()
        events: tuple[EventChoice, ...] = ()
        problems = [p.unsupported] if p.unsupported else []
        cb_steps = [s for s in p.steps if s.kind == "callback"]
        step = cb_steps[0] if cb_steps else None
        if len(cb_steps) > 1:
            unknown = [s.ctype for s in cb_steps if s.ctype not in cbs_by_name]
            if unknown:
                problems.append(f"callback types {unknown} unknown")
            cbs = tuple(_sync(cbs_by_name[s.ctype], s.arg) for s in cb_steps
                        if s.ctype in cbs_by_name)
            if not any(s.arg.opaque for s in cb_steps):    # virEventRegisterImpl
                cbs = tuple(dataclasses.replace(c, global_=True) for c in cbs)
            elif not all(s.arg.opaque for s in cb_steps):
                problems.append("callbacks with and without user data")
        elif step is not None:
            if fn.name in EVENT_FAMILIES:
                prefix, types = EVENT_FAMILIES[fn.name]
                ids = sorted((e for e in full.enums if e.name.startswith(prefix) and not e.sentinel),
                             key=lambda e: e.value)
                events = tuple(EventChoice(e.name, cbs_by_name[types[e.value]])
                               for e in ids if e.value < len(types))
                cbs = tuple({c.callback.name: c.callback for c in events}.values())
            elif step.ctype in cbs_by_name:
                cbs = (_sync(cbs_by_name[step.ctype], step.arg),)
            else:
                problems.append(f"callback type {step.ctype} unknown")
            if not step.arg.opaque and fn.name not in partners:
                cbs = tuple(dataclasses.replace(c, global_=True) for c in cbs)
        if fn.name in used_by and fn.name.endswith("ListFree"):
            problems = [f"frees the result of {used_by[fn.name]}: each frees it itself"]
        elif fn.name in used_by:
            problems = [f"frees an element of {used_by[fn.name]}'s result: "
                        "that method frees each one itself"]
        out.append(Binding(fn, owner, stem_of(fn, owner), p.steps, _result(fn, p),
                           "; ".join(problems), p.refcount, cbs, events, frees[fn.name],
                           list_frees[fn.name], partners.get(fn.name, ""),
                           fn.name in partners.values()))
    assert len(out) == len(ours)
    return out


def _unregister_partners(api: Api, plans: dict[str, shim_plan.Plan]) -> dict[str, str]:
    """Functions taking a callback without user data, to undo what a function of the
    same receiver registered with the same callback type and user data:
    {virConnectDomainEventDeregister: virConnectDomainEventRegister}."""
    def callback(fn: Function) -> Arg | None:
        s = next((s for s in plans[fn.name].steps if s.kind == "callback"), None)
        return s.arg if s else None
    registers = {(owner_of(f), a.type): f.name for f in api.functions
                 if (a := callback(f)) is not None and a.opaque}
    return {f.name: registers[(owner_of(f), a.type)] for f in api.functions
            if (a := callback(f)) is not None and not a.opaque
            and len(f.args) == 2 and (owner_of(f), a.type) in registers}


def callbacks(api: Api, apis: list[Api] | None = None) -> list[Callback]:
    """Every callback type any function of api may take."""
    seen: dict[str, Callback] = {}
    for b in bindings(api, apis):
        for c in b.callbacks:
            seen.setdefault(c.name, c)
    return sorted(seen.values(), key=lambda c: c.name)


def _merged(api: Api, apis: list[Api]) -> Api:
    base = [a for a in apis if a.name == "libvirt" and a is not api]
    if not base:
        return api
    return dataclasses.replace(api, decls=base[0].decls + api.decls)


def load_overrides(path: str) -> dict:
    """A language's overrides file (bindings/<lang>/overrides.toml)."""
    import tomllib
    with open(path, "rb") as f:
        return tomllib.load(f)


class Unsupported(Exception):
    """A function whose shape a language cannot take yet; the message is the reason."""


def plan_all(apis: list[Api], overrides: dict, language: str, plan_one, where,
             left_out: dict[str, str], libraries: list[str]) -> list:
    """Every function of apis planned by plan_one(binding) for one language.

    The overrides' [skip] entries and functions plan_one raises Unsupported for
    go to left_out with their reasons; where(planned) gives a function's place
    and name in the language, which must be unique."""
    skips = overrides.get("skip", {})
    seen: dict[tuple[str, str], str] = {}
    planned = []
    for api in apis:
        libraries.append(api.name)
        for b in bindings(api, apis):
            if b.fn.name in skips:
                left_out[b.fn.name] = skips[b.fn.name]
                continue
            try:
                one = plan_one(b)
            except Unsupported as why:
                left_out[b.fn.name] = str(why)
                continue
            key = where(one)
            if key in seen:
                raise ValueError(f"{language} name {'.'.join(filter(None, key))} "
                                 f"for both {seen[key]} and {b.fn.name}")
            seen[key] = b.fn.name
            planned.append(one)
    return planned
