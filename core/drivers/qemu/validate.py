"""What libvirt 9.0's QEMU driver refuses in a definition it could parse
(its qemu_validate): checked at define and create, after post-parse."""

from __future__ import annotations

from ... import errors
from ...conf.domain import DomainDef, topology
from ...errors import ErrorDomain, ErrorNumber
from . import pciaddr


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                         detail)


def _lifecycle(d: DomainDef) -> None:
    if "rename-restart" in (d.on_poweroff, d.on_reboot, d.on_crash):
        raise _unsupported("qemu driver doesn't support the 'rename-restart' action for "
                           "'on_reboot'/'on_poweroff'/'on_crash'")
    if "preserve" in (d.on_poweroff, d.on_reboot):
        raise _unsupported("qemu driver doesn't support the 'preserve' action for "
                           "'on_reboot'/'on_poweroff'")
    if d.on_poweroff == "restart" and d.on_reboot == "destroy":
        # libvirt's message, its missing quote included
        raise _unsupported("qemu driver doesn't support 'onReboot' set to 'destroy and "
                           "'onPoweroff' set to 'reboot'")


def _vcpus(d: DomainDef) -> None:
    """vCPU 0 first, online and fixed; the fixed ones before the hotpluggable."""
    if d.vcpu_slots is None:
        return
    first = d.vcpu_slots[0]
    if not first.online:
        raise _unsupported("vcpu 0 can't be offline")
    if first.hotpluggable:
        raise _unsupported("vcpu0 can't be hotpluggable")
    if first.order not in (0, 1):
        raise _unsupported("vcpu0 must be enabled first")
    ordered, prev = first.order != 0, first
    for slot in d.vcpu_slots[1:]:
        if slot.online and (slot.order != 0) != ordered:
            raise _unsupported("all vcpus must have either set or unset order")
        if slot.hotpluggable is False:
            if prev.hotpluggable:
                raise _unsupported("online non-hotpluggable vcpus need to be ordered "
                                   "prior to hotplugable vcpus")
            if prev.order > slot.order:
                raise _unsupported("online non-hotpluggable vcpus must be ordered in "
                                   "ascending order")
        prev = slot


def check(d: DomainDef) -> None:
    _lifecycle(d)
    _vcpus(d)
    counts = topology(d)
    if counts is not None and counts[0] * counts[1] * counts[2] * counts[3] != d.vcpus:
        raise _unsupported("CPU topology doesn't match maximum vcpu count")
    if pciaddr.is_q35(d) and any(dev.tag == "controller" and dev.get("type") == "ide"
                                 for dev in d.devices):   # q35 has AHCI only
        raise _unsupported("IDE controllers are unsupported for this QEMU binary or "
                           "machine type")
