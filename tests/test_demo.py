"""The demo (examples/) prints exactly what it prints on the system's libvirt:
the same domains, XML and lifecycle events, from C and from Python."""

from __future__ import annotations

from support import (ROOT, compile_c, needs_build, needs_system_libvirt, on_pyvirt, run,
                     system_libvirt_flags)

pytestmark = [needs_build, needs_system_libvirt]


def test_c_demo_matches_real_libvirt(tmp_path):
    exe = compile_c(ROOT / "examples" / "demo.c", tmp_path / "demo", *system_libvirt_flags(),
                    "-pthread")
    real, ours = run([str(exe)]), run([str(exe)], env=on_pyvirt())
    assert real.returncode == 0 and ours.returncode == 0, ours.stderr
    assert "6 lifecycle events" in ours.stdout
    assert ours.stdout == real.stdout


def test_python_demo_matches_real_libvirt():
    cmd = ["/usr/bin/python3", str(ROOT / "examples" / "demo.py")]
    real, ours = run(cmd), run(cmd, env=on_pyvirt())
    assert real.returncode == 0 and ours.returncode == 0, ours.stderr
    assert ours.stdout == real.stdout
