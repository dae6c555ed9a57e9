"""Which definitions VIR_DOMAIN_AFFECT_* flags name: the one a getter
reads (libvirt's virDomainObjGetOneDefState), the pair a setter changes
(virDomainObjGetDefs), and the persistent definition split from a running
domain's before either side changes (pyvirt keeps one definition for both
until they differ)."""

from __future__ import annotations

from typing import Optional

from ... import errors
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber

D = ErrorDomain.VIR_FROM_DOMAIN
AFFECT_LIVE, AFFECT_CONFIG = 1, 2


def one_def(obj: DomainObj, flags: int) -> tuple[DomainDef, bool]:
    """(the definition, whether it is the live one) (lock held)."""
    if flags & AFFECT_LIVE and flags & AFFECT_CONFIG:
        raise errors.invalid_arg(D, "virDomainObjGetOneDefState", "flags",
                                 "Flags 'VIR_DOMAIN_AFFECT_LIVE' and "
                                 "'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
    live = bool(flags & AFFECT_LIVE) or (not flags & AFFECT_CONFIG and obj.is_active())
    if live and not obj.is_active():
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D, "domain is not running")
    if not live and not obj.persistent:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                            "transient domains do not have any persistent config")
    return (obj.def_ if live else obj.persistent_def()), live


def defs(obj: DomainObj, flags: int, active: bool) -> tuple[bool, Optional[DomainDef]]:
    """(whether the live definition is changed, the persistent one if it
    is) for a setter's `flags` on `obj`, running when `active` (lock held)."""
    if not flags & (AFFECT_LIVE | AFFECT_CONFIG):
        flags |= AFFECT_LIVE if active else AFFECT_CONFIG
    if flags & AFFECT_LIVE and not active:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D, "domain is not running")
    if flags & AFFECT_CONFIG and not obj.persistent:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                            "transient domains do not have any persistent config")
    return bool(flags & AFFECT_LIVE), obj.persistent_def() if flags & AFFECT_CONFIG else None


def keep_apart(obj: DomainObj) -> DomainDef:
    """The persistent definition, split from a running domain's live one
    first, so that a change to either leaves the other as it is (lock held)."""
    if obj.is_active() and obj.persistent and obj.new_def is None:
        obj.new_def = obj.def_.copy()
        obj.private.pop(AS_DEFINED, None)
    return obj.persistent_def()


# A definition kept as the user's XML was parsed (a define).  libvirt's start
# makes the persistent definition a copy, formatted and parsed again, which
# can order it differently (each controller after the last of its kind);
# pyvirt shares one definition until the two differ, and re-parses lazily.
AS_DEFINED = "as_defined"


def persistent_view(obj: DomainObj) -> DomainDef:
    """The persistent definition as libvirt's would read (lock held)."""
    if obj.new_def is None and obj.is_active() and obj.private.get(AS_DEFINED):
        return obj.def_.copy()
    return obj.persistent_def()


def reparsed_at_stop(obj: DomainObj) -> DomainDef:
    """The definition a stopping domain keeps (lock held)."""
    if obj.new_def is not None:
        return obj.new_def
    if obj.persistent and obj.private.pop(AS_DEFINED, None):
        return obj.def_.copy()
    return obj.def_


def tunable_event(source: object, obj: DomainObj, name: str, value: str) -> None:
    """VIR_DOMAIN_EVENT_ID_TUNABLE with one string parameter (lock held)."""
    from ... import events
    events.queue_domain_event(source, events.DomainEventID.VIR_DOMAIN_EVENT_ID_TUNABLE,
                              obj.name, obj.uuid, obj.id, [(name, 7, value)])
