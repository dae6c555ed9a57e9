"""pyvirt's Python side as a pure wheel: the core package `pyvirt` (the folder
core/) and the modules `libvirt`, `libvirt_qemu`, `libvirt_lxc`, `libvirtaio` and
`libvirt_asyncio`
with their type stubs (libvirt.pyi ...), which `make build` generates into build/python/ (never committed).

    make build && python -m pip wheel --no-deps --no-build-isolation -w dist .

No compiler and no C library: the C library (build/lib/libvirt.so.0) is built
separately by `make build` and is not part of the wheel.
"""

import os
import sys

from setuptools import find_packages, setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))
GENERATED = os.path.join("build", "python")
MODULES = ["libvirt", "libvirt_qemu", "libvirt_lxc", "libvirtaio", "libvirt_asyncio"]

missing = [m + ext for m in MODULES for ext in (".py", ".pyi")
           if not os.path.exists(os.path.join(HERE, GENERATED, m + ext))]
if missing:
    sys.exit(f"setup.py: {GENERATED}/ lacks {', '.join(missing)}: "
             "run `make build` first (the modules are generated from apispec/)")

# setuptools' own work folders: never build/lib, which holds libvirt.so.0.
WORK = os.path.join("build", "wheel")
os.makedirs(os.path.join(HERE, WORK), exist_ok=True)



class build_py_with_stubs(build_py):
    """setuptools puts a package's .pyi in the wheel, never a single module's: copy
    each module's stub (libvirt.pyi beside libvirt.py) ourselves."""

    def run(self) -> None:
        super().run()
        for m in MODULES:
            self.copy_file(os.path.join(GENERATED, m + ".pyi"),
                           os.path.join(self.build_lib, m + ".pyi"))

    def get_outputs(self, include_bytecode: bool = True) -> list:
        return super().get_outputs(include_bytecode) + [
            os.path.join(self.build_lib, m + ".pyi") for m in MODULES]


setup(
    name="pyvirt",
    version="0.1.0",
    description="libvirt's API with a Python core; `import libvirt` without C",
    license="LGPL-2.1-or-later",
    python_requires=">=3.11",
    packages=["pyvirt"] + [f"pyvirt.{p}" for p in find_packages("core")],
    package_dir={"pyvirt": "core", "": GENERATED},
    py_modules=MODULES,
    package_data={"pyvirt": ["py.typed", "cpu/cpu_x86.json",
                            "drivers/test/test-screenshot.png"]},
    install_requires=["lxml>=4.9"],
    zip_safe=False,
    cmdclass={"build_py": build_py_with_stubs},
    options={"build": {"build_base": WORK}, "egg_info": {"egg_base": WORK},
             "bdist_wheel": {"bdist_dir": os.path.join(WORK, "bdist")}},
)
