"""A domain definition's metadata (title, description, <metadata> elements)
as virDomainSetMetadata/GetMetadata read and change it, and finding a
disk or interface of a definition: the same in every driver."""

from __future__ import annotations

from typing import Optional

from lxml import etree

from .. import errors
from ..conf.domain import DomainDef
from ..errors import ErrorDomain, ErrorNumber

D = ErrorDomain.VIR_FROM_DOMAIN
META_DESCRIPTION, META_TITLE, META_ELEMENT = 0, 1, 2


def find_disk(d: DomainDef, path: str) -> Optional[etree._Element]:
    """The <disk> whose target dev or source path is `path`."""
    for dev in d.devices:
        if dev.tag != "disk":
            continue
        target, source = dev.find("target"), dev.find("source")
        if target is not None and target.get("dev") == path:
            return dev
        if source is not None and path in (source.get("file"), source.get("dev")):
            return dev
    return None


def find_interface(d: DomainDef, device: str) -> Optional[etree._Element]:
    """The <interface> whose target dev or MAC address is `device`."""
    for dev in d.devices:
        if dev.tag != "interface":
            continue
        target, mac = dev.find("target"), dev.find("mac")
        if target is not None and target.get("dev") == device:
            return dev
        if mac is not None and (mac.get("address") or "").lower() == device.lower():
            return dev
    return None


def _no_metadata() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA, D,
                         "Requested metadata element is not present")


def set_metadata(d: DomainDef, type: int, metadata: Optional[str], key: Optional[str],
                 uri: Optional[str]) -> None:
    if type == META_DESCRIPTION:
        d.description = metadata or None
    elif type == META_TITLE:
        if metadata and "\n" in metadata:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                "Domain title can't contain newlines")
        d.title = metadata or None
    elif type == META_ELEMENT:
        container = d.verbatim.setdefault("metadata", etree.Element("metadata"))
        for child in list(container):
            if isinstance(child.tag, str) and etree.QName(child).namespace == uri:
                container.remove(child)
        if metadata:
            try:
                parsed = etree.fromstring(metadata.encode())
            except etree.XMLSyntaxError:
                raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, D,
                                    "Failed to parse metadata") from None
            container.append(_into_namespace(parsed, uri or "", key))
        # an emptied <metadata/> stays, as libvirt leaves it
    else:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                            f"unknown metadata type '{type}'")


def get_metadata(d: DomainDef, type: int, uri: Optional[str]) -> str:
    if type == META_DESCRIPTION:
        if d.description is None:
            raise _no_metadata()
        return d.description
    if type == META_TITLE:
        if d.title is None:
            raise _no_metadata()
        return d.title
    if type != META_ELEMENT:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                            f"unknown metadata type '{type}'")
    container = d.verbatim.get("metadata")
    for child in (container if container is not None else []):
        if isinstance(child.tag, str) and etree.QName(child).namespace == uri:
            plain = _without_namespace(child)
            etree.indent(plain, space="  ")
            return str(etree.tostring(plain, encoding="unicode"))
    raise _no_metadata()


def _into_namespace(elem: etree._Element, uri: str, prefix: Optional[str]) -> etree._Element:
    """A copy of `elem` and its descendants in namespace `uri` under `prefix`."""
    node = etree.Element(f"{{{uri}}}{etree.QName(elem).localname}", nsmap={prefix: uri})
    for k, v in elem.attrib.items():
        node.set(k, v)
    node.text = elem.text
    for sub in elem:
        if isinstance(sub.tag, str):
            node.append(_into_namespace(sub, uri, prefix))
    return node


def _without_namespace(elem: etree._Element) -> etree._Element:
    """A copy of `elem` in no namespace, as libvirt hands metadata back."""
    plain = etree.Element(etree.QName(elem).localname)
    for k, v in elem.attrib.items():
        plain.set(k, v)
    plain.text = elem.text
    for sub in elem:
        if isinstance(sub.tag, str):
            copy = _without_namespace(sub)
            copy.tail = sub.tail
            plain.append(copy)
    return plain

