"""A domain's snapshots as every driver keeps them (libvirt's
virdomainsnapshotobjlist.c and virdomainmomentobjlist.c): the definitions
by name, the tree their parent names make, the current one, and the
listing filters of virDomainListAllSnapshots and its relatives.  The test
and QEMU drivers keep one SnapshotList per domain (obj.private["snapshots"])
and add what is theirs: where the state lives, events, disk work, files."""

from __future__ import annotations

from typing import Iterator, Optional

from .. import errors
from ..conf.snapshot import SnapshotDef
from ..domainobj import DomainObj
from ..errors import ErrorDomain, ErrorNumber

LIST_ROOTS = LIST_DESCENDANTS = 1
LIST_METADATA, LIST_LEAVES, LIST_NO_LEAVES, LIST_NO_METADATA = 2, 4, 8, 16
LIST_INACTIVE, LIST_ACTIVE, LIST_DISK_ONLY = 32, 64, 128
LIST_INTERNAL, LIST_EXTERNAL, LIST_TOPOLOGICAL = 256, 512, 1024
LIST_FLAGS = 0x7FF          # what the listing entry points take
_LEAVES = LIST_LEAVES | LIST_NO_LEAVES
_STATUS = LIST_INACTIVE | LIST_ACTIVE | LIST_DISK_ONLY
_LOCATION = LIST_INTERNAL | LIST_EXTERNAL

CREATE_REDEFINE, CREATE_CURRENT, CREATE_NO_METADATA, CREATE_HALT = 1, 2, 4, 8
CREATE_DISK_ONLY, CREATE_REUSE_EXT, CREATE_QUIESCE, CREATE_ATOMIC = 16, 32, 64, 128
CREATE_LIVE, CREATE_VALIDATE = 256, 512
REVERT_RUNNING, REVERT_PAUSED, REVERT_FORCE, REVERT_RESET_NVRAM = 1, 2, 4, 8
DELETE_CHILDREN, DELETE_METADATA_ONLY, DELETE_CHILDREN_ONLY = 1, 2, 4


def no_snapshot(detail: str, domain: int) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN_SNAPSHOT, domain, detail)


class SnapshotList:
    """The snapshots of one domain; `current` names the current one."""

    def __init__(self) -> None:
        self.defs: dict[str, SnapshotDef] = {}
        self.current: Optional[str] = None

    def __len__(self) -> int:
        return len(self.defs)

    def __iter__(self) -> Iterator[SnapshotDef]:
        return iter(list(self.defs.values()))

    def __contains__(self, name: str) -> bool:
        return name in self.defs

    def find(self, name: str, domain: int) -> SnapshotDef:
        """The snapshot `name`, or libvirt's error in `domain` (the driver's)."""
        snap = self.defs.get(name)
        if snap is None:
            raise no_snapshot(f"no domain snapshot with matching name '{name}'", domain)
        return snap

    def add(self, snap: SnapshotDef) -> None:
        """virDomainMomentAssignDef."""
        if snap.name in self.defs:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                ErrorDomain.VIR_FROM_DOMAIN,
                                f"domain moment {snap.name} already exists")
        self.defs[snap.name] = snap

    # -- the tree
    def children(self, name: Optional[str]) -> list[SnapshotDef]:
        """The direct children of `name` (None: the roots)."""
        return [s for s in self.defs.values() if s.parent == name]

    def descendants(self, name: Optional[str]) -> list[SnapshotDef]:
        """Every snapshot below `name`, each parent before its children."""
        out = []
        for child in self.children(name):
            out.append(child)
            out.extend(self.descendants(child.name))
        return out

    def check_cycles(self, snap: SnapshotDef) -> None:
        """virDomainMomentCheckCycles: `snap` (redefined) may join the tree."""
        if snap.parent is None:
            return
        if snap.parent == snap.name:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_DOMAIN,
                                f"cannot set moment {snap.name} as its own parent")
        other = self.defs.get(snap.parent)
        if other is None:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_DOMAIN,
                                f"parent {snap.parent} for moment {snap.name} not found")
        seen = set()
        while other is not None and other.parent is not None and other.name not in seen:
            seen.add(other.name)
            if other.parent == snap.name:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG,
                                    ErrorDomain.VIR_FROM_DOMAIN,
                                    f"parent {other.name} would create cycle to {snap.name}")
            other = self.defs.get(other.parent)

    def remove(self, name: str, reparent: bool = True) -> list[SnapshotDef]:
        """Drop `name` (qemuSnapshotDiscardMetadata): its children move up to
        its parent and, were it current, so does the current mark.  The
        snapshots whose saved form changed by that (to be written again)."""
        snap = self.defs.pop(name)
        changed = []
        if reparent:
            for child in self.children(name):
                child.parent = snap.parent
                changed.append(child)
        if self.current == name:
            self.current = None
            if reparent and snap.parent in self.defs:
                self.current = snap.parent
                changed.append(self.defs[snap.parent])
        return changed

    def doomed(self, snap: SnapshotDef, flags: int) -> list[SnapshotDef]:
        """What virDomainSnapshotDelete removes, in its order: the
        descendants first (CHILDREN, CHILDREN_ONLY), parents before children,
        then `snap` itself unless CHILDREN_ONLY."""
        out = self.descendants(snap.name) if flags & (DELETE_CHILDREN |
                                                      DELETE_CHILDREN_ONLY) else []
        if not flags & DELETE_CHILDREN_ONLY:
            out.append(snap)
        return out

    # -- listing (virDomainSnapshotObjListGetNames)
    def listing(self, start: Optional[str], flags: int) -> list[SnapshotDef]:
        """The snapshots a list call returns: from the top (`start` None;
        LIST_ROOTS: the roots only) or below `start` (LIST_DESCENDANTS: all
        of them, else its children), filtered by `flags`."""
        if flags & (LIST_METADATA | LIST_NO_METADATA) == LIST_NO_METADATA:
            return []   # every snapshot of ours has metadata
        if start is None:
            found = self.children(None) if flags & LIST_ROOTS else self.descendants(None)
        elif flags & LIST_DESCENDANTS:
            found = self.descendants(start)
        else:
            found = self.children(start)
        return [s for s in found if self._passes(s, flags)]

    def _passes(self, snap: SnapshotDef, flags: int) -> bool:
        if flags & _LEAVES:   # both bits: nothing passes, as in libvirt
            leaf = not self.children(snap.name)
            if (flags & LIST_LEAVES and not leaf) or (flags & LIST_NO_LEAVES and leaf):
                return False
        status = flags & _STATUS
        if status and status != _STATUS:
            kind = (LIST_INACTIVE if snap.state == "shutoff" else
                    LIST_DISK_ONLY if snap.state == "disk-snapshot" else LIST_ACTIVE)
            if not status & kind:
                return False
        location = flags & _LOCATION
        if location and location != _LOCATION:
            if snap.external != bool(location & LIST_EXTERNAL):
                return False
        return True


def snapshots_of(obj: DomainObj) -> SnapshotList:
    """The SnapshotList of a domain (made on first use)."""
    snaps: SnapshotList = obj.private.setdefault("snapshots", SnapshotList())
    return snaps
