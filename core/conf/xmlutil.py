"""XML helpers shared by every conf module: parsing with libvirt's error
wording, and writing in libvirt's layout (two-space indent, single-quoted
attributes, ``<x/>`` for empty elements)."""

from __future__ import annotations

from typing import Callable, Iterable, Optional

from lxml import etree

from .. import errors, viruuid
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
        # libvirt quotes the whole line (libxml2 alone would cut it at 80)
        context = lines[line - 1] if 0 < line <= len(lines) else "(null)"
        pointer = "-" * max(column - 1, 0) + "^"
        raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, domain,
                            f"{url}:{line}: {message}\n{context}\n{pointer}") from None
    if root.tag != root_name:
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                            f"expecting root element of '{root_name}', not '{root.tag}'")
    return root


def escape(text: str) -> str:
    """Escape as libvirt's XML buffer does, quotes included."""
    # Fast path: names, paths and numbers rarely hold any of the five
    # characters, and five `in` tests cost less than five replace() calls
    # (GetXMLDesc escapes every attribute value).
    if "&" in text or "<" in text or ">" in text or "'" in text or '"' in text:
        return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("'", "&apos;").replace('"', "&quot;"))
    return text


def attrs(pairs: Iterable[tuple[str, Optional[str]]]) -> str:
    """Format attributes, skipping those whose value is None."""
    return "".join(f" {k}='{escape(v)}'" for k, v in pairs if v is not None)


def element_lines(elem: etree._Element, indent: int) -> list[str]:
    """Write an element kept as-is from the user's XML in libvirt's layout."""
    out: list[str] = []
    write_element(elem, indent, out)
    return out


# Lines already written for a kept element, keyed by its serialization
# (lxml's C serializer, 3-4 times cheaper than walking the element from
# Python) and indent.  Keying by content, not by element, stays right when a
# driver edits an element in place: the edited element simply misses.  Equal
# serializations have equal tags, attributes, text and children, hence equal
# lines.  Bounded crudely: emptied when full.
_LINES_MEMO: dict[tuple[bytes, int], tuple[str, ...]] = {}
_LINES_MEMO_MAX = 4096


def write_element(elem: etree._Element, indent: int, out: list[str]) -> None:
    """Append the lines of `elem` (see element_lines) to `out`."""
    if not isinstance(elem.tag, str):
        return  # comments and processing instructions are dropped
    key = (etree.tostring(elem, with_tail=False), indent)
    lines = _LINES_MEMO.get(key)
    if lines is None:
        fresh: list[str] = []
        _write_tree(elem, indent, fresh)
        lines = tuple(fresh)
        if len(_LINES_MEMO) >= _LINES_MEMO_MAX:
            _LINES_MEMO.clear()
        _LINES_MEMO[key] = lines
    out.extend(lines)


def _write_tree(elem: etree._Element, indent: int, out: list[str]) -> None:
    """Append the lines of `elem` to `out`: one list for the whole tree,
    filled in place, rather than a list per element merged by its parent."""
    tag = elem.tag
    if not isinstance(tag, str):
        return
    pad = " " * indent
    # lxml attribute values are never None, so attrs()'s None test is not needed
    head = pad + "<" + tag + "".join([f" {k}='{escape(v)}'" for k, v in elem.items()])
    # len() is cheap and zero for most elements (leaves): skip building the list
    children = [c for c in elem if isinstance(c.tag, str)] if len(elem) else None
    if not children:
        text = elem.text
        if not text or not text.strip():
            out.append(head + "/>")
        else:
            out.append(f"{head}>{escape(text)}</{tag}>")
        return
    out.append(head + ">")
    for child in children:
        _write_tree(child, indent + 2, out)
    out.append(f"{pad}</{tag}>")


def copy_element(elem: etree._Element) -> etree._Element:
    """A detached deep copy, so stored definitions never share nodes."""
    return etree.fromstring(etree.tostring(elem))


def reorder_attrs(elem: etree._Element, orders: dict[str, tuple[str, ...]]) -> None:
    """Put the attributes of `elem` and its descendants in libvirt's order:
    `orders` maps a tag to its attribute names; unlisted ones follow."""
    for node in elem.iter():
        order = orders.get(node.tag) if isinstance(node.tag, str) else None
        if not order:
            continue
        items = list(node.attrib.items())
        rank = {name: i for i, name in enumerate(order)}
        items.sort(key=lambda kv: rank.get(kv[0], len(order)))
        node.attrib.clear()
        for k, v in items:
            node.set(k, v)


SCALES = {"": 1, "b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024, "mb": 1000**2,
          "m": 1024**2, "mib": 1024**2, "gb": 1000**3, "g": 1024**3, "gib": 1024**3,
          "tb": 1000**4, "t": 1024**4, "tib": 1024**4, "pb": 1000**5, "p": 1024**5,
          "pib": 1024**5, "eb": 1000**6, "e": 1024**6, "eib": 1024**6}


def scaled_bytes(elem: Optional[etree._Element], what: str,
                 domain: int = ErrorDomain.VIR_FROM_STORAGE) -> Optional[int]:
    """<capacity unit='M'>10</capacity> -> bytes; None when `elem` is None."""
    if elem is None:
        return None
    text = (elem.text or "").strip()
    unit = elem.get("unit", "bytes")
    scale = SCALES.get(unit.lower())
    if not text.isdigit():
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, domain,
                            f"malformed {what} element")
    if scale is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                            f"unknown suffix '{unit}'")
    return int(text) * scale


def layout_lines(children: dict[str, list[etree._Element]], layout: tuple[str, ...],
                 indent: int) -> list[str]:
    """Write kept elements in the order `layout` names their tags."""
    out: list[str] = []
    for tag in layout:
        for elem in children.get(tag, ()):
            write_element(elem, indent, out)
    return out


def collect(root: etree._Element, tags: Iterable[str]) -> dict[str, list[etree._Element]]:
    """Detached copies of the children of `root` whose tag is in `tags`."""
    wanted = set(tags)
    kept: dict[str, list[etree._Element]] = {}
    for child in root:
        if isinstance(child.tag, str) and child.tag in wanted:
            kept.setdefault(child.tag, []).append(copy_element(child))
    return kept


def parse_uuid(root: etree._Element, malformed: Callable[[], Exception]) -> bytes:
    """The object's <uuid>, or a new random one when it has none; malformed()
    is the error libvirt gives for this kind of object when it does not parse."""
    text = root.findtext("uuid")
    if text is None:
        return viruuid.generate()
    parsed = viruuid.parse(text.strip())
    if parsed is None:
        raise malformed()
    return parsed
