"""The C shim's plan: for each exported function, how the cffi extern converts
its arguments and result, or why it cannot yet (then it reports "not supported").

This is where the spec's annotations turn into conversion kinds; the template
(templates/shim/externs.py.j2) only spells the chosen kinds out in Python.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .events import EVENT_FAMILIES
from .model import OBJECT_TYPES, Api, Arg, Function, FuncType, Struct, Typedef

# failure values that are not the return type's usual one
ERROR_VALUES = {"virDomainGetID": "0xFFFFFFFF"}   # (unsigned int)-1, as libvirt's
UNSIGNED_MASKS = {"unsigned int": "0xFFFFFFFF", "unsigned long": "0xFFFFFFFFFFFFFFFF",
                  "unsigned long long": "0xFFFFFFFFFFFFFFFF"}   # LP64
SCALAR_TYPES = {"int", "unsigned int", "long", "unsigned long", "long long",
                "unsigned long long", "double", "size_t", "unsigned char", "char"}
OUT_SCALARS = {t + " *" for t in SCALAR_TYPES}
# Entry points that leave the thread's last error as it is, as libvirt's
# event-loop functions do (they never reset it, even when they succeed).
KEEPS_LAST_ERROR = frozenset({
    "virEventAddHandle", "virEventUpdateHandle", "virEventRemoveHandle",
    "virEventAddTimeout", "virEventUpdateTimeout", "virEventRemoveTimeout",
})

# Input arrays libvirt's API layer hands on even when NULL with a non-zero
# count (the driver decides): the core gets None instead of an error here.
UNCHECKED_ARRAYS = frozenset({
    ("virConnectSetIdentity", "params"), ("virDomainSaveParams", "params"),
    ("virDomainRestoreParams", "params"), ("virDomainAuthorizedSSHKeysSet", "keys"),
    ("virDomainMigrateToURI3", "params"),
})

# Typed-parameter counts libvirt requires to be zero or greater (the core
# sees a list, never the count; setters that need a positive count get an
# empty list and say so themselves).
NON_NEGATIVE_COUNTS = frozenset({
    "virNodeSetMemoryParameters", "virDomainSetSchedulerParameters",
    "virDomainSetSchedulerParametersFlags", "virDomainSetBlkioParameters",
})

# Output pointers libvirt requires although the library allocates what they
# receive (checked before the core runs, so after the handle only).
REQUIRED_OUTPUTS = {
    "virDomainGetSecurityLabelList": "seclabels",
    "virDomainAuthorizedSSHKeysGet": "keys",
    "virDomainLxcOpenNamespace": "fdlist",
}

# Callee-allocated typed-parameter outputs whose count pointer alone libvirt
# checks before the driver runs (the array pointer is checked after).
COUNT_FIRST = frozenset({"virNodeGetSEVInfo"})

# libvirt reports an invalid object pointer with these; the file's domain for connections.
OBJECT_ERRORS = {
    "virConnectPtr": ("VIR_ERR_INVALID_CONN", None, "connection"),
    "virDomainPtr": ("VIR_ERR_INVALID_DOMAIN", "VIR_FROM_DOM", "domain"),
    "virNetworkPtr": ("VIR_ERR_INVALID_NETWORK", "VIR_FROM_NETWORK", "network"),
    "virNetworkPortPtr": ("VIR_ERR_INVALID_NETWORK_PORT", "VIR_FROM_NETWORK", "network port"),
    "virInterfacePtr": ("VIR_ERR_INVALID_INTERFACE", "VIR_FROM_INTERFACE", "interface"),
    "virStoragePoolPtr": ("VIR_ERR_INVALID_STORAGE_POOL", "VIR_FROM_STORAGE", "storage pool"),
    "virStorageVolPtr": ("VIR_ERR_INVALID_STORAGE_VOL", "VIR_FROM_STORAGE", "storage volume"),
    "virNodeDevicePtr": ("VIR_ERR_INVALID_NODE_DEVICE", "VIR_FROM_NODEDEV", "node device"),
    "virSecretPtr": ("VIR_ERR_INVALID_SECRET", "VIR_FROM_SECRET", "secret"),
    "virNWFilterPtr": ("VIR_ERR_INVALID_NWFILTER", "VIR_FROM_NWFILTER", "network filter"),
    "virNWFilterBindingPtr": ("VIR_ERR_INVALID_NWFILTER_BINDING", "VIR_FROM_NWFILTER",
                              "network filter binding"),
    "virStreamPtr": ("VIR_ERR_INVALID_STREAM", "VIR_FROM_STREAMS", "stream"),
    "virDomainSnapshotPtr": ("VIR_ERR_INVALID_DOMAIN_SNAPSHOT", "VIR_FROM_DOMAIN_SNAPSHOT",
                             "domain snapshot"),
    "virDomainCheckpointPtr": ("VIR_ERR_INVALID_DOMAIN_CHECKPOINT",
                               "VIR_FROM_DOMAIN_CHECKPOINT", "domain checkpoint"),
}
# The error domain of each source file (libvirt reports argument errors and
# unsupported calls from it).  `file` in the spec names the header; the few
# functions a header declares but libvirt.c implements are in LIBVIRT_C.
FILE_DOMAINS = {
    "libvirt-host": "VIR_FROM_DOMAIN", "libvirt-domain": "VIR_FROM_DOMAIN",
    "libvirt-domain-snapshot": "VIR_FROM_DOMAIN_SNAPSHOT",
    "libvirt-domain-checkpoint": "VIR_FROM_DOMAIN_CHECKPOINT", "libvirt-event": "VIR_FROM_EVENT",
    "libvirt-interface": "VIR_FROM_INTERFACE", "libvirt-network": "VIR_FROM_NETWORK",
    "libvirt-nodedev": "VIR_FROM_NODEDEV", "libvirt-nwfilter": "VIR_FROM_NWFILTER",
    "libvirt-secret": "VIR_FROM_SECRET", "libvirt-storage": "VIR_FROM_STORAGE",
    "libvirt-stream": "VIR_FROM_STREAMS", "libvirt-common": "VIR_FROM_NONE",
    "virterror": "VIR_FROM_NONE", "libvirt-qemu": "VIR_FROM_NONE", "libvirt-lxc": "VIR_FROM_NONE",
}
LIBVIRT_C = frozenset({"virGetVersion", "virInitialize", "virConnectOpen",
                       "virConnectOpenReadOnly", "virConnectOpenAuth", "virConnectClose"})


def source_domain(fn: Function) -> str:
    """The VIR_FROM_* name libvirt reports `fn`'s own errors under."""
    if fn.name in LIBVIRT_C:
        return "VIR_FROM_NONE"
    return FILE_DOMAINS.get(fn.file, "VIR_FROM_NONE")


@dataclass(frozen=True)
class Step:
    """One argument's conversion: kind names a snippet of the extern template."""
    kind: str
    arg: Arg
    ctype: str = ""        # object type, struct type or element type as needed
    length: str = ""       # the argument or constant giving a buffer's length


ENTRY_PREFIX = "pyvirt_py_"


@dataclass(frozen=True)
class Plan:
    fn: Function
    steps: tuple[Step, ...] = ()
    result: str = ""       # how the C return value is made: status, value, string, ...
    native: bool = False   # written in C under shim/
    handwritten: bool = False  # a Python extern written under shim/pyvirt_shim/
    refcount: str = ""     # 'ref', 'free' or 'close' for the handle functions
    unsupported: str = ""  # why the shim cannot convert it yet
    returns_too: bool = False  # the api returns (value, outputs...) instead of outputs
    # Entered through a C function (entry.c) that resets the thread's error
    # before calling the Python extern, named ENTRY_PREFIX + the function's name.
    c_entry: bool = False

    @property
    def extern_name(self) -> str:
        """The name the Python extern is defined under."""
        return ENTRY_PREFIX + self.fn.name if self.c_entry else self.fn.name

    @property
    def error_value(self) -> str:
        if self.fn.name in ERROR_VALUES:
            return ERROR_VALUES[self.fn.name]
        v = self.fn.ret.error_value
        return {"NULL": "ffi.NULL", None: "None"}.get(v, v)

    @property
    def unsigned_mask(self) -> str:
        """For an unsigned result: the mask that makes the core's -1 the
        C value (virDomainGetID of an inactive domain), else ""."""
        return UNSIGNED_MASKS.get(self.fn.ret.type, "")

    @property
    def size_arg(self) -> str:
        """For a bytes result: the output argument receiving its size."""
        return next(a.name for a in self.fn.args if a.name.endswith("_size") and a.dir == "out")

    @property
    def file_domain(self) -> str:
        return source_domain(self.fn)

    @property
    def api_args(self) -> list[str]:
        """The Python arguments of the pyvirt.api call; a callback brings its free function."""
        out = []
        for s in self.steps:
            if s.kind in IN_KINDS:
                out.append(f"a_{s.arg.name}")
            if s.kind == "callback" and s.arg.free:
                out.append(f"a_{s.arg.name}_free")
        return out

    @property
    def callback_type(self) -> str:
        """Python expression for a callback's C type: domain events pick it by event ID."""
        s = next(s for s in self.steps if s.kind == "callback")
        if self.fn.name in EVENT_FAMILIES:
            return f'rt.event_type("{self.fn.name}", eventID)'
        return f'"{s.ctype}"' 

    @property
    def outputs(self) -> list[Step]:
        return [s for s in self.steps if s.kind in OUT_KINDS]


# C results that are neither a status nor a list's length, computed from the
# core's result r and the C arguments.
RESULT_EXPRESSIONS = {
    "virDomainGetVcpuPinInfo": "len(r) // maplen",          # vCPUs whose maps were filled
    "virDomainGetEmulatorPinInfo": "1 if any(r) else 0",     # 0: no emulator pinning at all
    "virDomainGetBlockJobInfo": "1 if r.type else 0",        # 0: no job (a zeroed record)
}

# Functions whose C result is a value besides their outputs: the core returns
# (value, output, ...).
VALUE_WITH_OUTPUTS = {
    "virNodeGetCPUMap",      # the number of host CPUs
    "virNodeGetFreePages",   # the driver's own result (the test driver says 0)
}

IN_KINDS = {"object", "string", "scalar", "uuid", "callback", "buffer_max", "auth", "typed_in",
            "strings_in", "bytes_in", "ints_in", "objects_in", "struct_in"}
OUT_KINDS = {"out_scalar", "out_struct", "out_string", "out_uuid", "out_uuidstr",
             "out_ints", "out_strings", "out_objects", "typed_out", "typed_alloc",
             "out_alloc_strings", "out_bytes", "out_struct_array", "out_structs",
             "out_struct_block", "out_alloc_bytes", "out_structs_counted", "typed_grid",
             "out_alloc_ints"}


def _enum_types(api: Api) -> set[str]:
    return {d.name for d in api.decls if isinstance(d, Typedef) and d.type == "enum"}


def _step(fn: Function, a: Arg, api: Api, enums: set[str], structs: dict[str, str]) -> Step | str:
    t = a.type
    if t == "virTypedParameterPtr" and a.dir == "in" and a.length:
        return Step("typed_in", a, length=a.length)
    if t == "virTypedParameterPtr" and a.dir == "out" and a.length and "*" in a.length:
        # rows of typed parameters: ncpus rows of nparams each (virDomainGetCPUStats)
        return Step("typed_grid", a, length=a.length)
    if t == "virTypedParameterPtr" and a.dir == "out" and a.length:
        if {x.name: x.type for x in fn.args}.get(a.length) != "int *":
            return f"output {a.name}: typed parameters counted by {a.length}"
        return Step("typed_out", a, length=a.length)
    if t == "virTypedParameterPtr *" and a.alloc == "callee" and a.length:
        return Step("typed_alloc", a, length=a.length)
    if a.dir == "in" and a.length and t == "const char **":
        return Step("strings_in", a, length=a.length)
    if a.dir == "in" and a.length and t in ("unsigned char *", "const unsigned char *",
                                            "const char *"):
        return Step("bytes_in", a, length=a.length)
    if a.dir == "in" and a.length == "null" and t.endswith("Ptr *") and t[:-2] in OBJECT_TYPES:
        return Step("objects_in", a, t[:-2])
    if a.dir == "in" and a.length and t in OUT_SCALARS:
        return Step("ints_in", a, t[:-2], length=a.length)
    if t == "char ***" and a.alloc == "callee" and a.length == "return":
        return Step("out_alloc_strings", a)
    if a.dir == "in":
        if t in OBJECT_TYPES:
            return Step("object", a, t)
        if t == "const char *":
            return Step("string", a)
        if t in SCALAR_TYPES or t in enums:
            return Step("scalar", a)
        if t == "const unsigned char *" and a.name == "uuid":
            return Step("uuid", a)
        if t == "virConnectAuthPtr":
            return Step("auth", a)
        if t.startswith("const ") and t.endswith(" *"):   # a struct given to read
            td = api.by_name.get(t[6:-2])
            if isinstance(td, Typedef) and td.type.startswith("struct "):
                return Step("struct_in", a, td.type[7:])
        if a.opaque or (t.endswith("Callback") or t.endswith("Func")) and t != "virFreeCallback":
            return Step("callback", a, t)   # virEventRegisterImpl's hooks are given callbacks
        return f"argument {a.name}: {t}"
    if a.length in ("VIR_UUID_BUFLEN",):
        return Step("out_uuid", a)
    if a.length in ("VIR_UUID_STRING_BUFLEN",):
        return Step("out_uuidstr", a)
    if a.length and t in ("char *", "void *", "unsigned char *"):
        return Step("out_bytes", a, length=a.length)
    if a.length and a.length != "return" and t in structs:
        if {x.name: x.type for x in fn.args}.get(a.length) == "int *":
            # *nparams 0 asks how many; otherwise fill up to *nparams
            return Step("out_structs_counted", a, structs[t], a.length)
        return Step("out_structs", a, structs[t], a.length)
    if t in OUT_SCALARS and a.length and a.length != "return":
        return Step("out_ints", a, t[:-2], a.length)
    if t in OUT_SCALARS and not a.length:
        return Step("out_scalar", a, t[:-2])
    if t in ("char **const", "char ** const", "char **") and a.length and a.length != "return":
        return Step("out_strings", a, "char *", a.length)
    if t == "char **" and a.alloc == "callee":
        return Step("out_string", a)
    if t.endswith("Ptr **") and t[:-3] in OBJECT_TYPES and a.length == "return":
        return Step("out_objects", a, t[:-3])
    if t.endswith("Ptr **") and t[:-3] in structs and a.length == "return":
        return Step("out_struct_array", a, structs[t[:-3]])
    if t.endswith("Ptr *") and t[:-2] in structs and a.alloc == "callee" and a.length == "return":
        return Step("out_struct_block", a, structs[t[:-2]])
    if t == "unsigned char **" and a.alloc == "callee":
        return Step("out_alloc_bytes", a)
    if t == "int **" and a.alloc == "callee" and a.length:
        # file descriptors; length: the output count, or 'return'
        return Step("out_alloc_ints", a, "int", length=a.length)
    if t in structs:
        return Step("out_struct", a, structs[t])
    return f"output {a.name}: {t}"


def struct_ptrs(api: Api) -> dict[str, str]:
    """virDomainInfoPtr -> _virDomainInfo, through the typedef chain."""
    typedefs = {d.name: d.type for d in api.decls if isinstance(d, Typedef)}
    out = {}
    for name, target in typedefs.items():
        if target.endswith(" *") and typedefs.get(target[:-2], "").startswith("struct "):
            out[name] = typedefs[target[:-2]][len("struct "):]
    return out


def plan(fn: Function, api: Api, natives: set[str], handwritten: set[str], enums: set[str],
         structs: dict[str, str]) -> Plan:
    if fn.name in natives:
        return Plan(fn, native=True)
    if fn.name in handwritten:
        return Plan(fn, handwritten=True)
    first = fn.args[0] if fn.args else None
    if first is not None and first.type in OBJECT_TYPES and len(fn.args) == 1:
        obj = first.type[3:-3]
        if fn.name == f"vir{obj}Ref":
            return Plan(fn, (Step("object", first, first.type),), refcount="ref")
        if fn.name == f"vir{obj}Free" or fn.name == "virConnectClose":
            return Plan(fn, (Step("object", first, first.type),), refcount="free")
    steps: list[Step] = []
    consumed = {a.length for a in fn.args if a.length} | {a.opaque for a in fn.args if a.opaque} \
        | {a.free for a in fn.args if a.free}
    problems = []
    for a in fn.args:
        if a.name in consumed:
            if not a.type.endswith("*") and any(
                    x.length == a.name and x.dir == "out" and not x.type.startswith("virTyped")
                    for x in fn.args) or (a.name == "size" and "Peek" in fn.name):
                steps.append(Step("buffer_max", a))   # a caller buffer's capacity
            continue
        s = _step(fn, a, api, enums, structs)
        if isinstance(s, str):
            problems.append(s)
        else:
            steps.append(s)
    r = fn.ret
    counted = any(s.kind in ("out_objects", "out_ints", "out_strings", "out_alloc_strings",
                             "out_struct_array", "out_structs", "out_struct_block")
                  or s.kind == "out_alloc_ints" and s.length == "return" for s in steps)
    if fn.name in RESULT_EXPRESSIONS:
        result = "expression"
    elif r.type == "unsigned char *" and any(s.kind == "out_scalar" and s.arg.name.endswith("_size")
                                             for s in steps):
        # the size of the bytes returned: set together with them
        steps = [s for s in steps if not (s.kind == "out_scalar" and s.arg.name.endswith("_size"))]
        result = "bytes_sized"
    elif r.is_void:
        result = "void"
    elif r.type in OBJECT_TYPES:
        result = "borrowed_object" if r.owner == "library" else "object"
    elif r.type == "char *":
        result = "string"
    elif r.type == "const char *":
        result = "borrowed_string"
    elif counted and fn.name not in VALUE_WITH_OUTPUTS:
        result = "count"
    elif any(s.kind == "out_bytes" for s in steps) and r.type == "int" and \
            fn.name.startswith("virStreamRecv"):
        result = "bytes_count"   # bytes read, 0 at end of stream, -2 if it would block
    elif r.type in SCALAR_TYPES or r.type in enums:
        outputs = any(s.kind in OUT_KINDS for s in steps)
        result = "status" if outputs and fn.name not in VALUE_WITH_OUTPUTS else "value"
    else:
        problems.append(f"returns {r.type}")
        result = ""
    # A value returned beside outputs (virDomainGetSchedulerType): the api
    # returns (value, output, ...).
    both = result in ("object", "string", "borrowed_string", "value") and any(
        s.kind in OUT_KINDS for s in steps)
    return Plan(fn, tuple(steps), result, unsupported="; ".join(problems), returns_too=both)


def plans(api: Api, natives: set[str], handwritten: set[str]) -> list[Plan]:
    enums, structs = _enum_types(api), struct_ptrs(api)
    return [plan(f, api, natives, handwritten, enums, structs) for f in api.functions]


def natives_in(c_sources: dict[str, str], api: Api) -> set[str]:
    """Spec functions that the shim's C sources define (not just declare)."""
    text = "\n".join(c_sources.values())
    return {f.name for f in api.functions
            if re.search(rf"(^|[\s*]){f.name}\s*\([^;{{]*\)\s*\{{", text, re.M)}


def struct_fields(api: Api) -> dict[str, list[tuple[str, str, int | None]]]:
    """_virDomainInfo -> [(field, type, array)], for filling output structs."""
    return {s.name: [(f.name, f.type, f.array) for f in s.fields]
            for s in api.decls if isinstance(s, Struct)}


def functypes(api: Api) -> dict[str, list[str]]:
    return {d.name: [a.type for a in d.args] for d in api.decls if isinstance(d, FuncType)}
