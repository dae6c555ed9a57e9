"""What a running domain is tainted by, as libvirt 9.0 keeps it: a line in
the domain's log the first time, a <taint flag=.../> in the status file (so
a reopened driver still knows), and virDomainGetMessages' "tainted: ..."
lines while it runs.  pyvirt taints for a custom monitor command and for
running QEMU as root (the caller is root: QEMU runs as the caller)."""

from __future__ import annotations

import os
from pathlib import Path

from .command import log_append, log_stamp

# libvirt's taint flags that pyvirt sets, in libvirt's enum order (which is
# the order of the messages), with their message texts
MESSAGES = {
    "custom-monitor": "custom monitor control commands issued",
    "high-privileges": "running with undesirable elevated privileges",
}


def at_start() -> list[str]:
    """The taints of a QEMU about to start."""
    return ["high-privileges"] if os.geteuid() == 0 else []


def line(dom_id: int, flag: str) -> str:
    """libvirt's log line for a new taint."""
    return f"{log_stamp()}: Domain id={dom_id} is tainted: {flag}\n"


def log_line(log: Path, dom_id: int, flag: str) -> None:
    log_append(log, line(dom_id, flag))   # the taint itself is kept regardless


def messages(flags: set[str]) -> list[str]:
    return [f"tainted: {text}" for flag, text in MESSAGES.items() if flag in flags]
