"""virDomainSetVcpusFlags and virDomainSetVcpu of the QEMU driver
(qemuDomainSetVcpusFlags, qemuDomainSetVcpu): the config's current and
maximum vCPU counts and its individual vCPUs, with libvirt 9.0's checks;
the live changes are vcpuhotplug.py's."""

from __future__ import annotations

from ... import errors
from ...conf import domain_cputune as cputune
from ...conf import domain_vcpus
from ...conf.domain import DomainDef, topology
from ...conf.domain_iothreads import parse_cpuset
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import affect
from .affect import AFFECT_CONFIG, AFFECT_LIVE
from .vcpuhotplug import set_vcpu_config, validate_config

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
VCPU_MAXIMUM, VCPU_GUEST, VCPU_HOTPLUGGABLE = 4, 8, 16
FN = "qemuDomainSetVcpusFlags"
GUEST_VCPU_MAX_ID = 4096


def _set_max(d: DomainDef, nvcpus: int) -> None:
    """virDomainDefSetVcpusMax: the vCPUs past the new maximum go, pins too."""
    counts = topology(d)
    if counts is not None and counts[0] * counts[1] * counts[2] * counts[3] != nvcpus:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                            "CPU topology doesn't match the desired vcpu count")
    domain_vcpus.set_maximum(d, nvcpus)
    pins = cputune.vcpu_pins(d.cputune)
    d.cputune = cputune.with_vcpu_pins(d.cputune, {v: c for v, c in pins.items() if v < nvcpus})


def _set_current(d: DomainDef, nvcpus: int, hotpluggable: bool) -> None:
    """qemuDomainSetVcpusConfig: the first offline vCPUs come (hotpluggable
    if asked, or if a hotpluggable one is online before them), the last
    online ones go (hotpluggable); orders are forgotten."""
    slots = domain_vcpus.slots(d)
    individual = d.vcpu_slots is not None
    for slot in slots:
        slot.order = 0
    current = sum(s.online for s in slots)
    if current < nvcpus:
        for slot in slots:
            if current == nvcpus:
                break
            if slot.online:
                hotpluggable = hotpluggable or slot.hotpluggable is True
                continue
            slot.online, slot.hotpluggable = True, hotpluggable
            individual = individual or hotpluggable
            current += 1
    else:
        for slot in reversed(slots):
            if current == nvcpus:
                break
            if slot.online:
                slot.online, slot.hotpluggable = False, True
                current -= 1
    domain_vcpus.store(d, slots, individual)


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
                        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
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
                self.set_vcpus_live(obj, rt, nvcpus)  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    _set_current(config, nvcpus, bool(flags & VCPU_HOTPLUGGABLE))
                    self._save_config(config)  # type: ignore[attr-defined]

    def domain_set_vcpu(self, dom: Domain, vcpumap: str, state: int, flags: int) -> None:
        fn = "qemuDomainSetVcpu"
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, fn, Q)
        if state not in (0, 1):
            raise errors.invalid_arg(Q, fn, "state", "unsupported state value")
        vcpus = parse_cpuset(vcpumap) if vcpumap.strip() else None
        if vcpus is None or any(v >= GUEST_VCPU_MAX_ID for v in vcpus):
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                f"Failed to parse bitmap '{vcpumap}'")
        if not vcpus:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                "no vcpus selected for modification")
        last = max(vcpus)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj, rt, config = self._defs(dom, flags)  # type: ignore[attr-defined]
                if config is not None and last >= config.vcpus:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                        f"vcpu {last} is not present in persistent config")
                if rt is not None and last >= obj.def_.vcpus:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                        f"vcpu {last} is not present in live config")
            if rt is not None:
                chosen, ents = self.vcpu_entity_to_change(  # type: ignore[attr-defined]
                    obj, rt, vcpus, bool(state))
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    validate_config(config, vcpus)
            if rt is not None:
                self.change_vcpus(obj, rt, chosen, bool(state), ents)  # type: ignore[attr-defined]
            if config is not None:
                with self.lock:  # type: ignore[attr-defined]
                    config = affect.keep_apart(obj)
                    set_vcpu_config(config, vcpus, bool(state))
                    self._save_config(config)  # type: ignore[attr-defined]
