"""The QEMU driver inside libvirt.so.0: Debian's python3-libvirt on our library
drives a real guest through qemu:///embed (qemu.qmp comes from build/shimpy)."""

from __future__ import annotations

import json
import shutil

import pytest

from support import needs_build, needs_system_libvirt, on_pyvirt, run

pytestmark = [needs_build, needs_system_libvirt,
              pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                                 reason="qemu-system-x86_64 is not installed")]

SCRIPT = """
import json, sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
c = libvirt.open("qemu:///embed?root=" + sys.argv[1])
events = []
c.domainEventRegisterAny(None, 0, lambda c, d, e, det, o: events.append([e, det]), None)
d = c.defineXML("<domain type='%s'><name>shim</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>")
d.create(); running = d.state()
d.suspend(); paused = d.state(); d.resume()
d.destroy(); stopped = d.state()
for _ in range(100):
    if len(events) >= 7:
        break
    time.sleep(0.02)
seen = list(events)
d.undefine(); c.close()
print(json.dumps({"running": running, "paused": paused, "stopped": stopped, "events": seen}))
"""


def test_real_binding_runs_a_guest_on_our_library(tmp_path):
    import os
    virt = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"
    out = run(["/usr/bin/python3", "-c", SCRIPT % virt, str(tmp_path / "root")],
              env=on_pyvirt(), timeout=120)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["running"] == [1, 1] and got["paused"] == [3, 1] and got["stopped"] == [5, 2]
    # defined, resumed+started, suspended, resumed, shutdown(host), stopped(destroyed)
    assert got["events"] == [[0, 0], [4, 0], [2, 0], [3, 0], [4, 0], [6, 2], [5, 1]]
