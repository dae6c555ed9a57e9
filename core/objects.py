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
from typing import TYPE_CHECKING, Optional

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


class Network:
    """A network handle (virNetworkPtr); drivers fill in networks later."""

    def __init__(self, conn: Connect, name: str, uuid: bytes) -> None:
        self.conn = conn
        self.name = name
        self.uuid = uuid


def domain_uuid(dom: Optional[Domain]) -> Optional[bytes]:
    return dom.uuid if dom is not None else None
