"""Public domain functions beyond the life cycle: vCPUs and pinning,
metadata, scheduler and tuning parameters, statistics, guest time,
save/restore and managed save, rename, guest actions; and node queries."""

from __future__ import annotations

import os
from typing import Any, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN
HOST = ErrorDomain.VIR_FROM_DOMAIN  # the VIR_FROM_THIS of libvirt-host.c (vir{Connect,Node}*)
TypedParams = list[tuple[str, int, Any]]

__all__ = [
    "virDomainManagedSaveGetXMLDesc", "virDomainManagedSaveDefineXML",
    "virDomainSetVcpus", "virDomainSetVcpusFlags", "virDomainGetVcpusFlags",
    "virDomainGetVcpus", "virDomainPinVcpu", "virDomainPinVcpuFlags",
    "virDomainGetVcpuPinInfo", "virDomainGetEmulatorPinInfo", "virDomainPinEmulator",
    "virDomainSetMetadata", "virDomainGetMetadata", "virDomainGetSchedulerType",
    "virDomainGetSchedulerParameters", "virDomainGetSchedulerParametersFlags",
    "virDomainSetSchedulerParameters", "virDomainSetSchedulerParametersFlags",
    "virDomainBlockStats", "virDomainInterfaceStats", "virDomainGetBlockInfo",
    "virDomainMemoryStats", "virDomainGetTime", "virDomainSetTime", "virDomainGetHostname",
    "virDomainSave", "virDomainSaveFlags", "virDomainRestore", "virDomainRestoreFlags",
    "virDomainSaveImageGetXMLDesc", "virDomainSaveImageDefineXML", "virDomainManagedSave",
    "virDomainHasManagedSaveImage", "virDomainManagedSaveRemove", "virDomainCoreDump",
    "virDomainCoreDumpWithFormat", "virDomainRename", "virDomainInjectNMI",
    "virDomainSendKey", "virDomainSendProcessSignal", "virDomainReset",
    "virDomainSetUserPassword", "virDomainFSTrim", "virDomainGetSecurityLabel",
    "virDomainGetSecurityLabelList",
    "virNodeGetSecurityModel", "virDomainGetMessages", "virDomainSetLifecycleAction",
    "virDomainSetMemoryFlags", "virDomainSetMemoryStatsPeriod",
    "virDomainGetMemoryParameters", "virDomainSetMemoryParameters",
    "virDomainGetNumaParameters", "virDomainSetNumaParameters",
    "virDomainGetBlkioParameters", "virDomainSetBlkioParameters",
    "virDomainGetInterfaceParameters", "virDomainSetInterfaceParameters",
    "virDomainGetPerfEvents", "virDomainSetPerfEvents", "virDomainGetLaunchSecurityInfo",
    "virNodeGetCellsFreeMemory", "virNodeGetFreeMemory", "virNodeGetCPUMap",
]

# libvirt.c adds VIR_TYPED_PARAM_STRING_OKAY to the flags of the typed-parameter
# getters whose drivers can return strings: the drivers see (and check) it.
STRING_OKAY = 4


def _dom(dom: Any, fn: str) -> Domain:
    result: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return result


def _on(dom: Any, fn: str, *args: Any, write: bool = False,
        entry: Optional[str] = None) -> Any:
    d = _dom(dom, fn)
    return c.call(d.conn, fn, D, d, *args, write=write, entry_name=entry)


def _conn(conn: Any, fn: str, domain: int = D) -> Connect:
    return c.conn(conn, fn, domain)


# -- vCPUs

def virDomainSetVcpusFlags(domain: Domain, nvcpus: int, flags: int) -> None:
    fn = "virDomainSetVcpusFlags"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    if nvcpus == 0:
        raise errors.invalid_arg(D, fn, "nvcpus", f"nvcpus in {fn} must not be zero")
    if nvcpus < 1:
        c.positive(nvcpus, "nvcpus", fn, D)
    c.call(d.conn, fn, D, d, nvcpus, flags)


def virDomainSetVcpus(domain: Domain, nvcpus: int) -> None:
    fn = "virDomainSetVcpus"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    if nvcpus == 0:
        from .. import errors
        raise errors.invalid_arg(D, fn, "nvcpus", f"nvcpus in {fn} must not be zero")
    # Drivers implement it as the live change of virDomainSetVcpusFlags.
    c.call(d.conn, fn, D, d, nvcpus, 1, entry_name="virDomainSetVcpusFlags")


def virDomainGetVcpusFlags(domain: Domain, flags: int) -> int:
    return int(_on(domain, "virDomainGetVcpusFlags", flags))


def virDomainGetVcpus(domain: Domain, maxinfo: int, maplen: int) -> tuple[list[Any], bytes]:
    fn = "virDomainGetVcpus"
    d = _dom(domain, fn)
    c.positive(maxinfo, "maxinfo", fn, D)
    infos, maps = c.call(d.conn, fn, D, d, maxinfo, maplen)
    return list(infos), bytes(maps)


def virDomainPinVcpu(domain: Domain, vcpu: int, cpumap: Optional[bytes]) -> None:
    fn = "virDomainPinVcpu"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(cpumap, "cpumap", fn, D)
    c.call(d.conn, fn, D, d, vcpu, bytes(cpumap or b""))


def virDomainPinVcpuFlags(domain: Domain, vcpu: int, cpumap: Optional[bytes],
                          flags: int) -> None:
    fn = "virDomainPinVcpuFlags"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(cpumap, "cpumap", fn, D)
    c.call(d.conn, fn, D, d, vcpu, bytes(cpumap or b""), flags)


def virDomainGetVcpuPinInfo(domain: Domain, ncpumaps: int, maplen: int, flags: int) -> bytes:
    return bytes(_on(domain, "virDomainGetVcpuPinInfo", ncpumaps, maplen, flags))


def virDomainGetEmulatorPinInfo(domain: Domain, maplen: int, flags: int) -> bytes:
    return bytes(_on(domain, "virDomainGetEmulatorPinInfo", maplen, flags))


def virDomainPinEmulator(domain: Domain, cpumap: Optional[bytes], flags: int) -> None:
    fn = "virDomainPinEmulator"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(cpumap, "cpumap", fn, D)
    c.call(d.conn, fn, D, d, bytes(cpumap or b""), flags)


# -- metadata

def virDomainSetMetadata(domain: Domain, type: int, metadata: Optional[str],
                         key: Optional[str], uri: Optional[str], flags: int) -> None:
    fn = "virDomainSetMetadata"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    if type == 1 and metadata is not None and "\n" in metadata:
        raise errors.invalid_arg(D, fn, "metadata", "metadata title can't contain newlines")
    if type in (0, 1):  # title and description take neither
        _null(uri, "uri", fn)
        _null(key, "key", fn)
    elif type == 2:  # VIR_DOMAIN_METADATA_ELEMENT needs both
        c.non_null(uri, "uri", fn, D)
        if metadata is not None:
            c.non_null(key, "key", fn, D)
    c.call(d.conn, fn, D, d, type, metadata, key, uri, flags)


def _null(value: Optional[str], arg: str, fn: str) -> None:
    """virCheckNullArg."""
    if value is not None:
        raise errors.invalid_arg(D, fn, arg, f"{arg} in {fn} must be NULL")


def virDomainGetMetadata(domain: Domain, type: int, uri: Optional[str], flags: int) -> str:
    fn = "virDomainGetMetadata"
    d = _dom(domain, fn)
    if type in (0, 1):
        _null(uri, "uri", fn)
    elif type == 2:
        c.non_null(uri, "uri", fn, D)
    return str(c.call(d.conn, fn, D, d, type, uri, flags))


# -- scheduler

def virDomainGetSchedulerType(domain: Domain) -> tuple[str, int]:
    name, nparams = _on(domain, "virDomainGetSchedulerType")
    return str(name), int(nparams)


def virDomainGetSchedulerParameters(domain: Domain) -> TypedParams:
    return list(_on(domain, "virDomainGetSchedulerParameters"))


def virDomainGetSchedulerParametersFlags(domain: Domain, flags: int) -> TypedParams:
    fn = "virDomainGetSchedulerParametersFlags"
    _dom(domain, fn)
    if flags & 1 and flags & 2:
        raise errors.invalid_arg(D, fn, "flags", "Flags 'VIR_DOMAIN_AFFECT_LIVE' and "
                                 "'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
    return list(_on(domain, fn, flags | STRING_OKAY))


def virDomainSetSchedulerParameters(domain: Domain, params: TypedParams) -> None:
    fn = "virDomainSetSchedulerParameters"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=False))


def virDomainSetSchedulerParametersFlags(domain: Domain, params: TypedParams,
                                         flags: int) -> None:
    fn = "virDomainSetSchedulerParametersFlags"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=False), flags)


# -- statistics

def virDomainBlockStats(dom: Domain, disk: Optional[str], size: int) -> Any:
    fn = "virDomainBlockStats"
    d = _dom(dom, fn)
    c.non_null(disk, "disk", fn, D)
    return c.call(d.conn, fn, D, d, disk, size)


def virDomainInterfaceStats(dom: Domain, device: Optional[str], size: int) -> Any:
    fn = "virDomainInterfaceStats"
    d = _dom(dom, fn)
    c.non_null(device, "device", fn, D)
    return c.call(d.conn, fn, D, d, device, size)


def virDomainGetBlockInfo(dom: Domain, disk: Optional[str], flags: int) -> Any:
    fn = "virDomainGetBlockInfo"
    d = _dom(dom, fn)
    c.non_null(disk, "disk", fn, D)
    return c.call(d.conn, fn, D, d, disk, flags)


def virDomainMemoryStats(dom: Domain, nr_stats: int, flags: int) -> list[Any]:
    return list(_on(dom, "virDomainMemoryStats", nr_stats, flags))


# -- guest time and name

def virDomainGetTime(dom: Domain, flags: int) -> tuple[int, int]:
    seconds, nseconds = _on(dom, "virDomainGetTime", flags)
    return int(seconds), int(nseconds)


def virDomainSetTime(dom: Domain, seconds: int, nseconds: int, flags: int) -> None:
    _on(dom, "virDomainSetTime", seconds, nseconds, flags, write=True)


def virDomainGetHostname(domain: Domain, flags: int) -> str:
    return str(_on(domain, "virDomainGetHostname", flags))


# -- save, restore, managed save, dumps, rename

def virDomainSaveFlags(domain: Domain, to: Optional[str], dxml: Optional[str],
                       flags: int) -> None:
    fn = "virDomainSaveFlags"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(to, "to", fn, D)
    c.call(d.conn, fn, D, d, to, dxml, flags)


def virDomainSave(domain: Domain, to: Optional[str]) -> None:
    fn = "virDomainSave"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(to, "to", fn, D)
    c.call(d.conn, fn, D, d, to, None, 0, entry_name="virDomainSaveFlags")


def virDomainRestoreFlags(conn: Connect, frm: Optional[str], dxml: Optional[str],
                          flags: int) -> None:
    fn = "virDomainRestoreFlags"
    cn = _conn(conn, fn)
    c.writable(cn, fn, D)
    c.non_null(frm, "from", fn, D)
    c.call(cn, fn, D, cn, frm, dxml, flags)


def virDomainRestore(conn: Connect, frm: Optional[str]) -> None:
    fn = "virDomainRestore"
    cn = _conn(conn, fn)
    c.writable(cn, fn, D)
    c.non_null(frm, "from", fn, D)
    c.call(cn, fn, D, cn, frm, None, 0, entry_name="virDomainRestoreFlags")


def virDomainSaveImageGetXMLDesc(conn: Connect, file: Optional[str], flags: int) -> str:
    fn = "virDomainSaveImageGetXMLDesc"
    cn = _conn(conn, fn)
    c.non_null(file, "file", fn, D)
    return str(c.call(cn, fn, D, cn, file, flags))


def virDomainSaveImageDefineXML(conn: Connect, file: Optional[str], dxml: Optional[str],
                                flags: int) -> None:
    fn = "virDomainSaveImageDefineXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, D)
    c.non_null(file, "file", fn, D)
    c.non_null(dxml, "dxml", fn, D)
    if flags & 2 and flags & 4:   # VIR_DOMAIN_SAVE_RUNNING, VIR_DOMAIN_SAVE_PAUSED
        raise errors.invalid_arg(D, fn, "flags", "Flags 'VIR_DOMAIN_SAVE_RUNNING' and "
                                 "'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive")
    c.call(cn, fn, D, cn, file, dxml, flags)


def virDomainManagedSaveGetXMLDesc(dom: Domain, flags: int) -> str:
    fn = "virDomainManagedSaveGetXMLDesc"
    d = _dom(dom, fn)
    if flags & 1:   # VIR_DOMAIN_SAVE_IMAGE_XML_SECURE: secrets, not for read-only
        c.writable(d.conn, fn, D)
    return str(c.call(d.conn, fn, D, d, flags))


def virDomainManagedSaveDefineXML(dom: Domain, dxml: Optional[str], flags: int) -> None:
    fn = "virDomainManagedSaveDefineXML"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)   # dxml is not checked here: libvirt leaves it to the driver
    c.call(d.conn, fn, D, d, dxml, flags)


def virDomainManagedSave(dom: Domain, flags: int) -> None:
    _on(dom, "virDomainManagedSave", flags, write=True)


def virDomainHasManagedSaveImage(dom: Domain, flags: int) -> int:
    return int(_on(dom, "virDomainHasManagedSaveImage", flags))


def virDomainManagedSaveRemove(dom: Domain, flags: int) -> None:
    _on(dom, "virDomainManagedSaveRemove", flags, write=True)


CORE_DUMP_FORMAT_LAST = 5    # virDomainCoreDumpFormat's end
_DUMP_EXCLUSIVE = ((1, "VIR_DUMP_CRASH", 2, "VIR_DUMP_LIVE"),
                   (1, "VIR_DUMP_CRASH", 8, "VIR_DUMP_RESET"),
                   (2, "VIR_DUMP_LIVE", 8, "VIR_DUMP_RESET"))


def _check_dump(fn: str, dumpformat: int, flags: int) -> None:
    if dumpformat >= CORE_DUMP_FORMAT_LAST:
        raise errors.invalid_arg(D, fn, "dumpformat",
                                 f"dumpformat '{dumpformat}' is not supported")
    for bit1, name1, bit2, name2 in _DUMP_EXCLUSIVE:
        if flags & bit1 and flags & bit2:
            raise errors.invalid_arg(D, fn, "flags", f"Flags '{name1}' and '{name2}' "
                                     "are mutually exclusive")


def virDomainCoreDumpWithFormat(domain: Domain, to: Optional[str], dumpformat: int,
                                flags: int) -> None:
    fn = "virDomainCoreDumpWithFormat"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(to, "to", fn, D)
    _check_dump(fn, dumpformat, flags)
    c.call(d.conn, fn, D, d, os.path.abspath(to or ""), dumpformat, flags)


def virDomainCoreDump(domain: Domain, to: Optional[str], flags: int) -> None:
    fn = "virDomainCoreDump"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(to, "to", fn, D)
    _check_dump(fn, 0, flags)
    c.call(d.conn, fn, D, d, os.path.abspath(to or ""), 0, flags,
           entry_name="virDomainCoreDumpWithFormat")


def virDomainRename(dom: Domain, new_name: Optional[str], flags: int) -> None:
    fn = "virDomainRename"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_empty(new_name, "new_name", fn, D)
    c.call(d.conn, fn, D, d, new_name, flags)


# -- guest actions

def virDomainInjectNMI(domain: Domain, flags: int) -> None:
    _on(domain, "virDomainInjectNMI", flags, write=True)


SEND_KEY_MAX_KEYS = 16     # VIR_DOMAIN_SEND_KEY_MAX_KEYS
KEYCODE_SET_LAST = 10      # virKeycodeSet's end


def virDomainSendKey(domain: Domain, codeset: int, holdtime: int, keycodes: Any,
                     flags: int) -> None:
    fn = "virDomainSendKey"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(keycodes, "keycodes", fn, D)
    c.positive(len(keycodes), "nkeycodes", fn, D)
    if codeset >= KEYCODE_SET_LAST:   # printed as libvirt's %d prints the unsigned int
        shown = codeset - (1 << 32) if codeset >= 1 << 31 else codeset
        raise errors.invalid_arg(D, fn, "codeset", f"Unsupported codeset '{shown}'")
    if len(keycodes) > SEND_KEY_MAX_KEYS:
        raise errors.invalid_arg(D, fn, "nkeycodes",
                                 f"nkeycodes must be <= {SEND_KEY_MAX_KEYS}")
    c.call(d.conn, fn, D, d, codeset, holdtime, list(keycodes), flags)


def virDomainSendProcessSignal(domain: Domain, pid_value: int, signum: int, flags: int) -> None:
    _on(domain, "virDomainSendProcessSignal", pid_value, signum, flags, write=True)


def virDomainReset(domain: Domain, flags: int) -> None:
    _on(domain, "virDomainReset", flags, write=True)


def virDomainSetUserPassword(dom: Domain, user: Optional[str], password: Optional[str],
                             flags: int) -> None:
    fn = "virDomainSetUserPassword"
    d = _dom(dom, fn)
    c.writable(d.conn, fn, D)
    c.non_null(user, "user", fn, D)
    c.non_null(password, "password", fn, D)
    c.call(d.conn, fn, D, d, user, password, flags)


def virDomainFSTrim(dom: Domain, mountPoint: Optional[str], minimum: int, flags: int) -> None:
    _on(dom, "virDomainFSTrim", mountPoint, minimum, flags, write=True)


def virDomainGetSecurityLabel(domain: Domain) -> Any:
    return _on(domain, "virDomainGetSecurityLabel")


def virDomainGetSecurityLabelList(domain: Domain) -> list[Any]:
    return list(_on(domain, "virDomainGetSecurityLabelList"))


def virNodeGetSecurityModel(conn: Connect) -> Any:
    fn = "virNodeGetSecurityModel"
    return c.call(_conn(conn, fn, HOST), fn, HOST)


def virDomainGetMessages(domain: Domain, flags: int) -> list[str]:
    return list(_on(domain, "virDomainGetMessages", flags))


def virDomainSetLifecycleAction(domain: Domain, type: int, action: int, flags: int) -> None:
    _on(domain, "virDomainSetLifecycleAction", type, action, flags, write=True)


def virDomainSetMemoryFlags(domain: Domain, memory: int, flags: int) -> None:
    fn = "virDomainSetMemoryFlags"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_zero(memory, "memory", fn, D)
    c.call(d.conn, fn, D, d, memory, flags)


def virDomainSetMemoryStatsPeriod(domain: Domain, period: int, flags: int) -> None:
    fn = "virDomainSetMemoryStatsPeriod"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_negative(period, "period", fn, D)
    c.call(d.conn, fn, D, d, period, flags)


# -- tuning (typed parameters: lists of (name, type, value))

def virDomainGetMemoryParameters(domain: Domain, flags: int) -> TypedParams:
    return list(_on(domain, "virDomainGetMemoryParameters", flags | STRING_OKAY))


def virDomainSetMemoryParameters(domain: Domain, params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainSetMemoryParameters"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=True), flags)


def virDomainGetNumaParameters(domain: Domain, flags: int) -> TypedParams:
    return list(_on(domain, "virDomainGetNumaParameters", flags | STRING_OKAY))


def virDomainSetNumaParameters(domain: Domain, params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainSetNumaParameters"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=True), flags)


def virDomainGetBlkioParameters(domain: Domain, flags: int) -> TypedParams:
    return list(_on(domain, "virDomainGetBlkioParameters", flags | STRING_OKAY))


def virDomainSetBlkioParameters(domain: Domain, params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainSetBlkioParameters"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=False), flags)


def virDomainGetInterfaceParameters(domain: Domain, device: Optional[str],
                                    flags: int) -> TypedParams:
    fn = "virDomainGetInterfaceParameters"
    d = _dom(domain, fn)
    c.non_null(device, "device", fn, D)
    return list(c.call(d.conn, fn, D, d, device, flags | STRING_OKAY))


def virDomainSetInterfaceParameters(domain: Domain, device: Optional[str],
                                    params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainSetInterfaceParameters"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    c.non_null(device, "device", fn, D)
    c.call(d.conn, fn, D, d, device, c.typed_in(params, fn, D, nonempty=True), flags)


def virDomainGetPerfEvents(domain: Domain, flags: int) -> TypedParams:
    return list(_on(domain, "virDomainGetPerfEvents", flags))


def virDomainSetPerfEvents(domain: Domain, params: Optional[TypedParams], flags: int) -> None:
    fn = "virDomainSetPerfEvents"
    d = _dom(domain, fn)
    c.writable(d.conn, fn, D)
    _on(d, fn, c.typed_in(params, fn, D, nonempty=True), flags)


def virDomainGetLaunchSecurityInfo(domain: Domain, flags: int) -> TypedParams:
    return list(_on(domain, "virDomainGetLaunchSecurityInfo", flags | STRING_OKAY))


# -- node

def virNodeGetCellsFreeMemory(conn: Connect, startCell: int, maxCells: int) -> list[int]:
    fn = "virNodeGetCellsFreeMemory"
    cn = _conn(conn, fn, HOST)
    c.positive(maxCells, "maxCells", fn, HOST)
    c.non_negative(startCell, "startCell", fn, HOST)
    return list(c.call(cn, fn, HOST, startCell, maxCells))


def virNodeGetFreeMemory(conn: Connect) -> int:
    fn = "virNodeGetFreeMemory"
    return int(c.call(_conn(conn, fn, HOST), fn, HOST))


def virNodeGetCPUMap(conn: Connect, flags: int) -> tuple[int, bytes, int]:
    fn = "virNodeGetCPUMap"
    count, cpumap, online = c.call(_conn(conn, fn, HOST), fn, HOST, flags)
    return int(count), bytes(cpumap), int(online)
