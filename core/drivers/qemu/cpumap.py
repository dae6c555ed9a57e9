"""x86 guest CPU facts in libvirt 9.0's vocabulary: where each CPUID
feature libvirt knows by name sits (leaf, subleaf, register, bit), and
the features of the CPU models a domain may name.

The feature order is libvirt's (the registers in the order below, bits
ascending within each): the live XML lists the features QEMU changed in
that order.  Features libvirt keeps in MSRs (arch-capabilities bits) are
left out: QEMU's feature-words, which the live CPU is read from, has
only CPUID words.  A '-' is a bit with no feature of its own."""

from __future__ import annotations

import dataclasses

_REGISTERS: tuple[tuple[int, int, str, str], ...] = (
    (0x1, 0, "edx", "fpu vme de pse tsc msr pae mce cx8 apic - sep mtrr pge mca cmov pat pse36 "
                    "pn clflush - ds acpi mmx fxsr sse sse2 ss ht tm ia64 pbe"),
    (0x1, 0, "ecx", "pni pclmuldq dtes64 monitor ds_cpl vmx smx est tm2 ssse3 cid - fma cx16 "
                    "xtpr pdcm - pcid dca sse4.1 sse4.2 x2apic movbe popcnt tsc-deadline aes "
                    "xsave osxsave avx f16c rdrand hypervisor"),
    (0x6, 0, "eax", "- - arat"),
    (0x7, 0, "ebx", "fsgsbase tsc_adjust sgx bmi1 hle avx2 - smep bmi2 erms invpcid rtm cmt - "
                    "mpx - avx512f avx512dq rdseed adx smap avx512ifma pcommit clflushopt clwb "
                    "intel-pt avx512pf avx512er avx512cd sha-ni avx512bw avx512vl"),
    (0x7, 0, "ecx", "- avx512vbmi umip pku ospke waitpkg avx512vbmi2 - gfni vaes vpclmulqdq "
                    "avx512vnni avx512bitalg - avx512-vpopcntdq - la57 - - - - - rdpid - "
                    "bus-lock-detect cldemote - movdiri movdir64b - sgxlc pks"),
    (0x7, 0, "edx", "- - avx512-4vnniw avx512-4fmaps fsrm - - - avx512-vp2intersect - md-clear "
                    "- - - serialize - tsx-ldtrk - pconfig arch-lbr - - amx-bf16 avx512-fp16 "
                    "amx-tile amx-int8 spec-ctrl stibp - arch-capabilities core-capability ssbd"),
    (0x7, 1, "eax", "- - - - avx-vnni avx512-bf16"),
    (0xd, 1, "eax", "xsaveopt xsavec xgetbv1 xsaves xfd"),
    (0xf, 1, "edx", "- mbm_total mbm_local"),
    (0x12, 0, "eax", "sgx1 sgx2"),
    (0x12, 0, "ebx", "sgx-exinfo"),
    (0x12, 1, "eax", "- sgx-debug sgx-mode64 - sgx-provisionkey sgx-tokenkey - sgx-kss"),
    (0x14, 0, "ecx", "- " * 31 + "intel-pt-lip"),
    (0x80000001, 0, "edx", "- - - - - - - - - - - syscall - - - - - - - - nx - mmxext - - "
                           "fxsr_opt pdpe1gb rdtscp - lm 3dnowext 3dnow"),
    (0x80000001, 0, "ecx", "lahf_lm cmp_legacy svm extapic cr8legacy abm sse4a misalignsse "
                           "3dnowprefetch osvw ibs xop skinit wdt - lwp fma4 tce cvt16 "
                           "nodeid_msr - tbm topoext perfctr_core perfctr_nb"),
    (0x80000007, 0, "edx", "- - - - - - - - invtsc"),
    (0x80000008, 0, "ebx", "clzero - xsaveerptr - - - - - - wbnoinvd - - ibpb - ibrs amd-stibp "
                           "- - - - - - - - amd-ssbd virt-ssbd amd-no-ssb"),
    (0x8000000a, 0, "edx", "npt lbrv svm-lock nrip-save tsc-scale vmcb-clean flushbyasid "
                           "decodeassists - - pause-filter - pfthreshold avic - v-vmsave-vmload "
                           "vgif - - - - - - - - - - - svme-addr-chk"),
)


@dataclasses.dataclass(frozen=True)
class Feature:
    """One CPUID feature bit; ex) name='pni' leaf=1 subleaf=0 register='ecx' bit=0"""
    name: str
    leaf: int
    subleaf: int
    register: str
    bit: int


FEATURES: tuple[Feature, ...] = tuple(
    Feature(name, leaf, subleaf, reg, bit)
    for leaf, subleaf, reg, names in _REGISTERS
    for bit, name in enumerate(names.split()) if name != "-")

_I386 = ("apic cmov cx8 de fpu fxsr mce mmx msr pae pat pge pni pse sep sse sse2 tsc").split()
_KVM32 = _I386 + ["clflush", "mca", "mtrr", "pse36"]
_X86_64 = _KVM32 + ["lm", "nx", "syscall"]
_KVM64 = _X86_64 + ["cx16"]
_CONROE = _X86_64 + ["lahf_lm", "ssse3"]
_PENRYN = _CONROE + ["cx16", "sse4.1"]
_NEHALEM = _PENRYN + ["popcnt", "sse4.2"]

# the models whose live CPU pyvirt can show: libvirt's own definitions
# (qemu64 leaves out the features KVM has only on some hosts)
MODELS: dict[str, frozenset[str]] = {
    "qemu32": frozenset(_I386),
    "qemu64": frozenset(_KVM64 + ["svm"]),
    "kvm32": frozenset(_KVM32),
    "kvm64": frozenset(_KVM64),
    "Conroe": frozenset(_CONROE),
    "Penryn": frozenset(_PENRYN),
    "Nehalem": frozenset(_NEHALEM),
    "Westmere": frozenset(_NEHALEM + ["aes"]),
}

# libvirt's feature names that QEMU spells otherwise (besides '_' for '-')
_QEMU_NAMES = {"pclmuldq": "pclmulqdq"}


def qemu_name(name: str) -> str:
    """The -cpu property of a libvirt feature name: lahf_lm -> lahf-lm."""
    return _QEMU_NAMES.get(name, name.replace("_", "-"))
