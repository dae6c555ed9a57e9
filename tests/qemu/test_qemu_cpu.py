"""x86 CPUs in libvirt's vocabulary for the QEMU driver, against real
libvirt 9.0 on the same host: the host's CPU as the capabilities document
names it (CPUID decoded to a model of libvirt's map), the host-model CPU
of domain capabilities for KVM and TCG, and the model names."""

from __future__ import annotations

import re

import pytest

import reallibvirt
from qemutest import conn, root  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.cpu import cpuid
from pyvirt.cpu.x86 import decode, x86_map
from pyvirt.drivers.qemu import capabilities, cpux86, qmpprobe
from pyvirt.errors import VirtError
from lxml import etree

QEMU = capabilities.emulator_path("x86_64")
REAL = {
    "caps": "c.getCapabilities()",
    "domcaps_qemu": "c.getDomainCapabilities(None, 'x86_64', None, 'qemu')",
    "domcaps_kvm": "c.getDomainCapabilities(None, 'x86_64', None, 'kvm')",
    "names": "c.getCPUModelNames('x86_64')",
    "names_i686": "c.getCPUModelNames('i686')",
    "names_ppc": "c.getCPUModelNames('ppc64')",
    "names_arm": "c.getCPUModelNames('aarch64')",
    "names_bad": "c.getCPUModelNames('bogus')",
    "names_sparc": "c.getCPUModelNames('sparc')",
    "names_flags": "c.getCPUModelNames('x86_64', 1)",
}


@pytest.fixture(scope="module")
def real() -> dict:
    return reallibvirt.ask(REAL)


def _host_cpu_of(caps: str) -> etree._Element:
    return etree.fromstring(caps.encode()).find("host/cpu")


def test_host_cpu_as_libvirt_names_it(real):
    if cpuid.cpuid(0) is None:
        pytest.skip("CPUID cannot be asked here")
    want = _host_cpu_of(real["caps"][1])
    got = cpux86.host_cpu()
    assert got.model == want.findtext("model")
    assert got.vendor == (want.findtext("vendor") or "")
    assert list(got.features) == [f.get("name") for f in want.findall("feature")]
    sig = want.find("signature")
    assert (got.family, got.model_number, got.stepping) == \
        (int(sig.get("family")), int(sig.get("model")), int(sig.get("stepping")))
    phys = want.find("maxphysaddr")
    assert got.phys_bits == (int(phys.get("bits")) if phys is not None else 0)


def _host_model_of(domcaps: str) -> str:
    mode = etree.fromstring(domcaps.encode()).find("cpu/mode[@name='host-model']")
    return etree.tostring(mode).decode()


@pytest.mark.parametrize("accel,virt", [("kvm", "kvm"), ("tcg", "qemu")])
def test_host_model_as_libvirt_decodes_it(real, accel, virt):
    if QEMU is None or (accel == "kvm" and not capabilities.kvm_usable()):
        pytest.skip(f"no {accel} here")
    want = real[f"domcaps_{virt}"]
    assert want[0] == "ok", want
    got = cpux86.host_model(qmpprobe.probe(QEMU, accel))
    assert got is not None
    norm = re.compile(r"\s+")
    assert norm.sub("", etree.tostring(got).decode()) == norm.sub("", _host_model_of(want[1]))


@pytest.mark.parametrize("arch", ["x86_64", "i686", "ppc64", "aarch64", "bogus", "sparc"])
def test_model_names(conn, real, arch):
    key = {"x86_64": "names", "i686": "names_i686", "ppc64": "names_ppc",
           "aarch64": "names_arm", "bogus": "names_bad", "sparc": "names_sparc"}[arch]
    try:
        got = ("ok", api.virConnectGetCPUModelNames(conn, arch, 0))
    except VirtError as e:
        got = ("err", int(e.code), int(e.domain), e.message)
    assert got == real[key]


def test_model_names_flags(conn, real):
    with pytest.raises(VirtError) as info:
        api.virConnectGetCPUModelNames(conn, "x86_64", 1)
    e = info.value
    assert ("err", int(e.code), int(e.domain), e.message) == real["names_flags"]


# Host-independent: the decoding rules on data of our own making.
def test_a_host_cpu_is_never_described_with_disabled_features():
    m = x86_map()
    westmere = set(m.models["Westmere"].features)
    name, features = decode(westmere - {"aes"} | {"avx"}, "Intel", m, host=True)
    assert all(policy == "require" for policy, _ in features)
    assert name != "Westmere"


def test_blockers_are_spelt_out_as_disabled():
    m = x86_map()
    data = set(m.models["Nehalem"].features)
    name, features = decode(data, "Intel", m, allowed={"Nehalem": frozenset({"x2apic"})})
    assert (name, features) == ("Nehalem", [("disable", "x2apic")])


def test_the_cpus_signature_picks_among_equals():
    m = x86_map()
    data = set(m.models["Haswell-noTSX"].features)
    # Broadwell-noTSX needs more features disabled, yet its signature matches
    sig = m.models["Broadwell-noTSX"].signatures[0]
    assert decode(data, "Intel", m, signature=sig)[0] == "Broadwell-noTSX"
    assert decode(data, "Intel", m)[0] == "Haswell-noTSX"
