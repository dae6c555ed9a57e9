"""Public node device functions (virNodeDevice*, virNode*Devices,
virConnectListAllNodeDevices) and node device event registration."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..events import KIND_NODEDEV, dispatcher
from ..objects import Connect, NodeDevice
from . import _common as c

ND = ErrorDomain.VIR_FROM_NODEDEV
VIR_NODE_DEVICE_EVENT_ID_LAST = 2

__all__ = [
    "virNodeNumOfDevices", "virNodeListDevices", "virConnectListAllNodeDevices",
    "virNodeDeviceLookupByName", "virNodeDeviceLookupSCSIHostByWWN",
    "virNodeDeviceGetXMLDesc", "virNodeDeviceGetParent", "virNodeDeviceNumOfCaps",
    "virNodeDeviceListCaps", "virNodeDeviceCreateXML", "virNodeDeviceDestroy",
    "virNodeDeviceDefineXML", "virNodeDeviceUndefine", "virNodeDeviceCreate",
    "virNodeDeviceGetName", "virNodeDeviceDettach", "virNodeDeviceDetachFlags",
    "virNodeDeviceReAttach", "virNodeDeviceReset", "virNodeDeviceGetAutostart",
    "virNodeDeviceSetAutostart", "virNodeDeviceIsActive", "virNodeDeviceIsPersistent",
    "virConnectNodeDeviceEventRegisterAny", "virConnectNodeDeviceEventDeregisterAny",
]


def _conn(conn: Any, fn: str) -> Connect:
    return c.conn(conn, fn, ND)


def _dev(dev: Any, fn: str) -> NodeDevice:
    result: NodeDevice = c.handle(dev, NodeDevice, ErrorNumber.VIR_ERR_INVALID_NODE_DEVICE,
                                  ND, fn)
    return result


def _on_dev(dev: Any, fn: str, *args: Any, write: bool = False) -> Any:
    d = _dev(dev, fn)
    return c.call(d.conn, fn, ND, d, *args, write=write)


def virNodeNumOfDevices(conn: Connect, cap: Optional[str], flags: int) -> int:
    fn = "virNodeNumOfDevices"
    return int(c.call(_conn(conn, fn), fn, ND, cap, flags))


def virNodeListDevices(conn: Connect, cap: Optional[str], maxnames: int,
                       flags: int) -> list[str]:
    fn = "virNodeListDevices"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, ND)
    return list(c.call(cn, fn, ND, cap, flags))[:maxnames]


def virConnectListAllNodeDevices(conn: Connect, flags: int) -> list[NodeDevice]:
    fn = "virConnectListAllNodeDevices"
    cn = _conn(conn, fn)
    return list(c.call(cn, fn, ND, cn, flags))


def virNodeDeviceLookupByName(conn: Connect, name: Optional[str]) -> NodeDevice:
    fn = "virNodeDeviceLookupByName"
    cn = _conn(conn, fn)
    c.non_null(name, "name", fn, ND)
    result: NodeDevice = c.call(cn, fn, ND, cn, name)
    return result


def virNodeDeviceLookupSCSIHostByWWN(conn: Connect, wwnn: Optional[str], wwpn: Optional[str],
                                     flags: int) -> NodeDevice:
    fn = "virNodeDeviceLookupSCSIHostByWWN"
    cn = _conn(conn, fn)
    c.non_null(wwnn, "wwnn", fn, ND)
    c.non_null(wwpn, "wwpn", fn, ND)
    result: NodeDevice = c.call(cn, fn, ND, cn, wwnn, wwpn, flags)
    return result


def virNodeDeviceGetXMLDesc(dev: NodeDevice, flags: int) -> str:
    return str(_on_dev(dev, "virNodeDeviceGetXMLDesc", flags))


def virNodeDeviceGetParent(dev: NodeDevice) -> Optional[str]:
    result: Optional[str] = _on_dev(dev, "virNodeDeviceGetParent")
    return result


def virNodeDeviceNumOfCaps(dev: NodeDevice) -> int:
    return int(_on_dev(dev, "virNodeDeviceNumOfCaps"))


def virNodeDeviceListCaps(dev: NodeDevice, maxnames: int) -> list[str]:
    fn = "virNodeDeviceListCaps"
    d = _dev(dev, fn)
    c.non_negative(maxnames, "maxnames", fn, ND)
    return list(c.call(d.conn, fn, ND, d))[:maxnames]


def virNodeDeviceCreateXML(conn: Connect, xmlDesc: Optional[str], flags: int) -> NodeDevice:
    fn = "virNodeDeviceCreateXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, ND)
    c.non_null(xmlDesc, "xmlDesc", fn, ND)
    result: NodeDevice = c.call(cn, fn, ND, cn, xmlDesc, flags)
    return result


def virNodeDeviceDefineXML(conn: Connect, xmlDesc: Optional[str], flags: int) -> NodeDevice:
    fn = "virNodeDeviceDefineXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, ND)
    c.non_null(xmlDesc, "xmlDesc", fn, ND)
    result: NodeDevice = c.call(cn, fn, ND, cn, xmlDesc, flags)
    return result


def virNodeDeviceDestroy(dev: NodeDevice) -> None:
    _on_dev(dev, "virNodeDeviceDestroy", write=True)


def virNodeDeviceUndefine(dev: NodeDevice, flags: int) -> None:
    _on_dev(dev, "virNodeDeviceUndefine", flags, write=True)


def virNodeDeviceCreate(dev: NodeDevice, flags: int) -> None:
    _on_dev(dev, "virNodeDeviceCreate", flags, write=True)


def virNodeDeviceGetName(dev: NodeDevice) -> str:
    return _dev(dev, "virNodeDeviceGetName").name


def virNodeDeviceDettach(dev: NodeDevice) -> None:
    _on_dev(dev, "virNodeDeviceDettach", write=True)


def virNodeDeviceDetachFlags(dev: NodeDevice, driverName: Optional[str], flags: int) -> None:
    _on_dev(dev, "virNodeDeviceDetachFlags", driverName, flags, write=True)


def virNodeDeviceReAttach(dev: NodeDevice) -> None:
    _on_dev(dev, "virNodeDeviceReAttach", write=True)


def virNodeDeviceReset(dev: NodeDevice) -> None:
    _on_dev(dev, "virNodeDeviceReset", write=True)


def virNodeDeviceGetAutostart(dev: NodeDevice) -> int:
    return int(_on_dev(dev, "virNodeDeviceGetAutostart"))


def virNodeDeviceSetAutostart(dev: NodeDevice, autostart: int) -> None:
    _on_dev(dev, "virNodeDeviceSetAutostart", autostart, write=True)


def virNodeDeviceIsActive(dev: NodeDevice) -> int:
    return int(_on_dev(dev, "virNodeDeviceIsActive"))


def virNodeDeviceIsPersistent(dev: NodeDevice) -> int:
    return int(_on_dev(dev, "virNodeDeviceIsPersistent"))


def virConnectNodeDeviceEventRegisterAny(conn: Connect, dev: Optional[NodeDevice],
                                         eventID: int, cb: Optional[Callable[..., Any]],
                                         freecb: Optional[Callable[[], None]]) -> int:
    fn = "virConnectNodeDeviceEventRegisterAny"
    cn = _conn(conn, fn)
    if dev is not None:
        _dev(dev, fn)
    c.non_null(cb, "cb", fn, ND)
    c.non_negative(eventID, "eventID", fn, ND)
    if eventID >= VIR_NODE_DEVICE_EVENT_ID_LAST:
        raise errors.invalid_arg(ND, fn, "eventID",
                                 f"eventID in {fn} must be less than "
                                 f"{VIR_NODE_DEVICE_EVENT_ID_LAST}")
    assert cb is not None
    c.entry(cn, fn, fn, ND)
    return dispatcher.register(cn, None, eventID, cb, freecb, legacy=False, kind=KIND_NODEDEV,
                               key=dev.name.encode() if dev is not None else None)


def virConnectNodeDeviceEventDeregisterAny(conn: Connect, callbackID: int) -> None:
    fn = "virConnectNodeDeviceEventDeregisterAny"
    cn = _conn(conn, fn)
    c.non_negative(callbackID, "callbackID", fn, ND)
    dispatcher.deregister_any(cn, callbackID)
