"""Storage pool XML: parse a <pool> document into a PoolDef and format it
back in libvirt's layout (sizes in bytes, <source> and <target> kept)."""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from . import xmlutil

ST = ErrorDomain.VIR_FROM_STORAGE

# virStoragePoolType order: the list flags of virConnectListAllStoragePools
# give type i the bit 1 << (6 + i).
POOL_TYPES = ("dir", "fs", "netfs", "logical", "disk", "iscsi", "scsi", "mpath", "rbd",
              "sheepdog", "gluster", "zfs", "vstorage", "iscsi-direct")
_NEEDS_TARGET = ("dir", "fs", "netfs", "logical", "disk", "iscsi", "scsi", "mpath", "zfs",
                 "vstorage")
_PERMS = ("mode", "owner", "group", "label")


@dataclasses.dataclass
class PoolDef:
    """<pool>; ex) type='dir' name='default-pool' target_path='/default-pool'"""
    type: str
    name: str
    uuid: bytes
    target_path: Optional[str] = None
    source: Optional[etree._Element] = None
    target_extra: list[etree._Element] = dataclasses.field(default_factory=list)
    capacity: int = 0
    allocation: int = 0
    available: int = 0

    @property
    def type_index(self) -> int:
        return POOL_TYPES.index(self.type)


def _xml_error(detail: str, domain: int = ST) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, domain, detail)


def permissions_lines(perms: etree._Element, indent: int) -> list[str]:
    """<permissions> with its children in libvirt's order."""
    pad = " " * indent
    out = [f"{pad}<permissions>"]
    for tag in _PERMS:
        value = perms.findtext(tag)
        if value is not None:
            out.append(f"{pad}  <{tag}>{xmlutil.escape(value.strip())}</{tag}>")
    return out + [f"{pad}</permissions>"]


def parse_pool_xml(text: Optional[str]) -> PoolDef:
    """Parse and validate a pool definition as libvirt's define does."""
    root = xmlutil.parse_document(text, "(storage_pool_definition)", "pool", domain=ST)
    pool_type = root.get("type")
    if pool_type is None:
        raise _xml_error("Missing required attribute 'type' in element 'pool'",
                         ErrorDomain.VIR_FROM_XML)
    if pool_type not in POOL_TYPES:
        raise _xml_error(f"Invalid value for attribute 'type' in element 'pool': "
                         f"'{pool_type}'.", ErrorDomain.VIR_FROM_XML)
    name = (root.findtext("name") or "").strip()
    if not name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ST, "missing pool source name element")
    if "/" in name:
        raise _xml_error(f"name {name} cannot contain '/'")
    uuid = xmlutil.parse_uuid(root, lambda: _xml_error("malformed uuid element"))
    target = root.find("target")
    path = target.findtext("path") if target is not None else None
    if path is not None:
        path = path.strip()
    if not path and pool_type in _NEEDS_TARGET:
        raise _xml_error("missing storage pool target path")
    extra = [xmlutil.copy_element(e) for e in (target if target is not None else [])
             if isinstance(e.tag, str) and e.tag != "path"]
    source = root.find("source")
    return PoolDef(type=pool_type, name=name, uuid=uuid, target_path=path or None,
                   source=xmlutil.copy_element(source) if source is not None else None,
                   target_extra=extra)


def format_pool_xml(pool: PoolDef) -> str:
    """The document virStoragePoolGetXMLDesc returns."""
    lines = [f"<pool type='{pool.type}'>", f"  <name>{xmlutil.escape(pool.name)}</name>",
             f"  <uuid>{viruuid.format(pool.uuid)}</uuid>",
             f"  <capacity unit='bytes'>{pool.capacity}</capacity>",
             f"  <allocation unit='bytes'>{pool.allocation}</allocation>",
             f"  <available unit='bytes'>{pool.available}</available>", "  <source>"]
    if pool.source is not None:
        for child in pool.source:
            lines.extend(xmlutil.element_lines(child, 4))
    lines.append("  </source>")
    if pool.target_path is not None or pool.target_extra:
        lines.append("  <target>")
        if pool.target_path is not None:
            lines.append(f"    <path>{xmlutil.escape(pool.target_path)}</path>")
        for extra in pool.target_extra:
            if extra.tag == "permissions":
                lines.extend(permissions_lines(extra, 4))
            else:
                lines.extend(xmlutil.element_lines(extra, 4))
        lines.append("  </target>")
    lines.append("</pool>")
    return "\n".join(lines) + "\n"
