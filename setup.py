"""pyvirt's Python side: the core package `pyvirt` (the folder core/).

The C library (build/lib/libvirt.so.0) is built separately with `make build`.
"""

from setuptools import find_packages, setup

setup(
    name="pyvirt",
    version="0.1.0",
    description="libvirt's API with a Python core",
    license="LGPL-2.1-or-later",
    python_requires=">=3.11",
    packages=["pyvirt"] + [f"pyvirt.{p}" for p in find_packages("core")],
    package_dir={"pyvirt": "core"},
    package_data={"pyvirt": ["py.typed"]},
    install_requires=["lxml>=4.9"],
)
