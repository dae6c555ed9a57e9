"""Public libvirt-qemu.c functions with argument checks of their own
(reported under VIR_FROM_NONE, as that file does)."""

from __future__ import annotations

from typing import Any

from ..errors import ErrorDomain
from ..objects import Connect
from . import _common as c

N = ErrorDomain.VIR_FROM_NONE

__all__ = ["virDomainQemuAttach"]


def virDomainQemuAttach(conn: Connect, pid_value: int, flags: int) -> Any:
    fn = "virDomainQemuAttach"
    cn = c.conn(conn, fn, N)
    c.non_zero(pid_value, "pid_value", fn, N)
    c.writable(cn, fn, N)
    return c.call(cn, fn, N, cn, pid_value, flags)
