"""libvirt-python's naming rules, in one place: which class a C function belongs
to, what its method is called, which arguments have defaults.

The generator (generator.python.plan) and the tests (tests/python) both use
:class:`Conventions`; anything the rules cannot derive is in the tables below,
each entry with its reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Function

# Object kinds, longest stem first so that 'NodeDevice' wins over 'Node' and
# 'DomainSnapshot' over 'Domain'.  stem -> (Python class, prefix used when a
# method of another class acts on this kind, e.g. virConnect.networkLookupByName).
KINDS: dict[str, tuple[str, str]] = {
    "DomainCheckpoint": ("virDomainCheckpoint", "checkpoint"),
    "DomainSnapshot": ("virDomainSnapshot", "snapshot"),
    "NWFilterBinding": ("virNWFilterBinding", "nwfilterBinding"),
    "NetworkPort": ("virNetworkPort", "port"),
    "StoragePool": ("virStoragePool", "storagePool"),
    "StorageVol": ("virStorageVol", "storageVol"),
    "NodeDevice": ("virNodeDevice", "nodeDevice"),
    "Interface": ("virInterface", "interface"),
    "NWFilter": ("virNWFilter", "nwfilter"),
    "Network": ("virNetwork", "network"),
    "Connect": ("virConnect", ""),
    "Domain": ("virDomain", ""),
    "Secret": ("virSecret", "secret"),
    "Stream": ("virStream", ""),
    "Node": ("virConnect", ""),
}
STEMS = sorted(KINDS, key=len, reverse=True)

# Handle type -> (Python class, what its constructor takes besides _obj).
CLASSES: dict[str, tuple[str, str]] = {
    "virConnectPtr": ("virConnect", ""),
    "virDomainPtr": ("virDomain", "conn"),
    "virNetworkPtr": ("virNetwork", "conn"),
    "virNetworkPortPtr": ("virNetworkPort", "net"),
    "virInterfacePtr": ("virInterface", "conn"),
    "virStoragePoolPtr": ("virStoragePool", "conn"),
    "virStorageVolPtr": ("virStorageVol", "conn"),
    "virNodeDevicePtr": ("virNodeDevice", "conn"),
    "virSecretPtr": ("virSecret", "conn"),
    "virNWFilterPtr": ("virNWFilter", "conn"),
    "virNWFilterBindingPtr": ("virNWFilterBinding", "conn"),
    "virStreamPtr": ("virStream", "conn"),
    "virDomainSnapshotPtr": ("virDomainSnapshot", "dom"),
    "virDomainCheckpointPtr": ("virDomainCheckpoint", "dom"),
}

# Classes whose getters lose their 'Get' (virDomainGetInfo -> info);
# virConnect, virStream and the snapshot/checkpoint classes keep it.
STRIP_GET = {"virDomain", "virNetwork", "virNetworkPort", "virInterface", "virStoragePool",
             "virStorageVol", "virNodeDevice", "virSecret", "virNWFilter", "virNWFilterBinding"}

# Lower-casing the first letter of an acronym: libvirt-python keeps these whole.
ACRONYMS = {"iD": "ID", "uUID": "UUID", "uUIDString": "UUIDString", "oSType": "OSType",
            "xMLDesc": "XMLDesc", "mACString": "MACString", "dHCPLeases": "DHCPLeases",
            "iOThreadInfo": "ioThreadInfo", "fSInfo": "fsInfo"}


@dataclass(frozen=True)
class Override:
    """One exception to the rules, with the reason it exists."""
    reason: str
    name: str | None = None           # the method or function name
    skip: bool = False                # not generated: hand-written in the template, or not exposed
    cls: str | None = None            # put on this class instead of the first argument's


# Reasons shared by many entries.
HANDLE = "handle life cycle: the wrapper object's lifetime does it (__del__)"
HAND = "hand-written in templates/python/libvirt.py.j2: shape the spec cannot say"
MODULE = "a module function in libvirt-python"
NOT_PY = "not exposed by libvirt-python (C-only helper)"

OVERRIDES: dict[str, Override] = {
    # module functions with libvirt-python's short names
    "virConnectOpen": Override(MODULE, name="open", cls=""),
    "virConnectOpenReadOnly": Override(MODULE, name="openReadOnly", cls=""),
    "virConnectOpenAuth": Override(HAND, skip=True),
    "virGetVersion": Override(HAND, skip=True),
    "virInitialize": Override(HAND, skip=True),
    # error API: libvirt-python's are thread-local tuples kept by the module
    "virGetLastError": Override(HAND, skip=True), "virResetLastError": Override(HAND, skip=True),
    "virGetLastErrorCode": Override(HAND, skip=True),
    "virGetLastErrorDomain": Override(HAND, skip=True),
    "virGetLastErrorMessage": Override(HAND, skip=True),
    "virConnGetLastError": Override(HAND, skip=True),
    "virConnResetLastError": Override(HAND, skip=True),
    "virSetErrorFunc": Override(HAND, skip=True), "virConnSetErrorFunc": Override(HAND, skip=True),
    "virCopyLastError": Override(NOT_PY, skip=True), "virConnCopyLastError": Override(NOT_PY, skip=True),
    "virSaveLastError": Override(NOT_PY, skip=True), "virFreeError": Override(NOT_PY, skip=True),
    "virResetError": Override(NOT_PY, skip=True), "virDefaultErrorFunc": Override(NOT_PY, skip=True),
    # events and callbacks: Python callables plus an opaque value
    "virEventAddHandle": Override(HAND, skip=True), "virEventAddTimeout": Override(HAND, skip=True),
    "virEventRegisterImpl": Override(HAND, skip=True),
    "virConnectDomainEventRegister": Override(HAND, skip=True),
    "virConnectDomainEventDeregister": Override(HAND, skip=True),
    "virConnectDomainEventRegisterAny": Override(HAND, skip=True),
    "virConnectDomainEventDeregisterAny": Override(HAND, skip=True),
    "virConnectNetworkEventRegisterAny": Override(HAND, skip=True),
    "virConnectNetworkEventDeregisterAny": Override(HAND, skip=True),
    "virConnectStoragePoolEventRegisterAny": Override(HAND, skip=True),
    "virConnectStoragePoolEventDeregisterAny": Override(HAND, skip=True),
    "virConnectNodeDeviceEventRegisterAny": Override(HAND, skip=True),
    "virConnectNodeDeviceEventDeregisterAny": Override(HAND, skip=True),
    "virConnectSecretEventRegisterAny": Override(HAND, skip=True),
    "virConnectSecretEventDeregisterAny": Override(HAND, skip=True),
    "virConnectRegisterCloseCallback": Override(HAND, skip=True),
    "virConnectUnregisterCloseCallback": Override(HAND, skip=True),
    "virStreamEventAddCallback": Override(HAND, skip=True),
    "virStreamSendAll": Override(HAND, skip=True), "virStreamRecvAll": Override(HAND, skip=True),
    "virStreamSparseSendAll": Override(HAND, skip=True),
    "virStreamSparseRecvAll": Override(HAND, skip=True),
    "virStreamSend": Override(HAND, skip=True), "virStreamRecv": Override(HAND, skip=True),
    "virStreamRecvFlags": Override(HAND, skip=True),
    "virStreamSendHole": Override(HAND, skip=True), "virStreamRecvHole": Override(HAND, skip=True),
    "virConnectClose": Override(HAND, skip=True),
    "virConnectGetAllDomainStats": Override(HAND, skip=True),
    "virDomainListGetStats": Override(HAND, skip=True),
    "virDomainStatsRecordListFree": Override(NOT_PY, skip=True),
    "virDomainCreateXMLWithFiles": Override(HAND, skip=True),
    "virDomainCreateWithFiles": Override(HAND, skip=True),
    "virDomainFDAssociate": Override(HAND, skip=True),
    "virDomainFSFreeze": Override(HAND, skip=True), "virDomainFSThaw": Override(HAND, skip=True),
    "virDomainGetTime": Override(HAND, skip=True), "virDomainSetTime": Override(HAND, skip=True),
    "virDomainGetConnect": Override(HAND, skip=True),
    # cpumaps as tuples of booleans, sized from the host's CPU count
    "virDomainGetVcpus": Override(HAND, skip=True),
    "virDomainGetVcpuPinInfo": Override(HAND, skip=True),
    "virDomainGetEmulatorPinInfo": Override(HAND, skip=True),
    "virNodeGetCPUMap": Override(HAND, skip=True),
    "virDomainGetCPUStats": Override(HAND + ": a list of dicts, one per CPU, or the total",
                                     skip=True),
    # {page size: count} dicts for parallel C arrays
    "virNodeAllocPages": Override(HAND, skip=True),
    "virNodeGetFreePages": Override(HAND, skip=True),
    "virDomainSnapshotGetConnect": Override(HAND, skip=True),
    "virDomainSnapshotGetDomain": Override(HAND, skip=True),
    "virDomainCheckpointGetConnect": Override(HAND, skip=True),
    "virDomainCheckpointGetDomain": Override(HAND, skip=True),
    # virDomain.listAllSnapshots & co return lists of wrapped objects: generic, but
    # libvirt-python's names for the snapshot/checkpoint helpers differ from the rules
    "virConnectListDomains": Override("libvirt-python's name: ids, not domains",
                                      name="listDomainsID"),
    "virDomainSnapshotListNames": Override("libvirt-python's name", name="snapshotListNames"),
    "virDomainSnapshotNum": Override("libvirt-python's name", name="snapshotNum"),
    "virDomainSnapshotCurrent": Override("libvirt-python's name", name="snapshotCurrent"),
    "virDomainSnapshotCreateXML": Override("libvirt-python's name", name="snapshotCreateXML"),
    "virDomainSnapshotLookupByName": Override("libvirt-python's name", name="snapshotLookupByName"),
    "virDomainHasCurrentSnapshot": Override("libvirt-python's name", name="hasCurrentSnapshot"),
    "virDomainRevertToSnapshot": Override("a domain method in libvirt-python", cls="virDomain",
                                          name="revertToSnapshot"),
    "virDomainSnapshotListChildrenNames": Override("libvirt-python's name",
                                                   name="listChildrenNames"),
    "virDomainSnapshotNumChildren": Override("libvirt-python's name", name="numChildren"),
    "virDomainSnapshotListAllChildren": Override("libvirt-python's name", name="listAllChildren"),
    "virDomainCheckpointLookupByName": Override("libvirt-python's name", name="checkpointLookupByName"),
    "virDomainCheckpointCreateXML": Override("libvirt-python's name", name="checkpointCreateXML"),
    "virStorageVolCreateXML": Override("libvirt-python's name", name="createXML"),
    "virStorageVolCreateXMLFrom": Override("libvirt-python's name", name="createXMLFrom"),
    "virStorageVolLookupByName": Override("libvirt-python's name", name="storageVolLookupByName"),
    "virStoragePoolListVolumes": Override("libvirt-python's name", name="listVolumes"),
    "virStoragePoolNumOfVolumes": Override("libvirt-python's name", name="numOfVolumes"),
    "virStoragePoolListAllVolumes": Override("libvirt-python's name", name="listAllVolumes"),
    "virNodeDeviceGetName": Override("libvirt-python's name", name="name"),
    "virNodeDeviceGetParent": Override("libvirt-python's name", name="parent"),
    "virNodeDeviceGetXMLDesc": Override("libvirt-python's name", name="XMLDesc"),
    "virNodeDeviceGetAutostart": Override("libvirt-python's name", name="autostart"),
    "virStreamNew": Override("libvirt-python's name", name="newStream"),
    "virInterfaceChangeBegin": Override("libvirt-python's name", name="changeBegin"),
    "virInterfaceChangeCommit": Override("libvirt-python's name", name="changeCommit"),
    "virInterfaceChangeRollback": Override("libvirt-python's name", name="changeRollback"),
    "virConnectListAllNodeDevices": Override("libvirt-python's name", name="listAllDevices"),
}
for _name in ("virDomainIOThreadInfoFree", "virDomainFSInfoFree", "virDomainInterfaceFree",
              "virNetworkDHCPLeaseFree", "virTypedParamsGet", "virTypedParamsClear",
              "virTypedParamsFree", "virTypedParamsAddStringList", "virTypedParamsAddFromString"):
    OVERRIDES[_name] = Override(NOT_PY + ": Python values free themselves", skip=True)
for _t in ("Int", "UInt", "LLong", "ULLong", "Double", "Boolean", "String"):
    OVERRIDES[f"virTypedParamsGet{_t}"] = Override(NOT_PY + ": typed parameters are dicts",
                                                   skip=True)
    OVERRIDES[f"virTypedParamsAdd{_t}"] = Override(NOT_PY + ": typed parameters are dicts",
                                                   skip=True)
for _kind in ("Domain", "Network", "Interface", "StoragePool", "StorageVol", "NodeDevice",
              "Secret", "NWFilter", "NWFilterBinding", "Stream", "DomainSnapshot",
              "DomainCheckpoint", "NetworkPort"):
    OVERRIDES.setdefault(f"vir{_kind}Ref", Override(HANDLE, skip=True))
    OVERRIDES.setdefault(f"vir{_kind}Free", Override(HANDLE, skip=True))
OVERRIDES["virConnectRef"] = Override(HANDLE, skip=True)

# The companion modules: their functions are module functions named without
# 'virDomain' (virDomainQemuMonitorCommand -> libvirt_qemu.qemuMonitorCommand).
SUBMODULES = {"libvirt-qemu": "libvirt_qemu", "libvirt-lxc": "libvirt_lxc"}
OVERRIDES.update({
    "virDomainLxcEnterNamespace": Override(NOT_PY + ": acts on the calling process", skip=True),
    "virDomainLxcEnterSecurityLabel": Override(NOT_PY + ": acts on the calling process",
                                               skip=True),
    "virConnectDomainQemuMonitorEventRegister": Override(HAND, skip=True),
    "virConnectDomainQemuMonitorEventDeregister": Override(HAND, skip=True),
    "virDomainQemuMonitorCommandWithFiles": Override(HAND, skip=True),
})

# Arguments libvirt-python gives a default, beyond 'flags=0' (its signatures).
DEFAULTS: dict[str, dict[str, str]] = {
    "virConnectOpen": {"name": "None"},
    "virConnectOpenReadOnly": {"name": "None"},
    "virNodeAllocPages": {"startCell": "0", "cellCount": "0"},
    "virConnectGetDomainCapabilities": {"emulatorbin": "None", "arch": "None",
                                        "machine": "None", "virttype": "None"},
    "virDomainRestoreFlags": {"dxml": "None"},
    "virDomainSaveFlags": {"dxml": "None"},
    "virDomainAuthorizedSSHKeysSet": {"keys": "None"},
    "virDomainBlockCommit": {"bandwidth": "0"},
    "virDomainBlockCopy": {"params": "None"},
    "virDomainBlockPull": {"bandwidth": "0"},
    "virDomainBlockRebase": {"bandwidth": "0"},
    "virDomainGetGuestInfo": {"types": "0"},
    "virDomainMigrate": {"dname": "None", "uri": "None", "bandwidth": "0"},
    "virDomainMigrate2": {"dxml": "None", "dname": "None", "uri": "None", "bandwidth": "0"},
    "virDomainMigrateToURI": {"dname": "None", "bandwidth": "0"},
    "virDomainMigrateToURI2": {"dconnuri": "None", "miguri": "None", "dxml": "None",
                               "dname": "None", "bandwidth": "0"},
    "virNetworkGetDHCPLeases": {"mac": "None"},
}


def lower_first(name: str) -> str:
    low = name[:1].lower() + name[1:]
    return ACRONYMS.get(low, low)


def stem_of(c_name: str) -> str | None:
    rest = c_name[3:]
    return next((s for s in STEMS if rest.startswith(s) and rest[len(s):][:1].isupper()), None)


class Conventions:
    """Where a C function lands in libvirt-python, and under which name."""

    overrides = OVERRIDES

    def skipped(self, fn: Function) -> bool:
        o = OVERRIDES.get(fn.name)
        return bool(o and o.skip)

    def class_of(self, fn: Function) -> str:
        """The Python class holding fn as a method, or '' for a module function."""
        if fn.file in SUBMODULES:
            return ""
        o = OVERRIDES.get(fn.name)
        if o is not None and o.cls is not None:
            return o.cls
        first = fn.args[0].type if fn.args else ""
        return CLASSES[first][0] if first in CLASSES else ""

    def method_name(self, fn: Function) -> str:
        o = OVERRIDES.get(fn.name)
        if o is not None and o.name:
            return o.name
        if fn.file in SUBMODULES:
            return lower_first(re.sub(r"^vir(Connect)?Domain", "", fn.name))
        cls = self.class_of(fn)
        if not cls:
            return fn.name
        stem = stem_of(fn.name)
        if stem is None:
            return lower_first(fn.name[3:])
        rest = fn.name[3 + len(stem):]
        owner, prefix = KINDS[stem]
        if owner == cls or (owner == "virDomain" and cls == "virConnect"):
            if owner == cls and cls in STRIP_GET and re.match(r"Get[A-Z]", rest):
                rest = rest[3:]
            return lower_first(rest)
        return prefix + rest if prefix else lower_first(rest)

    def default(self, fn: Function, arg_name: str) -> str | None:
        if fn.file in SUBMODULES:
            return None   # libvirt_qemu and libvirt_lxc give no defaults
        if arg_name == "flags":
            return "0"
        return DEFAULTS.get(fn.name, {}).get(arg_name)

# libvirtError's subclasses, one per family of error codes (pyvirt's addition:
# each is still a libvirtError with the same get_error_code()).
ERROR_FAMILIES: dict[str, tuple[str, ...]] = {
    "libvirtNoSupportError": ("VIR_ERR_NO_SUPPORT",),
    "libvirtInvalidArgError": ("VIR_ERR_INVALID_ARG",),
    "libvirtOperationInvalidError": ("VIR_ERR_OPERATION_INVALID",),
    "libvirtAccessError": ("VIR_ERR_OPERATION_DENIED", "VIR_ERR_ACCESS_DENIED",
                           "VIR_ERR_AUTH_FAILED", "VIR_ERR_AUTH_CANCELLED",
                           "VIR_ERR_AUTH_UNAVAILABLE"),
    "libvirtNotFoundError": (
        "VIR_ERR_NO_DOMAIN", "VIR_ERR_NO_NETWORK", "VIR_ERR_NO_NETWORK_PORT",
        "VIR_ERR_NO_STORAGE_POOL", "VIR_ERR_NO_STORAGE_VOL", "VIR_ERR_NO_INTERFACE",
        "VIR_ERR_NO_NODE_DEVICE", "VIR_ERR_NO_SECRET", "VIR_ERR_NO_NWFILTER",
        "VIR_ERR_NO_NWFILTER_BINDING", "VIR_ERR_NO_DOMAIN_SNAPSHOT",
        "VIR_ERR_NO_DOMAIN_CHECKPOINT", "VIR_ERR_NO_DOMAIN_BACKUP",
        "VIR_ERR_NO_DOMAIN_METADATA"),
    "libvirtExistsError": ("VIR_ERR_DOM_EXIST", "VIR_ERR_NETWORK_EXIST"),
    "libvirtXMLError": ("VIR_ERR_XML_ERROR", "VIR_ERR_XML_DETAIL", "VIR_ERR_XML_INVALID_SCHEMA"),
    "libvirtInvalidObjectError": (
        "VIR_ERR_INVALID_CONN", "VIR_ERR_INVALID_DOMAIN", "VIR_ERR_INVALID_NETWORK",
        "VIR_ERR_INVALID_NETWORK_PORT", "VIR_ERR_INVALID_STORAGE_POOL",
        "VIR_ERR_INVALID_STORAGE_VOL", "VIR_ERR_INVALID_INTERFACE",
        "VIR_ERR_INVALID_NODE_DEVICE", "VIR_ERR_INVALID_SECRET", "VIR_ERR_INVALID_NWFILTER",
        "VIR_ERR_INVALID_NWFILTER_BINDING", "VIR_ERR_INVALID_STREAM",
        "VIR_ERR_INVALID_DOMAIN_SNAPSHOT", "VIR_ERR_INVALID_DOMAIN_CHECKPOINT"),
    "libvirtConnectionError": ("VIR_ERR_NO_CONNECT", "VIR_ERR_RPC", "VIR_ERR_SYSTEM_ERROR",
                               "VIR_ERR_OPEN_FAILED"),
    "libvirtInternalError": ("VIR_ERR_INTERNAL_ERROR", "VIR_ERR_OPERATION_FAILED"),
}

# Functions that leave the thread's last error as it is: libvirt's event-loop
# entry points do not reset it, even when they succeed (the Add ones are
# hand-written in the template and leave it too).
KEEPS_LAST_ERROR = frozenset({
    "virEventUpdateHandle", "virEventRemoveHandle", "virEventUpdateTimeout",
    "virEventRemoveTimeout",
})

# Arguments libvirt-python's own argument parsing refuses before it calls
# libvirt (the last error is neither reset nor set): "str" or "dict" raise
# TypeError for another type (None included); "uuid" (not VIR_UUID_BUFLEN
# bytes, or None) makes the call fail with the thread's last error as it was.
PY_ARG_CHECKS: dict[str, dict[str, str]] = {
    "virDomainLookupByUUID": {"uuid": "uuid"},
    "virNetworkLookupByUUID": {"uuid": "uuid"},
    "virStoragePoolLookupByUUID": {"uuid": "uuid"},
    "virSecretLookupByUUID": {"uuid": "uuid"},
    "virNWFilterLookupByUUID": {"uuid": "uuid"},
    "virNetworkPortLookupByUUID": {"uuid": "uuid"},
    "virDomainAuthorizedSSHKeysGet": {"user": "str"},
    "virDomainAuthorizedSSHKeysSet": {"user": "str"},
    "virConnectGetCPUModelNames": {"arch": "str"},
    "virDomainSetLaunchSecurityState": {"params": "dict"},
}

# Listings libvirt-python sizes with a count first (an error names the count's
# function), asking for the list only when that count is not zero.
LIST_COUNTS: dict[str, str] = {
    "virConnectListDomains": "virConnectNumOfDomains",
    "virConnectListDefinedDomains": "virConnectNumOfDefinedDomains",
    "virConnectListNetworks": "virConnectNumOfNetworks",
    "virConnectListDefinedNetworks": "virConnectNumOfDefinedNetworks",
    "virConnectListStoragePools": "virConnectNumOfStoragePools",
    "virConnectListDefinedStoragePools": "virConnectNumOfDefinedStoragePools",
    "virConnectListInterfaces": "virConnectNumOfInterfaces",
    "virConnectListDefinedInterfaces": "virConnectNumOfDefinedInterfaces",
    "virConnectListSecrets": "virConnectNumOfSecrets",
    "virConnectListNWFilters": "virConnectNumOfNWFilters",
    "virNodeListDevices": "virNodeNumOfDevices",
    "virNodeDeviceListCaps": "virNodeDeviceNumOfCaps",
    "virStoragePoolListVolumes": "virStoragePoolNumOfVolumes",
    "virDomainSnapshotListNames": "virDomainSnapshotNum",
    "virDomainSnapshotListChildrenNames": "virDomainSnapshotNumChildren",
}

# Methods whose failure libvirt-python reports by returning None (the error
# is recorded as the last error and handed to the error handler, not raised).
NONE_ON_ERROR = frozenset({"virDomainGetGuestVcpus", "virDomainMigrateGetCompressionCache",
                           "virDomainMigrateGetMaxDowntime"})

# How a result is reshaped where libvirt-python's shape is not the generic one.
RESULT_HELPERS: dict[str, tuple[str, str]] = {
    "virNodeGetInfo": ("_node_info", "libvirt-python reports the node's memory in MiB"),
    "virDomainBlockStats": ("_tuple", "libvirt-python returns the counters as a tuple"),
    "virDomainInterfaceStats": ("_tuple", "libvirt-python returns the counters as a tuple"),
    "virDomainMemoryStats": ("_memory_stats", "libvirt-python returns {name: value}"),
    "virDomainGetDiskErrors": ("_disk_errors", "libvirt-python returns {disk: error code}"),
    "virNodeGetCPUStats": ("_field_values", "libvirt-python returns {field: value}"),
    "virNodeGetMemoryStats": ("_field_values", "libvirt-python returns {field: value}"),
    "virDomainGetJobStats": ("_job_stats", "libvirt-python adds the job's type as 'type'"),
    "virDomainGetBlockJobInfo": ("_block_job_info", "libvirt-python returns {type, bandwidth, "
                                 "cur, end}, and {} when the disk has no job (the C call's 0)"),
}

# The typed-parameter types libvirt-python gives some fields of an input dict
# (its virPyTypedParamsHint tables); other fields take their value's type.
PARAM_HINTS: dict[str, dict[str, int]] = {
    "virDomainBlockCopy": {"bandwidth": 4, "granularity": 2, "buf-size": 4},  # ullong, uint
}

# libvirt-python's parameter names where they differ from the C argument names.
RENAMES: dict[str, dict[str, str]] = {
    "virInterfaceDefineXML": {"xmlDesc": "xml"},
    "virInterfaceLookupByMACString": {"mac": "macstr"},
    "virNetworkDefineXML": {"xmlDesc": "xml"},
    "virNetworkDefineXMLFlags": {"xmlDesc": "xml"},
    "virStoragePoolDefineXML": {"xmlDesc": "xml"},
    "virDomainLookupByUUIDString": {"uuid": "uuidstr"},
    "virNetworkLookupByUUIDString": {"uuid": "uuidstr"},
    "virNWFilterLookupByUUIDString": {"uuid": "uuidstr"},
    "virSecretLookupByUUIDString": {"uuid": "uuidstr"},
    "virStoragePoolLookupByUUIDString": {"uuid": "uuidstr"},
    "virDomainRestore": {"from": "frm"},
    "virDomainQemuAttach": {"domain": "conn"},
    "virDomainRestoreFlags": {"from": "frm"},
    "virDomainGetBlockInfo": {"disk": "path"},
    "virDomainGetBlockJobInfo": {"disk": "path"},
    "virDomainBlockStatsFlags": {"disk": "path"},
    "virDomainPinIOThread": {"iothread_id": "iothread_val"},
    "virDomainSetIOThreadParams": {"iothread_id": "iothread_val"},
    "virEventUpdateTimeout": {"frequency": "timeout"},
    "virStorageVolCreateXML": {"xmldesc": "xmlDesc"},
    "virStorageVolCreateXMLFrom": {"xmldesc": "xmlDesc"},
    "virDomainRevertToSnapshot": {"snapshot": "snap"},
    "virDomainBlockStats": {"disk": "path"},
    "virDomainInterfaceStats": {"device": "path"},
}

# Caller-buffer maxima that libvirt-python fills in itself (it returns every
# element); the spec does not link them to their output array.
MAXIMA: dict[str, str] = {
    "virDomainGetDiskErrors": "maxerrors",
    "virDomainSnapshotListNames": "nameslen",
    "virDomainSnapshotListChildrenNames": "nameslen",
}

# Output-array capacities that libvirt-python leaves to the caller as an argument.
USER_MAXIMA: dict[str, str] = {
    "virNodeGetCellsFreeMemory": "maxCells",   # getCellsFreeMemory(startCell, maxCells)
    "virDomainSendKey": "nkeycodes",   # sendKey(..., keycodes, nkeycodes): must be len(keycodes)
}

# Arguments libvirt-python does not expose, with the value it passes itself.
FIXED: dict[str, dict[str, str]] = {
    "virDomainBlockStats": {"size": "40"},        # sizeof(virDomainBlockStatsStruct)
    "virDomainInterfaceStats": {"size": "64"},    # sizeof(virDomainInterfaceStatsStruct)
    "virDomainMemoryStats": {"flags": "0"},       # memoryStats() takes no flags
    # libvirt-python counts first, then lists that many (a driver without
    # secrets or filters is reported by the count function)
    "virConnectListSecrets": {"maxuuids": "_api_virConnectNumOfSecrets(self._o)"},
    "virConnectListNWFilters": {"maxnames": "_api_virConnectNumOfNWFilters(self._o)"},
}

# Constants libvirt-python exposes although the spec marks them as sentinels.
CONSTANT_EXTRAS: dict[str, str] = {
    "VIR_DOMAIN_MEMORY_STAT_LAST": "an alias of VIR_DOMAIN_MEMORY_STAT_NR that libvirt-python keeps",
}

# The asyncio-native module (libvirt_asyncio): accessors that only read what the
# handle already holds never block, so they run directly instead of in a thread.
NEVER_BLOCKS = r"^vir[A-Za-z]+Get(Name|UUID|UUIDString|ID|Key|Path|MACString)$"
