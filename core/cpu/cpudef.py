"""A <cpu> definition handed to the CPU APIs (compare, baseline), read as
libvirt 9.0's virCPUDefParseXML reads it, with its errors.

A <cpu> with an <arch> is a host CPU (all its features present, policies
unread); without one it is a guest CPU (mode, match, feature policies)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..conf import xmlutil
from ..conf.domain import ARCHES
from ..errors import ErrorDomain, ErrorNumber

C = ErrorDomain.VIR_FROM_CPU
URL = "(CPU_definition)"


@dataclasses.dataclass
class CPUDef:
    """ex) host=False mode='custom' match='exact' arch=None model='Haswell'
    vendor=None features=[('vmx', 'require')]"""
    host: bool
    mode: str
    match: str
    arch: Optional[str]
    model: Optional[str]
    vendor: Optional[str]
    features: list[tuple[str, str]]   # (name, policy); a host CPU's all 'require'


def _err(code: int, detail: str) -> errors.VirtError:
    return errors.report(code, C, detail)


def _root(text: Optional[str]) -> etree._Element:
    """The document's root element, or libxml2's error for the text."""
    name = "cpu"
    if text is not None and text.strip():
        try:
            name = str(etree.fromstring(text.encode("utf-8"), etree.XMLParser(
                resolve_entities=False, no_network=True)).tag)
        except etree.XMLSyntaxError:
            pass   # parse_document raises libxml2's words for it
    root = xmlutil.parse_document(text, URL, name, C)
    if root.tag != "cpu":
        raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "XML does not contain expected 'cpu' element")
    return root


def parse(text: Optional[str], host_only: bool = False) -> CPUDef:
    """The CPU of `text`: a host CPU when it has an <arch> (or `host_only`,
    which requires one, as baseline does), a guest CPU otherwise."""
    return from_element(_root(text), host_only)


def from_element(root: etree._Element, host_only: bool = False) -> CPUDef:
    """The CPU of a parsed <cpu> (a domain's, say)."""
    arch = (root.findtext("arch") or "").strip() or None
    host = host_only or arch is not None
    if host:
        if arch is not None and root.get("match") is not None:
            raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "'arch' element cannot be used inside "
                       "'cpu' element with 'match' attribute'")
        if root.get("mode") is not None:
            raise _err(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                       "Attribute mode is only allowed for guest CPU")
        if arch is None:
            raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "Missing CPU architecture")
        if arch not in ARCHES:
            raise _err(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, f"Unknown architecture {arch}")
    model = (root.findtext("model") or "").strip() or None
    if host_only and model is None:
        raise _err(ErrorNumber.VIR_ERR_XML_ERROR, "Missing CPU model name")
    vendor = root.findtext("vendor")
    features = [(f.get("name", ""), "require" if host else f.get("policy", "require"))
                for f in root.findall("feature")]
    return CPUDef(host=host, mode=root.get("mode", "custom"), match=root.get("match", "exact"),
                  arch=arch, model=model, vendor=vendor.strip() if vendor is not None else None,
                  features=features)
