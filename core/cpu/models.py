"""The CPU model names libvirt 9.0 reports per architecture
(virConnectGetCPUModelNames, the same for every driver).  An architecture
libvirt knows but has no CPU driver for is NO_SUPPORT; any other is unknown
to the driver, which names itself in the error."""

from __future__ import annotations

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

X86 = (
    "486", "pentium", "pentium2", "pentium3", "pentiumpro", "coreduo", "n270", "core2duo",
    "qemu32", "kvm32", "cpu64-rhel5", "cpu64-rhel6", "qemu64", "kvm64", "Conroe", "Penryn",
    "Nehalem", "Nehalem-IBRS", "Westmere", "Westmere-IBRS", "SandyBridge", "SandyBridge-IBRS",
    "IvyBridge", "IvyBridge-IBRS", "Haswell-noTSX", "Haswell-noTSX-IBRS", "Haswell",
    "Haswell-IBRS", "Broadwell-noTSX", "Broadwell-noTSX-IBRS", "Broadwell", "Broadwell-IBRS",
    "Skylake-Client", "Skylake-Client-IBRS", "Skylake-Client-noTSX-IBRS", "Skylake-Server",
    "Skylake-Server-IBRS", "Skylake-Server-noTSX-IBRS", "Cascadelake-Server",
    "Cascadelake-Server-noTSX", "Icelake-Client", "Icelake-Client-noTSX", "Icelake-Server",
    "Icelake-Server-noTSX", "Cooperlake", "Snowridge", "athlon", "phenom", "Opteron_G1",
    "Opteron_G2", "Opteron_G3", "Opteron_G4", "Opteron_G5", "EPYC", "EPYC-IBPB", "EPYC-Rome",
    "EPYC-Milan", "Dhyana",
)
PPC64 = ("POWER6", "POWER7", "POWER8", "POWER9", "POWER10", "POWERPC_e5500", "POWERPC_e6500")

# Architectures with a CPU driver; the ARM and s390 ones list no models.
MODELS_BY_ARCH: dict[str, tuple[str, ...]] = {
    "i686": X86, "x86_64": X86, "ppc64": PPC64, "ppc64le": PPC64,
    "armv6l": (), "armv7l": (), "armv7b": (), "aarch64": (), "s390": (), "s390x": (),
}

# Architectures libvirt knows without a CPU driver for them.
NO_CPU_DRIVER = frozenset((
    "alpha", "cris", "ia64", "lm32", "m68k", "microblaze", "microblazeel", "mips", "mipsel",
    "mips64", "mips64el", "openrisc", "parisc", "parisc64", "ppc", "ppcle", "ppcemb",
    "riscv32", "riscv64", "sh4", "sh4eb", "sparc", "sparc64", "unicore32", "xtensa",
    "xtensaeb",
))


def model_names(arch: str, flags: int, function: str, domain: ErrorDomain) -> list[str]:
    """virConnectGetCPUModelNames of the driver whose entry point is `function`
    (for the flags error) and whose errors are of `domain`."""
    errors.check_flags(flags, 0, function, domain)
    if arch in NO_CPU_DRIVER:
        raise errors.report(ErrorNumber.VIR_ERR_NO_SUPPORT, ErrorDomain.VIR_FROM_CPU,
                            f"'{arch}' architecture is not supported by CPU driver")
    models = MODELS_BY_ARCH.get(arch)
    if models is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, domain,
                            f"cannot find architecture {arch}")
    return list(models)
