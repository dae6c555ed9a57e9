"""The QEMU rows of `make bench`: one side per process, JSON lines on stdout.

    qemubench.py embed ROOT KERNEL VIRT ROUNDS   python3-libvirt on whichever
        libvirt.so.0 is loaded (the system's, or pyvirt's via LD_LIBRARY_PATH),
        on qemu:///embed?root=ROOT
    qemubench.py raw DIR KERNEL VIRT ROUNDS      QEMU alone, driven through plain
        QMP (a socket and JSON): the floor any driver adds to

Every side runs the same guest (KERNEL: the tests' idle flat kernel, 256 MiB,
1 vCPU, q35) and times, per round: start to running, suspend + resume, destroy.
Suspend + resume comes BOOTED_WAIT after the start, as the reference's bench.py
has it: before that the firmware is still loading the kernel, its port I/O
holds QEMU's big lock, and a stop waits for it (raw QEMU's stop + cont then
takes 0.4 or 3 ms, at random; 0.9 ms once the guest idles).
One warm-up round first (libvirt probes QEMU's capabilities on first use).
run.py runs every side under bench/reaper.py, so QEMU's exit is seen at once.
Rows: {"op": ..., "ns": ...} per round, or {"op": ..., "error": ...}.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time

import rawguest
from rawqmp import Qmp

OPS = ("qemu_start", "qemu_suspend_resume", "qemu_destroy")
BOOTED_WAIT = 0.3   # seconds from a start to the suspend
MEM_MIB = rawguest.MEM_MIB


def emit(op: str, **kw: object) -> None:
    print(json.dumps({"op": op, **kw}), flush=True)


def domain_xml(name: str, kernel: str, virt: str) -> str:
    return (f"<domain type='{virt}'><name>{name}</name>"
            f"<memory unit='MiB'>{MEM_MIB}</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='q35'>hvm</type><kernel>{kernel}</kernel></os>"
            "<devices><memballoon model='none'/></devices></domain>")


def run_embed(root: str, kernel: str, virt: str, rounds: int) -> None:
    import libvirt
    libvirt.registerErrorHandler(lambda c, e: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()
    os.makedirs(f"{root}/etc", exist_ok=True)
    with open(f"{root}/etc/qemu.conf", "w") as f:   # what libvirt needs here; pyvirt reads it too
        f.write('stdio_handler = "file"\nuser = "root"\ngroup = "root"\n'
                'cgroup_controllers = [ ]\n')
    try:
        conn = libvirt.open(f"qemu:///embed?root={root}")
    except libvirt.libvirtError as e:
        for op in OPS:
            emit(op, error=f"qemu:///embed does not open: {e}")
        return
    xml = domain_xml("bench", kernel, virt)
    for r in range(rounds + 1):
        try:
            t0 = time.perf_counter_ns()
            dom = conn.createXML(xml, 0)
            t1 = time.perf_counter_ns()
            time.sleep(BOOTED_WAIT)
            t1b = time.perf_counter_ns()
            dom.suspend()
            dom.resume()
            t2 = time.perf_counter_ns()
            dom.destroy()
            t3 = time.perf_counter_ns()
        except libvirt.libvirtError as e:
            for op in OPS:
                emit(op, error=str(e))
            return
        if r:   # round 0 warms up
            emit("qemu_start", ns=t1 - t0)
            emit("qemu_suspend_resume", ns=t2 - t1b)
            emit("qemu_destroy", ns=t3 - t2)
    conn.close()


def run_raw(folder: str, kernel: str, virt: str, rounds: int) -> None:
    accel = "kvm" if virt == "kvm" else "tcg"
    path = os.path.join(folder, "raw.qmp")
    for r in range(rounds + 1):
        try:
            t0 = time.perf_counter_ns()
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            if os.path.exists(path):
                os.unlink(path)
            listener.bind(path)
            listener.listen(1)
            argv = rawguest.argv("raw", accel, kernel,
                                 "-chardev", f"socket,id=mon,fd={listener.fileno()},server=on,wait=off",
                                 "-mon", "chardev=mon,mode=control")
            proc = subprocess.Popen(argv, pass_fds=(listener.fileno(),),
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
            listener.close()
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.connect(path)
            qmp = Qmp(sock)
            qmp.call("cont")
            t1 = time.perf_counter_ns()
            time.sleep(BOOTED_WAIT)
            t1b = time.perf_counter_ns()
            qmp.call("stop")
            qmp.call("cont")
            t2 = time.perf_counter_ns()
            proc.send_signal(signal.SIGTERM)
            proc.wait()
            t3 = time.perf_counter_ns()
            sock.close()
        except (OSError, EOFError, RuntimeError) as e:
            for op in OPS:
                emit(op, error=f"raw QEMU: {e}")
            return
        if r:
            emit("qemu_start", ns=t1 - t0)
            emit("qemu_suspend_resume", ns=t2 - t1b)
            emit("qemu_destroy", ns=t3 - t2)


def main() -> int:
    mode, folder, kernel, virt, rounds = sys.argv[1:6]
    if mode == "raw":
        run_raw(folder, kernel, virt, int(rounds))
    else:
        run_embed(folder, kernel, virt, int(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
