"""Public functions that reach the guest's agent, or the guest's power
management, with libvirt-domain.c's own checks (all refused read-only)."""

from __future__ import annotations

from typing import Any

from ..errors import ErrorDomain, ErrorNumber
from ..objects import Domain
from . import _common as c

D = ErrorDomain.VIR_FROM_DOMAIN

__all__ = ["virDomainGetGuestInfo", "virDomainGetGuestVcpus",
           "virDomainAgentSetResponseTimeout", "virDomainPMSuspendForDuration",
           "virDomainPMWakeup"]


def _on(dom: Any, fn: str, *args: Any) -> Any:
    d: Domain = c.handle(dom, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return c.call(d.conn, fn, D, d, *args, write=True)


def virDomainGetGuestInfo(domain: Domain, types: int, flags: int) -> list[Any]:
    return list(_on(domain, "virDomainGetGuestInfo", types, flags))


def virDomainGetGuestVcpus(domain: Domain, flags: int) -> list[Any]:
    return list(_on(domain, "virDomainGetGuestVcpus", flags))


def virDomainAgentSetResponseTimeout(domain: Domain, timeout: int, flags: int) -> None:
    _on(domain, "virDomainAgentSetResponseTimeout", timeout, flags)


def virDomainPMSuspendForDuration(dom: Domain, target: int, duration: int, flags: int) -> None:
    _on(dom, "virDomainPMSuspendForDuration", target, duration, flags)


def virDomainPMWakeup(dom: Domain, flags: int) -> None:
    _on(dom, "virDomainPMWakeup", flags)
