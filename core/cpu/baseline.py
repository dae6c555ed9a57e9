"""virConnectBaselineCPU: libvirt 9.0's virCPUBaseline on host CPU
definitions, with libvirt's x86 CPU map (pyvirt.cpu.x86); the same for
every driver but for the flags it takes.

As libvirt answers: the XML checks, the architecture dispatch (ARM takes the
first model, ppc64 needs one model, s390 has no baseline), and on x86 the
features all CPUs share, decoded to the model that needs the fewest features
added or removed (features in the map's order; every feature, sorted by name,
with EXPAND_FEATURES).
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from .. import errors
from ..conf import xmlutil
from ..errors import ErrorDomain, ErrorNumber
from .cpudef import CPUDef, parse
from .models import MODELS_BY_ARCH, NO_CPU_DRIVER
from .x86 import Model, Policies, X86Map, decode, x86_map

C = ErrorDomain.VIR_FROM_CPU
EXPAND_FEATURES = 1
MIGRATABLE = 2
# set by the OS (CR4 bits), not by the CPU model: a baseline never has them
_OS_FEATURES = frozenset(("osxsave", "ospke"))
_X86 = ("i686", "x86_64")
_PPC = ("ppc64", "ppc64le")
_ARM = ("armv6l", "armv7l", "armv7b", "aarch64")


def _err(code: int, detail: str) -> errors.VirtError:
    return errors.report(code, C, detail)


@dataclasses.dataclass(frozen=True)
class Hypervisor:
    """What virConnectBaselineHypervisorCPU asks of the hypervisor: its CPU
    models, each with the features it cannot give (map names), and the
    features it knows (the baseline keeps no other)."""
    models: dict[str, frozenset[str]]
    features: frozenset[str]


def _x86_data(cpu: CPUDef, cpu_map: X86Map) -> tuple[Model, set[str]]:
    """The model of a CPU and its data: the model's features plus the listed
    ones (a host CPU's feature policies are ignored; a guest CPU's disabled
    and forbidden ones are taken away)."""
    model = cpu_map.models.get(cpu.model or "")
    if model is None:
        raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU model {cpu.model}")
    data = set(model.features)
    for name, policy in cpu.features:
        if name not in cpu_map.known:
            raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU feature {name}")
        if policy in ("disable", "forbid"):
            data.discard(name)
        else:
            data.add(name)
    return model, data


def _unknown_vendor(name: str) -> errors.VirtError:
    return _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, f"Unknown CPU vendor {name}")


def _x86_decode(data: set[str], vendor: Optional[str], preferred: Optional[str],
                cpu_map: X86Map, hv: Optional[Hypervisor]) -> tuple[str, Policies]:
    found = decode(data, vendor, cpu_map, preferred=preferred,
                   allowed=hv.models if hv is not None else None)
    if found is None:
        raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                   "Cannot find suitable CPU model for given data")
    return found


def _x86_baseline(cpus: list[CPUDef], flags: int, hv: Optional[Hypervisor]
                  ) -> tuple[str, bool, Optional[str], list[tuple[str, str]]]:
    """virCPUx86Baseline: intersect the CPUs' data, then decode it to a model
    (one of the hypervisor's, with `hv`)."""
    cpu_map = x86_map()
    _, data = _x86_data(cpus[0], cpu_map)
    vendor = cpus[0].vendor
    if vendor is not None and vendor not in cpu_map.vendors:
        raise _unknown_vendor(vendor)
    output_vendor = vendor is not None
    first = cpus[0].model
    same_model = True
    for cpu in cpus[1:]:
        same_model = same_model and cpu.model == first
        model, cpu_data = _x86_data(cpu, cpu_map)
        if cpu.vendor is not None and model.vendor is not None and cpu.vendor != model.vendor:
            raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                       f"CPU vendor {model.vendor} of model {model.name} differs from "
                       f"vendor {cpu.vendor}")
        if cpu.vendor is None:
            output_vendor = False
        # A CPU without a vendor still brings its model's into the comparison.
        named = cpu.vendor if cpu.vendor is not None else model.vendor
        if named is not None:
            if vendor is None:
                if named not in cpu_map.vendors:
                    raise _unknown_vendor(named)
                vendor = named
            elif vendor != named:
                raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, "CPU vendors do not match")
        data &= cpu_data
    data -= _OS_FEATURES
    if not data:
        raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, "CPUs are incompatible")
    if hv is not None:
        data &= hv.features
    elif flags & MIGRATABLE:
        data = {name for name in data if cpu_map.by_name[name].migratable}
    model_name, features = _x86_decode(data, vendor, first if same_model else None, cpu_map, hv)
    if flags & EXPAND_FEATURES:
        # The model's own features become explicit; the result is sorted by name.
        policies = {name: "require" for name in cpu_map.models[model_name].features}
        policies.update((name, policy) for policy, name in features)
        features = [(policies[name], name) for name in sorted(policies)]
    return (model_name, same_model and model_name == first,
            vendor if output_vendor else None, features)


def baseline(xml_cpus: list[Optional[str]], flags: int, function: str,
             domain: int = ErrorDomain.VIR_FROM_TEST, allowed: int = EXPAND_FEATURES) -> str:
    """The <cpu> document virConnectBaselineCPU returns; `function` and
    `domain` name the driver's entry point in the flags error, `allowed`
    its flags (MIGRATABLE leaves out what cannot migrate)."""
    errors.check_flags(flags, allowed, function, domain)
    return _document([parse(text, host_only=True) for text in xml_cpus], flags, None)


def parse_cpus(xml_cpus: list[Optional[str]]) -> list[CPUDef]:
    """virConnectBaselineHypervisorCPU's CPUs: host or guest ones."""
    return [parse(text) for text in xml_cpus]


def hypervisor_baseline(cpus: list[CPUDef], flags: int, arch: str, hv: Hypervisor) -> str:
    """The <cpu> document virConnectBaselineHypervisorCPU returns for x86
    `arch`: the CPUs' baseline among the hypervisor's models (its blockers
    disabled), its model never allowed to fall back."""
    for cpu in cpus:
        cpu.arch = arch
    return _document(cpus, flags, hv, forbid_fallback=True)


def _document(cpus: list[CPUDef], flags: int, hv: Optional[Hypervisor],
              forbid_fallback: bool = False) -> str:
    if not cpus:
        raise _err(ErrorNumber.VIR_ERR_INVALID_ARG, "no CPUs given")
    arch = cpus[0].arch
    if arch in ("s390", "s390x"):
        raise _err(ErrorNumber.VIR_ERR_NO_SUPPORT,
                   f"cannot compute baseline CPU of {arch} architecture")
    if arch in NO_CPU_DRIVER or arch not in MODELS_BY_ARCH:
        raise _err(ErrorNumber.VIR_ERR_NO_SUPPORT,
                   f"'{arch}' architecture is not supported by CPU driver")
    vendor: Optional[str] = None
    features: list[tuple[str, str]] = []
    if arch in _X86:
        model, forbid, vendor, features = _x86_baseline(cpus, flags, hv)
        forbid = forbid or forbid_fallback
    elif arch in _PPC:
        model, forbid = cpus[0].model, True
        if model not in MODELS_BY_ARCH[arch]:
            raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU model {model}")
        if any(cpu.model != model for cpu in cpus):
            raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, "CPUs are incompatible")
    else:
        model, forbid = cpus[0].model, False
    lines = ["<cpu mode='custom' match='exact'>",
             f"  <model fallback='{'forbid' if forbid else 'allow'}'>"
             f"{xmlutil.escape(model)}</model>"]
    if vendor is not None:
        lines.append(f"  <vendor>{xmlutil.escape(vendor)}</vendor>")
    lines.extend(f"  <feature policy='{policy}' name='{name}'/>" for policy, name in features)
    return "\n".join(lines + ["</cpu>"]) + "\n"
