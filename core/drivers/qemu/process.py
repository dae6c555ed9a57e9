"""A QEMU process: spawned as our child, or found again after a restart.

Exit is noticed through a pidfd watched by the QMP thread's asyncio loop,
the moment the process exits (a zombie counts): no SIGCHLD handler, no
waitpid(-1).  A process that is our own child is reaped by its pid only
(Popen.poll); one inherited from a previous driver is the host init's.
Signals go through the pidfd, so a recycled pid is never hit.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
from typing import Optional


class QemuProcess:
    """One QEMU process; `exited` is set once it is gone."""

    def __init__(self, pid: int, pidfd: Optional[int],
                 popen: Optional[subprocess.Popen[bytes]] = None) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.popen = popen
        self.exited = threading.Event()
        if pidfd is None:
            self.exited.set()

    def kill(self, sig: int) -> None:
        if self.exited.is_set() or self.pidfd is None:
            return
        try:
            signal.pidfd_send_signal(self.pidfd, sig)
        except ProcessLookupError:
            pass

    def wait(self, timeout: float) -> bool:
        return self.exited.wait(timeout)

    def alive(self) -> bool:
        if self.exited.is_set() or self.pidfd is None:
            return False
        try:
            signal.pidfd_send_signal(self.pidfd, 0)
            return True
        except ProcessLookupError:
            return False

    def mark_exited(self) -> None:
        """Called once the pidfd is readable: reap our own child, release the fd."""
        if self.popen is not None:
            self.popen.poll()  # waitpid(pid, WNOHANG) on this pid only
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        self.exited.set()

    def cpu_time_ns(self) -> int:
        """user + system time of the process, from /proc/PID/stat."""
        try:
            with open(f"/proc/{self.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks = int(fields[11]) + int(fields[12])
            return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")
        except (OSError, IndexError, ValueError):
            return 0


def _pidfd_open(pid: int) -> Optional[int]:
    try:
        return os.pidfd_open(pid)
    except ProcessLookupError:
        return None


def spawn(argv: list[str], env: dict[str, str], log_fd: int,
          pass_fds: tuple[int, ...]) -> QemuProcess:
    """Start QEMU in its own session (it must outlive us and our terminal),
    in / as libvirt starts it (a relative socket path is QEMU's from there)."""
    popen = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
                             pass_fds=pass_fds, close_fds=True, start_new_session=True,
                             cwd="/", env=env)
    return QemuProcess(popen.pid, _pidfd_open(popen.pid), popen)


def attach(pid: int, marker: str) -> Optional[QemuProcess]:
    """The live process `pid` if its command line holds `marker`, else None."""
    if pid <= 0:
        return None
    pidfd = _pidfd_open(pid)
    if pidfd is None:
        return None
    proc = QemuProcess(pid, pidfd)
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            argv = f.read().split(b"\0")
    except OSError:
        argv = []
    # Checked after pidfd_open: if the pid was recycled since, the pidfd
    # names the dead process and alive() says so.
    if marker.encode() not in argv or not proc.alive():
        proc.mark_exited()
        return None
    return proc


def find_by_marker(marker: str) -> Optional[int]:
    """The pid of a process whose argv holds `marker` (an orphan left half-started)."""
    want = marker.encode()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                if want in f.read().split(b"\0"):
                    return int(entry)
        except OSError:
            continue
    return None

