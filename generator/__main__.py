"""python -m generator OUTDIR SPEC... : write every generated file under OUTDIR."""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile

from . import python as python_module, render, spec
from .spec import SpecError


def write(outdir: str, files: dict[str, str]) -> None:
    """Atomically replace each file whose text changed (keeps make's timestamps honest)."""
    for rel, text in sorted(files.items()):
        path = os.path.join(outdir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        try:
            with open(path) as f:
                if f.read() == text:
                    continue
        except FileNotFoundError:
            pass
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), prefix=".tmp-")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.chmod(tmp, 0o644)   # mkstemp's 0600 would hide the output from other users
        os.replace(tmp, path)


def shim_sources(folder: str) -> tuple[dict[str, str], dict[str, str]]:
    """The shim's C sources, and the functions its hand-written Python externs
    define (name -> module under pyvirt_shim)."""
    c_sources: dict[str, str] = {}
    handwritten: dict[str, str] = {}
    for root, _, names in os.walk(folder):
        for n in names:
            path = os.path.join(root, n)
            if n.endswith(".c"):
                c_sources[path] = open(path).read()
            elif n.endswith(".py"):
                for name in re.findall(r'def_extern\(name="(\w+)"', open(path).read()):
                    handwritten[name] = n[:-3]
    return c_sources, handwritten


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m generator", description=__doc__)
    ap.add_argument("outdir")
    ap.add_argument("specs", nargs="+")
    ap.add_argument("--shim", default=os.path.join(os.path.dirname(__file__), "..", "shim"),
                    help="the shim's hand-written sources (C functions and Python externs)")
    ap.add_argument("--bindings", metavar="DIR",
                    help="also write the language bindings' generated files (*_gen.*) under DIR "
                         "(bindings/), reading DIR/<lang>/overrides.toml")
    opts = ap.parse_args(argv)
    try:
        apis = [spec.load(p) for p in opts.specs]
    except SpecError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    files: dict[str, str] = {}
    for api in apis:
        files.update(render.headers(api))
    c_sources, handwritten = shim_sources(opts.shim)
    files.update(render.shim(apis, c_sources, handwritten))
    files.update(python_module.render(apis, c_sources))   # build/python: import libvirt
    write(opts.outdir, files)
    if opts.bindings:
        from . import bindings, go, ocaml, perl
        overrides = bindings.load_overrides(os.path.join(opts.bindings, "go", "overrides.toml"))
        write(opts.bindings, go.render(apis, overrides))
        # Perl's generated sources go to OUTDIR/bindings/perl, where `perl Makefile.PL
        # && make` runs; Makefile.PL finds the hand-written parts by a relative path.
        perl_ov = bindings.load_overrides(os.path.join(opts.bindings, "perl", "overrides.toml"))
        hand = os.path.relpath(os.path.join(opts.bindings, "perl"),
                               os.path.join(opts.outdir, "bindings", "perl"))
        write(opts.outdir, perl.render(apis, perl_ov, hand))
        # OCaml's likewise go to OUTDIR/bindings/ocaml, where `make` runs.
        ocaml_ov = bindings.load_overrides(os.path.join(opts.bindings, "ocaml", "overrides.toml"))
        hand = os.path.relpath(os.path.join(opts.bindings, "ocaml"),
                               os.path.join(opts.outdir, "bindings", "ocaml"))
        write(opts.outdir, ocaml.render(apis, ocaml_ov, hand))
        write(opts.outdir, {"bindings/coverage.txt": go.coverage(apis, overrides) + "\n"
                            + perl.coverage(apis, perl_ov) + "\n"
                            + ocaml.coverage(apis, ocaml_ov)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
