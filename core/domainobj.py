"""Domain records shared by all drivers (libvirt's virDomainObj and
virDomainObjList): the live and persistent definitions, the state, and
the rules for adding a definition next to the existing ones.

Not thread-safe by itself: the owning driver holds its lock around every
use.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterator, Optional

from . import errors, viruuid
from .conf.domain import DomainDef
from .domainstate import DomainShutoffReason, DomainState, is_active
from .errors import ErrorDomain, ErrorNumber


@dataclasses.dataclass(eq=False)
class DomainObj:
    """One domain.  `def_` is the running definition while active and the
    persistent one otherwise; `new_def` holds a persistent definition
    changed while the domain runs, applied when it stops."""
    def_: DomainDef
    persistent: bool = False
    state: DomainState = DomainState.VIR_DOMAIN_SHUTOFF
    reason: int = DomainShutoffReason.VIR_DOMAIN_SHUTOFF_UNKNOWN
    new_def: Optional[DomainDef] = None
    autostart: bool = False
    updated: bool = False
    has_managed_save: bool = False
    # The driver's own per-domain data (libvirt's privateData).
    private: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.def_.name

    @property
    def uuid(self) -> bytes:
        return self.def_.uuid

    @property
    def id(self) -> int:
        return self.def_.id

    def is_active(self) -> bool:
        return is_active(self.state)

    def set_state(self, state: DomainState, reason: int) -> None:
        self.state = state
        self.reason = int(reason)

    def persistent_def(self) -> DomainDef:
        return self.new_def if self.new_def is not None else self.def_


@dataclasses.dataclass(frozen=True)
class AddResult:
    obj: DomainObj
    replaced: bool  # an existing definition was updated (DEFINED_UPDATED)


class DomainObjList:
    """The domains of one driver instance, by UUID, in insertion order."""

    def __init__(self) -> None:
        self._by_uuid: dict[bytes, DomainObj] = {}
        self._by_name: dict[str, DomainObj] = {}   # lookups and define stay O(1)

    def __iter__(self) -> Iterator[DomainObj]:
        return iter(list(self._by_uuid.values()))

    def __len__(self) -> int:
        return len(self._by_uuid)

    def find_by_uuid(self, uuid: bytes) -> Optional[DomainObj]:
        return self._by_uuid.get(uuid)

    def find_by_name(self, name: str) -> Optional[DomainObj]:
        return self._by_name.get(name)

    def find_by_id(self, dom_id: int) -> Optional[DomainObj]:
        for obj in self._by_uuid.values():
            if obj.is_active() and obj.id == dom_id:
                return obj
        return None

    def remove(self, obj: DomainObj) -> None:
        self._by_uuid.pop(obj.uuid, None)
        if self._by_name.get(obj.name) is obj:
            del self._by_name[obj.name]

    def rename(self, obj: DomainObj, new_name: str) -> None:
        """The only way a stored domain changes its name (a redefinition keeps it)."""
        self._by_name.pop(obj.name, None)
        obj.def_.name = new_name
        self._by_name[new_name] = obj

    def _check_clash(self, new: DomainDef) -> Optional[DomainObj]:
        """The record `new` would replace, or the clash error libvirt reports."""
        same_uuid = self._by_uuid.get(new.uuid)
        if same_uuid is not None:
            if same_uuid.name != new.name:
                raise errors.report(
                    ErrorNumber.VIR_ERR_OPERATION_FAILED, ErrorDomain.VIR_FROM_DOMAIN,
                    f"domain '{same_uuid.name}' is already defined with uuid "
                    f"{viruuid.format(new.uuid)}")
            return same_uuid
        same_name = self.find_by_name(new.name)
        if same_name is not None:
            raise errors.report(
                ErrorNumber.VIR_ERR_OPERATION_FAILED, ErrorDomain.VIR_FROM_DOMAIN,
                f"domain '{same_name.name}' already exists with uuid "
                f"{viruuid.format(same_name.uuid)}")
        return None

    def add_persistent(self, new: DomainDef) -> AddResult:
        """Define: store `new` as the persistent definition."""
        old = self._check_clash(new)
        if old is None:
            obj = DomainObj(def_=new, persistent=True)
            self._by_uuid[new.uuid] = obj
            self._by_name[new.name] = obj
            return AddResult(obj, replaced=False)
        replaced = old.persistent
        if old.is_active():
            old.new_def = new
        else:
            old.def_ = new
        old.persistent = True
        return AddResult(old, replaced=replaced)

    def add_live(self, new: DomainDef) -> DomainObj:
        """CreateXML: `new` becomes the running definition."""
        old = self._check_clash(new)
        if old is None:
            obj = DomainObj(def_=new, persistent=False)
            self._by_uuid[new.uuid] = obj
            self._by_name[new.name] = obj
            return obj
        if old.is_active():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                ErrorDomain.VIR_FROM_DOMAIN,
                                f"domain '{old.name}' is already active")
        if old.persistent:
            old.new_def = old.def_
        old.def_ = new
        return old
