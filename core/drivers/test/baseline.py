"""virConnectBaselineCPU for the test driver: libvirt 9.0's virCPUBaseline
on host CPU definitions, with libvirt's own CPU map (cpu_map/*.xml).

Covered as libvirt answers: the XML checks, the architecture dispatch (ARM
takes the first model, ppc64 needs one model, s390 has no baseline), and on
x86 CPUs of one model (their common features beyond the model, in the map's
order; every feature, sorted, with EXPAND_FEATURES).  Not covered yet: what
needs libvirt's CPUID model decoding (x86 CPUs of different models, or a
first CPU whose vendor is not its model's): that fails with
VIR_ERR_OPERATION_UNSUPPORTED.
"""

from __future__ import annotations

import functools
import os
from typing import Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.domain import ARCHES
from ...errors import ErrorDomain, ErrorNumber
from .cpumodels import MODELS_BY_ARCH, NO_CPU_DRIVER

C = ErrorDomain.VIR_FROM_CPU
CPU_MAP_DIR = "/usr/share/libvirt/cpu_map"
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
    features = [f.get("name", "") for f in root.findall("feature")
                if f.get("policy") not in ("disable", "forbid")]
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


@functools.lru_cache(maxsize=None)
def _x86_map() -> tuple[tuple[str, ...], dict[str, tuple[Optional[str], frozenset[str]]],
                        frozenset[str]]:
    """(feature names in map order, model -> (vendor, features), vendor names)."""
    def load(name: str) -> etree._Element:
        try:
            return etree.parse(os.path.join(CPU_MAP_DIR, name)).getroot()
        except (OSError, etree.XMLSyntaxError):
            raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                       f"cannot read CPU map {name}") from None
    features = tuple(f.get("name", "") for f in load("x86_features.xml").iter("feature"))
    vendors = frozenset(v.get("name", "") for v in load("x86_vendors.xml").iter("vendor"))
    models: dict[str, tuple[Optional[str], frozenset[str]]] = {}
    for name in MODELS_BY_ARCH["x86_64"]:
        elem = load(f"x86_{name}.xml").find("model")
        assert elem is not None
        vendor = elem.find("vendor")
        models[name] = (vendor.get("name") if vendor is not None else None,
                        frozenset(f.get("name", "") for f in elem.findall("feature")))
    return features, models, frozenset(vendors)


def _undecoded() -> errors.VirtError:
    return _err(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED,
                "x86 CPU model decoding is not implemented in pyvirt")


def _x86_baseline(cpus: list[HostCPU], flags: int) -> tuple[str, bool, Optional[str], list[str]]:
    order, models, vendors = _x86_map()
    common: Optional[set[str]] = None
    for cpu in cpus:
        if cpu.model not in models:
            raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU model {cpu.model}")
        model_vendor, model_features = models[cpu.model]
        for feature in cpu.features:
            if feature not in order:
                raise _err(ErrorNumber.VIR_ERR_INTERNAL_ERROR, f"Unknown CPU feature {feature}")
        if cpu.vendor is not None:
            if cpu.vendor not in vendors:
                raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                           f"Unknown CPU vendor {cpu.vendor}")
            if model_vendor is not None and model_vendor != cpu.vendor:
                if cpu is cpus[0]:
                    raise _undecoded()
                raise _err(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                           f"CPU vendor {model_vendor} of model {cpu.model} differs from "
                           f"vendor {cpu.vendor}")
        data = set(model_features) | set(cpu.features)
        common = data if common is None else common & data
    model = cpus[0].model
    if any(cpu.model != model for cpu in cpus):
        raise _undecoded()
    assert common is not None
    if flags & EXPAND_FEATURES:
        features = sorted(common)
    else:
        features = [f for f in order if f in common and f not in models[model][1]]
    vendor = cpus[0].vendor if all(cpu.vendor for cpu in cpus) else None
    return model, True, vendor, features


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
    features: list[str] = []
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
    lines.extend(f"  <feature policy='require' name='{name}'/>" for name in features)
    return "\n".join(lines + ["</cpu>"]) + "\n"
