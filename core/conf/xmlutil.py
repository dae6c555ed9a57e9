"""XML helpers shared by every conf module: parsing with libvirt's error
wording, and writing in libvirt's layout (two-space indent, single-quoted
attributes, ``<x/>`` for empty elements)."""

from __future__ import annotations

from typing import Iterable, Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber


def parse_document(text: Optional[str], url: str, root_name: str,
                   domain: int = ErrorDomain.VIR_FROM_DOMAIN) -> etree._Element:
    """Parse `text`; `url` names the document in errors, e.g. '(domain_definition)'."""
    if text is None or not text.strip():
        raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, domain,
                            f"{url}:1: Document is empty\n(null)\n^")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as exc:
        fatal = parser.error_log.filter_from_fatals()
        entry = fatal[0] if len(fatal) else None
        message = entry.message if entry is not None else str(exc)
        line = entry.line if entry is not None else 1
        column = entry.column if entry is not None else 1
        lines = text.split("\n")
        context = lines[line - 1][:80] if 0 < line <= len(lines) else "(null)"
        pointer = "-" * max(column - 1, 0) + "^"
        raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, domain,
                            f"{url}:{line}: {message}\n{context}\n{pointer}") from None
    if root.tag != root_name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                            f"expecting root element of '{root_name}', not '{root.tag}'")
    return root


def escape(text: str) -> str:
    """Escape as libvirt's XML buffer does, quotes included."""
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace("'", "&apos;").replace('"', "&quot;"))


def attrs(pairs: Iterable[tuple[str, Optional[str]]]) -> str:
    """Format attributes, skipping those whose value is None."""
    return "".join(f" {k}='{escape(v)}'" for k, v in pairs if v is not None)


def element_lines(elem: etree._Element, indent: int) -> list[str]:
    """Write an element kept as-is from the user's XML in libvirt's layout."""
    if not isinstance(elem.tag, str):
        return []  # comments and processing instructions are dropped
    pad = " " * indent
    head = f"<{elem.tag}{attrs(elem.attrib.items())}"
    children = [c for c in elem if isinstance(c.tag, str)]
    text = (elem.text or "").strip()
    if not children and not text:
        return [f"{pad}{head}/>"]
    if not children:
        return [f"{pad}{head}>{escape(elem.text or '')}</{elem.tag}>"]
    out = [f"{pad}{head}>"]
    for child in children:
        out.extend(element_lines(child, indent + 2))
    out.append(f"{pad}</{elem.tag}>")
    return out


def copy_element(elem: etree._Element) -> etree._Element:
    """A detached deep copy, so stored definitions never share nodes."""
    return etree.fromstring(etree.tostring(elem))
