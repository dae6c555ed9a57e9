"""The handles the API hands out: virConnectPtr, virDomainPtr, ...

A handle is a plain object naming its target; it does not own the record
behind it.  As in libvirt, a domain handle carries the name, UUID and id
seen when it was made: virDomainGetName/GetUUID/GetID read the handle, and
only the operations run through this handle update its id.  Each use that
needs the record looks it up again by UUID, so a handle may outlive the
domain (then calls fail with VIR_ERR_NO_DOMAIN).
"""

from __future__ import annotations

import threading
from typing import Any, TYPE_CHECKING, Optional

from . import viruuid

if TYPE_CHECKING:
    from .drivers.base import HypervisorDriver


class Connect:
    """A connection (virConnectPtr) to one driver instance."""

    def __init__(self, driver: "HypervisorDriver", uri: str, readonly: bool) -> None:
        self.driver = driver
        self.uri = uri
        self.readonly = readonly
        self.closed = False
        self._lock = threading.Lock()
        # C name -> the driver's entry point, for the hottest calls (pyvirt.api);
        # a driver's entry points do not change while it lives
        self.entries: dict[str, Any] = {}

    def mark_closed(self) -> bool:
        """Flag the handle closed; True only for the first call."""
        with self._lock:
            was_open, self.closed = not self.closed, True
            return was_open

    def __repr__(self) -> str:
        return f"<Connect {self.uri}{' ro' if self.readonly else ''}>"


class Domain:
    """A domain handle (virDomainPtr)."""

    def __init__(self, conn: Connect, name: str, uuid: bytes, id: int = -1) -> None:
        self.conn = conn
        self.name = name
        self.uuid = uuid
        self.id = id

    @property
    def uuid_string(self) -> str:
        return viruuid.format(self.uuid)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Domain) and other.conn is self.conn
                and other.uuid == self.uuid)

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"<Domain {self.name} {self.uuid_string} id={self.id}>"


class _UUIDHandle:
    """A handle named by name and UUID (networks, storage pools)."""

    def __init__(self, conn: Connect, name: str, uuid: bytes) -> None:
        self.conn = conn
        self.name = name
        self.uuid = uuid

    @property
    def uuid_string(self) -> str:
        return viruuid.format(self.uuid)

    def __eq__(self, other: object) -> bool:
        return (type(other) is type(self) and other.conn is self.conn  # type: ignore
                and other.uuid == self.uuid)  # type: ignore

    def __hash__(self) -> int:
        return hash(self.uuid)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.uuid_string}>"


class Network(_UUIDHandle):
    """A network handle (virNetworkPtr)."""


class StoragePool(_UUIDHandle):
    """A storage pool handle (virStoragePoolPtr)."""


class StorageVol:
    """A storage volume handle (virStorageVolPtr): its pool's name, its own
    name and its key, as libvirt's handle carries them."""

    def __init__(self, conn: Connect, pool: str, name: str, key: str) -> None:
        self.conn = conn
        self.pool = pool
        self.name = name
        self.key = key

    def __repr__(self) -> str:
        return f"<StorageVol {self.pool}/{self.name}>"


class Interface:
    """A host interface handle (virInterfacePtr): name and MAC."""

    def __init__(self, conn: Connect, name: str, mac: str) -> None:
        self.conn = conn
        self.name = name
        self.mac = mac

    def __repr__(self) -> str:
        return f"<Interface {self.name} {self.mac}>"


class NodeDevice:
    """A node device handle (virNodeDevicePtr), named by its device name."""

    def __init__(self, conn: Connect, name: str) -> None:
        self.conn = conn
        self.name = name

    def __repr__(self) -> str:
        return f"<NodeDevice {self.name}>"


class _DomainChild:
    """A handle of an object that belongs to a domain, named in it."""

    def __init__(self, domain: Domain, name: str) -> None:
        self.domain = domain
        self.name = name

    @property
    def conn(self) -> Connect:
        return self.domain.conn

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.domain.name}/{self.name}>"


class DomainSnapshot(_DomainChild):
    """A snapshot handle (virDomainSnapshotPtr)."""


class DomainCheckpoint(_DomainChild):
    """A checkpoint handle (virDomainCheckpointPtr)."""


def domain_uuid(dom: Optional[Domain]) -> Optional[bytes]:
    return dom.uuid if dom is not None else None
