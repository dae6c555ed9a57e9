"""Public functions answering questions about a running guest and the host
(control info, disk errors, filesystems and their freeze/thaw, interface
addresses, block I/O tuning, sysinfo, CPU model names)."""

from __future__ import annotations

from typing import Any, Optional

from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from ..structs import DomainControlInfo, DomainDiskError, DomainFSInfo, DomainInterface
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
HOST = ErrorDomain.VIR_FROM_DOMAIN  # the VIR_FROM_THIS of libvirt-host.c (vir{Connect,Node}*)
IFADDR_SRC_AGENT = 1

__all__ = [
    "virDomainGetControlInfo", "virDomainGetDiskErrors", "virDomainGetFSInfo",
    "virDomainInterfaceAddresses", "virDomainFSFreeze", "virDomainFSThaw",
    "virDomainGetBlockIoTune", "virDomainSetBlockIoTune", "virConnectGetSysinfo",
    "virConnectGetCPUModelNames", "virConnectBaselineCPU",
]


def _on(dom: Any, fn: str, *args: Any, write: bool = False) -> Any:
    d: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return c.call(d.conn, fn, D, d, *args, write=write)


def virDomainGetControlInfo(domain: Domain, flags: int) -> DomainControlInfo:
    result: DomainControlInfo = _on(domain, "virDomainGetControlInfo", flags)
    return result


def virDomainGetDiskErrors(dom: Domain, maxerrors: int, flags: int) -> list[DomainDiskError]:
    fn = "virDomainGetDiskErrors"
    c.non_negative(maxerrors, "maxerrors", fn, D)
    return list(_on(dom, fn, maxerrors, flags))


def virDomainGetFSInfo(dom: Domain, flags: int) -> list[DomainFSInfo]:
    return list(_on(dom, "virDomainGetFSInfo", flags, write=True))


def virDomainInterfaceAddresses(dom: Domain, source: int, flags: int) -> list[DomainInterface]:
    return list(_on(dom, "virDomainInterfaceAddresses", source, flags,
                    write=source == IFADDR_SRC_AGENT))


def virDomainFSFreeze(dom: Domain, mountpoints: Optional[list[str]], flags: int) -> int:
    return int(_on(dom, "virDomainFSFreeze", list(mountpoints or []), flags, write=True))


def virDomainFSThaw(dom: Domain, mountpoints: Optional[list[str]], flags: int) -> int:
    return int(_on(dom, "virDomainFSThaw", list(mountpoints or []), flags, write=True))


def virDomainGetBlockIoTune(dom: Domain, disk: Optional[str],
                            flags: int) -> list[tuple[str, int, Any]]:
    fn = "virDomainGetBlockIoTune"
    c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    c.non_null(disk, "disk", fn, D)
    return list(_on(dom, fn, disk, flags | 4))  # VIR_TYPED_PARAM_STRING_OKAY, as libvirt.c


def virDomainSetBlockIoTune(dom: Domain, disk: Optional[str],
                            params: Optional[list[tuple[str, int, Any]]], flags: int) -> None:
    fn = "virDomainSetBlockIoTune"
    d: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    c.writable(d.conn, fn, D)
    c.non_null(disk, "disk", fn, D)
    c.positive(len(params or []), "nparams", fn, D)
    c.non_null(params, "params", fn, D)
    c.call(d.conn, fn, D, d, disk, list(params or []), flags)


def virConnectGetSysinfo(conn: Connect, flags: int) -> str:
    fn = "virConnectGetSysinfo"
    return str(c.call(c.conn(conn, fn, HOST), fn, HOST, flags))


def virConnectGetCPUModelNames(conn: Connect, arch: Optional[str], flags: int) -> list[str]:
    fn = "virConnectGetCPUModelNames"
    cn = c.conn(conn, fn, HOST)
    c.non_null(arch, "arch", fn, HOST)
    return list(c.call(cn, fn, HOST, arch, flags))


def virConnectBaselineCPU(conn: Connect, xmlCPUs: Optional[list[Optional[str]]],
                          flags: int) -> str:
    fn = "virConnectBaselineCPU"
    cn = c.conn(conn, fn, HOST)
    c.non_null(xmlCPUs, "xmlCPUs", fn, HOST)
    return str(c.call(cn, fn, HOST, list(xmlCPUs or []), flags))
