"""The QEMU driver's CPU entry points: the models libvirt's map knows, how
a CPU fits this host's CPU or the CPU QEMU can give (host-model), and the
baseline of several host CPUs."""

from __future__ import annotations

from typing import Optional

from ... import errors
from ...cpu import baseline, compare, cpudef, models
from ...errors import ErrorDomain
from . import cpux86, domcaps

Q = ErrorDomain.VIR_FROM_QEMU
VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE = 1
VIR_CONNECT_COMPARE_CPU_VALIDATE_XML = 2   # accepted; pyvirt has no RNG schemas to check with
_COMPARE_FLAGS = VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE | VIR_CONNECT_COMPARE_CPU_VALIDATE_XML
_BASELINE_FLAGS = baseline.EXPAND_FEATURES | baseline.MIGRATABLE


class HostCPUs:
    """Mixin of QemuDriver."""

    def connect_get_cpu_model_names(self, arch: str, flags: int) -> list[str]:
        return models.model_names(arch, flags, "qemuConnectGetCPUModelNames", Q)

    def connect_compare_cpu(self, xml_desc: str, flags: int) -> int:
        errors.check_flags(flags, _COMPARE_FLAGS, "qemuConnectCompareCPU", Q)
        return compare.compare(cpux86.host_cpu_def(), cpudef.parse(xml_desc),
                               bool(flags & VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE))

    def connect_compare_hypervisor_cpu(self, emulator: Optional[str], arch: Optional[str],
                                       machine: Optional[str], virttype: Optional[str],
                                       xml_cpu: str, flags: int) -> int:
        errors.check_flags(flags, _COMPARE_FLAGS, "qemuConnectCompareHypervisorCPU", Q)
        target = domcaps.resolve(emulator, arch, machine, virttype, 0)
        hm = cpux86.host_model_cpu(target.probe)
        host = None if hm is None else (hm.model, hm.vendor, hm.features)
        return compare.compare(host, cpudef.parse(xml_cpu),
                               bool(flags & VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE))

    def connect_baseline_cpu(self, xml_cpus: list[Optional[str]], flags: int) -> str:
        return baseline.baseline(xml_cpus, flags, "qemuConnectBaselineCPU", Q, _BASELINE_FLAGS)

    def connect_baseline_hypervisor_cpu(self, emulator: Optional[str], arch: Optional[str],
                                        machine: Optional[str], virttype: Optional[str],
                                        xml_cpus: list[Optional[str]], flags: int) -> str:
        errors.check_flags(flags, _BASELINE_FLAGS, "qemuConnectBaselineHypervisorCPU", Q)
        cpus = baseline.parse_cpus(xml_cpus)
        target = domcaps.resolve(emulator, arch, machine, virttype, 0)
        migratable = bool(flags & baseline.MIGRATABLE)
        hv = baseline.Hypervisor(cpux86.qemu_models(target.probe),
                                 cpux86.qemu_features(target.probe, migratable))
        return baseline.hypervisor_baseline(cpus, flags, target.arch, hv)
