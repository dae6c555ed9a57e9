"""Which definition a getter with VIR_DOMAIN_AFFECT_* flags reads, as
libvirt's virDomainObjGetOneDefState (the setters' pair of definitions:
Balloon._defs, as virDomainObjGetDefs)."""

from __future__ import annotations

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


def tunable_event(source: object, obj: DomainObj, name: str, value: str) -> None:
    """VIR_DOMAIN_EVENT_ID_TUNABLE with one string parameter (lock held)."""
    from ... import events
    events.queue_domain_event(source, events.DomainEventID.VIR_DOMAIN_EVENT_ID_TUNABLE,
                              obj.name, obj.uuid, obj.id, [(name, 7, value)])
