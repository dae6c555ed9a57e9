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


def _hm_xml(name: str, virt: str) -> str:
    return (f"<domain type='{virt}'><name>{name}</name><memory>65536</memory><vcpu>1</vcpu>"
            "<os><type arch='x86_64' machine='pc'>hvm</type></os>"
            "<cpu mode='host-model'><topology sockets='1' cores='1' threads='1'/>"
            "<feature policy='disable' name='umip'/></cpu><devices/></domain>")


def _cpu_arg(log: str) -> str:
    return re.findall(r"-cpu (\S+)", log)[-1]


def _live_cpu(xml: str) -> str:
    return re.sub(r"\s+", "", etree.tostring(etree.fromstring(xml.encode()).find("cpu")).decode())


@pytest.mark.parametrize("virt", ["qemu", "kvm"])
def test_a_host_model_domain_starts_as_libvirts(conn, virt):
    """A host-model domain runs with the CPU libvirt makes of it: the same
    -cpu, and the same live <cpu> (custom, check='full').  With KVM, the
    migratable host model (no invtsc).  Where QEMU refuses it (KVM nested
    here cannot set arch-capabilities), both fail with QEMU's words."""
    if virt == "kvm" and not capabilities.kvm_usable():
        pytest.skip("no KVM here")
    name = f"hm_{virt}"
    xml = _hm_xml(name, virt)
    real = reallibvirt.ask({
        "1_xml": f"(lambda d: [d.XMLDesc(0), d.destroy()][0])(c.createXML({xml!r}, 0))",
        "2_log": f"open(root + '/log/qemu/{name}.log').read()"})
    try:
        d = api.virDomainCreateXML(conn, xml, 0)
        ours = ("ok", api.virDomainGetXMLDesc(d, 0))
        api.virDomainDestroy(d)
    except VirtError as e:
        ours = ("err", int(e.code), int(e.domain), e.message)
    log = conn.driver.layout.log_file(name).read_text()
    assert _cpu_arg(log) == _cpu_arg(real["2_log"][1])
    assert ours[0] == real["1_xml"][0], (ours, real["1_xml"])
    if ours[0] == "ok":
        assert _live_cpu(ours[1]).split("/>") == _live_cpu(real["1_xml"][1]).split("/>")
    else:   # libvirt's prefix depends on when init reaps its QEMU; QEMU's words agree
        assert ours[1:3] == real["1_xml"][1:3]
        stamp = re.compile(r"^.*?: \S+Z ")   # the prefix and QEMU's timestamp
        assert stamp.sub("", ours[3]) == stamp.sub("", real["1_xml"][3])


TOPOLOGIES = {
    "mismatch": (1, "<topology sockets='2' cores='2' threads='1'/>"),
    "too_few": (8, "<topology sockets='2' cores='2' threads='1'/>"),
    "fits": (4, "<topology sockets='2' cores='2' threads='1'/>"),
    "dies": (4, "<topology sockets='1' dies='2' cores='2' threads='1'/>"),
    "no_sockets": (1, "<topology cores='1' threads='1'/>"),
    "no_threads": (1, "<topology sockets='1' cores='1'/>"),
    "zero_dies": (1, "<topology sockets='1' dies='0' cores='1' threads='1'/>"),
    "not_a_number": (1, "<topology sockets='x' cores='1' threads='1'/>"),
}


def _topology_xml(name: str, vcpus: int, topology: str) -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory>65536</memory>"
            f"<vcpu>{vcpus}</vcpu><os><type>hvm</type></os>"
            f"<cpu><model>qemu64</model>{topology}</cpu><devices/></domain>")


def _cpu_of(xml: str) -> str:
    return re.sub(r"\s+", "", etree.tostring(etree.fromstring(xml.encode()).find("cpu")).decode())


def test_topologies_as_libvirt_takes_them(conn):
    real = reallibvirt.ask({
        key: f"(lambda d: [d.XMLDesc(0), d.undefine()][0])(c.defineXML({_topology_xml('t_' + key, *v)!r}))"
        for key, v in TOPOLOGIES.items()})
    for key, (vcpus, topology) in TOPOLOGIES.items():
        try:
            d = api.virDomainDefineXML(conn, _topology_xml("t_" + key, vcpus, topology))
            ours = ("ok", api.virDomainGetXMLDesc(d, 0))
            api.virDomainUndefine(d)
        except VirtError as e:
            ours = ("err", int(e.code), int(e.domain), e.message)
        if ours[0] == "ok" and real[key][0] == "ok":
            assert _cpu_of(ours[1]) == _cpu_of(real[key][1]), key
        else:
            assert ours == real[key], key


def test_smp_names_dies_only_with_a_topology(conn):
    d = api.virDomainDefineXML(conn, _topology_xml("smp", 4, TOPOLOGIES["fits"][1]))
    from pyvirt.drivers.qemu import command
    argv = command.build(conn.driver._obj(d).def_, QEMU or "qemu-system-x86_64", "tcg",
                         command.LaunchPaths("/p", 3, [], []), False)
    assert argv[argv.index("-smp") + 1] == "4,sockets=2,dies=1,cores=2,threads=1"
    plain = api.virDomainDefineXML(conn, _topology_xml("smp2", 4, ""))
    argv = command.build(conn.driver._obj(plain).def_, QEMU or "qemu-system-x86_64", "tcg",
                         command.LaunchPaths("/p", 3, [], []), False)
    assert argv[argv.index("-smp") + 1] == "4,sockets=4,cores=1,threads=1"


STARTS = {
    "kvm_check_none": ("kvm", "<cpu check='none'><model>qemu64</model></cpu>"),
    "kvm_check_full": ("kvm", "<cpu check='full'><model>qemu64</model></cpu>"),
    "kvm_partial_nosvm": ("kvm", "<cpu><model>qemu64</model>"
                                 "<feature policy='disable' name='svm'/></cpu>"),
    "kvm_partial_svm": ("kvm", "<cpu><model>qemu64</model></cpu>"),
    "kvm_kvm64": ("kvm", "<cpu><model>kvm64</model></cpu>"),
    "kvm_westmere": ("kvm", "<cpu><model>Westmere</model></cpu>"),
    "kvm_optional": ("kvm", "<cpu><model>kvm64</model><feature policy='optional' name='vme'/>"
                            "<feature policy='optional' name='svm'/></cpu>"),
    "kvm_minimum": ("kvm", "<cpu match='minimum'><model>kvm64</model></cpu>"),
    "kvm_bogus": ("kvm", "<cpu><model>Bogus</model></cpu>"),
    "tcg_partial_vmx": ("qemu", "<cpu check='partial'><model>qemu64</model>"
                                "<feature name='vmx'/></cpu>"),
    "tcg_custom": ("qemu", "<cpu><model>qemu64</model></cpu>"),
    "tcg_host_model": ("qemu", "<cpu mode='host-model'/>"),
    "tcg_default": ("qemu", ""),
}


def _start_xml(name: str, virt: str, cpu: str) -> str:
    return (f"<domain type='{virt}'><name>{name}</name><memory>65536</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='pc'>hvm</type></os>{cpu}<devices/></domain>")


def _cpu_elem(xml: str) -> str:
    return re.sub(r"\s+", " ", re.search(r"<cpu.*?</cpu>|<cpu[^>]*/>", xml, re.S).group(0))


def _qemu_words(message: str) -> str:
    """QEMU's own words of a start error (libvirt's prefix depends on timing)."""
    return re.sub(r"\S+Z ", "", message.split("monitor: ")[-1])


@pytest.fixture(scope="module")
def real_starts() -> dict:
    q = {}
    for key, (virt, cpu) in STARTS.items():
        xml = _start_xml("st_" + key, virt, cpu)
        q[key] = (f"(lambda d: [d.XMLDesc(0), d.XMLDesc(8), d.destroy()][:2])"
                  f"(c.createXML({xml!r}, 0))")
        q[key + "_log"] = (f"(lambda p: open(p).read() if os.path.exists(p) else '')"
                           f"(root + '/log/qemu/st_{key}.log')")
    return reallibvirt.ask(q)


@pytest.mark.parametrize("key", list(STARTS))
def test_a_start_checks_and_updates_the_cpu_as_libvirt(conn, real_starts, key):
    """check='partial' against the host's CPU before QEMU runs, check='full'
    against what QEMU gave, optional and match='minimum' resolved against
    the host model; the same -cpu, live <cpu> and migratable <cpu>."""
    virt, cpu = STARTS[key]
    if virt == "kvm" and not capabilities.kvm_usable():
        pytest.skip("no KVM here")
    try:
        d = api.virDomainCreateXML(conn, _start_xml("st_" + key, virt, cpu), 0)
        ours = ("ok", [api.virDomainGetXMLDesc(d, 0), api.virDomainGetXMLDesc(d, 8)])
        api.virDomainDestroy(d)
    except VirtError as e:
        ours = ("err", int(e.code), int(e.domain), e.message)
    real = real_starts[key]
    assert ours[0] == real[0], (ours, real)
    if ours[0] == "ok":
        assert [_cpu_elem(x) for x in ours[1]] == [_cpu_elem(x) for x in real[1]]
    else:
        assert ours[1:3] == tuple(real[1:3]) and _qemu_words(ours[3]) == _qemu_words(real[3])
    log = conn.driver.layout.log_file("st_" + key)
    real_log = real_starts[key + "_log"][1]
    assert (re.findall(r"-cpu (\S+)", log.read_text())[-1:] if log.exists() else []) == \
        re.findall(r"-cpu (\S+)", real_log)[-1:]
