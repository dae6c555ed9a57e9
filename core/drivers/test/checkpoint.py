"""The test driver's domain checkpoints: a tree per domain, as snapshots,
without revert.  Mixed into TestDriver."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Optional

from ... import errors
from ...conf.snapshot import (MomentDef, disk_targets, format_checkpoint_xml,
                              parse_moment_xml)
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain, DomainCheckpoint

T = ErrorDomain.VIR_FROM_TEST
CK = ErrorDomain.VIR_FROM_DOMAIN_CHECKPOINT
XML_NO_DOMAIN = 4
LIST_ROOTS = LIST_DESCENDANTS = 1
DELETE_CHILDREN, DELETE_METADATA_ONLY, DELETE_CHILDREN_ONLY = 1, 2, 4


def checkpoints_of(obj: DomainObj) -> dict[str, MomentDef]:
    cks: dict[str, MomentDef] = obj.private.setdefault("checkpoints", {})
    return cks


def _no_checkpoint(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN_CHECKPOINT, T, detail)


class CheckpointMixin:
    """Checkpoint entry points of the test driver."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...

    def _ck(self, ck: DomainCheckpoint) -> tuple[DomainObj, MomentDef]:
        obj = self._obj(ck.domain)
        found = checkpoints_of(obj).get(ck.name)
        if found is None:
            raise _no_checkpoint(f"no domain checkpoint with matching name '{ck.name}'")
        return obj, found

    def _ck_children(self, obj: DomainObj, name: Optional[str],
                     descendants: bool) -> list[MomentDef]:
        direct = [c for c in checkpoints_of(obj).values() if c.parent == name]
        if not descendants:
            return direct
        out = []
        for child in direct:
            out += [child] + self._ck_children(obj, child.name, True)
        return out

    def domain_checkpoint_create_xml(self, dom: Domain, xml: str,
                                     flags: int) -> DomainCheckpoint:
        errors.check_flags(flags, 0x7, "testDomainCheckpointCreateXML")
        new = parse_moment_xml(xml, "domaincheckpoint", CK)
        with self.lock:
            obj = self._obj(dom)
            if obj.private.get("snapshots"):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, T,
                                    "cannot create checkpoint while snapshot exists")
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                    ErrorDomain.VIR_FROM_DOMAIN, "domain is not running")
            cks = checkpoints_of(obj)
            if new.name in cks:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                    ErrorDomain.VIR_FROM_DOMAIN,
                                    f"domain moment {new.name} already exists")
            new.domain = obj.def_.copy()
            new.disks = disk_targets(new.domain)
            new.parent = obj.private.get("current_checkpoint")
            cks[new.name] = new
            obj.private["current_checkpoint"] = new.name
            return DomainCheckpoint(dom, new.name)

    def domain_checkpoint_get_xml_desc(self, ck: DomainCheckpoint, flags: int) -> str:
        errors.check_flags(flags, 0x7, "testDomainCheckpointGetXMLDesc")
        with self.lock:
            return format_checkpoint_xml(self._ck(ck)[1], no_domain=bool(flags & XML_NO_DOMAIN))

    def domain_list_all_checkpoints(self, dom: Domain, flags: int) -> list[DomainCheckpoint]:
        errors.check_flags(flags, 0x7, "testDomainListAllCheckpoints")
        with self.lock:
            cks = list(checkpoints_of(self._obj(dom)).values())
            if flags & LIST_ROOTS:
                cks = [c for c in cks if c.parent is None]
            return [DomainCheckpoint(dom, c.name) for c in cks]

    def domain_checkpoint_list_all_children(self, ck: DomainCheckpoint,
                                            flags: int) -> list[DomainCheckpoint]:
        errors.check_flags(flags, 0x7, "testDomainCheckpointListAllChildren")
        with self.lock:
            obj, found = self._ck(ck)
            return [DomainCheckpoint(ck.domain, c.name) for c in
                    self._ck_children(obj, found.name, bool(flags & LIST_DESCENDANTS))]

    def domain_checkpoint_lookup_by_name(self, dom: Domain, name: str,
                                         flags: int) -> DomainCheckpoint:
        errors.check_flags(flags, 0, "testDomainCheckpointLookupByName")
        with self.lock:
            self._ck(DomainCheckpoint(dom, name))
            return DomainCheckpoint(dom, name)

    def domain_checkpoint_get_parent(self, ck: DomainCheckpoint,
                                     flags: int) -> DomainCheckpoint:
        errors.check_flags(flags, 0, "testDomainCheckpointGetParent")
        with self.lock:
            _, found = self._ck(ck)
            if found.parent is None:
                raise _no_checkpoint(f"checkpoint '{found.name}' does not have a parent")
            return DomainCheckpoint(ck.domain, found.parent)

    def domain_checkpoint_delete(self, ck: DomainCheckpoint, flags: int) -> None:
        errors.check_flags(flags, DELETE_CHILDREN | DELETE_METADATA_ONLY | DELETE_CHILDREN_ONLY,
                           "testDomainCheckpointDelete")
        with self.lock:
            obj, found = self._ck(ck)
            cks = checkpoints_of(obj)
            doomed = []
            if flags & (DELETE_CHILDREN | DELETE_CHILDREN_ONLY):
                doomed = self._ck_children(obj, found.name, True)
            if not flags & DELETE_CHILDREN_ONLY:
                doomed.append(found)
                for child in cks.values():
                    if child.parent == found.name:
                        child.parent = found.parent
            for gone in doomed:
                cks.pop(gone.name, None)
                if obj.private.get("current_checkpoint") == gone.name:
                    obj.private["current_checkpoint"] = found.parent
