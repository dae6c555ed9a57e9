"""examples/demo.py runs unchanged on pyvirt's own module and prints exactly
what it prints on the system's libvirt."""

from __future__ import annotations

import pytest

from pymodule_runner import BUILD, ROOT, run

pytestmark = pytest.mark.skipif(not (BUILD / "python" / "libvirt.py").exists(),
                                reason="run `make build` first")


def test_demo_on_pyvirt_module_matches_real_libvirt():
    demo = ROOT / "examples" / "demo.py"
    real = run("system", demo)
    if real.returncode != 0:
        pytest.skip("python3-libvirt on the system's libvirt cannot run the demo")
    ours = run("pyvirt", demo)
    assert ours.returncode == 0, ours.stderr
    assert "6 lifecycle events" in ours.stdout
    assert ours.stdout == real.stdout
