"""Run a command as a child subreaper: reaper.py CMD ARGS...

libvirt double-forks QEMU, so a QEMU it starts is reparented to the nearest
subreaper, or to PID 1.  When libvirt kills QEMU (destroy, the end of a
migration) it polls until the process is gone, and a zombie still counts as
there; on this kind of host PID 1 reaps only every 1-2 s, so every destroy
would time init, not libvirt (shared/reference/libvirt-qemu, 1c).  Under this
wrapper orphans become our children and are reaped at once, as systemd does.

Exits with CMD's status once CMD has exited; SIGTERM/SIGINT go to CMD.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys

PR_SET_CHILD_SUBREAPER = 36


def main(cmd: list[str]) -> int:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print(f"reaper: prctl failed (errno {ctypes.get_errno()})", file=sys.stderr)
        return 1
    child = os.fork()
    if child == 0:
        try:
            os.execvp(cmd[0], cmd)
        finally:
            os._exit(127)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, _f: os.kill(child, s))
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            return 0
        except InterruptedError:
            continue
        if pid == child:
            code = os.waitstatus_to_exitcode(status)
            return code if code >= 0 else 128 - code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
