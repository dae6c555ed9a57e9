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
}

# Arguments that may be NULL by design.
NULLABLE = {("virConnectOpen", "name"), ("virConnectOpenReadOnly", "name"),
            ("virConnectOpenAuth", "name"), ("virConnectOpenAuth", "auth"),
            ("virGetVersion", "type"), ("virGetVersion", "typeVer")}


def _arg(fn: m.Function, a: m.Arg, names: list[str]) -> m.Arg:
    t = a.type
    changes: dict = {}
    if t in SCALARS or STRUCT_OUT.match(t):
        changes["dir"] = "out"
    elif t in ("char **",):
        changes.update(dir="out", alloc="callee")
    elif t == "char ** const" or t == "char **const":
        changes["dir"] = "out"
    elif t.endswith("Ptr **") or t == "char ***":
        changes.update(dir="out", alloc="callee", length="return")
    if changes.get("dir") == "out" and t in SCALARS:
        # int *ids + int maxids: a caller-provided array with its capacity.
        for cap in ("max" + a.name, "max" + a.name.rstrip("s"), "n" + a.name):
            if cap in names and cap != a.name:
                changes["length"] = cap
    if t == "char ** const" or t == "char **const":
        for cap in ("maxnames", "maxuuids", "nnames", "maxids"):
            if cap in names:
                changes["length"] = cap
    if "Callback" in t and not t.startswith("virFreeCallback"):
        if "opaque" in names:
            changes["opaque"] = "opaque"
        free = [n for n in names if n in ("freecb", "ff", "freefunc")]
        if free:
            changes["free"] = free[0]
    if (fn.name, a.name) in NULLABLE:
        changes["nullable"] = True
    changes.update(OVERRIDES.get((fn.name, a.name), {}))
    return replace(a, **changes) if changes else a


def _return(fn: m.Function) -> m.Return:
    t = fn.ret.type
    if t in m.OBJECT_TYPES:
        return replace(fn.ret, owner="ref")
    if t == "char *":
        return replace(fn.ret, owner="caller")
    if t.startswith("const char"):
        return replace(fn.ret, owner="library")
    return fn.ret


def function(fn: m.Function) -> m.Function:
    names = [a.name for a in fn.args]
    return replace(fn, ret=_return(fn), args=tuple(_arg(fn, a, names) for a in fn.args))
