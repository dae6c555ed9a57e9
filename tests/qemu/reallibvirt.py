"""Real libvirt 9.0's embedded QEMU driver asked the same questions, in a
subprocess of the system's python3 (python3-libvirt): libvirt allows one
embed root per process, and its driver must not share our pytest process.

    answers = ask({"caps": "c.getCapabilities()", "free": "c.getFreeMemory()"})
    answers["caps"]  -> ("ok", "<capabilities>...")  or ("err", code, domain, message)

Each expression is evaluated with `c`, the connection, and `libvirt` in
scope; values are passed back as JSON (tuples become lists, dict keys
strings).  Results are cached per set of questions for the session, and
one root serves the session, so that libvirt probes QEMU (about 8 s) only
once and keeps what it learnt in the root's capabilities cache.
Skips the test when real libvirt or its QEMU driver is not installed."""

from __future__ import annotations

import atexit
import functools
import json
import os
import shutil
import subprocess
import tempfile
from typing import Any

import pytest

SYSPY = "/usr/bin/python3"
QEMU_CONF = ('stdio_handler = "file"\nuser = "root"\ngroup = "root"\n'
             'cgroup_controllers = [ ]\n')

_SCRIPT = r'''
import json, os, sys, threading
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
root, questions = sys.argv[1], json.loads(sys.stdin.read())
c = libvirt.open("qemu:///embed?root=" + root)
out = {}
try:
    for name, expr in questions.items():
        try:
            out[name] = ["ok", eval(expr)]
        except libvirt.libvirtError as e:
            out[name] = ["err", e.get_error_code(), e.get_error_domain(), e.get_error_message()]
except BaseException:
    for d in c.listAllDomains():   # a broken question: leave no QEMU behind
        if d.isActive():
            d.destroy()
    raise
c.close()
print(json.dumps(out))
'''


def available() -> bool:
    if not os.access(SYSPY, os.X_OK):
        return False
    return subprocess.run([SYSPY, "-c", "import libvirt"], capture_output=True).returncode == 0 \
        and any(os.path.exists(p) for p in (
            "/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_qemu.so",
            "/usr/lib64/libvirt/connection-driver/libvirt_driver_qemu.so"))


def ask(questions: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    """Real libvirt's answers to `questions` (name -> Python expression)."""
    if not available():
        pytest.skip("real libvirt 9.0 with its QEMU driver is not installed")
    return _ask(json.dumps(questions, sort_keys=True))


@functools.lru_cache(maxsize=None)
def _root() -> str:
    root = tempfile.mkdtemp(prefix="realvirt")
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    os.makedirs(os.path.join(root, "etc"))
    with open(os.path.join(root, "etc", "qemu.conf"), "w") as f:
        f.write(QEMU_CONF)
    return root


@functools.lru_cache(maxsize=None)
def _ask(questions: str) -> dict[str, tuple[Any, ...]]:
    done = subprocess.run([SYSPY, "-c", _SCRIPT, _root()], input=questions, text=True,
                          capture_output=True, timeout=300)
    if done.returncode != 0:
        raise RuntimeError(f"real libvirt failed: {done.stderr[-2000:]}")
    return {k: tuple(v) for k, v in json.loads(done.stdout).items()}


def ask_ours(module: Any, c: Any, questions: dict[str, str], root: str) -> dict[str, tuple[Any, ...]]:
    """The same questions asked of pyvirt through `module` (its generated
    libvirt module, support.pyvirt_module()) on the connection `c` to
    `root`: the same order (sorted names), scope and answer shape as ask()."""
    scope = {"c": c, "libvirt": module, "root": root, "os": os}
    out: dict[str, tuple[Any, ...]] = {}
    for name in sorted(questions):
        try:
            out[name] = ("ok", eval(questions[name], scope))
        except module.libvirtError as e:
            out[name] = ("err", e.get_error_code(), e.get_error_domain(), e.get_error_message())
    return out


def ask_pyvirt(module: Any, root: Any, questions: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    """ask_ours on a connection of its own to `root`, closed after; the
    domains the questions left running are destroyed first."""
    from qemutest import ensure_event_loop
    ensure_event_loop()
    c = module.open(f"qemu:///embed?root={root}")
    try:
        return ask_ours(module, c, questions, str(root))
    finally:
        for d in c.listAllDomains():
            if d.isActive():
                d.destroy()
        c.close()


def ask_on_our_library(questions: dict[str, str], where: str) -> dict[str, tuple[Any, ...]]:
    """ask()'s script, run the same way but by python3-libvirt on pyvirt's
    libvirt.so.0, on a root of its own at `where`: the real binding as the peer."""
    from support import on_pyvirt
    os.makedirs(os.path.join(where, "etc"))
    with open(os.path.join(where, "etc", "qemu.conf"), "w") as f:
        f.write(QEMU_CONF)
    done = subprocess.run([SYSPY, "-c", _SCRIPT, where], text=True, capture_output=True,
                          input=json.dumps(questions, sort_keys=True), timeout=300,
                          env=on_pyvirt())
    assert done.returncode == 0, done.stderr[-3000:]
    return {k: tuple(v) for k, v in json.loads(done.stdout).items()}
