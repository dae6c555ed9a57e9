"""Storage volume XML: parse a <volume> document into a VolDef and format
it back in libvirt's layout.  The pool decides the key and the path."""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil
from .storage_pool import permissions_lines

ST = ErrorDomain.VIR_FROM_STORAGE
VOL_TYPES = ("file", "block", "dir", "network", "netdir", "ploop")


@dataclasses.dataclass
class VolDef:
    """<volume>; sizes in bytes; ex) name='v' capacity=10485760 allocation=0"""
    name: str
    type: str
    capacity: int
    allocation: int
    key: str = ""
    path: str = ""
    format: str = "raw"
    permissions: Optional[etree._Element] = None

    @property
    def type_index(self) -> int:
        return VOL_TYPES.index(self.type)


def _xml_error(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ST, detail)


def parse_vol_xml(text: Optional[str]) -> VolDef:
    """Parse and validate a volume definition as libvirt's create does."""
    root = xmlutil.parse_document(text, "(storage_volume_definition)", "volume", domain=ST)
    name = (root.findtext("name") or "").strip()
    if not name:
        raise errors.report(ErrorNumber.VIR_ERR_NO_NAME, ST)
    if "/" in name:
        raise _xml_error(f"name {name} cannot contain '/'")
    vol_type = root.get("type", "file")
    if vol_type not in VOL_TYPES:
        raise _xml_error(f"unknown volume type '{vol_type}'")
    capacity = xmlutil.scaled_bytes(root.find("capacity"), "capacity")
    if capacity is None:
        raise _xml_error("missing capacity element")
    allocation = xmlutil.scaled_bytes(root.find("allocation"), "allocation")
    target = root.find("target")
    fmt = "raw"
    perms = None
    if target is not None:
        fmt_elem = target.find("format")
        if fmt_elem is not None and fmt_elem.get("type"):
            fmt = fmt_elem.get("type", "raw")
        found = target.find("permissions")
        perms = xmlutil.copy_element(found) if found is not None else None
    return VolDef(name=name, type=vol_type, capacity=capacity,
                  allocation=capacity if allocation is None else allocation,
                  format=fmt, permissions=perms)


def format_vol_xml(vol: VolDef) -> str:
    """The document virStorageVolGetXMLDesc returns."""
    esc = xmlutil.escape
    lines = [f"<volume type='{vol.type}'>", f"  <name>{esc(vol.name)}</name>",
             f"  <key>{esc(vol.key)}</key>",
             f"  <capacity unit='bytes'>{vol.capacity}</capacity>",
             f"  <allocation unit='bytes'>{vol.allocation}</allocation>",
             "  <target>", f"    <path>{esc(vol.path)}</path>",
             f"    <format type='{esc(vol.format)}'/>"]
    if vol.permissions is not None:
        lines.extend(permissions_lines(vol.permissions, 4))
    lines += ["  </target>", "</volume>"]
    return "\n".join(lines) + "\n"
