#!/usr/bin/env python3
"""Put the one-line descriptions of tools/descriptions.tsv into apispec/*.xml.

The TSV has one row per symbol: ``name<TAB>kind<TAB>text``, where kind is
``function``, ``functype``, ``struct`` or ``enum`` (an enum type, i.e. a
``<typedef type="enum">``).  Blank lines and lines starting with ``#`` are
skipped.

For each matching element the text goes into an ``<info>`` child placed first
(so before ``<return>`` / ``<field>``); an existing ``<info>`` is replaced, which
makes the script idempotent.  Files are written back exactly as
generator/spec.py's dump() formats them.

    /usr/bin/python3 tools/apply_descriptions.py [--check]

With ``--check`` nothing is written; the exit status says whether every file
is already up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from lxml import etree

ROOT = Path(__file__).resolve().parent.parent
TSV = ROOT / "tools" / "descriptions.tsv"
SPECS = [ROOT / "apispec" / f"{n}.xml" for n in ("libvirt", "libvirt-qemu", "libvirt-lxc")]
KINDS = ("function", "functype", "struct", "enum")


def kind_of(el) -> str | None:
    if el.tag in ("function", "functype", "struct"):
        return el.tag
    if el.tag == "typedef" and el.get("type") == "enum":
        return "enum"
    return None


def read_tsv(path: Path) -> dict[tuple[str, str], str]:
    table: dict[tuple[str, str], str] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3:
            sys.exit(f"{path}:{lineno}: expected 3 tab-separated columns, got {len(parts)}")
        name, kind, text = (p.strip() for p in parts)
        if kind not in KINDS:
            sys.exit(f"{path}:{lineno}: unknown kind '{kind}'")
        if not name or not text:
            sys.exit(f"{path}:{lineno}: empty name or text")
        if (name, kind) in table:
            sys.exit(f"{path}:{lineno}: {kind} {name} listed twice")
        table[(name, kind)] = text
    return table


def set_info(el, text: str) -> None:
    for old in el.findall("info"):
        el.remove(old)
    info = etree.Element("info")
    info.text = text
    el.insert(0, info)


def render(root) -> bytes:
    etree.indent(root, space="  ")
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8") + b"\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv[1:]
    table = read_tsv(TSV)
    used: set[tuple[str, str]] = set()
    lacking: list[str] = []
    stale: list[str] = []
    for path in SPECS:
        original = path.read_bytes()
        root = etree.fromstring(original)
        symbols = root.find("symbols")
        for el in (symbols if symbols is not None else []):
            if not isinstance(el.tag, str):
                continue
            kind = kind_of(el)
            if kind is None:
                continue
            key = (el.get("name"), kind)
            if key not in table:
                lacking.append(f"{path.name}: {kind} {key[0]}")
                continue
            used.add(key)
            set_info(el, table[key])
        out = render(root)
        if out != original:
            stale.append(path.name)
            if not check:
                path.write_bytes(out)
    unused = sorted(set(table) - used)
    for kind_name in unused:
        print(f"warning: no element for {kind_name[1]} {kind_name[0]}", file=sys.stderr)
    for item in lacking:
        print(f"warning: no description for {item}", file=sys.stderr)
    verb = "out of date" if check else "updated"
    print(f"{len(used)} descriptions applied; {verb}: {', '.join(stale) or 'none'}")
    if check and stale:
        return 1
    return 1 if (unused or lacking) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
