"""libvirt 9.0's x86 CPU map and how it names CPU data with a model.

The facts (vendors, features with their CPUID/MSR bit, models with their
features and signatures) are libvirt's, extracted once into cpu_x86.json by
tools/gen_cpu_x86.py.  Every feature of the map is one bit of its own, so
CPU data is handled here as a set of feature names.

decode() is libvirt's choice of the model that describes CPU data best
(virCPUDecode): the newest model wins unless an older one needs fewer
features spelt out; a host CPU may not be described with disabled
features; a model listing the CPU's family/model is preferred."""

from __future__ import annotations

import dataclasses
import functools
import json
import os
from typing import Iterable, Optional


@dataclasses.dataclass(frozen=True)
class Model:
    """One model of the map; ex) name='Westmere' vendor='Intel' decode_host=True
    decode_guest=True signatures=((6, 44), ...) features={'aes', ...} removed=()
    (a removed feature left the model; a guest CPU of it lists it disabled)"""
    name: str
    vendor: Optional[str]
    decode_host: bool
    decode_guest: bool
    signatures: tuple[tuple[int, int], ...]
    features: frozenset[str]
    removed: tuple[str, ...]


@dataclasses.dataclass(frozen=True)
class Feature:
    """ex) name='sse4.1' migratable=True bit=('cpuid', 1, 0, 'ecx', 19)
    qemu_names=('sse4-1', 'sse4_1'); an MSR bit is ('msr', 0x10a, 0, 'eax', 0)"""
    name: str
    migratable: bool
    bit: tuple[str, int, int, str, int]
    qemu_names: tuple[str, ...]


class X86Map:
    """The map: vendors (name -> CPUID vendor string), features and models
    in the map's order."""

    def __init__(self, path: str):
        with open(path, encoding="utf-8") as f:
            raw = json.load(f)
        self.vendors: dict[str, str] = dict(raw["vendors"])
        self.features = tuple(Feature(name, bool(mig), _bit(bit), tuple(qemu))
                              for name, mig, bit, qemu in raw["features"])
        self.order = tuple(f.name for f in self.features)
        self.known = frozenset(self.order)
        self.by_name = {f.name: f for f in self.features}
        self.models = {
            name: Model(name, vendor, bool(host), bool(guest),
                        tuple((fam, mod) for fam, mod in sigs), frozenset(features),
                        tuple(removed))
            for name, vendor, host, guest, sigs, features, removed in raw["models"]}
        # QEMU's property names: the map's own name (with '-' for '_'), its aliases
        self.from_qemu: dict[str, str] = {}
        for f in self.features:
            for alias in (f.name, f.name.replace("_", "-"), *f.qemu_names):
                self.from_qemu.setdefault(alias, f.name)

    def in_order(self, names: Iterable[str]) -> list[str]:
        wanted = set(names)
        return [name for name in self.order if name in wanted]

    def vendor_of_string(self, string: str) -> Optional[str]:
        """'AuthenticAMD' -> 'AMD'; None for a vendor the map does not know."""
        return next((name for name, s in self.vendors.items() if s == string), None)


def _bit(key: str) -> tuple[str, int, int, str, int]:
    """'cpuid:7:0:ebx:5' -> ('cpuid', 7, 0, 'ebx', 5); 'msr:10a:eax:0' -> ('msr', 0x10a, 0, 'eax', 0)"""
    parts = key.split(":")
    if parts[0] == "cpuid":
        return ("cpuid", int(parts[1], 16), int(parts[2], 16), parts[3], int(parts[4]))
    return ("msr", int(parts[1], 16), 0, parts[2], int(parts[3]))


@functools.lru_cache(maxsize=None)
def x86_map() -> X86Map:
    return X86Map(os.path.join(os.path.dirname(os.path.abspath(__file__)), "cpu_x86.json"))


Policies = list[tuple[str, str]]   # [(policy, feature)]: 'require' ones, then 'disable' ones


def describe(data: frozenset[str] | set[str], model: Model, cpu_map: X86Map,
             blockers: frozenset[str] = frozenset()) -> Policies:
    """The features `model` needs spelt out to describe `data`; `blockers`,
    the model's features the hypervisor cannot give, count as the model's
    (so that they are spelt out as disabled)."""
    own = model.features | blockers
    features = [("require", f) for f in cpu_map.in_order(data - own)]
    features += [("disable", f) for f in cpu_map.in_order(own - data)]
    features += [("disable", f) for f in model.removed if f not in data]
    return features


def cost(features: Policies) -> tuple[int, int]:
    """How far a candidate model is from the data, lower is better, as libvirt
    9.0 weighs it: a required feature counts 1, disabled ones 2, 3, 4, ...
    instead of 1, ties go to the smaller penalty.  libvirt's walk over the
    list stops at the shrinking count of enabled features, so disabled
    features past that point (they come last) are weighed as enabled ones;
    the same walk is done here so that the same model wins."""
    enabled, penalty, weight, i = len(features), 0, 2, 0
    while i < enabled:
        if features[i][0] == "disable":
            enabled -= 1
            penalty += weight
            weight += 1
        i += 1
    return enabled + penalty, penalty


def decode(data: frozenset[str] | set[str], vendor: Optional[str], cpu_map: X86Map, *,
           host: bool = False, preferred: Optional[str] = None,
           allowed: Optional[dict[str, frozenset[str]]] = None,
           signature: Optional[tuple[int, int]] = None) -> Optional[tuple[str, Policies]]:
    """The model that describes `data` best and the features it needs, or
    None when no model can.  `host`: a host CPU (no disabled features, the
    models marked for host decoding); `allowed`: the models the hypervisor
    has, each with its blockers (map names); `signature`: the CPU's
    (family, model)."""
    allow = allowed
    best: Optional[tuple[Model, Policies]] = None
    for model in reversed(cpu_map.models.values()):   # newest first
        if allow is not None and model.name not in allow:
            continue
        if vendor is not None and model.vendor is not None and model.vendor != vendor:
            continue
        if not (model.decode_host if host else model.decode_guest):
            continue
        blockers = allow.get(model.name, frozenset()) if allow else frozenset()
        # what the hypervisor cannot give is disabled, even where the data has it
        features = describe(data - blockers, model, cpu_map, blockers)
        if host and any(policy == "disable" for policy, _ in features):
            continue
        if model.name == preferred:
            return model.name, features
        if best is None or _better(model, features, *best, signature):
            best = (model, features)
    return None if best is None else (best[0].name, best[1])


def _better(candidate: Model, features: Policies, current: Model, current_features: Policies,
            signature: Optional[tuple[int, int]]) -> bool:
    """Whether `candidate` describes the data better than `current`: once a
    model with the CPU's signature is found only such models compete; else
    fewer features win, and a matching signature beats a non-matching one."""
    cand_sig = signature is not None and signature in candidate.signatures
    cur_sig = signature is not None and signature in current.signatures
    if cur_sig and not cand_sig:
        return False
    if cost(features) < cost(current_features):
        return True
    return cand_sig and not cur_sig
