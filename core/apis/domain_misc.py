"""Domain entry points libvirt answers partly in its public API: memory
peeking, graphics sockets, starting with passed files, the old
virDomainCreateLinux alias, and connection close callbacks."""

from __future__ import annotations

import os
import stat
from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
N = ErrorDomain.VIR_FROM_NONE
VIR_MEMORY_VIRTUAL = 1
VIR_MEMORY_PHYSICAL = 2

__all__ = ["virDomainMemoryPeek", "virDomainOpenGraphics", "virDomainCreateLinux",
           "virDomainCreateWithFiles", "virDomainCreateXMLWithFiles",
           "virConnectRegisterCloseCallback", "virConnectUnregisterCloseCallback",
           "virConnectGetDomainCapabilities"]


def _dom(dom: Any, fn: str) -> Domain:
    d: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return d


def virDomainMemoryPeek(dom: Domain, start: int, size: int, flags: int) -> bytes:
    """`size` bytes of the guest's memory from `start` (size 0: an access test)."""
    fn = "virDomainMemoryPeek"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    if flags & VIR_MEMORY_VIRTUAL and flags & VIR_MEMORY_PHYSICAL:
        raise errors.invalid_arg(D, fn, "flags", "Flags 'VIR_MEMORY_VIRTUAL' and "
                                 "'VIR_MEMORY_PHYSICAL' are mutually exclusive")
    return bytes(c.call(d.conn, fn, D, d, start, size, flags))


def virDomainOpenGraphics(dom: Domain, idx: int, fd: int, flags: int) -> None:
    fn = "virDomainOpenGraphics"
    d = _dom(dom, fn)
    c.non_negative(fd, "fd", fn, D)
    try:
        mode = os.fstat(fd).st_mode
    except OSError as e:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, D,
                            f"Unable to access file descriptor {fd}: {e.strerror}") from None
    if not stat.S_ISSOCK(mode):
        raise errors.invalid_arg(D, fn, "fd", f"fd {fd} must be a socket")
    c.writable(d.conn, fn, D)
    c.call(d.conn, fn, D, d, idx, fd, flags)


def virDomainCreateLinux(conn: Connect, xmlDesc: Optional[str], flags: int) -> Domain:
    """The old name: libvirt's public API calls virDomainCreateXML itself."""
    from .. import api
    result: Domain = api.virDomainCreateXML(conn, xmlDesc, flags)
    return result


def virDomainCreateWithFiles(domain: Domain, files: Optional[list[int]], flags: int) -> None:
    fn = "virDomainCreateWithFiles"
    d = _dom(domain, fn)
    c.call(d.conn, fn, D, d, list(files or []), flags, write=True)


def virDomainCreateXMLWithFiles(conn: Connect, xmlDesc: Optional[str],
                                files: Optional[list[int]], flags: int) -> Domain:
    fn = "virDomainCreateXMLWithFiles"
    cn = c.conn(conn, fn, D)
    c.non_null(xmlDesc, "xmlDesc", fn, D)
    c.writable(cn, fn, D)
    result: Domain = c.entry(cn, fn, fn, D)(cn, xmlDesc, list(files or []), flags)
    return result


def virConnectRegisterCloseCallback(conn: Connect, cb: Optional[Callable[..., Any]],
                                    freecb: Optional[Callable[[], None]]) -> None:
    """libvirt 9.0 accepts it for every driver; only a driver whose connection
    can close on its own (remote) keeps the callback."""
    fn = "virConnectRegisterCloseCallback"
    cn = c.conn(conn, fn)
    c.non_null(cb, "cb", fn, D)
    register = cn.driver.entry_point(fn)
    if register is not None:
        register(cn, cb, freecb)


def virConnectUnregisterCloseCallback(conn: Connect, cb: Optional[Callable[..., Any]]) -> None:
    # cb may be None here: the Python module's unregisterCloseCallback() names
    # no callback (libvirt's C API rejects NULL; the shim cannot tell them apart).
    fn = "virConnectUnregisterCloseCallback"
    cn = c.conn(conn, fn)
    unregister = cn.driver.entry_point(fn)
    if unregister is not None:
        unregister(cn, cb)


def virConnectGetDomainCapabilities(conn: Connect, emulatorbin: Optional[str],
                                    arch: Optional[str], machine: Optional[str],
                                    virttype: Optional[str], flags: int) -> str:
    """Any argument may be NULL: the driver chooses its defaults."""
    fn = "virConnectGetDomainCapabilities"
    cn = c.conn(conn, fn, D)
    return str(c.call(cn, fn, D, emulatorbin, arch, machine, virttype, flags))
