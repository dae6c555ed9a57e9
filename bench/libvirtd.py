"""Two private libvirtd 9.0 instances on one host, for real libvirt's migration rows.

libvirt opens one qemu:///embed root per process, so a migration between two
libvirt QEMU drivers needs daemons (shared/reference/libvirt-qemu, 1b).  Each
daemon runs in its own mount namespace with /etc/libvirt, /run/libvirt,
/var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt bound to folders
under BASE/NAME, under bench/reaper.py, with:

* its own host_uuid (else the migration cookie says "same host"),
* its own pidfile (/run itself is shared),
* qemu.conf: QEMU as root (/dev/kvm is root's), stdio to a file (no
  virtlogd), no cgroup controllers (the two would claim the same cgroup).

Needs root, unshare(1) and libvirt-daemon-system (tools/setup-host.sh bench).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MOUNTS = {"etc": "/etc/libvirt", "run": "/run/libvirt", "lib": "/var/lib/libvirt",
          "cache": "/var/cache/libvirt", "log": "/var/log/libvirt"}
LIBVIRTD_CONF = """\
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
host_uuid = "{uuid}"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
"""
QEMU_CONF = """\
stdio_handler = "file"
user = "root"
group = "root"
cgroup_controllers = [ ]
"""


def why_not() -> str:
    """Why the daemons cannot run here, or ""."""
    if os.geteuid() != 0:
        return "libvirtd in a private mount namespace needs root"
    for tool in ("/usr/sbin/libvirtd", shutil.which("unshare") or "/usr/bin/unshare"):
        if not os.path.exists(tool):
            return f"{tool} is missing (tools/setup-host.sh bench)"
    return ""


class Daemon:
    def __init__(self, base: Path, name: str, uuid: str) -> None:
        self.dir = base / name
        for sub in MOUNTS:
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        (self.dir / "etc" / "libvirtd.conf").write_text(LIBVIRTD_CONF.format(uuid=uuid))
        (self.dir / "etc" / "qemu.conf").write_text(QEMU_CONF)
        self.socket = self.dir / "run" / "libvirt-sock"
        self.uri = f"qemu+unix:///system?socket={self.socket}"
        for target in MOUNTS.values():
            os.makedirs(target, exist_ok=True)   # the mount points
        binds = " && ".join(f"mount --bind {self.dir / sub} {target}"
                            for sub, target in MOUNTS.items())
        script = (f"{binds} && exec {sys.executable} {HERE / 'reaper.py'} /usr/sbin/libvirtd "
                  "-f /etc/libvirt/libvirtd.conf -p /run/libvirt/libvirtd.pid")
        self.log = open(self.dir / "stdout.log", "w")
        # unshare and sh exec, so this is reaper.py's pid; it passes SIGTERM on
        self.proc = subprocess.Popen(["unshare", "-m", "--propagation", "private",
                                      "/bin/sh", "-c", script], stdin=subprocess.DEVNULL,
                                     stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float) -> str:
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                tail = (self.dir / "stdout.log").read_text().strip().splitlines()[-2:]
                return f"libvirtd exited ({self.proc.returncode}): {' / '.join(tail)}"
            if self.socket.exists():
                return ""
            time.sleep(0.05)
        return f"libvirtd's socket did not appear within {timeout:.0f} s"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


class TwoDaemons:
    """with TwoDaemons(base) as (src_uri, dst_uri): ... ; error: why they did not start."""

    def __init__(self, base: Path, timeout: float = 60.0) -> None:
        self.base, self.timeout = base, timeout
        self.daemons: list[Daemon] = []
        self.error = ""

    def __enter__(self) -> tuple[str, str]:
        self.error = why_not()
        if self.error:
            return "", ""
        for name, uuid in (("A", "6b1c0a53-0000-4000-8000-00000000000a"),
                           ("B", "6b1c0a53-0000-4000-8000-00000000000b")):
            self.daemons.append(Daemon(self.base, name, uuid))
        for d in self.daemons:
            self.error = self.error or d.wait_ready(self.timeout)
        return self.daemons[0].uri, self.daemons[1].uri

    def __exit__(self, *exc: object) -> None:
        for d in self.daemons:
            d.stop()
