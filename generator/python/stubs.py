"""Type stubs (.pyi) for the generated modules.

``stub(source, precise, typed_dicts) -> text``: pure.  The hand-written parts of
a module (templates/python/*.j2) already carry their hints, so the stub keeps
the signatures of the rendered module (read with :mod:`ast`, bodies dropped);
the methods generated from the spec get the precise hints :func:`precise_hints`
derives from the spec model (scalar out-values, typed parameters as TypedDicts).
"""

from __future__ import annotations

import ast

from .plan import SCALARS, Method
from .typed_params import TypedDictSpec, family_of

BANNER = "# Generated from apispec/ by pyvirt's generator (type stubs); do not edit.\n"
# stub headers need these whatever the module imports
TYPING = ("Any", "Dict", "List", "Optional", "Tuple", "TypedDict")
DECORATORS = {"overload", "property", "staticmethod", "classmethod"}

Hints = tuple[dict[str, str], str]     # (parameter -> hint, return hint)


def _out_hint(ctype: str) -> str | None:
    """The Python value of one output argument; ex) 'unsigned long long *' -> 'int'."""
    base = ctype[:-2] if ctype.endswith(" *") else ctype
    if base == "unsigned char":        # a byte buffer (a raw UUID, a peek)
        return "bytes"
    if base in ("char", "char *", "const char *"):
        return "str"
    if base in ("char **", "const char **"):
        return "List[str]"
    return SCALARS.get(base)


def _in_hint(ctype: str) -> str | None:
    if ctype in ("const char **", "char **"):
        return "List[str]"
    if ctype in ("int *", "unsigned int *", "const unsigned int *", "const int *"):
        return "List[int]"
    return None


def precise_hints(m: Method) -> Hints:
    """What the spec says beyond the plan's runtime hints."""
    fam = family_of(m.fn.name)
    args = {a.name: a for a in m.fn.args}
    params: dict[str, str] = {}
    for p in m.params:
        hint = p.hint
        if hint == "Dict[str, Any]" and fam:
            hint = fam.name
        elif hint == "Any":
            a = args.get(p.name.rstrip("_"))
            hint = (_in_hint(a.type) if a else None) or "Any"
        if p.default == "None" and not hint.startswith("Optional["):
            hint = f"Optional[{hint}]"
        params[p.name] = hint
    ret = m.result_hint
    if m.result == "params" and fam:
        ret = fam.name
    elif m.result == "value" and ret == "Any":
        outs = [a for a in m.fn.args if a.dir != "in"]
        if len(outs) == 1:
            ret = _out_hint(outs[0].type) or "Any"
    return params, ret


def _names(node: ast.AST) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


# bare generics of the hand-written hints, spelled out so that `mypy --strict` accepts
# the stubs (libvirt-python's own hints say `Callable`, `List`)
BARE = {"Callable": "Callable[..., Any]", "List": "List[Any]", "Dict": "Dict[Any, Any]",
        "Tuple": "Tuple[Any, ...]", "Type": "Type[Any]"}


class _Parametrize(ast.NodeTransformer):
    def __init__(self, generic: set[str]) -> None:
        self.generic = generic

    def visit_Subscript(self, node: ast.Subscript) -> ast.AST:
        node.slice = self.visit(node.slice)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        if node.id in BARE:
            return ast.parse(BARE[node.id], mode="eval").body
        if node.id in self.generic:
            return ast.parse(f"{node.id}[Any]", mode="eval").body
        return node


class _Stubber:
    def __init__(self, precise: dict[tuple[str, str], Hints], dropped: set[str],
                 generic: set[str] | None = None) -> None:
        self.precise = precise
        self.dropped = dropped
        self.generic = generic or set()   # type aliases with a TypeVar: used as Alias[Any]

    def ann(self, node: ast.expr | None) -> str | None:
        if node is None:
            return None
        if _names(node) & self.dropped:
            return "Any"
        return ast.unparse(_Parametrize(self.generic).visit(node))

    def arg(self, a: ast.arg, default: bool, hints: dict[str, str], star: str = "") -> str:
        hint = hints.get(a.arg) or self.ann(a.annotation)
        text = star + a.arg + (f": {hint}" if hint else "")
        return text + (" = ..." if default else "")

    def function(self, f: ast.FunctionDef | ast.AsyncFunctionDef, cls: str, ind: str) -> list[str]:
        hints, ret = self.precise.get((cls, f.name), ({}, None))
        a = f.args
        pos = a.posonlyargs + a.args
        first_default = len(pos) - len(a.defaults)
        parts = [self.arg(x, i >= first_default, hints) for i, x in enumerate(pos)]
        if a.posonlyargs:
            parts.insert(len(a.posonlyargs), "/")
        if a.vararg:
            parts.append(self.arg(a.vararg, False, hints, "*"))
        elif a.kwonlyargs:
            parts.append("*")
        parts += [self.arg(x, d is not None, hints) for x, d in zip(a.kwonlyargs, a.kw_defaults)]
        if a.kwarg:
            parts.append(self.arg(a.kwarg, False, hints, "**"))
        out = [f"{ind}@{ast.unparse(d)}" for d in f.decorator_list
               if ast.unparse(d).split(".")[-1] in DECORATORS]
        kw = "async def" if isinstance(f, ast.AsyncFunctionDef) else "def"
        r = ret or self.ann(f.returns)
        out.append(f"{ind}{kw} {f.name}({', '.join(parts)})" + (f" -> {r}" if r else "") + ": ...")
        return out

    def cls(self, c: ast.ClassDef) -> list[str]:
        bases = ", ".join(ast.unparse(b) for b in c.bases)
        out = [f"class {c.name}({bases}):" if bases else f"class {c.name}:"]
        body: list[str] = []
        # a name defined twice (hand-written, then generated): the last one wins, as at run time
        last = {n.name: n for n in c.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and not any(ast.unparse(d).endswith("overload") for d in n.decorator_list)}
        for n in c.body:
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and last.get(n.name, n) is not n:
                continue
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(n.name):
                body += self.function(n, c.name, "    ")
            elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) \
                    and _public(n.target.id):
                body.append(f"    {n.target.id}: {self.ann(n.annotation)}")
        return out + (body or ["    ..."])


def _public(name: str) -> bool:
    return not name.startswith("_") or (name.startswith("__") and name.endswith("__"))


def _imports(tree: ast.Module) -> tuple[list[str], set[str]]:
    """The stub's imports, and the names it drops (pyvirt's, other modules' privates)."""
    typing = set(TYPING)
    lines, dropped = [], set()
    for n in tree.body:
        if isinstance(n, ast.Import):
            lines += [f"import {a.name}" + (f" as {a.asname}" if a.asname else "") for a in n.names
                      if not a.name.startswith("pyvirt")]
            dropped |= {a.asname or a.name for a in n.names if a.name.startswith("pyvirt")}
        elif isinstance(n, ast.ImportFrom) and n.module:
            if n.module == "typing":
                typing |= {a.name for a in n.names}
                continue
            keep = [a for a in n.names if not n.module.startswith("pyvirt")
                    and not a.name.startswith("_")]
            dropped |= {a.asname or a.name for a in n.names if a not in keep}
            if keep:
                std = n.module in ("types", "collections.abc")
                lines.append(f"from {n.module} import " + ", ".join(
                    a.name + (f" as {a.asname}" if a.asname else "" if std else f" as {a.name}")
                    for a in keep))
    return [f"from typing import {', '.join(sorted(typing))}"] + lines, dropped


def _literal(v: ast.expr) -> object:
    """A constant's value (VIR_..._MIN = -2 included), or None."""
    try:
        return ast.literal_eval(v)
    except ValueError:
        return None


def _typed_dict(td: TypedDictSpec) -> str:
    fields = ", ".join(f"{k!r}: {t}" for k, t in td.fields)
    return f"{td.name} = TypedDict({td.name!r}, {{{fields}}}, total=False)"


def stub(source: str, precise: dict[tuple[str, str], Hints],
         typed_dicts: list[TypedDictSpec]) -> str:
    tree = ast.parse(source)
    imports, dropped = _imports(tree)
    typevars = {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign)
                and isinstance(n.value, ast.Call) and ast.unparse(n.value.func) == "TypeVar"
                and isinstance(n.targets[0], ast.Name)}
    generic = {n.targets[0].id for n in tree.body if isinstance(n, ast.Assign)
               and isinstance(n.targets[0], ast.Name) and isinstance(n.value, ast.Subscript)
               and _names(n.value) & typevars}
    s = _Stubber(precise, dropped, generic)
    out = [BANNER.rstrip("\n")] + imports + [""]
    out += [_typed_dict(td) for td in typed_dicts]
    for n in tree.body:
        if isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name):
            name, v = n.targets[0].id, n.value
            if _public(name) and type(_literal(v)) in (int, str):
                out.append(f"{name}: {type(_literal(v)).__name__}")
            elif not _public(name) and (isinstance(v, ast.Subscript) or (
                    isinstance(v, ast.Call) and ast.unparse(v.func) == "TypeVar")):
                alias = ast.unparse(v) if isinstance(v, ast.Call) else s.ann(v)
                out.append(f"{name} = {alias}")
            elif _public(name):
                out.append(f"{name}: Any")
        elif isinstance(n, ast.AnnAssign) and isinstance(n.target, ast.Name) and _public(n.target.id):
            out.append(f"{n.target.id}: {s.ann(n.annotation)}")
        elif isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and _public(n.name):
            out += s.function(n, "", "")
        elif isinstance(n, ast.ClassDef):
            out += [""] + s.cls(n) + [""]
    return "\n".join(out) + "\n"


def precise_for(ms: list[Method]) -> dict[tuple[str, str], Hints]:
    return {(m.cls, m.name): precise_hints(m) for m in ms}

