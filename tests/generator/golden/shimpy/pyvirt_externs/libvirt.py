# Generated from apispec/libvirt.xml by pyvirt's generator; do not edit.
# One cffi extern per function that libvirt.so.0 exports from Python: each
# converts C arguments, calls pyvirt.api and converts the result back; any
# exception becomes the thread's virError and the function's error value.

from _pyvirt_libvirt_cffi import ffi, lib
from pyvirt_shim import runtime as rt
try:
    from pyvirt import api
except Exception as _e:   # every call then reports why pyvirt could not start
    api = rt.Unavailable(_e)

rt.bind(ffi, lib, getattr(api, "virConnectClose", None))
rt.OBJECT_ERRORS.update({})
rt.FUNCTYPES.update({'virTickCallback': ['virConnectPtr', 'void *']})
rt.EVENT_CALLBACKS.update({'virConnectDomainEventRegisterAny': ('virConnectDomainEventCallback', 'virConnectDomainEventGenericCallback', 'virConnectDomainEventRTCChangeCallback', 'virConnectDomainEventWatchdogCallback', 'virConnectDomainEventIOErrorCallback', 'virConnectDomainEventGraphicsCallback', 'virConnectDomainEventIOErrorReasonCallback', 'virConnectDomainEventGenericCallback', 'virConnectDomainEventBlockJobCallback', 'virConnectDomainEventDiskChangeCallback', 'virConnectDomainEventTrayChangeCallback', 'virConnectDomainEventPMWakeupCallback', 'virConnectDomainEventPMSuspendCallback', 'virConnectDomainEventBalloonChangeCallback', 'virConnectDomainEventPMSuspendDiskCallback', 'virConnectDomainEventDeviceRemovedCallback', 'virConnectDomainEventBlockJobCallback', 'virConnectDomainEventTunableCallback', 'virConnectDomainEventAgentLifecycleCallback', 'virConnectDomainEventDeviceAddedCallback', 'virConnectDomainEventMigrationIterationCallback', 'virConnectDomainEventJobCompletedCallback', 'virConnectDomainEventDeviceRemovalFailedCallback', 'virConnectDomainEventMetadataChangeCallback', 'virConnectDomainEventBlockThresholdCallback', 'virConnectDomainEventMemoryFailureCallback', 'virConnectDomainEventMemoryDeviceSizeChangeCallback'), 'virConnectNetworkEventRegisterAny': ('virConnectNetworkEventLifecycleCallback',), 'virConnectStoragePoolEventRegisterAny': ('virConnectStoragePoolEventLifecycleCallback', 'virConnectStoragePoolEventGenericCallback'), 'virConnectNodeDeviceEventRegisterAny': ('virConnectNodeDeviceEventLifecycleCallback', 'virConnectNodeDeviceEventGenericCallback'), 'virConnectSecretEventRegisterAny': ('virConnectSecretEventLifecycleCallback', 'virConnectSecretEventGenericCallback')})
rt.STRUCTS.update({'_virInfo': [('state', 'unsigned char', None), ('name', 'char', 16), ('value', 'union', None)]})
rt.STRUCT_PTRS.update({'virConnectPtr': '_virConnect', 'virInfoPtr': '_virInfo'})

_NULL = ffi.NULL
_reset = rt.lib.pyvirt_reset_error   # libvirt's thread-local error, reset at each entry
                                     # (in C, by entry.c, for libvirt.so.0's own externs)
# Bound once here: each extern below reads them as module globals, not as
# attributes of rt, ffi or lib on every call.
_boxes = rt.HANDLES   # handle -> Box: a direct dict hit per handle argument
_string = ffi.string
_strdup = rt.lib.strdup


# virOpen
_F_virOpen = rt.Fn("virOpen", 0)
_api_virOpen = getattr(api, "virOpen", None)


@ffi.def_extern(name="pyvirt_py_virOpen", error=ffi.NULL)
def _virOpen(name):
    F = _F_virOpen
    try:
        a_name = None if name == _NULL else _string(name).decode()
        impl = _api_virOpen
        if impl is None:
            raise rt.unsupported(F)
        r = impl(a_name)
        return rt.new_handle(r, "virConnectPtr")   # a void *: cffi returns it as any pointer
    except BaseException as e:
        rt.fail(e, F)
        return ffi.NULL


# virGetInfo
_F_virGetInfo = rt.Fn("virGetInfo", 0)
_api_virGetInfo = getattr(api, "virGetInfo", None)


@ffi.def_extern(name="pyvirt_py_virGetInfo", error=-1)
def _virGetInfo(conn, info):
    F = _F_virGetInfo
    try:
        b = _boxes.get(conn)
        if b is None or b.ctype != "virConnectPtr":
            raise rt.invalid("virConnectPtr", F)
        a_conn = b.obj
        if info == _NULL:
            raise rt.null_arg("info", F)
        impl = _api_virGetInfo
        if impl is None:
            raise rt.unsupported(F)
        r = impl(a_conn)
        rt.fill(info, [('state', 'unsigned char', None), ('name', 'char', 16), ('value', 'union', None)], r)
        return 0
    except BaseException as e:
        rt.fail(e, F, conn)
        return -1


# virGetName
_F_virGetName = rt.Fn("virGetName", 0)
_api_virGetName = getattr(api, "virGetName", None)


@ffi.def_extern(name="pyvirt_py_virGetName", error=ffi.NULL)
def _virGetName(conn, flags):
    F = _F_virGetName
    try:
        b = _boxes.get(conn)
        if b is None or b.ctype != "virConnectPtr":
            raise rt.invalid("virConnectPtr", F)
        a_conn = b.obj
        a_flags = flags
        impl = _api_virGetName
        if impl is None:
            raise rt.unsupported(F)
        r = impl(a_conn, a_flags)
        return _NULL if r is None else _strdup(r.encode())
    except BaseException as e:
        rt.fail(e, F, conn)
        return ffi.NULL
