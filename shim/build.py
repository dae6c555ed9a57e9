"""Build the shim libraries from the generator's output (run by `make build`).

    /usr/bin/python3 shim/build.py BUILD_DIR

Must run under the interpreter the shim embeds (Debian's python3 with its
python3-cffi): the libraries link that interpreter's libpython, and the cffi
version that generates the C code must be the one that runs it.
"""

from __future__ import annotations

import os
import sys
import sysconfig

import cffi

HERE = os.path.dirname(os.path.abspath(__file__))
LIBRARIES = [   # (spec name, soname, C sources under shim/ compiled into it)
    ("libvirt", "libvirt.so.0", ["errors.c", "auth.c", "init.c", "structs.c", "typedparams.c", "libpython.c"]),
    ("libvirt-qemu", "libvirt-qemu.so.0", ["libpython.c"]),
    ("libvirt-lxc", "libvirt-lxc.so.0", ["libpython.c"]),
]

INIT = """\
import os, sys
for _p in [os.environ.get("PYVIRT_SHIM_PATH"), {path!r}]:
    if _p and _p not in sys.path:
        sys.path.append(_p)   # appended: never shadows a module the host already has
import pyvirt_externs.{module}
"""


def build(build_dir: str, name: str, soname: str, sources: list[str]) -> str:
    gen = os.path.join(build_dir, "shim", name)
    libdir = os.path.join(build_dir, "lib")
    module = name.replace("-", "_")
    read = lambda f: open(os.path.join(gen, f)).read()   # noqa: E731
    ffi = cffi.FFI()
    ffi.cdef(read("cdef.h"))
    ffi.embedding_api(read("embedding.h"))
    header = "libvirt/libvirt.h" if name == "libvirt" else f"libvirt/{name}.h"
    ffi.set_source(
        f"_pyvirt_{module}_cffi",
        f'#define VIR_DEPRECATED\n#include <{header}>\n#include <libvirt/virterror.h>\n#include <string.h>\n'
        f'#include <stdlib.h>\n#include "pyvirt_shim.h"\n',
        sources=[os.path.join(HERE, s) for s in sources]
        + [os.path.join(gen, f) for f in ["entry.c"] if os.path.exists(os.path.join(gen, f))],
        include_dirs=[os.path.join(build_dir, "include"), HERE],
        define_macros=[("PYVIRT_LIBPYTHON", '"%s"' % sysconfig.get_config_var("INSTSONAME"))],
        extra_compile_args=["-O2", "-Wno-unused-parameter", "-Wno-deprecated-declarations"],
        extra_link_args=[f"-Wl,-soname,{soname}",
                         f"-Wl,--version-script={os.path.join(gen, 'symbols.map')}",
                         "-Wl,-rpath,$ORIGIN", "-ldl"]
        + ([f"-L{libdir}", "-lvirt"] if name != "libvirt" else []),
    )
    ffi.embedding_init_code(INIT.format(path=os.path.join(build_dir, "shimpy"), module=module))
    target = os.path.join(libdir, soname)
    # Link under a temporary name, then rename: a program starting meanwhile
    # loads the old library or the new one, never a half-written file.
    built = ffi.compile(tmpdir=os.path.join(build_dir, "shim", name, "c"), target=soname + ".new")
    os.replace(built, target)
    link = os.path.join(libdir, soname.rsplit(".", 1)[0])
    if not os.path.islink(link):
        os.symlink(soname, link)
    return target


def main() -> None:
    build_dir = os.path.abspath(sys.argv[1])
    os.makedirs(os.path.join(build_dir, "lib"), exist_ok=True)
    for name, soname, sources in LIBRARIES:
        print(f"  shim  {build(build_dir, name, soname, sources)}")


if __name__ == "__main__":
    main()
