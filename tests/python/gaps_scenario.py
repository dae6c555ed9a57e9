"""Calls whose errors libvirt reports before (or instead of) the driver, and
the last error each leaves, through `import libvirt` and its companion
modules; prints one JSON line {label: outcome}."""

import json

import libvirt
import libvirt_lxc
import libvirt_qemu

libvirt.registerErrorHandler(lambda ctx, err: None, None)
conn = libvirt.open("test:///default")
ro = libvirt.openReadOnly("test:///default")
dom = conn.lookupByName("test")
rodom = ro.lookupByName("test")
UUID = "11111111-2222-3333-4444-555555555555"


def outcome(call):
    try:
        value = call()
    except libvirt.libvirtError as e:
        return ["err", e.get_error_code(), e.get_error_domain(), e.get_error_message()]
    except Exception as e:   # argument errors of the binding itself
        return ["exc", type(e).__name__]
    if isinstance(value, (int, str, type(None), bool)):
        return ["ok", value]
    return ["ok", type(value).__name__]


def last():
    err = libvirt.virGetLastError()
    return None if err is None else list(err[:3])


CALLS = {
    # companion modules
    "lxcOpenNamespace": lambda: libvirt_lxc.lxcOpenNamespace(dom, 0),
    "qemuAttach-pid": lambda: libvirt_qemu.qemuAttach(conn, 0, 0),
    "qemuMonitorCommand": lambda: libvirt_qemu.qemuMonitorCommand(dom, "x", 0),
    "qemuAgentCommand": lambda: libvirt_qemu.qemuAgentCommand(dom, "x", 5, 0),
    # argument checks before NO_SUPPORT
    "secretLookupByUUIDString-bad": lambda: conn.secretLookupByUUIDString("nope"),
    "secretLookupByUUIDString-ok": lambda: conn.secretLookupByUUIDString(UUID),
    "secretLookupByUsage": lambda: conn.secretLookupByUsage(1, "x"),
    "secretDefineXML": lambda: conn.secretDefineXML("<secret/>", 0),
    "secretDefineXML-ro": lambda: ro.secretDefineXML("<secret/>", 0),
    "nwfilterLookupByUUIDString-bad": lambda: conn.nwfilterLookupByUUIDString("nope"),
    "nwfilterDefineXML-ro": lambda: ro.nwfilterDefineXML("<filter/>"),
    "listSecrets": lambda: conn.listSecrets(),
    "listNWFilters": lambda: conn.listNWFilters(),
    "baselineHypervisorCPU": lambda: conn.getCPUModelNames("x86_64") and
        conn.baselineHypervisorCPU(None, None, None, None, ["<cpu/>"], 0),
    "allocPages-cellCount": lambda: conn.allocPages({4: 1}, 0, 0, 0),
    "allocPages-ro": lambda: ro.allocPages({4: 1}, 0, 1, 0),
    "getMemoryStats-cell": lambda: conn.getMemoryStats(-5, 0),
    "setLaunchSecurityState-empty": lambda: dom.setLaunchSecurityState({}, 0),
    "attachDevice-ro": lambda: rodom.attachDevice("<disk/>"),
    "blockResize-ro": lambda: rodom.blockResize("vda", 1, 0),
    "fdAssociate-empty": lambda: dom.FDAssociate("x", [], 0),
    # what libvirt-python's own argument parsing refuses, or lets through
    "baselineCPU-empty": lambda: conn.baselineCPU([], 0),
    "compareCPU-none": lambda: conn.compareCPU(None, 0),
    "compareHypervisorCPU-none": lambda: conn.compareHypervisorCPU(
        None, None, None, None, None, 0),
    "secretDefineXML-none": lambda: conn.secretDefineXML(None, 0),
    "secretLookupByUUID-short": lambda: conn.secretLookupByUUID(b"abc"),
    "lookupByUUID-short": lambda: conn.lookupByUUID(b"abc"),
    "networkLookupByUUID-none": lambda: conn.networkLookupByUUID(None),
    "nwfilterLookupByUUID-short": lambda: conn.nwfilterLookupByUUID(b"abc"),
    "portLookupByUUID-short": lambda: conn.networkLookupByName("default").portLookupByUUID(
        b"abc"),
    "nwfilterDefineXMLFlags-none": lambda: conn.nwfilterDefineXMLFlags(None, 0),
    "nwfilterBindingCreateXML-none": lambda: conn.nwfilterBindingCreateXML(None, 0),
    "listAllSecrets": lambda: conn.listAllSecrets(0),
    "listAllNWFilterBindings": lambda: conn.listAllNWFilterBindings(0),
    "domainXMLFromNative-none": lambda: conn.domainXMLFromNative(None, None, 0),
    "allocPages-empty": lambda: conn.allocPages({}, 0, 1, 0),
    "getSEVInfo": lambda: conn.getSEVInfo(0),
    "attachDevice-none": lambda: dom.attachDevice(None),
    "blockPeek-none": lambda: dom.blockPeek(None, 0, 1, 0),
    "blockJobInfo-none": lambda: dom.blockJobInfo(None, 0),
    "blockRebase-copy": lambda: dom.blockRebase("vda", None, 0, 8),
    "blockCopy-params-empty": lambda: dom.blockCopy("vda", "<disk/>", {}, 0),
    "setVcpu-none": lambda: dom.setVcpu(None, 1, 0),
    "backupBegin-none": lambda: dom.backupBegin(None, None, 0),
    "authorizedSSHKeysGet-none": lambda: dom.authorizedSSHKeysGet(None, 0),
    "authorizedSSHKeysSet-none": lambda: dom.authorizedSSHKeysSet(None, [], 0),
    "fdAssociate-none": lambda: dom.FDAssociate(None, [0], 0),
    "guestVcpus": lambda: dom.guestVcpus(0),
    "securityLabelList": lambda: dom.securityLabelList(),
    "setLaunchSecurityState-none": lambda: dom.setLaunchSecurityState(None, 0),
    "saveParams-empty": lambda: dom.saveParams({}, 0),
    "setIdentity-empty": lambda: conn.setIdentity({}, 0),
    "migrateGetCompressionCache": lambda: dom.migrateGetCompressionCache(0),
    "getCPUModelNames-none": lambda: conn.getCPUModelNames(None, 0),
    # typed-parameter setters: libvirt-python asks the getter first
    "setMemoryParameters-ro": lambda: rodom.setMemoryParameters({"hard_limit": 1}, 0),
    "setMemoryParameters-bogus": lambda: dom.setMemoryParameters({"bogus": 1}, 0),
    "setMemoryParameters-empty": lambda: dom.setMemoryParameters({}, 0),
    "setBlkioParameters-ro": lambda: rodom.setBlkioParameters({"weight": 1}, 0),
    "setSchedulerParameters-ro": lambda: rodom.setSchedulerParameters({"weight": 1}),
    "setSchedulerParametersFlags-bogus": lambda: dom.setSchedulerParametersFlags(
        {"bogus": 1}, 0),
    "setNumaParameters-ro": lambda: rodom.setNumaParameters({"numa_mode": 1}, 0),
    "setInterfaceParameters-bad": lambda: dom.setInterfaceParameters(
        "nope", {"inbound.average": 1}, 0),
    "setPerfEvents-ro": lambda: rodom.setPerfEvents({"cmt": True}, 0),
    "setBlockIoTune-bad": lambda: dom.setBlockIoTune("nope", {"total_bytes_sec": 1}, 0),
    "setIOThreadParams-bad": lambda: dom.setIOThreadParams(7, {"poll_max_ns": 1}, 0),
    "setMemoryParameters-unknown-flag": lambda: dom.setMemoryParameters(
        {"hard_limit": 1}, 1 << 20),
}

out = {}
for label, call in CALLS.items():
    out[label] = outcome(call)
    out[label + " last"] = last()

# a successful call clears the last error, in the hand-written paths too
events = {}
libvirt.virEventRegisterDefaultImpl()
steps = {
    "addTimeout": lambda: libvirt.virEventAddTimeout(-1, lambda t, o: None, None),
    "addHandle": lambda: libvirt.virEventAddHandle(0, 0, lambda *a: None, None),
}
ids = {}
for label, step in steps.items():
    outcome(lambda: conn.secretLookupByUUIDString("nope"))
    ids[label] = step()
    events[label] = last()
for label, step in {
        "updateTimeout": lambda: libvirt.virEventUpdateTimeout(ids["addTimeout"], 5),
        "updateHandle": lambda: libvirt.virEventUpdateHandle(ids["addHandle"], 1),
        "removeTimeout": lambda: libvirt.virEventRemoveTimeout(ids["addTimeout"]),
        "removeHandle": lambda: libvirt.virEventRemoveHandle(ids["addHandle"]),
        "domainEventRegisterAny": lambda: ids.__setitem__("cb", conn.domainEventRegisterAny(
            None, 0, lambda *a: None, None)),
        "domainEventDeregisterAny": lambda: conn.domainEventDeregisterAny(ids["cb"]),
        "networkEventRegisterAny": lambda: ids.__setitem__("ncb", conn.networkEventRegisterAny(
            None, 0, lambda *a: None, None)),
        "networkEventDeregisterAny": lambda: conn.networkEventDeregisterAny(ids["ncb"]),
        "storagePoolEventRegisterAny": lambda: ids.__setitem__(
            "scb", conn.storagePoolEventRegisterAny(None, 0, lambda *a: None, None)),
        "storagePoolEventDeregisterAny": lambda: conn.storagePoolEventDeregisterAny(ids["scb"]),
        "nodeDeviceEventRegisterAny": lambda: ids.__setitem__(
            "dcb", conn.nodeDeviceEventRegisterAny(None, 0, lambda *a: None, None)),
        "nodeDeviceEventDeregisterAny": lambda: conn.nodeDeviceEventDeregisterAny(ids["dcb"]),
        "domainEventRegister": lambda: conn.domainEventRegister(lambda *a: None, None),
        "registerCloseCallback": lambda: conn.registerCloseCallback(lambda *a: None, None),
        "unregisterCloseCallback": lambda: conn.unregisterCloseCallback(),
        "setKeepAlive": lambda: conn.setKeepAlive(5, 3),
        }.items():
    outcome(lambda: conn.secretLookupByUUIDString("nope"))
    events[label] = [outcome(step)[0], last()]
out["last error after success"] = events

# the old registration API's bookkeeping, an event ID libvirt-python has no
# callback for (libvirt is not asked: the last error stays), QEMU monitor events
f = lambda *a: None   # noqa: E731
fresh = libvirt.open("test:///default")
odd = {}
for label, step in (
        ("deregister-none", lambda: fresh.domainEventDeregister(f)),
        ("register", lambda: fresh.domainEventRegister(f, None)),
        ("deregister-other", lambda: fresh.domainEventDeregister(lambda *a: 1)),
        ("deregister", lambda: fresh.domainEventDeregister(f)),
        ("deregister-again", lambda: fresh.domainEventDeregister(f)),
        ("domainEventRegisterAny-999", lambda: conn.domainEventRegisterAny(
            None, 999, f, None)),
        ("qemuMonitorEventRegister", lambda: libvirt_qemu.qemuMonitorEventRegister(
            conn, None, None, f, None, 0))):
    outcome(lambda: conn.secretLookupByUUIDString("nope"))
    odd[label] = [outcome(step), last()]
out["registrations"] = odd
print(json.dumps(out, sort_keys=True))
