"""C spelling of model records, shared by the header and shim templates."""

from __future__ import annotations

from .model import Arg, Field, FuncType, Function, Struct, Typedef, Variable


def declarator(ctype: str, name: str) -> str:
    """'char *' + 'name' -> 'char *name'; 'int' + 'x' -> 'int x'."""
    if ctype.endswith("*"):
        return f"{ctype}{name}"
    return f"{ctype} {name}"


def arglist(args: tuple[Arg, ...]) -> str:
    return ", ".join(declarator(a.type, a.name) for a in args) or "void"


def prototype(fn: Function) -> str:
    return declarator(fn.ret.type, f"{fn.name}({arglist(fn.args)})")


def functype(ft: FuncType) -> str:
    return declarator(ft.ret.type, f"(*{ft.name})({arglist(ft.args)})")


def field_lines(fields: tuple[Field, ...], indent: str = "    ", markers: bool = True) -> list[str]:
    lines = []
    for f in fields:
        array = f"[{f.array}]" if f.array is not None else ""
        deprecated = " VIR_DEPRECATED" if f.deprecated and markers else ""
        if f.fields:
            lines.append(f"{indent}{f.type} {{")
            lines += field_lines(f.fields, indent + "    ", markers)
            lines.append(f"{indent}}} {f.name}{array};")
        else:
            lines.append(f"{indent}{declarator(f.type, f.name)}{array}{deprecated};")
    return lines


def struct(s: Struct, markers: bool = True) -> str:
    """markers=False leaves out attributes (VIR_DEPRECATED) that cffi cannot parse."""
    return "\n".join([f"struct {s.name} {{", *field_lines(s.fields, markers=markers), "};"])


def typedef(t: Typedef) -> str:
    return f"typedef {declarator(t.type, t.name)};"


def variable(v: Variable) -> str:
    return f"VIR_EXPORT_VAR {declarator(v.type, v.name)};"


FILTERS = {"prototype": prototype, "functype": functype, "struct": struct,
           "typedef": typedef, "variable": variable, "arglist": arglist}
