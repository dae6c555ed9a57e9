"""Reading and writing apispec/*.xml: the only code that sees the spec's XML.

``load(path)`` gives the model; a malformed spec fails with ``SpecError`` naming
``file:line``. ``dump(api)`` is the inverse, used by tools/import_spec.py.
"""

from __future__ import annotations

from lxml import etree

from .model import (Api, Arg, Enum, Field, Function, FuncType, Macro, Return,
                    Struct, Typedef, Variable, Version)


class SpecError(Exception):
    """A spec file is wrong; the message starts with file:line."""


def _need(el, attr: str, path: str) -> str:
    value = el.get(attr)
    if value is None:
        raise SpecError(f"{path}:{el.sourceline}: <{el.tag}> lacks attribute '{attr}'")
    return value


def _flag(el, attr: str) -> bool:
    return el.get(attr) == "yes"


def _info(el) -> str:
    info = el.find("info")
    return (info.text or "").strip() if info is not None else ""


def _args(el, path: str) -> tuple[Arg, ...]:
    return tuple(Arg(name=_need(a, "name", path), type=_need(a, "type", path),
                     dir=a.get("dir", "in"), length=a.get("length"), alloc=a.get("alloc"),
                     nullable=_flag(a, "nullable"), opaque=a.get("opaque"), free=a.get("free"))
                 for a in el.findall("arg"))


def _return(el, path: str) -> Return:
    r = el.find("return")
    if r is None:
        raise SpecError(f"{path}:{el.sourceline}: <{el.tag} name='{el.get('name')}'> lacks <return>")
    return Return(type=_need(r, "type", path), owner=r.get("owner"))


def _fields(el, path: str) -> tuple[Field, ...]:
    return tuple(Field(name=_need(f, "name", path), type=_need(f, "type", path),
                       array=int(f.get("array")) if f.get("array") else None,
                       fields=_fields(f, path), deprecated=_flag(f, "deprecated"),
                       length=f.get("length"))
                 for f in el.findall("field"))


def _decl(el, path: str):
    name, file = _need(el, "name", path), _need(el, "file", path)
    tag = el.tag
    if tag == "function":
        return Function(name, file, _need(el, "version", path), _return(el, path),
                        _args(el, path), _info(el))
    if tag == "functype":
        return FuncType(name, file, _return(el, path), _args(el, path), _info(el))
    if tag == "enum":
        value = _need(el, "value", path)
        try:
            number = int(value, 0)
        except ValueError:
            raise SpecError(f"{path}:{el.sourceline}: enum {name} has a non-integer value '{value}'")
        return Enum(name, file, _need(el, "type", path), number, _flag(el, "sentinel"), _info(el))
    if tag == "typedef":
        return Typedef(name, file, _need(el, "type", path), _info(el))
    if tag == "struct":
        return Struct(name, file, _fields(el, path), _info(el))
    if tag == "variable":
        return Variable(name, file, _need(el, "type", path), _need(el, "version", path), _info(el))
    if tag == "macro":
        params, param = el.get("params"), el.get("param")
        if param is not None and param not in PARAM_KINDS:
            raise SpecError(f"{path}:{el.sourceline}: macro {name}: param='{param}' is not "
                            f"one of {', '.join(PARAM_KINDS)}")
        return Macro(name, file, el.get("value", ""),
                     tuple(params.split(",")) if params is not None else None, _info(el), param)
    raise SpecError(f"{path}:{el.sourceline}: unknown element <{tag}>")


# the kinds of a typed parameter's value (VIR_TYPED_PARAM_INT ... _STRING)
PARAM_KINDS = ("int", "uint", "llong", "ullong", "double", "boolean", "string")


def load(path: str) -> Api:
    try:
        root = etree.parse(path).getroot()
    except etree.XMLSyntaxError as e:
        raise SpecError(f"{path}:{e.lineno}: {e.msg}") from None
    if root.tag != "api":
        raise SpecError(f"{path}:{root.sourceline}: root element must be <api>")
    files = tuple(_need(f, "name", path) for f in root.findall("files/file"))
    versions = tuple(Version(_need(v, "name", path), v.get("parent"))
                     for v in root.findall("versions/version"))
    symbols = root.find("symbols")
    decls = tuple(_decl(el, path) for el in (symbols if symbols is not None else [])
                  if isinstance(el.tag, str))
    known = set(files)
    nodes = {v.name for v in versions}
    seen: set[str] = set()
    for el, d in zip([e for e in (symbols if symbols is not None else []) if isinstance(e.tag, str)], decls):
        if d.file not in known:
            raise SpecError(f"{path}:{el.sourceline}: {d.name}: unknown file '{d.file}'")
        if isinstance(d, (Function, Variable)) and d.version not in nodes:
            raise SpecError(f"{path}:{el.sourceline}: {d.name}: unknown version '{d.version}'")
        if (el.tag, d.name) in seen:
            raise SpecError(f"{path}:{el.sourceline}: {d.name} declared twice")
        seen.add((el.tag, d.name))
    return Api(_need(root, "name", path), _need(root, "soname", path), files, versions, decls)


# -- writing ------------------------------------------------------------------

def _set(el, **attrs) -> None:
    for k, v in attrs.items():
        if v is None or v is False or v == "":
            continue
        el.set(k, "yes" if v is True else str(v))


def _put_info(el, text: str) -> None:
    if text:
        etree.SubElement(el, "info").text = text


def _put_args(el, args) -> None:
    for a in args:
        _set(etree.SubElement(el, "arg"), name=a.name, type=a.type,
             dir=None if a.dir == "in" else a.dir, length=a.length, alloc=a.alloc,
             nullable=a.nullable, opaque=a.opaque, free=a.free)


def _put_fields(el, fields) -> None:
    for f in fields:
        sub = etree.SubElement(el, "field")
        _set(sub, name=f.name, type=f.type, array=f.array, deprecated=f.deprecated,
             length=f.length)
        _put_fields(sub, f.fields)


def dump(api: Api) -> bytes:
    root = etree.Element("api")
    _set(root, name=api.name, soname=api.soname)
    files = etree.SubElement(root, "files")
    for f in api.files:
        etree.SubElement(files, "file", name=f)
    versions = etree.SubElement(root, "versions")
    for v in api.versions:
        _set(etree.SubElement(versions, "version"), name=v.name, parent=v.parent)
    symbols = etree.SubElement(root, "symbols")
    for d in api.decls:
        tag = {Function: "function", FuncType: "functype", Enum: "enum", Typedef: "typedef",
               Struct: "struct", Variable: "variable", Macro: "macro"}[type(d)]
        el = etree.SubElement(symbols, tag)
        _set(el, name=d.name, file=d.file)
        if isinstance(d, Function):
            _set(el, version=d.version)
        if isinstance(d, (Function, FuncType)):
            _put_info(el, d.info)
            _set(etree.SubElement(el, "return"), type=d.ret.type, owner=d.ret.owner)
            _put_args(el, d.args)
        elif isinstance(d, Enum):
            _set(el, type=d.type, value=d.value, sentinel=d.sentinel)
            _put_info(el, d.info)
        elif isinstance(d, (Typedef, Variable)):
            _set(el, type=d.type, version=getattr(d, "version", None))
            _put_info(el, d.info)
        elif isinstance(d, Struct):
            _put_info(el, d.info)
            _put_fields(el, d.fields)
        elif isinstance(d, Macro):
            _set(el, params=",".join(d.params) if d.params is not None else None, value=d.value)
            _put_info(el, d.info)
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"
