"""virConnectBaselineCPU for the test driver: libvirt 9.0's virCPUBaseline
on host CPU definitions, with libvirt's x86 CPU map (pyvirt.cpu.x86).

As libvirt answers: the XML checks, the architecture dispatch (ARM takes the
first model, ppc64 needs one model, s390 has no baseline), and on x86 the
features all CPUs share, decoded to the model that needs the fewest features
added or removed (features in the map's order; every feature, sorted by name,
with EXPAND_FEATURES).
"""

from __future__ import annotations

from typing import Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.domain import ARCHES
from ...errors import ErrorDomain, ErrorNumber
from ...cpu.x86 import Model, Policies, X86Map, decode, x86_map
from ...cpu.models import MODELS_BY_ARCH, NO_CPU_DRIVER

C = ErrorDomain.VIR_FROM_CPU
EXPAND_FEATURES = 1
_X86 = ("i686", "x86_64")
_PPC = ("ppc64", "ppc64le")
_ARM = ("armv6l", "armv7l", "armv7b", "aarch64")


class HostCPU:
    """<cpu> of type host; ex) arch='x86_64' model='Haswell' vendor=None features=['vmx']"""

    def __init__(self, arch: str, model: str, vendor: Optional[str], features: list[str]):
        self.arch, self.model, self.vendor, self.features = arch, model, vendor, features


def _err(code: int, detail: str) -> errors.VirtError:
    return errors.report(code, C, detail)


def parse_host_cpu(text: Optional[str]) -> HostCPU:
    """virCPUDefParseXML(VIR_CPU_TYPE_HOST), the parts baseline uses."""
    if _root_name(text) is None:
        xmlutil.parse_document(text, "(CPU_definition)", "cpu", C)  # raises libxml2's error
    root = xmlutil.parse_document(text, "(CPU_definition)", str(_root_name(text)), C)
    if root.tag != "cpu":
        raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "XML does not contain expected 'cpu' element")
    if root.get("mode") is not None:
        raise _err(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                   "Attribute mode is only allowed for guest CPU")
    arch = (root.findtext("arch") or "").strip()
    if not arch:
        raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "Missing CPU architecture")
    if arch not in ARCHES:
        raise _err(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, f"Unknown architecture {arch}")
    model = (root.findtext("model") or "").strip()
    if not model:
        raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "Missing CPU model name")
    vendor = root.findtext("vendor")
    # A host CPU's features are all present: their policies are not read.
    features = [f.get("name", "") for f in root.findall("feature")]
    return HostCPU(arch, model, vendor.strip() if vendor is not None else None, features)


def _root_name(text: Optional[str]) -> Optional[str]:
    if text is None or not text.strip():
        return None
    try:
        root = etree.fromstring(text.encode("utf-8"),
                                etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return None
    return str(root.tag)


def _x86_data(cpu: HostCPU, cpu_map: X86Map) -> tuple[Model, set[str]]:
    """The model of a host CPU and its data: the model's features plus the
    listed ones (a host CPU's feature policies are ignored)."""
    model = cpu_map.models.get(cpu.model)
    if model is None:
        raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU model {cpu.model}")
    for feature in cpu.features:
        if feature not in cpu_map.known:
            raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU feature {feature}")
    return model, set(model.features) | set(cpu.features)


def _unknown_vendor(name: str) -> errors.VirtError:
    return _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, f"Unknown CPU vendor {name}")


def _x86_decode(data: set[str], vendor: Optional[str], preferred: Optional[str],
                cpu_map: X86Map) -> tuple[str, Policies]:
    found = decode(data, vendor, cpu_map, preferred=preferred)
    if found is None:
        raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                   "Cannot find suitable CPU model for given data")
    return found


def _x86_baseline(cpus: list[HostCPU], flags: int
                  ) -> tuple[str, bool, Optional[str], list[tuple[str, str]]]:
    """virCPUx86Baseline: intersect the CPUs' data, then decode it to a model."""
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
    if not data:
        raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED, "CPUs are incompatible")
    model_name, features = _x86_decode(data, vendor, first if same_model else None, cpu_map)
    if flags & EXPAND_FEATURES:
        # The model's own features become explicit; the result is sorted by name.
        policies = {name: "require" for name in cpu_map.models[model_name].features}
        policies.update((name, policy) for policy, name in features)
        features = [(policies[name], name) for name in sorted(policies)]
    return (model_name, same_model and model_name == first,
            vendor if output_vendor else None, features)


def baseline(xml_cpus: list[Optional[str]], flags: int) -> str:
    """The <cpu> document virConnectBaselineCPU returns."""
    errors.check_flags(flags, EXPAND_FEATURES, "testConnectBaselineCPU")
    cpus = [parse_host_cpu(text) for text in xml_cpus]
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
        model, forbid, vendor, features = _x86_baseline(cpus, flags)
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
