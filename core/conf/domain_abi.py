"""Whether a new definition keeps a domain's guest-visible hardware (libvirt's
virDomainDefCheckABIStability), where the guest already runs on the old one:
a save image's definition replaced.  The checks pyvirt makes, in libvirt's
order and words: identity, memory, vCPUs, then the count of each kind of
device."""

from __future__ import annotations

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from .domain import DomainDef

# device element -> libvirt's name for it in "Target domain ... count"
_COUNTED = (("disk", "disk"), ("controller", "controller"), ("filesystem", "filesystem"),
            ("interface", "net card"), ("input", "input device"), ("sound", "sound card"),
            ("video", "video card"), ("hostdev", "host device"), ("smartcard", "smartcard"),
            ("serial", "serial port"), ("parallel", "parallel port"), ("channel", "channel"),
            ("console", "console"), ("hub", "hub device"), ("redirdev", "redirected devices"),
            ("rng", "RNG device"), ("memory", "memory device"))


def _unstable(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
                         detail)


def check(src: DomainDef, dst: DomainDef) -> None:
    """Raise libvirt's error for the first difference a guest would see."""
    if dst.name != src.name:
        raise _unstable(f"Target domain name '{dst.name}' does not match source '{src.name}'")
    if dst.uuid != src.uuid:
        raise _unstable(f"Target domain uuid {viruuid.format(dst.uuid)} does not match "
                        f"source {viruuid.format(src.uuid)}")
    if dst.memory != src.memory:
        raise _unstable(f"Target domain max memory {dst.memory} does not match source "
                        f"{src.memory}")
    if dst.vcpus != src.vcpus:
        raise _unstable(f"Target domain vCPU max {dst.vcpus} does not match source "
                        f"{src.vcpus}")
    for tag, words in _COUNTED:
        old = sum(1 for dev in src.devices if dev.tag == tag)
        new = sum(1 for dev in dst.devices if dev.tag == tag)
        if old != new:
            raise _unstable(f"Target domain {words} count {new} does not match source {old}")
