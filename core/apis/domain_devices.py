"""Public domain functions (libvirt-domain.c, VIR_FROM_DOMAIN) the test
driver does not implement: device hotplug, block jobs and block devices,
guest vCPUs, launch security, backups, SSH keys, native formats, file
descriptors.  libvirt checks their arguments (and read-only connections)
before it asks the driver, in the order kept here; then the driver answers
(VIR_ERR_NO_SUPPORT from the test driver)."""

from __future__ import annotations

from typing import Any, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
TypedParams = list[tuple[str, int, Any]]
VIR_DOMAIN_BLOCK_REBASE_COPY = 1 << 3

__all__ = [
    "virConnectDomainXMLFromNative", "virConnectDomainXMLToNative",
    "virDomainAttachDevice", "virDomainAttachDeviceFlags", "virDomainDetachDevice",
    "virDomainDetachDeviceFlags", "virDomainUpdateDeviceFlags", "virDomainDetachDeviceAlias",
    "virDomainBlockStatsFlags", "virDomainBlockPeek", "virDomainBlockResize",
    "virDomainBlockJobAbort", "virDomainGetBlockJobInfo", "virDomainBlockJobSetSpeed",
    "virDomainBlockPull", "virDomainBlockRebase", "virDomainBlockCopy", "virDomainBlockCommit",
    "virDomainSetGuestVcpus", "virDomainSetVcpu", "virDomainSetBlockThreshold",
    "virDomainSetLaunchSecurityState", "virDomainBackupBegin",
    "virDomainAuthorizedSSHKeysGet", "virDomainAuthorizedSSHKeysSet", "virDomainFDAssociate",
]


def _dom(dom: Any, fn: str) -> Domain:
    result: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return result


def _run(d: Domain, fn: str, *args: Any) -> Any:
    return c.call(d.conn, fn, D, d, *args)


# -- native formats

def virConnectDomainXMLFromNative(conn: Connect, nativeFormat: Optional[str],
                                  nativeConfig: Optional[str], flags: int) -> str:
    fn = "virConnectDomainXMLFromNative"
    cn = c.conn(conn, fn, D)
    c.writable(cn, fn, D)
    c.non_null(nativeFormat, "nativeFormat", fn, D)
    c.non_null(nativeConfig, "nativeConfig", fn, D)
    return str(c.call(cn, fn, D, nativeFormat, nativeConfig, flags))


def virConnectDomainXMLToNative(conn: Connect, nativeFormat: Optional[str],
                                domainXml: Optional[str], flags: int) -> str:
    fn = "virConnectDomainXMLToNative"
    cn = c.conn(conn, fn, D)
    c.writable(cn, fn, D)
    c.non_null(nativeFormat, "nativeFormat", fn, D)
    c.non_null(domainXml, "domainXml", fn, D)
    return str(c.call(cn, fn, D, nativeFormat, domainXml, flags))


# -- devices: the argument first, then the read-only check

def _device(dom: Any, fn: str, arg: str, value: Optional[str], *rest: Any) -> None:
    d = _dom(dom, fn)
    c.non_null(value, arg, fn, D)
    c.writable(d.conn, fn, D)
    _run(d, fn, value, *rest)


def virDomainAttachDevice(domain: Domain, xml: Optional[str]) -> None:
    _device(domain, "virDomainAttachDevice", "xml", xml)


def virDomainAttachDeviceFlags(domain: Domain, xml: Optional[str], flags: int) -> None:
    _device(domain, "virDomainAttachDeviceFlags", "xml", xml, flags)


def virDomainDetachDevice(domain: Domain, xml: Optional[str]) -> None:
    _device(domain, "virDomainDetachDevice", "xml", xml)


def virDomainDetachDeviceFlags(domain: Domain, xml: Optional[str], flags: int) -> None:
    _device(domain, "virDomainDetachDeviceFlags", "xml", xml, flags)


def virDomainUpdateDeviceFlags(domain: Domain, xml: Optional[str], flags: int) -> None:
    _device(domain, "virDomainUpdateDeviceFlags", "xml", xml, flags)


def virDomainDetachDeviceAlias(domain: Domain, alias: Optional[str], flags: int) -> None:
    _device(domain, "virDomainDetachDeviceAlias", "alias", alias, flags)


# -- block devices and block jobs: mostly the read-only check first

def _block(dom: Any, fn: str, disk: Optional[str], *rest: Any, write: bool = True) -> Any:
    d = _dom(dom, fn)
    if write:
        c.writable(d.conn, fn, D)
    c.non_null(disk, "disk", fn, D)
    return _run(d, fn, disk, *rest)


def virDomainBlockStatsFlags(dom: Domain, disk: Optional[str], flags: int) -> TypedParams:
    return list(_block(dom, "virDomainBlockStatsFlags", disk, flags, write=False))


def virDomainBlockPeek(dom: Domain, disk: Optional[str], offset: int, size: int,
                       flags: int) -> bytes:
    fn = "virDomainBlockPeek"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_empty(disk, "disk", fn, D)
    return bytes(_run(d, fn, disk, offset, size, flags))


def virDomainBlockResize(dom: Domain, disk: Optional[str], size: int, flags: int) -> None:
    _block(dom, "virDomainBlockResize", disk, size, flags)


def virDomainBlockJobAbort(dom: Domain, disk: Optional[str], flags: int) -> None:
    _block(dom, "virDomainBlockJobAbort", disk, flags)


def virDomainGetBlockJobInfo(dom: Domain, disk: Optional[str], flags: int) -> Any:
    return _block(dom, "virDomainGetBlockJobInfo", disk, flags, write=False)


def virDomainBlockJobSetSpeed(dom: Domain, disk: Optional[str], bandwidth: int,
                              flags: int) -> None:
    _block(dom, "virDomainBlockJobSetSpeed", disk, bandwidth, flags)


def virDomainBlockPull(dom: Domain, disk: Optional[str], bandwidth: int, flags: int) -> None:
    _block(dom, "virDomainBlockPull", disk, bandwidth, flags)


def virDomainBlockRebase(dom: Domain, disk: Optional[str], base: Optional[str],
                         bandwidth: int, flags: int) -> None:
    fn = "virDomainBlockRebase"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_null(disk, "disk", fn, D)
    if flags & VIR_DOMAIN_BLOCK_REBASE_COPY:
        c.non_null(base, "base", fn, D)
    _run(d, fn, disk, base, bandwidth, flags)


def virDomainBlockCopy(dom: Domain, disk: Optional[str], destxml: Optional[str],
                       params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainBlockCopy"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_null(disk, "disk", fn, D)
    c.non_null(destxml, "destxml", fn, D)
    _run(d, fn, disk, destxml, list(params or ()), flags)


def virDomainBlockCommit(dom: Domain, disk: Optional[str], base: Optional[str],
                         top: Optional[str], bandwidth: int, flags: int) -> None:
    _block(dom, "virDomainBlockCommit", disk, base, top, bandwidth, flags)


# -- guest vCPUs, thresholds, launch security

def _map(dom: Any, fn: str, arg: str, value: Optional[str], *rest: Any) -> None:
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_null(value, arg, fn, D)
    _run(d, fn, value, *rest)


def virDomainSetGuestVcpus(domain: Domain, cpumap: Optional[str], state: int,
                           flags: int) -> None:
    _map(domain, "virDomainSetGuestVcpus", "cpumap", cpumap, state, flags)


def virDomainSetVcpu(domain: Domain, vcpumap: Optional[str], state: int, flags: int) -> None:
    _map(domain, "virDomainSetVcpu", "vcpumap", vcpumap, state, flags)


def virDomainSetBlockThreshold(domain: Domain, dev: Optional[str], threshold: int,
                               flags: int) -> None:
    _map(domain, "virDomainSetBlockThreshold", "dev", dev, threshold, flags)


def virDomainSetLaunchSecurityState(domain: Domain, params: Optional[TypedParams],
                                    flags: int) -> None:
    fn = "virDomainSetLaunchSecurityState"
    d = _dom(domain, fn)
    c.non_null(params, "params", fn, D)
    c.positive(len(params or ()), "nparams", fn, D)
    c.writable(d.conn, fn, D)
    _run(d, fn, params, flags)


# -- backups, SSH keys, file descriptors: the arguments, then the read-only check

def virDomainBackupBegin(domain: Domain, backupXML: Optional[str],
                         checkpointXML: Optional[str], flags: int) -> None:
    fn = "virDomainBackupBegin"
    d = _dom(domain, fn)
    c.non_null(backupXML, "backupXML", fn, D)
    c.writable(d.conn, fn, D)
    _run(d, fn, backupXML, checkpointXML, flags)


def virDomainAuthorizedSSHKeysGet(domain: Domain, user: Optional[str],
                                  flags: int) -> list[str]:
    fn = "virDomainAuthorizedSSHKeysGet"
    d = _dom(domain, fn)
    c.non_null(user, "user", fn, D)
    c.writable(d.conn, fn, D)
    return list(_run(d, fn, user, flags))


def virDomainAuthorizedSSHKeysSet(domain: Domain, user: Optional[str],
                                  keys: Optional[list[str]], flags: int) -> None:
    fn = "virDomainAuthorizedSSHKeysSet"
    d = _dom(domain, fn)
    c.non_null(user, "user", fn, D)
    c.writable(d.conn, fn, D)
    if flags & 1 and flags & 2:   # _SET_APPEND, _SET_REMOVE
        raise errors.invalid_arg(D, fn, "flags",
                                 "Flags 'VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_APPEND' and "
                                 "'VIR_DOMAIN_AUTHORIZED_SSH_KEYS_SET_REMOVE' are mutually "
                                 "exclusive")
    _run(d, fn, user, keys, flags)


def virDomainFDAssociate(domain: Domain, name: Optional[str], fds: Optional[list[int]],
                         flags: int) -> None:
    # nfds is the length of fds
    fn = "virDomainFDAssociate"
    d = _dom(domain, fn)
    c.non_zero(len(fds or ()), "nfds", fn, D)
    c.non_null(fds, "fds", fn, D)
    c.writable(d.conn, fn, D)
    _run(d, fn, name, fds, flags)
