"""virDomainSetVcpusFlags of the QEMU driver (qemuDomainSetVcpusFlags):
the config's current and maximum vCPU counts, with libvirt 9.0's checks.
A live change (vCPU hotplug) is not done yet: it fails as unsupported
rather than pretend."""

from __future__ import annotations

from ... import errors
from ...conf import domain_cputune as cputune
from ...conf.domain import DomainDef, topology
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import affect
from .affect import AFFECT_CONFIG, AFFECT_LIVE

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
VCPU_MAXIMUM, VCPU_GUEST, VCPU_HOTPLUGGABLE = 4, 8, 16
FN = "qemuDomainSetVcpusFlags"


def _set_max(d: DomainDef, nvcpus: int) -> None:
    """virDomainDefSetVcpusMax: the vCPUs past the new maximum go, pins too."""
    counts = topology(d)
    if counts is not None and counts[0] * counts[1] * counts[2] * counts[3] != nvcpus:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                            "CPU topology doesn't match the desired vcpu count")
    current = min(d.vcpus_current or d.vcpus, nvcpus)
    d.vcpus = nvcpus
    d.vcpus_current = None if current == nvcpus else current
    pins = cputune.vcpu_pins(d.cputune)
    d.cputune = cputune.with_vcpu_pins(d.cputune, {v: c for v, c in pins.items() if v < nvcpus})


def _set_current(d: DomainDef, nvcpus: int) -> None:
    d.vcpus_current = None if nvcpus == d.vcpus else nvcpus


class VcpuCount:
    """Mixed into QemuDriver (lock, job, _defs, _save_config)."""

    def domain_set_vcpus_flags(self, dom: Domain, nvcpus: int, flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | VCPU_MAXIMUM | VCPU_GUEST
                           | VCPU_HOTPLUGGABLE, FN, Q)
        if flags & VCPU_GUEST:   # the guest agent's job: there is never an agent
            with self.lock:  # type: ignore[attr-defined]
                if not self._obj(dom).is_active():  # type: ignore[attr-defined]
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "domain is not running")
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "QEMU guest agent is not configured")
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if flags & VCPU_MAXIMUM:
                    if not flags & AFFECT_CONFIG:
                        raise errors.invalid_arg(D, FN, "flags",
                                                 "Flag 'VIR_DOMAIN_AFFECT_CONFIG' is required "
                                                 "by flag 'VIR_DOMAIN_VCPU_MAXIMUM'")
                    if rt is not None:
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                            "maximum vcpu count of a live domain can't be "
                                            "modified")
                    config = affect.keep_apart(obj)
                    _set_max(config, nvcpus)
                    self._save_config(config)  # type: ignore[attr-defined]
                    return
                if rt is not None and nvcpus > obj.def_.vcpus:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                        f"requested vcpus is greater than max allowable vcpus "
                                        f"for the live domain: {nvcpus} > {obj.def_.vcpus}")
                if config is not None and nvcpus > config.vcpus:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                        f"requested vcpus is greater than max allowable vcpus "
                                        f"for the persistent domain: {nvcpus} > {config.vcpus}")
                if rt is not None:
                    # vCPU hotplug (device_add of query-hotpluggable-cpus' entries)
                    # is not done yet: say so rather than change only the config
                    raise errors.no_support("virDomainSetVcpusFlags", D)
                if config is not None:
                    config = affect.keep_apart(obj)
                    _set_current(config, nvcpus)
                    self._save_config(config)  # type: ignore[attr-defined]
