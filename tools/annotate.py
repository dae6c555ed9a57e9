"""Binding annotations for imported functions: the rules, and the exceptions as data.

The headers say only C types; bindings also need to know which pointer arguments
are outputs, which argument gives an array's length, who allocates and frees.
Most follow from libvirt's conventions (rules below); the rest are listed in
OVERRIDES with the reason. The result is checked into apispec/ and reviewed there.
"""

from __future__ import annotations

import re
from dataclasses import replace

from generator import model as m

SCALARS = {"int *", "unsigned int *", "long *", "unsigned long *", "long long *",
           "unsigned long long *", "double *", "size_t *"}
STRUCT_OUT = re.compile(r"^vir\w+(Info|Stats|StatsStruct|Stat|Label|Model|Error)Ptr$")

# Arguments whose direction or length the naming rules cannot tell: (function, arg) -> changes.
OVERRIDES: dict[tuple[str, str], dict] = {
    ("virDomainGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virNetworkGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virStoragePoolGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virSecretGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virNWFilterGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virNetworkPortGetUUID", "uuid"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    ("virDomainGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virNetworkGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virStoragePoolGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virSecretGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virNWFilterGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virNetworkPortGetUUIDString", "buf"): {"dir": "out", "length": "VIR_UUID_STRING_BUFLEN"},
    ("virConnectListDomains", "ids"): {"dir": "out", "length": "maxids"},
    ("virSecretGetUUID", "buf"): {"dir": "out", "length": "VIR_UUID_BUFLEN"},
    # Raw bytes, not strings: stream data and peeked guest memory.
    ("virStreamSend", "data"): {"length": "nbytes"},
    ("virStreamRecv", "data"): {"dir": "out", "length": "nbytes"},
    ("virStreamRecvFlags", "data"): {"dir": "out", "length": "nbytes"},
    ("virDomainBlockPeek", "buffer"): {"dir": "out", "length": "size"},
    ("virDomainMemoryPeek", "buffer"): {"dir": "out", "length": "size"},
    ("virConnectRegisterCloseCallback", "cb"): {"opaque": "opaque", "free": "freecb"},
    # Stream handlers: the source fills a buffer of nbytes (its result says how
    # much), the sink is given nbytes of data.
    ("virStreamSourceFunc", "data"): {"dir": "out", "length": "nbytes"},
    ("virStreamSinkFunc", "data"): {"length": "nbytes"},
    # Arrays of numbers the caller passes in, with their counts.
    ("virDomainSendKey", "keycodes"): {"dir": "in", "length": "nkeycodes"},
    ("virNodeGetFreePages", "pages"): {"dir": "in", "length": "npages"},
    ("virNodeAllocPages", "pageSizes"): {"dir": "in", "length": "npages"},
    ("virNodeAllocPages", "pageCounts"): {"dir": "in", "length": "npages"},
    ("virDomainCreateXMLWithFiles", "files"): {"dir": "in", "length": "nfiles"},
    ("virDomainCreateWithFiles", "files"): {"dir": "in", "length": "nfiles"},
    ("virDomainFDAssociate", "fds"): {"dir": "in", "length": "nfds"},
    ("virDomainQemuMonitorCommandWithFiles", "infiles"): {"dir": "in", "length": "ninfiles"},
    ("virDomainLxcEnterNamespace", "fdlist"): {"dir": "in", "length": "nfdlist"},
    # NULL when the caller does not want the previous namespaces back.
    ("virDomainLxcEnterNamespace", "oldfdlist"): {"nullable": True},
    # Caller-allocated arrays of structs, and the CPU maps beside them.
    ("virDomainGetVcpus", "info"): {"dir": "out", "length": "maxinfo"},
    ("virDomainGetVcpus", "cpumaps"): {"dir": "out", "length": "maxinfo*maplen",
                                        "nullable": True},
    ("virDomainMemoryStats", "stats"): {"dir": "out", "length": "nr_stats"},
    ("virDomainListGetStats", "doms"): {"length": "null"},   # a NULL-terminated array
    ("virDomainGetDiskErrors", "errors"): {"dir": "out", "length": "maxerrors",
                                           "nullable": True},   # NULL asks how many
    # Output arrays whose size is not a single argument.
    ("virNodeGetCellsFreeMemory", "freeMems"): {"dir": "out", "length": "maxCells"},
    ("virNodeGetFreePages", "counts"): {"dir": "out", "length": "npages*cellcount"},
    # CPU maps: per vCPU / per emulator, caller-allocated; the host map, callee-allocated.
    ("virDomainGetVcpuPinInfo", "cpumaps"): {"dir": "out", "length": "ncpumaps*maplen"},
    ("virDomainGetEmulatorPinInfo", "cpumaps"): {"dir": "out", "length": "maplen"},
    # The host map has one bit per CPU, and the result counts the CPUs.
    ("virNodeGetCPUMap", "cpumap"): {"dir": "out", "alloc": "callee", "nullable": True,
                                     "length": "VIR_CPU_MAPLEN(return)"},
    # Typed parameters per CPU (nparams for each of ncpus), and two callee-allocated arrays.
    ("virDomainGetCPUStats", "params"): {"dir": "out", "length": "nparams*ncpus",
                                         "nullable": True},
    ("virDomainGetGuestVcpus", "params"): {"dir": "out", "alloc": "callee", "length": "nparams"},
    ("virDomainGetSecurityLabelList", "seclabels"): {"dir": "out", "alloc": "callee",
                                                    "length": "return"},
}

# An input array followed by its element count: (array type, count argument names).
COUNTED_INPUTS = {
    "const char **": ("ncpus", "nmountpoints", "nkeys"),
    "unsigned char *": ("maplen",),
    "const unsigned char *": ("value_size",),
}

# Arguments that may be NULL by design.
NULLABLE = {("virConnectOpen", "name"), ("virConnectOpenReadOnly", "name"),
            ("virConnectOpenAuth", "name"), ("virConnectOpenAuth", "auth"),
            ("virGetVersion", "type"), ("virGetVersion", "typeVer"),
            ("virDomainGetSchedulerType", "nparams"),
            ("virConnectDomainQemuMonitorEventRegister", "dom"), ("virNodeGetCPUMap", "online")}


def _typed_params(fn: m.Function, a: m.Arg) -> dict | None:
    """virTypedParameterPtr params + its count: input array, caller-allocated
    output (the count is in/out), or callee-allocated output."""
    i = fn.args.index(a)
    count = fn.args[i + 1] if i + 1 < len(fn.args) else None
    if count is None or count.name != "nparams":
        return None
    if a.type == "virTypedParameterPtr" and count.type in ("int", "unsigned int"):
        return {"length": "nparams"}
    if a.type == "virTypedParameterPtr" and count.type == "int *":
        return {"dir": "out", "length": "nparams"}
    if a.type == "virTypedParameterPtr *" and count.type == "int *":
        return {"dir": "out", "alloc": "callee", "length": "nparams"}
    return None


def _arg(fn: m.Function, a: m.Arg, names: list[str]) -> m.Arg:
    t = a.type
    changes: dict = {}
    i = fn.args.index(a)
    after = fn.args[i + 1].name if i + 1 < len(fn.args) else None
    if after in COUNTED_INPUTS.get(t, ()) and not fn.name.startswith("virDomainGet"):
        return replace(a, length=after)
    if STRUCT_OUT.match(t) and after == "nparams" and fn.args[i + 1].type == "int *":
        return replace(a, dir="out", length="nparams")   # caller's array, count in and out
    if t.startswith("virTypedParameterPtr"):
        typed = OVERRIDES.get((fn.name, a.name)) or _typed_params(fn, a)
        return replace(a, **typed) if typed else a
    if a.name == "nparams" and t == "int *" and any(
            x.type == "virTypedParameterPtr" and x.length is None
            or STRUCT_OUT.match(x.type) for x in fn.args):
        return replace(a, dir="inout")
    if t in SCALARS or STRUCT_OUT.match(t):
        changes["dir"] = "out"
    elif t in ("char **",):
        changes.update(dir="out", alloc="callee")
    elif t == "char ** const" or t == "char **const":
        changes["dir"] = "out"
    elif t.endswith("Ptr **") or t == "char ***":
        changes.update(dir="out", alloc="callee", length="return")
    elif t == "int **":
        # file descriptors the library allocates: counted by n<name> (an output)
        # when there is one, else by the result
        count = "n" + a.name
        changes.update(dir="out", alloc="callee", length=count if count in names else "return")
    if changes.get("dir") == "out" and t in SCALARS:
        # int *ids + int maxids: a caller-provided array with its capacity
        # (a plain int; long long *seconds + unsigned int *nseconds is two outputs).
        types = {x.name: x.type for x in fn.args}
        for cap in ("max" + a.name, "max" + a.name.rstrip("s"), "n" + a.name):
            if cap in names and cap != a.name and not types[cap].endswith("*"):
                changes["length"] = cap
    if t == "char ** const" or t == "char **const":
        for cap in ("maxnames", "maxuuids", "nnames", "maxids"):
            if cap in names:
                changes["length"] = cap
    if ("Callback" in t or t.endswith("Func")) and not t.startswith("virFreeCallback"):
        if "opaque" in names:
            changes["opaque"] = "opaque"
        free = [n for n in names if n in ("freecb", "ff", "freefunc")]
        if free:
            changes["free"] = free[0]
    if (fn.name, a.name) in NULLABLE or (fn.name.endswith("EventRegisterAny")
                                          and a.type in m.OBJECT_TYPES and a.type != "virConnectPtr"):
        changes["nullable"] = True   # ...RegisterAny's object filter: NULL for all objects
    changes.update(OVERRIDES.get((fn.name, a.name), {}))
    return replace(a, **changes) if changes else a


# Accessors returning the object's parent without taking a reference: the caller
# must not free what they return (virDomainGetConnect, virDomainSnapshotGetDomain).
BORROWED = re.compile(r"^vir\w+(GetConnect|SnapshotGetDomain|CheckpointGetDomain|PortGetNetwork)$")


def _return(fn: m.Function) -> m.Return:
    t = fn.ret.type
    if t in m.OBJECT_TYPES:
        return replace(fn.ret, owner="library" if BORROWED.match(fn.name) else "ref")
    if t in ("char *", "unsigned char *"):
        return replace(fn.ret, owner="caller")
    if t.startswith("const char"):
        return replace(fn.ret, owner="library")
    return fn.ret


def function(fn: m.Function) -> m.Function:
    names = [a.name for a in fn.args]
    return replace(fn, ret=_return(fn), args=tuple(_arg(fn, a, names) for a in fn.args))


def functype(ft: m.FuncType) -> m.FuncType:
    """A callback type's arguments: pointers to scalars are what the callback
    answers (virStreamSourceHoleFunc inData, length), a callback it is given
    comes with its user data; the rest from OVERRIDES."""
    names = [a.name for a in ft.args]

    def one(a: m.Arg) -> m.Arg:
        changes: dict = {"dir": "out"} if a.type in SCALARS else {}
        if a.type.endswith("Callback") and a.type != "virFreeCallback" and "opaque" in names:
            # a callback handed to the callback (virEventAddHandleFunc cb), with its
            # user data and free function
            changes["opaque"] = "opaque"
            if "ff" in names:
                changes["free"] = "ff"
        changes.update(OVERRIDES.get((ft.name, a.name), {}))
        return replace(a, **changes) if changes else a
    return replace(ft, args=tuple(one(a) for a in ft.args))


# Struct fields pointing to an array, and the field counting it (the naming
# rules of the bindings cannot pair these).
FIELD_LENGTHS = {("_virDomainEventGraphicsSubject", "identities"): "nidentity"}


def struct(s: m.Struct) -> m.Struct:
    return replace(s, fields=tuple(replace(f, length=FIELD_LENGTHS[(s.name, f.name)])
                                   if (s.name, f.name) in FIELD_LENGTHS else f
                                   for f in s.fields))
