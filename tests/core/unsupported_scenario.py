"""Errors of entry points test:///default does not support, and of argument
checks made before the driver is asked, called through the C ABI.

Usage: unsupported_scenario.py LIBDIR — loads LIBDIR/libvirt.so.0 (and its
-qemu and -lxc companions) with ctypes, makes each call of CALLS on a fresh
error state and prints one JSON line {call: [code, domain, message]}.
"""

from __future__ import annotations

import ctypes
import json
import os
import sys
from typing import Any, Callable


class Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("domain", ctypes.c_int), ("message", ctypes.c_char_p)]


def main(libdir: str) -> None:
    lib = ctypes.CDLL(os.path.join(libdir, "libvirt.so.0"))
    qemu = ctypes.CDLL(os.path.join(libdir, "libvirt-qemu.so.0"))
    lxc = ctypes.CDLL(os.path.join(libdir, "libvirt-lxc.so.0"))
    lib.virGetLastError.restype = ctypes.POINTER(Error)
    for name in ("virConnectOpen", "virDomainLookupByName", "virNetworkLookupByName",
                 "virStoragePoolLookupByName", "virNodeDeviceLookupByName", "virStreamNew"):
        getattr(lib, name).restype = ctypes.c_void_p
    quiet = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(lambda a, b: None)
    lib.virSetErrorFunc(None, quiet)
    conn = ctypes.c_void_p(lib.virConnectOpen(b"test:///default"))
    dom = ctypes.c_void_p(lib.virDomainLookupByName(conn, b"test"))
    net = ctypes.c_void_p(lib.virNetworkLookupByName(conn, b"default"))
    pool = ctypes.c_void_p(lib.virStoragePoolLookupByName(conn, b"default-pool"))
    dev = ctypes.c_void_p(lib.virNodeDeviceLookupByName(conn, b"computer"))
    stream = ctypes.c_void_p(lib.virStreamNew(conn, 0))
    cells = (ctypes.c_ulonglong * 8)()
    n = ctypes.c_int(0)
    out_ptr = ctypes.c_void_p()
    xml = ctypes.c_char_p(b"<cpu><model>x</model></cpu>")
    calls: dict[str, Callable[[], Any]] = {
        # libvirt-host.c: VIR_FROM_DOMAIN
        "virConnectBaselineHypervisorCPU": lambda: lib.virConnectBaselineHypervisorCPU(
            conn, None, None, None, None, ctypes.byref(xml), 1, 0),
        "virConnectCompareHypervisorCPU": lambda: lib.virConnectCompareHypervisorCPU(
            conn, None, None, None, None, b"<cpu/>", 0),
        "virNodeSuspendForDuration": lambda: lib.virNodeSuspendForDuration(conn, 0, 60, 0),
        "virConnectSetIdentity": lambda: lib.virConnectSetIdentity(conn, None, 0, 0),
        "virConnectSetKeepAlive": lambda: lib.virConnectSetKeepAlive(conn, 5, 3),
        "virNodeGetMemoryParameters": lambda: lib.virNodeGetMemoryParameters(
            conn, None, ctypes.byref(n), 0),
        "virNodeGetCellsFreeMemory-maxCells": lambda: lib.virNodeGetCellsFreeMemory(
            conn, cells, 0, 0),
        "virNodeGetCellsFreeMemory-startCell": lambda: lib.virNodeGetCellsFreeMemory(
            conn, cells, -1, 1),
        "virNodeGetFreePages-npages": lambda: lib.virNodeGetFreePages(
            conn, 0, None, 0, 1, cells, 0),
        "virConnectGetCPUModelNames-arch": lambda: lib.virConnectGetCPUModelNames(
            conn, None, ctypes.byref(out_ptr), 0),
        "virNodeGetCPUStats-cpuNum": lambda: lib.virNodeGetCPUStats(
            conn, -5, None, ctypes.byref(n), 0),
        "virNodeGetInfo-info": lambda: lib.virNodeGetInfo(conn, None),
        "virConnectGetVersion-hvVer": lambda: lib.virConnectGetVersion(conn, None),
        "virNodeGetSecurityModel-secmodel": lambda: lib.virNodeGetSecurityModel(conn, None),
        # libvirt-domain.c
        "virConnectGetDomainCapabilities": lambda: lib.virConnectGetDomainCapabilities(
            conn, None, None, None, None, 0),
        "virConnectDomainXMLToNative": lambda: lib.virConnectDomainXMLToNative(
            conn, b"x", b"y", 0),
        "virDomainAbortJob": lambda: lib.virDomainAbortJob(dom),
        "virDomainAttachDevice": lambda: lib.virDomainAttachDevice(dom, b"<disk/>"),
        "virDomainBlockCommit": lambda: lib.virDomainBlockCommit(dom, b"vda", None, None, 0, 0),
        "virDomainMigrateGetMaxSpeed": lambda: lib.virDomainMigrateGetMaxSpeed(
            dom, ctypes.byref(cells), 0),
        # other files
        "virNetworkListAllPorts": lambda: lib.virNetworkListAllPorts(net, None, 0),
        "virNetworkGetDHCPLeases": lambda: lib.virNetworkGetDHCPLeases(net, None, None, 0),
        "virConnectGetStoragePoolCapabilities": lambda: lib.virConnectGetStoragePoolCapabilities(
            conn, 0),
        "virStoragePoolGetAutostart-null": lambda: lib.virStoragePoolGetAutostart(pool, None),
        "virNodeDeviceDettach": lambda: lib.virNodeDeviceDettach(dev),
        "virNodeDeviceDefineXML": lambda: lib.virNodeDeviceDefineXML(conn, b"<device/>", 0),
        "virConnectListAllSecrets": lambda: lib.virConnectListAllSecrets(conn, None, 0),
        "virConnectNumOfNWFilters": lambda: lib.virConnectNumOfNWFilters(conn),
        "virNWFilterBindingLookupByPortDev": lambda: lib.virNWFilterBindingLookupByPortDev(
            conn, b"x"),
        "virStreamSend": lambda: lib.virStreamSend(stream, b"x", 1),
        # libvirt-qemu.c and libvirt-lxc.c: VIR_FROM_NONE
        "virDomainQemuMonitorCommand": lambda: qemu.virDomainQemuMonitorCommand(
            dom, b"x", ctypes.byref(out_ptr), 0),
        "virDomainQemuAgentCommand": lambda: qemu.virDomainQemuAgentCommand(dom, b"x", 5, 0),
        "virDomainLxcOpenNamespace": lambda: lxc.virDomainLxcOpenNamespace(
            dom, ctypes.byref(out_ptr), 0),
    }
    out = {}
    for name, call in calls.items():
        lib.virResetLastError()
        call()
        err = lib.virGetLastError()
        out[name] = ([err.contents.code, err.contents.domain, err.contents.message.decode()]
                     if err else None)
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main(sys.argv[1])
