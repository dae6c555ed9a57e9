"""Public storage functions: pools (virStoragePool*, virConnect*StoragePool*),
volumes (virStorageVol*) and storage pool event registration."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from ..events import KIND_POOL, dispatcher
from ..objects import Connect, StoragePool, StorageVol
from ..structs import StoragePoolInfo, StorageVolInfo
from . import _common as c

ST = ErrorDomain.VIR_FROM_STORAGE
VIR_STORAGE_POOL_EVENT_ID_LAST = 2

__all__ = [
    "virConnectNumOfStoragePools", "virConnectListStoragePools",
    "virConnectNumOfDefinedStoragePools", "virConnectListDefinedStoragePools",
    "virConnectListAllStoragePools", "virConnectFindStoragePoolSources",
    "virStoragePoolLookupByName", "virStoragePoolLookupByUUID",
    "virStoragePoolLookupByUUIDString", "virStoragePoolLookupByVolume",
    "virStoragePoolLookupByTargetPath", "virStoragePoolCreateXML", "virStoragePoolDefineXML",
    "virStoragePoolBuild", "virStoragePoolUndefine", "virStoragePoolCreate",
    "virStoragePoolDestroy", "virStoragePoolDelete", "virStoragePoolRefresh",
    "virStoragePoolGetInfo", "virStoragePoolGetXMLDesc", "virStoragePoolGetAutostart",
    "virStoragePoolSetAutostart", "virStoragePoolNumOfVolumes", "virStoragePoolListVolumes",
    "virStoragePoolListAllVolumes", "virStoragePoolIsActive", "virStoragePoolIsPersistent",
    "virStoragePoolGetName", "virStoragePoolGetUUID", "virStoragePoolGetUUIDString",
    "virStoragePoolGetConnect", "virStorageVolLookupByName", "virStorageVolLookupByKey",
    "virStorageVolLookupByPath", "virStorageVolCreateXML", "virStorageVolCreateXMLFrom",
    "virStorageVolDelete", "virStorageVolWipe", "virStorageVolWipePattern",
    "virStorageVolGetInfo", "virStorageVolGetInfoFlags", "virStorageVolGetXMLDesc",
    "virStorageVolGetPath", "virStorageVolGetName", "virStorageVolGetKey",
    "virStorageVolGetConnect", "virStorageVolResize", "virStorageVolDownload",
    "virStorageVolUpload", "virConnectStoragePoolEventRegisterAny",
    "virConnectStoragePoolEventDeregisterAny", "virConnectGetStoragePoolCapabilities",
]


def _conn(conn: Any, fn: str) -> Connect:
    return c.conn(conn, fn, ST)


def _pool(pool: Any, fn: str) -> StoragePool:
    result: StoragePool = c.handle(pool, StoragePool,
                                   ErrorNumber.VIR_ERR_INVALID_STORAGE_POOL, ST, fn)
    return result


def _vol(vol: Any, fn: str) -> StorageVol:
    result: StorageVol = c.handle(vol, StorageVol, ErrorNumber.VIR_ERR_INVALID_STORAGE_VOL,
                                  ST, fn)
    return result


def _on_pool(pool: Any, fn: str, *args: Any, write: bool = False) -> Any:
    p = _pool(pool, fn)
    return c.call(p.conn, fn, ST, p, *args, write=write)


def _on_vol(vol: Any, fn: str, *args: Any, write: bool = False,
            entry: Optional[str] = None) -> Any:
    v = _vol(vol, fn)
    return c.call(v.conn, fn, ST, v, *args, write=write, entry_name=entry)


# -- listing pools

def virConnectNumOfStoragePools(conn: Connect) -> int:
    fn = "virConnectNumOfStoragePools"
    return int(c.call(_conn(conn, fn), fn, ST))


def virConnectListStoragePools(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListStoragePools"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, ST)
    return list(c.call(cn, fn, ST))[:maxnames]


def virConnectNumOfDefinedStoragePools(conn: Connect) -> int:
    fn = "virConnectNumOfDefinedStoragePools"
    return int(c.call(_conn(conn, fn), fn, ST))


def virConnectListDefinedStoragePools(conn: Connect, maxnames: int) -> list[str]:
    fn = "virConnectListDefinedStoragePools"
    cn = _conn(conn, fn)
    c.non_negative(maxnames, "maxnames", fn, ST)
    return list(c.call(cn, fn, ST))[:maxnames]


def virConnectListAllStoragePools(conn: Connect, flags: int) -> list[StoragePool]:
    fn = "virConnectListAllStoragePools"
    cn = _conn(conn, fn)
    return list(c.call(cn, fn, ST, cn, flags))


def virConnectFindStoragePoolSources(conn: Connect, type: Optional[str],
                                     srcSpec: Optional[str], flags: int) -> str:
    fn = "virConnectFindStoragePoolSources"
    cn = _conn(conn, fn)
    c.non_null(type, "type", fn, ST)
    return str(c.call(cn, fn, ST, type, srcSpec, flags, write=True))


def virConnectGetStoragePoolCapabilities(conn: Connect, flags: int) -> str:
    fn = "virConnectGetStoragePoolCapabilities"
    return str(c.call(_conn(conn, fn), fn, ST, flags))


# -- pool lookups

def virStoragePoolLookupByName(conn: Connect, name: Optional[str]) -> StoragePool:
    fn = "virStoragePoolLookupByName"
    cn = _conn(conn, fn)
    c.non_null(name, "name", fn, ST)
    result: StoragePool = c.call(cn, fn, ST, cn, name)
    return result


def virStoragePoolLookupByUUID(conn: Connect, uuid: Optional[bytes]) -> StoragePool:
    fn = "virStoragePoolLookupByUUID"
    cn = _conn(conn, fn)
    c.non_null(uuid, "uuid", fn, ST)
    assert uuid is not None
    result: StoragePool = c.call(cn, fn, ST, cn, bytes(uuid[:viruuid.VIR_UUID_BUFLEN]))
    return result


def virStoragePoolLookupByUUIDString(conn: Connect, uuidstr: Optional[str]) -> StoragePool:
    fn = "virStoragePoolLookupByUUIDString"
    cn = _conn(conn, fn)
    c.non_null(uuidstr, "uuidstr", fn, ST)
    assert uuidstr is not None
    raw = viruuid.parse(uuidstr)
    if raw is None:
        raise errors.invalid_arg(ST, fn, "uuidstr", f"uuidstr in {fn} must be a valid UUID")
    result: StoragePool = c.call(cn, fn, ST, cn, raw, entry_name="virStoragePoolLookupByUUID")
    return result


def virStoragePoolLookupByVolume(vol: StorageVol) -> StoragePool:
    result: StoragePool = _on_vol(vol, "virStoragePoolLookupByVolume")
    return result


def virStoragePoolLookupByTargetPath(conn: Connect, path: Optional[str]) -> StoragePool:
    fn = "virStoragePoolLookupByTargetPath"
    cn = _conn(conn, fn)
    c.non_null(path, "path", fn, ST)
    result: StoragePool = c.call(cn, fn, ST, cn, path)
    return result


# -- pool changes

def virStoragePoolCreateXML(conn: Connect, xmlDesc: Optional[str], flags: int) -> StoragePool:
    fn = "virStoragePoolCreateXML"
    cn = _conn(conn, fn)
    c.non_null(xmlDesc, "xmlDesc", fn, ST)
    result: StoragePool = c.call(cn, fn, ST, cn, xmlDesc, flags, write=True)
    return result


def virStoragePoolDefineXML(conn: Connect, xml: Optional[str], flags: int) -> StoragePool:
    fn = "virStoragePoolDefineXML"
    cn = _conn(conn, fn)
    c.writable(cn, fn, ST)
    c.non_null(xml, "xml", fn, ST)
    result: StoragePool = c.call(cn, fn, ST, cn, xml, flags)
    return result


def virStoragePoolBuild(pool: StoragePool, flags: int) -> None:
    _on_pool(pool, "virStoragePoolBuild", flags, write=True)


def virStoragePoolUndefine(pool: StoragePool) -> None:
    _on_pool(pool, "virStoragePoolUndefine", write=True)


def virStoragePoolCreate(pool: StoragePool, flags: int) -> None:
    _on_pool(pool, "virStoragePoolCreate", flags, write=True)


def virStoragePoolDestroy(pool: StoragePool) -> None:
    _on_pool(pool, "virStoragePoolDestroy", write=True)


def virStoragePoolDelete(pool: StoragePool, flags: int) -> None:
    _on_pool(pool, "virStoragePoolDelete", flags, write=True)


def virStoragePoolRefresh(pool: StoragePool, flags: int) -> None:
    _on_pool(pool, "virStoragePoolRefresh", flags, write=True)


def virStoragePoolSetAutostart(pool: StoragePool, autostart: int) -> None:
    _on_pool(pool, "virStoragePoolSetAutostart", autostart, write=True)


# -- pool queries

def virStoragePoolGetInfo(pool: StoragePool) -> StoragePoolInfo:
    result: StoragePoolInfo = _on_pool(pool, "virStoragePoolGetInfo")
    return result


def virStoragePoolGetXMLDesc(pool: StoragePool, flags: int) -> str:
    return str(_on_pool(pool, "virStoragePoolGetXMLDesc", flags))


def virStoragePoolGetAutostart(pool: StoragePool) -> int:
    return int(_on_pool(pool, "virStoragePoolGetAutostart"))


def virStoragePoolNumOfVolumes(pool: StoragePool) -> int:
    return int(_on_pool(pool, "virStoragePoolNumOfVolumes"))


def virStoragePoolListVolumes(pool: StoragePool, maxnames: int) -> list[str]:
    fn = "virStoragePoolListVolumes"
    p = _pool(pool, fn)
    c.non_negative(maxnames, "maxnames", fn, ST)
    return list(c.call(p.conn, fn, ST, p))[:maxnames]


def virStoragePoolListAllVolumes(pool: StoragePool, flags: int) -> list[StorageVol]:
    return list(_on_pool(pool, "virStoragePoolListAllVolumes", flags))


def virStoragePoolIsActive(pool: StoragePool) -> int:
    return int(_on_pool(pool, "virStoragePoolIsActive"))


def virStoragePoolIsPersistent(pool: StoragePool) -> int:
    return int(_on_pool(pool, "virStoragePoolIsPersistent"))


def virStoragePoolGetName(pool: StoragePool) -> str:
    return _pool(pool, "virStoragePoolGetName").name


def virStoragePoolGetUUID(pool: StoragePool) -> bytes:
    return _pool(pool, "virStoragePoolGetUUID").uuid


def virStoragePoolGetUUIDString(pool: StoragePool) -> str:
    return _pool(pool, "virStoragePoolGetUUIDString").uuid_string


def virStoragePoolGetConnect(pool: StoragePool) -> Connect:
    return _pool(pool, "virStoragePoolGetConnect").conn


# -- volumes

def virStorageVolLookupByName(pool: StoragePool, name: Optional[str]) -> StorageVol:
    fn = "virStorageVolLookupByName"
    p = _pool(pool, fn)
    c.non_null(name, "name", fn, ST)
    result: StorageVol = c.call(p.conn, fn, ST, p, name)
    return result


def virStorageVolLookupByKey(conn: Connect, key: Optional[str]) -> StorageVol:
    fn = "virStorageVolLookupByKey"
    cn = _conn(conn, fn)
    c.non_null(key, "key", fn, ST)
    result: StorageVol = c.call(cn, fn, ST, cn, key)
    return result


def virStorageVolLookupByPath(conn: Connect, path: Optional[str]) -> StorageVol:
    fn = "virStorageVolLookupByPath"
    cn = _conn(conn, fn)
    c.non_null(path, "path", fn, ST)
    result: StorageVol = c.call(cn, fn, ST, cn, path)
    return result


def virStorageVolCreateXML(pool: StoragePool, xmlDesc: Optional[str], flags: int) -> StorageVol:
    fn = "virStorageVolCreateXML"
    p = _pool(pool, fn)
    c.non_null(xmlDesc, "xmlDesc", fn, ST)
    result: StorageVol = c.call(p.conn, fn, ST, p, xmlDesc, flags, write=True)
    return result


def virStorageVolCreateXMLFrom(pool: StoragePool, xmlDesc: Optional[str],
                               clonevol: StorageVol, flags: int) -> StorageVol:
    fn = "virStorageVolCreateXMLFrom"
    p = _pool(pool, fn)
    _vol(clonevol, fn)
    c.non_null(xmlDesc, "xmlDesc", fn, ST)
    result: StorageVol = c.call(p.conn, fn, ST, p, xmlDesc, clonevol, flags, write=True)
    return result


def virStorageVolDelete(vol: StorageVol, flags: int) -> None:
    _on_vol(vol, "virStorageVolDelete", flags, write=True)


def virStorageVolWipe(vol: StorageVol, flags: int) -> None:
    _on_vol(vol, "virStorageVolWipe", flags, write=True)


def virStorageVolWipePattern(vol: StorageVol, algorithm: int, flags: int) -> None:
    _on_vol(vol, "virStorageVolWipePattern", algorithm, flags, write=True)


def virStorageVolResize(vol: StorageVol, capacity: int, flags: int) -> None:
    _on_vol(vol, "virStorageVolResize", capacity, flags, write=True)


def virStorageVolGetInfo(vol: StorageVol) -> StorageVolInfo:
    result: StorageVolInfo = _on_vol(vol, "virStorageVolGetInfo")
    return result


def virStorageVolGetInfoFlags(vol: StorageVol, flags: int) -> StorageVolInfo:
    result: StorageVolInfo = _on_vol(vol, "virStorageVolGetInfoFlags", flags)
    return result


def virStorageVolGetXMLDesc(vol: StorageVol, flags: int) -> str:
    return str(_on_vol(vol, "virStorageVolGetXMLDesc", flags))


def virStorageVolGetPath(vol: StorageVol) -> str:
    return str(_on_vol(vol, "virStorageVolGetPath"))


def virStorageVolGetName(vol: StorageVol) -> str:
    return _vol(vol, "virStorageVolGetName").name


def virStorageVolGetKey(vol: StorageVol) -> str:
    return _vol(vol, "virStorageVolGetKey").key


def virStorageVolGetConnect(vol: StorageVol) -> Connect:
    return _vol(vol, "virStorageVolGetConnect").conn


def virStorageVolDownload(vol: StorageVol, stream: Any, offset: int, length: int,
                          flags: int) -> None:
    _on_vol(vol, "virStorageVolDownload", stream, offset, length, flags)


def virStorageVolUpload(vol: StorageVol, stream: Any, offset: int, length: int,
                        flags: int) -> None:
    _on_vol(vol, "virStorageVolUpload", stream, offset, length, flags, write=True)


# -- events

def virConnectStoragePoolEventRegisterAny(conn: Connect, pool: Optional[StoragePool],
                                          eventID: int, cb: Optional[Callable[..., Any]],
                                          freecb: Optional[Callable[[], None]]) -> int:
    fn = "virConnectStoragePoolEventRegisterAny"
    cn = _conn(conn, fn)
    if pool is not None:
        _pool(pool, fn)
    c.non_null(cb, "cb", fn, ST)
    c.non_negative(eventID, "eventID", fn, ST)
    if eventID >= VIR_STORAGE_POOL_EVENT_ID_LAST:
        raise errors.invalid_arg(ST, fn, "eventID",
                                 f"eventID in {fn} must be less than "
                                 f"{VIR_STORAGE_POOL_EVENT_ID_LAST}")
    assert cb is not None
    c.entry(cn, fn, fn, ST)
    return dispatcher.register(cn, None, eventID, cb, freecb, legacy=False, kind=KIND_POOL,
                               key=pool.uuid if pool is not None else None)


def virConnectStoragePoolEventDeregisterAny(conn: Connect, callbackID: int) -> None:
    fn = "virConnectStoragePoolEventDeregisterAny"
    cn = _conn(conn, fn)
    c.non_negative(callbackID, "callbackID", fn, ST)
    dispatcher.deregister_any(cn, callbackID)
