"""`pip install` of pyvirt's Python side needs no compiler and no C library: a
pure wheel holding the package `pyvirt` and the generated modules, installed
into a fresh venv of /usr/bin/python3 that cannot see Debian's python3-libvirt,
runs examples/demo.py with the output it has on the system's libvirt.
"""

from __future__ import annotations

import subprocess
import zipfile

import pytest

from pymodule_runner import BUILD, ROOT, SYSPY, env_for, run

GENERATED = ("libvirt.py", "libvirt_qemu.py", "libvirt_lxc.py", "libvirtaio.py",
             "libvirt_asyncio.py")

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(),
                                reason="run `make build` first")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    p = subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "pip", "wheel", "-q",
                        "--disable-pip-version-check", "--no-deps", "--no-build-isolation",
                        "-w", str(out), str(ROOT)], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    wheels = list(out.glob("pyvirt-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


def test_wheel_is_pure_and_holds_the_generated_modules(wheel):
    assert wheel.name.endswith("-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert set(GENERATED) <= set(names)
    assert {n[:-3] + ".pyi" for n in GENERATED} <= set(names)   # the type stubs beside them
    assert "pyvirt/py.typed" in names and "pyvirt/api.py" in names
    assert not [n for n in names if n.endswith((".so", ".c", ".h", ".pc")) or ".so." in n]


def test_generated_modules_are_not_committed():
    p = subprocess.run(["git", "ls-files", "--", *GENERATED, "build"], cwd=ROOT,
                       capture_output=True, text=True)
    if p.returncode != 0:
        pytest.skip("not a git checkout")
    assert p.stdout.split() == []


def test_demo_runs_from_the_installed_wheel(wheel, tmp_path):
    real = run("system", ROOT / "examples" / "demo.py")
    if real.returncode != 0:
        pytest.skip("python3-libvirt on the system's libvirt cannot run the demo")
    venv = tmp_path / "venv"
    subprocess.run([SYSPY, "-m", "venv", str(venv)], check=True)   # no system site-packages
    py = str(venv / "bin" / "python")
    p = subprocess.run([py, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        str(wheel)], capture_output=True, text=True)
    if p.returncode != 0 and "lxml" in p.stderr and "pyvirt" not in p.stderr.split("lxml")[0]:
        pytest.skip(f"lxml cannot be installed from the package index here:\n{p.stderr}")
    assert p.returncode == 0, p.stderr
    env = env_for("system")
    where = subprocess.run([py, "-c", "import libvirt, pyvirt; print(libvirt.__file__); "
                            "print(pyvirt.__file__)"], env=env, cwd="/",
                           capture_output=True, text=True)
    assert where.returncode == 0, where.stderr
    assert all(line.startswith(str(venv)) for line in where.stdout.split()), where.stdout
    ours = subprocess.run([py, str(ROOT / "examples" / "demo.py")], env=env, cwd="/",
                          capture_output=True, text=True, timeout=120)
    assert ours.returncode == 0, ours.stderr
    assert ours.stdout == real.stdout
