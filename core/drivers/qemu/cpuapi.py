"""The QEMU driver's CPU entry points: the models libvirt's map knows."""

from __future__ import annotations

from ...cpu import models
from ...errors import ErrorDomain


class HostCPUs:
    """Mixin of QemuDriver."""

    def connect_get_cpu_model_names(self, arch: str, flags: int) -> list[str]:
        return models.model_names(arch, flags, "qemuConnectGetCPUModelNames",
                                  ErrorDomain.VIR_FROM_QEMU)
