"""The QEMU driver inside libvirt.so.0: Debian's python3-libvirt on our library
drives a real guest through qemu:///embed (qemu.qmp comes from build/shimpy)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from qemutest import VIRT_TYPE, kernels, kill_leftovers  # noqa: F401  (kernels: a fixture)
from support import needs_build, needs_system_libvirt, on_pyvirt, run

pytestmark = [needs_build, needs_system_libvirt,
              pytest.mark.skipif(shutil.which("qemu-system-x86_64") is None,
                                 reason="qemu-system-x86_64 is not installed")]

def _run(script: str, root: Path, *roots: Path) -> Any:
    """`script` run by python3-libvirt on our library with `root` as its
    argument; what it printed (JSON).  The guests it left, in `roots` (else
    `root`), are killed: a script failing midway must not leave one running."""
    try:
        out = run(["/usr/bin/python3", "-c", script, str(root)], env=on_pyvirt(), timeout=120)
    finally:
        for where in roots or (root,):
            kill_leftovers(where)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


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
    got = _run(SCRIPT % VIRT_TYPE, tmp_path / "root")
    assert got["running"] == [1, 1] and got["paused"] == [3, 1] and got["stopped"] == [5, 2]
    # defined, resumed+started, suspended, resumed, shutdown(host), stopped(destroyed)
    assert got["events"] == [[0, 0], [4, 0], [2, 0], [3, 0], [4, 0], [6, 2], [5, 1]]


SAVE_SCRIPT = """
import json, sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
root = sys.argv[1]
c = libvirt.open("qemu:///embed?root=" + root)
d = c.defineXML("<domain type='%s'><name>shim</name><memory unit='MiB'>64</memory>"
                "<vcpu>2</vcpu><os><type arch='x86_64'>hvm</type></os></domain>")
d.create()
out = {"vcpus": [list(v) for v in d.vcpus()[0]], "mem": sorted(d.memoryStats())}
d.save(root + "/shim.save"); out["saved"] = d.state()
c.restore(root + "/shim.save"); out["restored"] = d.state()
d.managedSave(0); out["managed"] = [d.state(), d.hasManagedSaveImage(0)]
d.create(); out["again"] = [d.state(), d.hasManagedSaveImage(0)]
try:
    d.reboot(libvirt.VIR_DOMAIN_REBOOT_GUEST_AGENT)
except libvirt.libvirtError as e:
    out["reboot"] = [e.get_error_code(), e.get_error_message()]
d.setAutostart(1); out["autostart"] = d.autostart()
d.destroy(); d.undefine(); c.close()
print(json.dumps(out))
"""


def test_real_binding_saves_and_restores_on_our_library(tmp_path):
    got = _run(SAVE_SCRIPT % VIRT_TYPE, tmp_path)
    assert [v[:2] for v in got["vcpus"]] == [[0, 1], [1, 1]]
    assert got["mem"] == ["actual", "last_update", "rss"]
    assert got["saved"] == [5, 5] and got["restored"] == [1, 3]
    assert got["managed"] == [[5, 5], 1] and got["again"] == [[1, 3], 0]
    assert got["reboot"] == [74, "argument unsupported: QEMU guest agent is not configured"]
    assert got["autostart"] == 1


MIGRATE_SCRIPT = """
import json, sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
a = libvirt.open("qemu:///embed?root=" + sys.argv[1] + "/a")
b = libvirt.open("qemu:///embed?root=" + sys.argv[1] + "/b")
ev = {"src": [], "dst": []}
done = []
for side, c in (("src", a), ("dst", b)):
    c.domainEventRegisterAny(None, 0, lambda c, d, e, det, o: ev[o].append([e, det]), side)
a.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED,
                         lambda c, d, params, o: done.append(params), None)
d = a.createXML("<domain type='%s'><name>shim</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>", 0)
time.sleep(0.1); ev["src"].clear()
dd = d.migrate3(b, {libvirt.VIR_MIGRATE_PARAM_URI: "tcp://127.0.0.1",
                    libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1000}, libvirt.VIR_MIGRATE_LIVE)
out = {"state": dd.state(), "completed": dd.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED),
       "info": dd.jobInfo()}
for _ in range(100):
    if len(ev["src"]) >= 2 and len(ev["dst"]) >= 2 and done:
        break
    time.sleep(0.02)
out["events"] = ev
out["job_completed"] = done[0] if done else None
dd.destroy(); a.close(); b.close()
print(json.dumps(out))
"""


def test_real_binding_migrates_between_two_roots(tmp_path):
    got = _run(MIGRATE_SCRIPT % VIRT_TYPE, tmp_path, tmp_path / "a", tmp_path / "b")
    assert got["state"] == [1, 2]                                # RUNNING/MIGRATED
    assert got["completed"]["type"] == 3 and got["completed"]["operation"] == 4
    assert got["info"][0] == 0
    # JOB_COMPLETED reaches the C callback with its typed parameters
    assert got["job_completed"]["operation"] == 5 and got["job_completed"]["time_elapsed"] > 0
    assert got["events"]["src"] == [[3, 1], [5, 3]]
    assert got["events"]["dst"][:2] == [[2, 1], [4, 1]]


POSTCOPY_SCRIPT = """
import json, sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
a = libvirt.open("qemu:///embed?root=" + sys.argv[1] + "/a")
b = libvirt.open("qemu:///embed?root=" + sys.argv[1] + "/b")
ev = {"src": [], "dst": []}
iters = []
for side, c in (("src", a), ("dst", b)):
    c.domainEventRegisterAny(None, 0, lambda c, d, e, det, o: ev[o].append([e, det]), side)
a.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION,
                         lambda c, d, n, o: iters.append(n), None)
d = a.createXML("<domain type='%s'><name>shimpc</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type><kernel>%s</kernel></os>"
                "</domain>", 0)
time.sleep(0.1); ev["src"].clear()
out = {}
def run():
    try:
        out["state"] = d.migrate3(b, {libvirt.VIR_MIGRATE_PARAM_BANDWIDTH: 1},
                                  libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_POSTCOPY).state()
    except libvirt.libvirtError as e:
        out["error"] = str(e)
t = threading.Thread(target=run); t.start()
while not iters and t.is_alive():
    time.sleep(0.005)
d.migrateStartPostCopy(0)
while t.is_alive():
    try:
        out.setdefault("src_states", []).append(d.state())
    except libvirt.libvirtError:
        pass
    time.sleep(0.005)
t.join()
for _ in range(100):
    if len(ev["src"]) >= 3 and len(ev["dst"]) >= 2:
        break
    time.sleep(0.02)
out["events"] = ev
b.lookupByName("shimpc").destroy(); a.close(); b.close()
print(json.dumps(out))
"""


def test_real_binding_postcopy_between_two_roots(tmp_path, kernels):
    got = _run(POSTCOPY_SCRIPT % (VIRT_TYPE, kernels["dirty"]), tmp_path,
               tmp_path / "a", tmp_path / "b")
    assert got.get("state") == [1, 2], got                      # RUNNING/MIGRATED
    assert [3, 12] in got["src_states"], got                    # PAUSED/POSTCOPY
    # SUSPENDED/MIGRATED, SUSPENDED/POSTCOPY, STOPPED/MIGRATED
    assert got["events"]["src"] == [[3, 1], [3, 7], [5, 3]]
    # STARTED/MIGRATED, (RESUMED/POSTCOPY if post-copy outlives Finish's cont,
    # reference 4.3), RESUMED/MIGRATED
    # RESUMED/MIGRATED (then the script's destroy: SHUTDOWN, STOPPED)
    dst = got["events"]["dst"]
    assert [4, 1] in dst, got
    assert dst[:dst.index([4, 1]) + 1] in ([[2, 1], [4, 3], [4, 1]], [[2, 1], [4, 1]])


PEEK_SCRIPT = """
import ctypes, json, struct, sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
root = sys.argv[1]
open(root + "-disk.img", "wb").write(bytes(range(256)) * 16)
c = libvirt.open("qemu:///embed?root=" + root)
d = c.createXML("<domain type='%s'><name>peek</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
                "<kernel>%s</kernel></os><devices><disk type='file' device='disk'>"
                "<driver name='qemu' type='raw'/><source file='" + root + "-disk.img'/>"
                "<target dev='vda' bus='virtio'/></disk></devices></domain>", 0)
out = {}
try:
    end = time.monotonic() + 60
    while time.monotonic() < end:
        out["word"] = struct.unpack("<I", d.memoryPeek(2 << 20, 4, libvirt.VIR_MEMORY_PHYSICAL))[0]
        if out["word"] > 0x2BADB003:
            break
        time.sleep(0.05)
    out["block"] = list(d.blockPeek("vda", 250, 8, 0))
    # the C entry point itself: a NULL buffer, then a NULL buffer for no bytes
    ctypes.pythonapi.PyCapsule_GetPointer.restype = ctypes.c_void_p
    ctypes.pythonapi.PyCapsule_GetPointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
    ptr = ctypes.pythonapi.PyCapsule_GetPointer(d._o, b"virDomainPtr")
    lib = ctypes.CDLL("libvirt.so.0")
    lib.virDomainMemoryPeek.argtypes = [ctypes.c_void_p, ctypes.c_ulonglong, ctypes.c_size_t,
                                        ctypes.c_void_p, ctypes.c_uint]
    out["null"] = lib.virDomainMemoryPeek(ptr, 0, 4, None, 2)
    e = libvirt.virGetLastError()
    out["null_error"] = [e[0], e[1], e[2]]
    out["null0"] = lib.virDomainMemoryPeek(ptr, 0, 0, None, 2)
    buf = ctypes.create_string_buffer(4)
    out["c"] = [lib.virDomainMemoryPeek(ptr, 2 << 20, 4, buf, 1), struct.unpack("<I", buf.raw)[0]]
    try:
        d.memoryPeek(64 << 20, 4, libvirt.VIR_MEMORY_VIRTUAL)
    except libvirt.libvirtError as exc:
        out["past_ram"] = [exc.get_error_code(), exc.get_error_domain(), exc.get_error_message()]
finally:
    d.destroy()
print(json.dumps(out))
"""


def test_real_binding_peeks_on_our_library(tmp_path, kernels):
    """Expectations as real libvirt 9.0 gives them for this script."""
    got = _run(PEEK_SCRIPT % (VIRT_TYPE, kernels["dirty"]), tmp_path / "root")
    assert got["word"] > 0x2BADB003
    assert got["block"] == list(range(250, 256)) + [0, 1]
    assert got["null"] == -1
    assert got["null_error"] == [8, 20, "buffer in virDomainMemoryPeek must not be NULL"]
    assert got["null0"] == 0
    assert got["c"][0] == 0 and got["c"][1] >= got["word"]
    assert got["past_ram"] == [1, 10, "internal error: unable to execute QEMU command "
                                      "'memsave': Invalid addr 0x0000000004000000/size 4 "
                                      "specified"]


CONSOLE_SCRIPT = """
import json, sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
c = libvirt.open("qemu:///embed?root=" + sys.argv[1])
d = c.createXML("<domain type='%s'><name>shimcon</name><memory unit='MiB'>64</memory>"
                "<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
                "<kernel>%s</kernel></os><devices><serial type='pty'/>"
                "<memballoon model='none'/></devices></domain>", 0)
st = c.newStream(0)
d.openConsole(None, st, 0)
st.send(b"through the shim")
got, t0 = b"", time.time()
while b"shim" not in got and time.time() - t0 < 10:
    got += st.recv(64)
busy = None
try:
    d.openConsole(None, c.newStream(0), 0)
except libvirt.libvirtError as e:
    busy = [e.get_error_code(), e.get_error_domain(), e.get_error_message()]
st.finish()
d.destroy(); c.close()
print(json.dumps({"echo": got.decode(), "busy": busy}))
"""


def test_real_binding_opens_a_console_on_our_library(tmp_path, kernels):
    """The console stream through the C ABI: bytes to the guest's serial
    port and back (the echo guest), and libvirt's one-session rule."""
    got = _run(CONSOLE_SCRIPT % (VIRT_TYPE, kernels["echo"]), tmp_path / "root")
    assert got["echo"] == "through the shim"
    assert got["busy"] == [9, 10, "operation failed: Active console session exists for "
                                  "this domain"]
