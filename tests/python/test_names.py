"""Every public name of libvirt-python 9.0's `libvirt` module exists in
pyvirt's generated one: module functions, classes, their methods, constants.

Both modules are listed by names_probe.py in a subprocess (see pymodule_runner.py).
"""

from __future__ import annotations

import pytest

from pymodule_runner import BUILD, HERE, run_json

# Names that cannot exist without libvirt-python's C extension.
NOT_APPLICABLE = {"libvirtmod": "the C extension module itself; pyvirt's module has no C"}
# Methods whose parameters still differ from libvirt-python's: none.
MAX_SIGNATURE_MISMATCHES = 0

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(),
                                reason="run `make build` first")


@pytest.fixture(scope="module")
def listings():
    try:
        real, _ = run_json("system", HERE / "names_probe.py")
    except AssertionError:
        pytest.skip("python3-libvirt is not installed")
    ours, _ = run_json("pyvirt", HERE / "names_probe.py")
    return real, ours


def missing_names(real: dict, ours: dict) -> list[str]:
    missing = [n for n in real["module"] if n not in ours["module"] and n not in NOT_APPLICABLE]
    for cls, members in real["classes"].items():
        have = set(ours["classes"].get(cls, ()))
        missing += [f"{cls}.{m}" for m in members if m not in have]
    return missing


def test_no_public_name_is_missing(listings):
    real, ours = listings
    missing = missing_names(real, ours)
    print(f"\n{len(missing)} of libvirt-python's public names missing from pyvirt's module")
    assert missing == []


def test_constants_have_libvirt_python_values():
    import json
    import subprocess
    from pymodule_runner import SYSPY, env_for
    probe = "import libvirt, json; print(json.dumps({n: getattr(libvirt, n) for n in dir(libvirt) if n.startswith('VIR_')}))"
    vals = {}
    for impl in ("system", "pyvirt"):
        p = subprocess.run([SYSPY, "-c", probe], env=env_for(impl), cwd="/",
                           capture_output=True, text=True)
        if p.returncode != 0:
            pytest.skip(p.stderr)
        vals[impl] = json.loads(p.stdout)
    wrong = {n: (v, vals["pyvirt"].get(n)) for n, v in vals["system"].items()
             if vals["pyvirt"].get(n) != v}
    assert wrong == {}


def test_signatures_match(listings):
    real, ours = listings
    differ = sorted(k for k, v in real["signatures"].items()
                    if k in ours["signatures"] and ours["signatures"][k] != v)
    print(f"\n{len(differ)} signatures differ: {differ}")
    assert len(differ) <= MAX_SIGNATURE_MISMATCHES, differ
