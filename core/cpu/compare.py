"""virConnectCompareCPU and virConnectCompareHypervisorCPU on x86: how a
CPU definition fits a host's CPU, as libvirt 9.0's virCPUCompare decides.

The host's CPU is a model with features added (and, for a hypervisor's
host-model CPU, some taken away).  A guest CPU is incompatible when the
host has a feature it forbids or lacks one it requires (its model's,
less those it makes optional, forces or disables); it is IDENTICAL when
the host has nothing beyond what it names, else a SUPERSET, which a
match='strict' guest CPU refuses."""

from __future__ import annotations

from typing import Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from .cpudef import CPUDef
from .x86 import X86Map, x86_map

C = ErrorDomain.VIR_FROM_CPU
INCOMPATIBLE, IDENTICAL, SUPERSET = 0, 1, 2
X86_ARCHES = ("i686", "x86_64")
Host = tuple[str, Optional[str], list[tuple[str, str]]]   # model, vendor, [(policy, feature)]


class Incompatible(Exception):
    """Why a CPU does not fit (libvirt's message)."""


def _data(cpu_map: X86Map, model: Optional[str], features: list[tuple[str, str]],
          policy: Optional[str]) -> set[str]:
    """The features of a CPU with `policy` (None: all it has, the model's
    included, disabled and forbidden ones taken away); the model's count
    as required."""
    data: set[str] = set()
    if model is not None and policy in (None, "require"):
        found = cpu_map.models.get(model)
        if found is None:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, C,
                                f"Unknown CPU model {model}")
        data |= found.features
    for name, fpolicy in features:
        if name not in cpu_map.known:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, C,
                                f"Unknown CPU feature {name}")
        if policy is None:
            if fpolicy in ("disable", "forbid"):
                data.discard(name)
            else:
                data.add(name)
        elif fpolicy == policy:
            data.add(name)
    return data


def _names(cpu_map: X86Map, data: set[str]) -> str:
    return ", ".join(cpu_map.in_order(data))


def _compute(host: Host, cpu: CPUDef) -> int:
    if cpu.arch is not None and cpu.arch not in X86_ARCHES:
        raise Incompatible(f"CPU arch {cpu.arch} does not match host arch")
    if cpu.vendor is not None and cpu.vendor != host[1]:
        raise Incompatible(f"host CPU vendor does not match required CPU vendor {cpu.vendor}")
    cpu_map = x86_map()
    have = _data(cpu_map, host[0], [(name, policy) for policy, name in host[2]], None)
    wanted = {p: _data(cpu_map, cpu.model, cpu.features, p)
              for p in ("force", "require", "optional", "disable", "forbid")}
    forbidden = wanted["forbid"] & have
    if forbidden:
        raise Incompatible(f"Host CPU provides forbidden features: {_names(cpu_map, forbidden)}")
    required = wanted["require"] - wanted["force"] - wanted["optional"] - wanted["disable"]
    if not required <= have:
        raise Incompatible("Host CPU does not provide required features: "
                           + _names(cpu_map, required - have))
    extra = have - wanted["optional"] - required - wanted["disable"] - wanted["force"]
    if not extra:
        return IDENTICAL
    if not cpu.host and cpu.match == "strict":
        raise Incompatible("Host CPU does not strictly match guest CPU: Extra features: "
                           + _names(cpu_map, extra))
    return SUPERSET


def compare(host: Optional[Host], cpu: CPUDef, fail_incompatible: bool) -> int:
    """IDENTICAL, SUPERSET or INCOMPATIBLE (an error with
    `fail_incompatible`) for `cpu` on `host` (None: the host's CPU is unknown)."""
    try:
        if host is None:
            raise Incompatible("unknown host CPU")
        return _compute(host, cpu)
    except Incompatible as why:
        if not fail_incompatible:
            return INCOMPATIBLE
        # (libvirt's "try using 'Haswell-noTSX'" hint needs a Haswell or
        # Broadwell model lacking hle or rtm, which the map's never do)
        raise errors.report(ErrorNumber.VIR_ERR_CPU_INCOMPATIBLE, C, str(why)) from None
