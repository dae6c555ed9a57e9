"""Public libvirt-qemu.c functions with argument checks of their own
(reported under VIR_FROM_NONE, as that file does)."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from . import _common as c

N = ErrorDomain.VIR_FROM_NONE
D = ErrorDomain.VIR_FROM_DOMAIN

__all__ = ["virDomainQemuAttach", "virDomainQemuMonitorCommand",
           "virDomainQemuMonitorCommandWithFiles", "virConnectDomainQemuMonitorEventRegister",
           "virConnectDomainQemuMonitorEventDeregister", "virDomainQemuAgentCommand"]


def virDomainQemuAttach(conn: Connect, pid_value: int, flags: int) -> Any:
    fn = "virDomainQemuAttach"
    cn = c.conn(conn, fn, N)
    c.non_zero(pid_value, "pid_value", fn, N)
    c.writable(cn, fn, N)
    return c.call(cn, fn, N, cn, pid_value, flags)


def _monitor_domain(domain: Any, fn: str) -> Domain:
    # a NULL command goes on to the driver, as in libvirt (the test driver
    # has no such entry point and says so)
    d: Domain = c.handle(domain, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    c.writable(d.conn, fn, N)
    return d


def virDomainQemuMonitorCommand(domain: Domain, cmd: Optional[str], flags: int) -> str:
    fn = "virDomainQemuMonitorCommand"
    d = _monitor_domain(domain, fn)
    result: str = c.call(d.conn, fn, N, d, cmd, flags)
    return result


def virDomainQemuMonitorCommandWithFiles(domain: Domain, cmd: Optional[str],
                                         infiles: Optional[list[int]],
                                         flags: int) -> tuple[list[int], str]:
    """(the files QEMU passed back, the reply)."""
    fn = "virDomainQemuMonitorCommandWithFiles"
    d = _monitor_domain(domain, fn)
    result: tuple[list[int], str] = c.call(d.conn, fn, N, d, cmd, list(infiles or []), flags)
    return result


def virDomainQemuAgentCommand(domain: Domain, cmd: Optional[str], timeout: int,
                              flags: int) -> str:
    fn = "virDomainQemuAgentCommand"
    d = _monitor_domain(domain, fn)
    result: str = c.call(d.conn, fn, N, d, cmd, timeout, flags)
    return result


def virConnectDomainQemuMonitorEventRegister(conn: Connect, dom: Optional[Domain],
                                             event: Optional[str],
                                             cb: Optional[Callable[..., Any]],
                                             freecb: Optional[Callable[[], None]],
                                             flags: int) -> int:
    fn = "virConnectDomainQemuMonitorEventRegister"
    cn = c.conn(conn, fn, N)
    if dom is not None:
        c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
        if dom.conn is not cn:
            raise errors.invalid_arg(N, fn, "dom", f"dom in {fn} must match connection")
    c.non_null(cb, "cb", fn, N)
    c.writable(cn, fn, N)
    callback_id: int = c.call(cn, fn, N, cn, dom, event, cb, freecb, flags)
    return callback_id


def virConnectDomainQemuMonitorEventDeregister(conn: Connect, callbackID: int) -> None:
    fn = "virConnectDomainQemuMonitorEventDeregister"
    cn = c.conn(conn, fn, N)
    c.non_negative(callbackID, "callbackID", fn, N)
    c.call(cn, fn, N, cn, callbackID)
