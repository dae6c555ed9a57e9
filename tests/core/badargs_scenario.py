"""Bad arguments to entry points test:///default does not implement, called
through the C ABI: libvirt checks arguments in its public API layer before it
asks the driver, so these report INVALID_ARG (or the like), not NO_SUPPORT.

Usage: badargs_scenario.py LIBDIR — loads LIBDIR/libvirt.so.0 (and -qemu,
-lxc) with ctypes, makes each call of the table on a fresh error state and
prints one JSON line {label: [code, domain, message] or null}.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys

V = ctypes.c_void_p


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("domain", ctypes.c_int), ("message", ctypes.c_char_p)]


class Param(ctypes.Structure):
    _fields_ = [("field", ctypes.c_char * 80), ("type", ctypes.c_int),
                ("value", ctypes.c_ulonglong)]


def main(libdir: str) -> None:
    lib = ctypes.CDLL(os.path.join(libdir, "libvirt.so.0"))
    qemu = ctypes.CDLL(os.path.join(libdir, "libvirt-qemu.so.0"))
    lxc = ctypes.CDLL(os.path.join(libdir, "libvirt-lxc.so.0"))
    lib.virGetLastError.restype = ctypes.POINTER(Error)
    for name in ("virConnectOpen", "virDomainLookupByName", "virNetworkLookupByName",
                 "virStreamNew"):
        getattr(lib, name).restype = V
    quiet = ctypes.CFUNCTYPE(None, V, V)(lambda a, b: None)
    lib.virSetErrorFunc(None, quiet)
    conn = V(lib.virConnectOpen(b"test:///default"))
    dom = V(lib.virDomainLookupByName(conn, b"test"))
    net = V(lib.virNetworkLookupByName(conn, b"default"))
    stream = V(lib.virStreamNew(conn, 0))
    ull = ctypes.c_ulonglong(0)
    n = ctypes.c_int(0)
    un = ctypes.c_uint(0)
    outp = V()
    buf = ctypes.create_string_buffer(80)
    uuid = ctypes.create_string_buffer(16)
    pages = (ctypes.c_uint * 2)(4, 2048)
    counts = (ctypes.c_ulonglong * 2)(1, 1)
    param = Param(b"x", 1, 0)
    cpus = (ctypes.c_char_p * 1)(b"<cpu/>")
    fds = (ctypes.c_int * 1)(0)
    cb = ctypes.CFUNCTYPE(None)(lambda: None)
    calls = {
        # libvirt-host.c
        "virConnectBaselineHypervisorCPU-null": lambda: lib.virConnectBaselineHypervisorCPU(
            conn, None, None, None, None, None, 0, 0),
        "virConnectBaselineHypervisorCPU-null1": lambda: lib.virConnectBaselineHypervisorCPU(
            conn, None, None, None, None, None, 1, 0),
        "virConnectCompareHypervisorCPU-null": lambda: lib.virConnectCompareHypervisorCPU(
            conn, None, None, None, None, None, 0),
        "virConnectCompareCPU-null": lambda: lib.virConnectCompareCPU(conn, None, 0),
        "virConnectBaselineCPU-null": lambda: lib.virConnectBaselineCPU(conn, None, 0, 0),
        "virConnectBaselineCPU-null1": lambda: lib.virConnectBaselineCPU(conn, None, 1, 0),
        "virNodeAllocPages-npages0": lambda: lib.virNodeAllocPages(
            conn, 0, pages, counts, 0, 1, 0),
        "virNodeAllocPages-nullsizes": lambda: lib.virNodeAllocPages(
            conn, 2, None, counts, 0, 1, 0),
        "virNodeAllocPages-startCell": lambda: lib.virNodeAllocPages(
            conn, 2, pages, counts, -2, 1, 0),
        "virNodeAllocPages-cellCount": lambda: lib.virNodeAllocPages(
            conn, 2, pages, counts, 0, 0, 0),
        "virNodeSetMemoryParameters-neg": lambda: lib.virNodeSetMemoryParameters(
            conn, ctypes.byref(param), -1, 0),
        "virNodeSetMemoryParameters-null": lambda: lib.virNodeSetMemoryParameters(
            conn, None, 1, 0),
        "virNodeGetMemoryParameters-null": lambda: lib.virNodeGetMemoryParameters(
            conn, None, None, 0),
        "virNodeGetMemoryStats-null": lambda: lib.virNodeGetMemoryStats(
            conn, -1, None, None, 0),
        "virNodeGetMemoryStats-cell": lambda: lib.virNodeGetMemoryStats(
            conn, -5, None, ctypes.byref(n), 0),
        "virNodeGetSEVInfo-null": lambda: lib.virNodeGetSEVInfo(conn, None, None, 0),
        "virConnectSetIdentity-null": lambda: lib.virConnectSetIdentity(conn, None, 1, 0),
        "virConnectSetIdentity-neg": lambda: lib.virConnectSetIdentity(
            conn, ctypes.byref(param), -1, 0),
        "virNodeSuspendForDuration-ok": lambda: lib.virNodeSuspendForDuration(conn, 0, 60, 0),
        # libvirt-domain.c
        "virConnectDomainXMLFromNative-null": lambda: lib.virConnectDomainXMLFromNative(
            conn, None, b"x", 0),
        "virConnectDomainXMLFromNative-null2": lambda: lib.virConnectDomainXMLFromNative(
            conn, b"x", None, 0),
        "virConnectDomainXMLToNative-null": lambda: lib.virConnectDomainXMLToNative(
            conn, None, b"x", 0),
        "virConnectDomainXMLToNative-null2": lambda: lib.virConnectDomainXMLToNative(
            conn, b"x", None, 0),
        "virDomainMigrateGetCompressionCache-null": lambda:
            lib.virDomainMigrateGetCompressionCache(dom, None, 0),
        "virDomainPMSuspendForDuration": lambda: lib.virDomainPMSuspendForDuration(
            dom, 0, 0, 0),
        "virDomainSaveParams-null": lambda: lib.virDomainSaveParams(dom, None, 1, 0),
        "virDomainSaveParams-neg": lambda: lib.virDomainSaveParams(
            dom, ctypes.byref(param), -1, 0),
        "virDomainRestoreParams-null": lambda: lib.virDomainRestoreParams(conn, None, 1, 0),
        "virDomainManagedSaveDefineXML-null": lambda: lib.virDomainManagedSaveDefineXML(
            dom, None, 0),
        "virDomainGetSecurityLabelList-null": lambda: lib.virDomainGetSecurityLabelList(
            dom, None),
        "virDomainBlockStatsFlags-disk": lambda: lib.virDomainBlockStatsFlags(
            dom, None, None, ctypes.byref(n), 0),
        "virDomainBlockStatsFlags-n": lambda: lib.virDomainBlockStatsFlags(
            dom, b"vda", None, None, 0),
        "virDomainBlockPeek-disk": lambda: lib.virDomainBlockPeek(dom, None, 0, 1, buf, 0),
        "virDomainBlockPeek-buf": lambda: lib.virDomainBlockPeek(dom, b"vda", 0, 1, None, 0),
        "virDomainBlockPeek-size0": lambda: lib.virDomainBlockPeek(dom, b"vda", 0, 0, buf, 0),
        "virDomainBlockPeek-empty": lambda: lib.virDomainBlockPeek(dom, b"", 0, 1, buf, 0),
        "virDomainMemoryPeek-buf": lambda: lib.virDomainMemoryPeek(dom, 0, 4, None, 2),
        "virDomainMemoryPeek-size0": lambda: lib.virDomainMemoryPeek(dom, 0, 0, None, 2),
        "virDomainBlockResize-disk": lambda: lib.virDomainBlockResize(dom, None, 1, 0),
        "virDomainAttachDevice-null": lambda: lib.virDomainAttachDevice(dom, None),
        "virDomainDetachDevice-null": lambda: lib.virDomainDetachDevice(dom, None),
        "virDomainAttachDeviceFlags-null": lambda: lib.virDomainAttachDeviceFlags(dom, None, 0),
        "virDomainDetachDeviceFlags-null": lambda: lib.virDomainDetachDeviceFlags(dom, None, 0),
        "virDomainUpdateDeviceFlags-null": lambda: lib.virDomainUpdateDeviceFlags(dom, None, 0),
        "virDomainDetachDeviceAlias-null": lambda: lib.virDomainDetachDeviceAlias(dom, None, 0),
        "virDomainBlockJobAbort-null": lambda: lib.virDomainBlockJobAbort(dom, None, 0),
        "virDomainGetBlockJobInfo-null": lambda: lib.virDomainGetBlockJobInfo(
            dom, None, buf, 0),
        "virDomainGetBlockJobInfo-info": lambda: lib.virDomainGetBlockJobInfo(
            dom, b"vda", None, 0),
        "virDomainBlockJobSetSpeed-null": lambda: lib.virDomainBlockJobSetSpeed(dom, None, 0, 0),
        "virDomainBlockPull-null": lambda: lib.virDomainBlockPull(dom, None, 0, 0),
        "virDomainBlockRebase-null": lambda: lib.virDomainBlockRebase(dom, None, None, 0, 0),
        "virDomainBlockRebase-copy": lambda: lib.virDomainBlockRebase(dom, b"vda", None, 0, 8),
        "virDomainBlockCopy-null": lambda: lib.virDomainBlockCopy(dom, None, b"<d/>", None, 0, 0),
        "virDomainBlockCopy-xml": lambda: lib.virDomainBlockCopy(dom, b"vda", None, None, 0, 0),
        "virDomainBlockCopy-params": lambda: lib.virDomainBlockCopy(
            dom, b"vda", b"<d/>", None, 1, 0),
        "virDomainBlockCommit-null": lambda: lib.virDomainBlockCommit(
            dom, None, None, None, 0, 0),
        "virDomainOpenConsole-st": lambda: lib.virDomainOpenConsole(dom, None, None, 0),
        "virDomainOpenChannel-st": lambda: lib.virDomainOpenChannel(dom, None, None, 0),
        "virDomainOpenConsole-ok": lambda: lib.virDomainOpenConsole(dom, None, stream, 0),
        "virDomainGetGuestVcpus-null": lambda: lib.virDomainGetGuestVcpus(dom, None, None, 0),
        "virDomainSetGuestVcpus-null": lambda: lib.virDomainSetGuestVcpus(dom, None, 1, 0),
        "virDomainSetVcpu-null": lambda: lib.virDomainSetVcpu(dom, None, 1, 0),
        "virDomainSetBlockThreshold-null": lambda: lib.virDomainSetBlockThreshold(
            dom, None, 1, 0),
        "virDomainSetLaunchSecurityState-empty": lambda: lib.virDomainSetLaunchSecurityState(
            dom, ctypes.byref(param), 0, 0),
        "virDomainSetLaunchSecurityState-null": lambda: lib.virDomainSetLaunchSecurityState(
            dom, None, 0, 0),
        "virDomainGetGuestInfo-null": lambda: lib.virDomainGetGuestInfo(dom, 0, None, None, 0),
        "virDomainAgentSetResponseTimeout-bad": lambda: lib.virDomainAgentSetResponseTimeout(
            dom, -5, 0),
        "virDomainBackupBegin-ok": lambda: lib.virDomainBackupBegin(dom, None, None, 0),
        "virDomainAuthorizedSSHKeysGet-user": lambda: lib.virDomainAuthorizedSSHKeysGet(
            dom, None, ctypes.byref(outp), 0),
        "virDomainAuthorizedSSHKeysGet-keys": lambda: lib.virDomainAuthorizedSSHKeysGet(
            dom, b"root", None, 0),
        "virDomainAuthorizedSSHKeysSet-user": lambda: lib.virDomainAuthorizedSSHKeysSet(
            dom, None, cpus, 1, 0),
        "virDomainAuthorizedSSHKeysSet-keys": lambda: lib.virDomainAuthorizedSSHKeysSet(
            dom, b"root", None, 1, 0),
        "virDomainFDAssociate-name": lambda: lib.virDomainFDAssociate(dom, None, 1, fds, 0),
        "virDomainFDAssociate-nfds": lambda: lib.virDomainFDAssociate(dom, b"x", 0, fds, 0),
        "virDomainFDAssociate-fds": lambda: lib.virDomainFDAssociate(dom, b"x", 1, None, 0),
        "virDomainStartDirtyRateCalc-ok": lambda: lib.virDomainStartDirtyRateCalc(dom, 1, 0),
        "virDomainBlockCopy-null0": lambda: lib.virDomainBlockCopy(
            dom, b"vda", b"<d/>", None, 0, 0),
        "virNodeSetMemoryParameters-null0": lambda: lib.virNodeSetMemoryParameters(
            conn, None, 0, 0),
        "virDomainSetMemoryParameters-null0": lambda: lib.virDomainSetMemoryParameters(
            dom, None, 0, 0),
        "virDomainSetMemoryParameters-empty": lambda: lib.virDomainSetMemoryParameters(
            dom, ctypes.byref(param), 0, 0),
        "virDomainSetNumaParameters-null0": lambda: lib.virDomainSetNumaParameters(
            dom, None, 0, 0),
        "virDomainSetNumaParameters-empty": lambda: lib.virDomainSetNumaParameters(
            dom, ctypes.byref(param), 0, 0),
        "virDomainSetBlkioParameters-null0": lambda: lib.virDomainSetBlkioParameters(
            dom, None, 0, 0),
        "virDomainSetSchedulerParameters-null0": lambda: lib.virDomainSetSchedulerParameters(
            dom, None, 0),
        "virDomainSetSchedulerParametersFlags-null0": lambda:
            lib.virDomainSetSchedulerParametersFlags(dom, None, 0, 0),
        "virDomainSetInterfaceParameters-null0": lambda: lib.virDomainSetInterfaceParameters(
            dom, b"vnet0", None, 0, 0),
        "virDomainSetInterfaceParameters-empty": lambda: lib.virDomainSetInterfaceParameters(
            dom, b"vnet0", ctypes.byref(param), 0, 0),
        "virDomainSetIOThreadParams-null0": lambda: lib.virDomainSetIOThreadParams(
            dom, 1, None, 0, 0),
        "virDomainSetIOThreadParams-empty": lambda: lib.virDomainSetIOThreadParams(
            dom, 1, ctypes.byref(param), 0, 0),
        "virDomainSetPerfEvents-null0": lambda: lib.virDomainSetPerfEvents(dom, None, 0, 0),
        "virDomainSetPerfEvents-empty": lambda: lib.virDomainSetPerfEvents(
            dom, ctypes.byref(param), 0, 0),
        "virDomainSetBlockIoTune-null0": lambda: lib.virDomainSetBlockIoTune(
            dom, b"vda", None, 0, 0),
        "virDomainSetBlockIoTune-null1": lambda: lib.virDomainSetBlockIoTune(
            dom, b"vda", None, 1, 0),
        "virDomainFSFreeze-null0": lambda: lib.virDomainFSFreeze(dom, None, 0, 0),
        "virDomainSetSchedulerParameters-neg": lambda: lib.virDomainSetSchedulerParameters(
            dom, ctypes.byref(param), -1),
        "virDomainSetBlkioParameters-neg": lambda: lib.virDomainSetBlkioParameters(
            dom, ctypes.byref(param), -1, 0),
        "virDomainSetMemoryParameters-neg": lambda: lib.virDomainSetMemoryParameters(
            dom, ctypes.byref(param), -1, 0),
        "virDomainMigrateToURI3-null1": lambda: lib.virDomainMigrateToURI3(
            dom, b"test:///default", None, 1, 0),
        "virDomainGetGuestInfo-nparams": lambda: lib.virDomainGetGuestInfo(
            dom, 0, ctypes.byref(outp), None, 0),
        "virNodeGetSEVInfo-params": lambda: lib.virNodeGetSEVInfo(
            conn, None, ctypes.byref(n), 0),
        # libvirt-network.c
        "virConnectNetworkEventRegisterAny-cb": lambda: lib.virConnectNetworkEventRegisterAny(
            conn, None, 0, None, None, None),
        "virConnectNetworkEventRegisterAny-id": lambda: lib.virConnectNetworkEventRegisterAny(
            conn, None, 7, cb, None, None),
        "virConnectNetworkEventRegisterAny-neg": lambda: lib.virConnectNetworkEventRegisterAny(
            conn, None, -1, cb, None, None),
        "virConnectNetworkEventRegisterAny-both": lambda: lib.virConnectNetworkEventRegisterAny(
            conn, None, -1, None, None, None),
        "virConnectNetworkEventRegisterAny-net": lambda: lib.virConnectNetworkEventRegisterAny(
            conn, dom, 0, cb, None, None),
        "virConnectNetworkEventRegisterAny-conn": lambda: lib.virConnectNetworkEventRegisterAny(
            None, net, 0, cb, None, None),
        "virConnectDomainEventRegisterAny-id": lambda: lib.virConnectDomainEventRegisterAny(
            conn, None, 99, cb, None, None),
        "virConnectDomainEventRegisterAny-cb": lambda: lib.virConnectDomainEventRegisterAny(
            conn, None, 99, None, None, None),
        "virConnectStoragePoolEventRegisterAny-id": lambda:
            lib.virConnectStoragePoolEventRegisterAny(conn, None, 99, cb, None, None),
        "virConnectStoragePoolEventRegisterAny-cb": lambda:
            lib.virConnectStoragePoolEventRegisterAny(conn, None, -1, None, None, None),
        "virConnectNodeDeviceEventRegisterAny-id": lambda:
            lib.virConnectNodeDeviceEventRegisterAny(conn, None, 99, cb, None, None),
        "virConnectNodeDeviceEventRegisterAny-cb": lambda:
            lib.virConnectNodeDeviceEventRegisterAny(conn, None, -1, None, None, None),
        "virConnectSecretEventRegisterAny-id": lambda: lib.virConnectSecretEventRegisterAny(
            conn, None, 99, cb, None, None),
        "virConnectSecretEventRegisterAny-cb": lambda: lib.virConnectSecretEventRegisterAny(
            conn, None, -1, None, None, None),
        "virConnectSecretEventDeregisterAny-neg": lambda:
            lib.virConnectSecretEventDeregisterAny(conn, -1),
        "virConnectSecretEventDeregisterAny-ok": lambda:
            lib.virConnectSecretEventDeregisterAny(conn, 5),
        "virConnectSecretEventRegisterAny-ok": lambda: lib.virConnectSecretEventRegisterAny(
            conn, None, 0, cb, None, None),
        # libvirt-nwfilter.c
        "virConnectListNWFilters-null": lambda: lib.virConnectListNWFilters(conn, None, 1),
        "virConnectListNWFilters-neg": lambda: lib.virConnectListNWFilters(conn, buf, -1),
        "virNWFilterLookupByName-null": lambda: lib.virNWFilterLookupByName(conn, None),
        "virNWFilterLookupByUUID-null": lambda: lib.virNWFilterLookupByUUID(conn, None),
        "virNWFilterLookupByUUIDString-null": lambda: lib.virNWFilterLookupByUUIDString(
            conn, None),
        "virNWFilterLookupByUUIDString-bad": lambda: lib.virNWFilterLookupByUUIDString(
            conn, b"nope"),
        "virNWFilterLookupByUUIDString-ok": lambda: lib.virNWFilterLookupByUUIDString(
            conn, b"11111111-2222-3333-4444-555555555555"),
        "virNWFilterDefineXML-null": lambda: lib.virNWFilterDefineXML(conn, None),
        "virNWFilterDefineXMLFlags-null": lambda: lib.virNWFilterDefineXMLFlags(conn, None, 0),
        "virNWFilterBindingLookupByPortDev-null": lambda: lib.virNWFilterBindingLookupByPortDev(
            conn, None),
        "virNWFilterBindingCreateXML-null": lambda: lib.virNWFilterBindingCreateXML(
            conn, None, 0),
        # libvirt-secret.c
        "virConnectListSecrets-null": lambda: lib.virConnectListSecrets(conn, None, 1),
        "virConnectListSecrets-neg": lambda: lib.virConnectListSecrets(conn, buf, -1),
        "virSecretLookupByUUID-null": lambda: lib.virSecretLookupByUUID(conn, None),
        "virSecretLookupByUUIDString-null": lambda: lib.virSecretLookupByUUIDString(conn, None),
        "virSecretLookupByUUIDString-bad": lambda: lib.virSecretLookupByUUIDString(
            conn, b"nope"),
        "virSecretLookupByUUIDString-ok": lambda: lib.virSecretLookupByUUIDString(
            conn, b"11111111-2222-3333-4444-555555555555"),
        "virSecretLookupByUsage-null": lambda: lib.virSecretLookupByUsage(conn, 1, None),
        "virSecretDefineXML-null": lambda: lib.virSecretDefineXML(conn, None, 0),
        "virSecretDefineXML-ok": lambda: lib.virSecretDefineXML(conn, b"<secret/>", 0),
        # libvirt-qemu.c and libvirt-lxc.c
        "virDomainQemuMonitorCommand-cmd": lambda: qemu.virDomainQemuMonitorCommand(
            dom, None, ctypes.byref(outp), 0),
        "virDomainQemuMonitorCommand-result": lambda: qemu.virDomainQemuMonitorCommand(
            dom, b"x", None, 0),
        "virDomainQemuAgentCommand-cmd": lambda: qemu.virDomainQemuAgentCommand(dom, None, 5, 0),
        "virDomainQemuAttach-pid": lambda: qemu.virDomainQemuAttach(conn, 0, 0),
        "virDomainLxcOpenNamespace-null": lambda: lxc.virDomainLxcOpenNamespace(dom, None, 0),
        "virDomainLxcEnterCGroup-ok": lambda: lxc.virDomainLxcEnterCGroup(dom, 0),
    }
    only = set(sys.argv[2:])
    out = {}
    for name, call in calls.items():
        if only and name not in only:
            continue
        lib.virResetLastError()
        if os.environ.get('TRACE'): print(name, file=sys.stderr, flush=True)
        call()
        err = lib.virGetLastError()
        out[name] = ([err.contents.code, err.contents.domain, err.contents.message.decode()]
                     if err else None)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
