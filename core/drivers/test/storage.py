"""The test driver's storage pools and volumes, kept in memory, with pool
lifecycle events.  Mixed into TestDriver; uses its lock."""

from __future__ import annotations

import dataclasses
import threading
from typing import Optional

from ... import errors, events, viruuid
from ...conf import schema
from ...conf.storage_pool import PoolDef, format_pool_xml, parse_pool_xml
from ...conf.storage_vol import VolDef, format_vol_xml, parse_vol_xml
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, StoragePool, StorageVol
from ...structs import StoragePoolInfo, StorageVolInfo

T = ErrorDomain.VIR_FROM_TEST
ST = ErrorDomain.VIR_FROM_STORAGE
VOL_CREATE_VALIDATE = 4   # VIR_STORAGE_VOL_CREATE_VALIDATE

# A new pool of the simulated host: 100 GiB, empty.
DEFAULT_POOL_CAPACITY = 100 * 1024 ** 3

EV_DEFINED, EV_UNDEFINED, EV_STARTED, EV_STOPPED, EV_CREATED, EV_DELETED = range(6)
EVENT_ID_LIFECYCLE, EVENT_ID_REFRESH = 0, 1
POOL_INACTIVE, POOL_RUNNING = 0, 2
_LIST_GROUPS = ((2, 1), (4, 8), (16, 32))
_LIST_ALL = (1 << 20) - 1


@dataclasses.dataclass(eq=False)
class PoolObj:
    def_: PoolDef
    active: bool = False
    persistent: bool = False
    autostart: bool = False
    volumes: list[VolDef] = dataclasses.field(default_factory=list)

    @property
    def name(self) -> str:
        return self.def_.name

    @property
    def uuid(self) -> bytes:
        return self.def_.uuid

    def list_bits(self) -> int:
        return ((2 if self.active else 1) | (4 if self.persistent else 8)
                | (16 if self.autostart else 32) | (1 << (6 + self.def_.type_index)))

    def find_volume(self, name: str) -> Optional[VolDef]:
        for vol in self.volumes:
            if vol.name == name:
                return vol
        return None


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T, detail)


def _no_pool(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_STORAGE_POOL, T, detail)


def _no_vol(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_STORAGE_VOL, T, detail)


class StorageMixin:
    """Storage pool and volume entry points of the test driver."""

    lock: threading.RLock
    pools: dict[bytes, PoolObj]

    # -- helpers (lock held)
    def _pool_event(self, obj: PoolObj, event: int) -> None:
        events.queue_object_event(self, events.KIND_POOL, EVENT_ID_LIFECYCLE, obj.name,
                                  obj.uuid, event, 0)

    def _pool_by_name(self, name: str) -> PoolObj:
        for obj in self.pools.values():
            if obj.name == name:
                return obj
        raise _no_pool(f"no storage pool with matching name '{name}'")

    def _pool_obj(self, pool: StoragePool) -> PoolObj:
        return self._pool_by_name(pool.name)

    def _active_pool(self, pool: StoragePool) -> PoolObj:
        obj = self._pool_obj(pool)
        if not obj.active:
            raise _invalid(f"storage pool '{obj.name}' is not active")
        return obj

    def _vol_obj(self, vol: StorageVol) -> tuple[PoolObj, VolDef]:
        pool = self._pool_by_name(vol.pool)
        if not pool.active:
            raise _invalid(f"storage pool '{pool.name}' is not active")
        found = pool.find_volume(vol.name)
        if found is None:
            raise _no_vol(f"no storage vol with matching name '{vol.name}'")
        return pool, found

    def _pool_handle(self, conn: Connect, obj: PoolObj) -> StoragePool:
        return StoragePool(conn, obj.name, obj.uuid)

    def _pool_clash(self, new: PoolDef) -> Optional[PoolObj]:
        same = self.pools.get(new.uuid)
        if same is not None and same.name != new.name:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, ST,
                                f"pool '{same.name}' is already defined with uuid "
                                f"{viruuid.format(new.uuid)}")
        if same is None:
            for obj in self.pools.values():
                if obj.name == new.name:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, ST,
                                        f"pool '{obj.name}' already exists with uuid "
                                        f"{viruuid.format(obj.uuid)}")
        for obj in self.pools.values():
            if (obj is not same and new.target_path is not None
                    and obj.def_.type == new.type and obj.def_.target_path == new.target_path):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, ST,
                                    f"Storage source conflict with pool: '{obj.name}'")
        return same

    def add_pool(self, new: PoolDef, active: bool, persistent: bool) -> PoolObj:
        old = self._pool_clash(new)
        new.capacity = DEFAULT_POOL_CAPACITY
        new.available = DEFAULT_POOL_CAPACITY
        if old is None:
            obj = PoolObj(def_=new, active=active, persistent=persistent)
            self.pools[new.uuid] = obj
            return obj
        if active and old.active:
            raise _invalid(f"storage pool '{old.name}' is active")
        new.capacity, new.allocation = old.def_.capacity, old.def_.allocation
        new.available = old.def_.available
        old.def_ = new
        old.persistent = old.persistent or persistent
        old.active = old.active or active
        return old

    # -- listing
    def connect_num_of_storage_pools(self) -> int:
        with self.lock:
            return sum(1 for o in self.pools.values() if o.active)

    def connect_list_storage_pools(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.pools.values() if o.active]

    def connect_num_of_defined_storage_pools(self) -> int:
        with self.lock:
            return sum(1 for o in self.pools.values() if not o.active)

    def connect_list_defined_storage_pools(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.pools.values() if not o.active]

    def connect_list_all_storage_pools(self, conn: Connect, flags: int) -> list[StoragePool]:
        errors.check_flags(flags, _LIST_ALL, "testConnectListAllStoragePools")
        types = flags & ~0x3F
        with self.lock:
            out = []
            for obj in self.pools.values():
                bits = obj.list_bits()
                if types and not types & bits:
                    continue
                if all(not (flags & (y | n)) or (flags & (y | n) & bits)
                       for y, n in _LIST_GROUPS):
                    out.append(self._pool_handle(conn, obj))
            return out

    def connect_find_storage_pool_sources(self, type: str, src_spec: Optional[str],
                                          flags: int) -> str:
        from .poolsources import find_sources
        errors.check_flags(flags, 0, "testConnectFindStoragePoolSources")
        return find_sources(type, src_spec)

    # -- lookups
    def storage_pool_lookup_by_name(self, conn: Connect, name: str) -> StoragePool:
        with self.lock:
            return self._pool_handle(conn, self._pool_by_name(name))

    def storage_pool_lookup_by_uuid(self, conn: Connect, uuid: bytes) -> StoragePool:
        with self.lock:
            obj = self.pools.get(uuid)
            if obj is None:
                raise _no_pool(f"no storage pool with matching uuid '{viruuid.format(uuid)}'")
            return self._pool_handle(conn, obj)

    def storage_pool_lookup_by_volume(self, vol: StorageVol) -> StoragePool:
        with self.lock:
            for obj in self.pools.values():
                if obj.name == vol.pool:
                    return self._pool_handle(vol.conn, obj)
            raise _no_pool(f"no storage pool with matching name '{vol.pool}'")

    # -- pool changes
    def storage_pool_define_xml(self, conn: Connect, xml: str, flags: int) -> StoragePool:
        errors.check_flags(flags, 1, "testStoragePoolDefineXML")
        if flags & 1:   # VIR_STORAGE_POOL_DEFINE_VALIDATE
            schema.validate(xml, "storagepool.rng")
        new = parse_pool_xml(xml)
        with self.lock:
            obj = self.add_pool(new, active=False, persistent=True)
            self._pool_event(obj, EV_DEFINED)
            return self._pool_handle(conn, obj)

    def storage_pool_create_xml(self, conn: Connect, xml: str, flags: int) -> StoragePool:
        errors.check_flags(flags, 0x7, "testStoragePoolCreateXML")
        new = parse_pool_xml(xml)
        with self.lock:
            obj = self.add_pool(new, active=True, persistent=False)
            self._pool_event(obj, EV_STARTED)
            return self._pool_handle(conn, obj)

    def storage_pool_undefine(self, pool: StoragePool) -> None:
        with self.lock:
            obj = self._pool_obj(pool)
            if obj.active:
                raise _invalid(f"storage pool '{obj.name}' is active")
            self._pool_event(obj, EV_UNDEFINED)
            del self.pools[obj.uuid]

    def storage_pool_create(self, pool: StoragePool, flags: int) -> None:
        errors.check_flags(flags, 0x7, "testStoragePoolCreate")
        with self.lock:
            obj = self._pool_obj(pool)
            if obj.active:
                raise _invalid(f"storage pool '{obj.name}' is active")
            obj.active = True
            self._pool_event(obj, EV_STARTED)

    def storage_pool_build(self, pool: StoragePool, flags: int) -> None:
        errors.check_flags(flags, 0x7, "testStoragePoolBuild")
        with self.lock:
            obj = self._pool_obj(pool)
            if obj.active:
                raise _invalid(f"storage pool '{obj.name}' is active")
            self._pool_event(obj, EV_CREATED)

    def storage_pool_destroy(self, pool: StoragePool) -> None:
        with self.lock:
            obj = self._pool_obj(pool)
            if not obj.active:
                raise _invalid(f"storage pool '{obj.name}' is not active")
            obj.active = False
            self._pool_event(obj, EV_STOPPED)
            if not obj.persistent:
                del self.pools[obj.uuid]

    def storage_pool_delete(self, pool: StoragePool, flags: int) -> None:
        errors.check_flags(flags, 0x1, "testStoragePoolDelete")
        with self.lock:
            obj = self._pool_obj(pool)
            if obj.active:
                raise _invalid(f"storage pool '{obj.name}' is active")
            self._pool_event(obj, EV_DELETED)

    def storage_pool_refresh(self, pool: StoragePool, flags: int) -> None:
        errors.check_flags(flags, 0, "testStoragePoolRefresh")
        with self.lock:
            obj = self._active_pool(pool)
            events.queue_object_event(self, events.KIND_POOL, EVENT_ID_REFRESH, obj.name,
                                      obj.uuid)

    # -- pool queries
    def storage_pool_get_info(self, pool: StoragePool) -> StoragePoolInfo:
        with self.lock:
            obj = self._pool_obj(pool)
            d = obj.def_
            return StoragePoolInfo(state=POOL_RUNNING if obj.active else POOL_INACTIVE,
                                   capacity=d.capacity, allocation=d.allocation,
                                   available=d.available)

    def storage_pool_get_xml_desc(self, pool: StoragePool, flags: int) -> str:
        errors.check_flags(flags, 0, "testStoragePoolGetXMLDesc")
        with self.lock:
            return format_pool_xml(self._pool_obj(pool).def_)

    def storage_pool_get_autostart(self, pool: StoragePool) -> int:
        with self.lock:
            obj = self._pool_obj(pool)
            return int(obj.autostart) if obj.persistent else 0

    def storage_pool_set_autostart(self, pool: StoragePool, autostart: int) -> None:
        with self.lock:
            obj = self._pool_obj(pool)
            if not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    "cannot set autostart for transient pool")
            obj.autostart = bool(autostart)

    def storage_pool_is_active(self, pool: StoragePool) -> int:
        with self.lock:
            return int(self._pool_obj(pool).active)

    def storage_pool_is_persistent(self, pool: StoragePool) -> int:
        with self.lock:
            return int(self._pool_obj(pool).persistent)

    def storage_pool_num_of_volumes(self, pool: StoragePool) -> int:
        with self.lock:
            return len(self._active_pool(pool).volumes)

    def storage_pool_list_volumes(self, pool: StoragePool) -> list[str]:
        with self.lock:
            return [v.name for v in self._active_pool(pool).volumes]

    def storage_pool_list_all_volumes(self, pool: StoragePool, flags: int) -> list[StorageVol]:
        errors.check_flags(flags, 0, "testStoragePoolListAllVolumes")
        with self.lock:
            obj = self._active_pool(pool)
            return [StorageVol(pool.conn, obj.name, v.name, v.key) for v in obj.volumes]

    # -- volumes
    def storage_vol_lookup_by_name(self, pool: StoragePool, name: str) -> StorageVol:
        with self.lock:
            obj = self._active_pool(pool)
            vol = obj.find_volume(name)
            if vol is None:
                raise _no_vol(f"no storage vol with matching name '{name}'")
            return StorageVol(pool.conn, obj.name, vol.name, vol.key)

    def _vol_where(self, conn: Connect, attr: str, value: str) -> StorageVol:
        with self.lock:
            for obj in self.pools.values():
                if not obj.active:
                    continue
                for vol in obj.volumes:
                    if getattr(vol, attr) == value:
                        return StorageVol(conn, obj.name, vol.name, vol.key)
            raise _no_vol(f"no storage vol with matching {attr} '{value}'")

    def storage_vol_lookup_by_key(self, conn: Connect, key: str) -> StorageVol:
        return self._vol_where(conn, "key", key)

    def storage_vol_lookup_by_path(self, conn: Connect, path: str) -> StorageVol:
        return self._vol_where(conn, "path", path)

    def _add_volume(self, pool: StoragePool, new: VolDef) -> StorageVol:
        obj = self._active_pool(pool)
        if obj.find_volume(new.name) is not None:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, T,
                                "storage vol already exists")
        d = obj.def_
        if d.allocation + new.allocation > d.capacity:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                                f"Not enough free space in pool for volume '{new.name}'")
        d.available -= new.allocation
        d.allocation += new.allocation
        new.path = f"{d.target_path or ''}/{new.name}"
        new.key = new.path
        obj.volumes.append(new)
        return StorageVol(pool.conn, obj.name, new.name, new.key)

    def storage_vol_create_xml(self, pool: StoragePool, xml: str, flags: int) -> StorageVol:
        errors.check_flags(flags, VOL_CREATE_VALIDATE, "testStorageVolCreateXML")
        if flags & VOL_CREATE_VALIDATE:
            schema.validate(xml, "storagevol.rng")
            # libvirt 9.0 then hands the flag to its volume parser, which refuses it
            errors.check_flags(flags, 0, "virStorageVolDefParseXML", ST)
        new = parse_vol_xml(xml)
        with self.lock:
            return self._add_volume(pool, new)

    def storage_vol_create_xml_from(self, pool: StoragePool, xml: str, clonevol: StorageVol,
                                    flags: int) -> StorageVol:
        errors.check_flags(flags, 0, "testStorageVolCreateXMLFrom")
        new = parse_vol_xml(xml)
        with self.lock:
            self._active_pool(pool)
            src_pool = self._pool_by_name(clonevol.pool)
            if src_pool.find_volume(clonevol.name) is None:
                raise _no_vol(f"no storage vol with matching name '{clonevol.name}'")
            return self._add_volume(pool, new)

    def storage_vol_delete(self, vol: StorageVol, flags: int) -> None:
        errors.check_flags(flags, 0, "testStorageVolDelete")
        with self.lock:
            pool, found = self._vol_obj(vol)
            pool.def_.allocation -= found.allocation
            pool.def_.available += found.allocation
            pool.volumes.remove(found)

    def storage_vol_get_info(self, vol: StorageVol) -> StorageVolInfo:
        with self.lock:
            _, found = self._vol_obj(vol)
            return StorageVolInfo(type=found.type_index, capacity=found.capacity,
                                  allocation=found.allocation)

    def storage_vol_get_xml_desc(self, vol: StorageVol, flags: int) -> str:
        errors.check_flags(flags, 0, "testStorageVolGetXMLDesc")
        with self.lock:
            return format_vol_xml(self._vol_obj(vol)[1])

    def storage_vol_get_path(self, vol: StorageVol) -> str:
        with self.lock:
            return self._vol_obj(vol)[1].path

    def connect_storage_pool_event_register_any(self) -> None:
        """Present so that registration is allowed: the driver emits pool events."""
