"""virConnectBaselineCPU on test:///default compared with real libvirt: the
XML checks, the architecture dispatch, x86 CPUs of one model and of
different models (decoded to the closest model), vendor checks; plus pinned
answers of libvirt 9.0 that hold without the reference installed."""

import random

import pytest

from pyvirt import api
from pyvirt.cpu.x86 import x86_map

from conftest import need_real, ours, real

H = "<cpu><arch>x86_64</arch><model>Haswell</model>%s</cpu>"
ARM = "<cpu><arch>aarch64</arch><model>%s</model></cpu>"
PPC = "<cpu><arch>ppc64</arch><model>%s</model></cpu>"


def X(model: str, extra: str = "") -> str:
    return f"<cpu><arch>x86_64</arch><model>{model}</model>{extra}</cpu>"


CASES = {
    "not_xml": ["/"], "none": [], "no_arch": ["<cpu/>"],
    "no_model": ["<cpu><arch>x86_64</arch></cpu>"], "not_cpu": ["<foo/>"],
    "mode": ["<cpu mode='host-model'><arch>x86_64</arch><model>Haswell</model></cpu>"],
    "unknown_arch": ["<cpu><arch>bogus</arch><model>x</model></cpu>"],
    "no_cpu_driver": ["<cpu><arch>sparc</arch><model>x</model></cpu>"],
    "s390": ["<cpu><arch>s390x</arch><model>z13</model></cpu>"],
    "x86_plain": [H % ""], "x86_vendor": [H % "<vendor>Intel</vendor>"],
    "x86_features": [H % "<feature name='vmx'/><feature name='abm'/><feature name='3dnow'/>"],
    "x86_common": [H % "<feature name='vmx'/><feature name='abm'/>",
                   H % "<vendor>Intel</vendor><feature name='abm'/>"],
    "x86_policy": [H % "<feature policy='require' name='vmx'/>"],
    "x86_unknown_feature": [H % "<feature name='bogus'/>"],
    "x86_unknown_model": ["<cpu><arch>x86_64</arch><model>Bogus</model></cpu>"],
    "x86_unknown_vendor": [H % "<vendor>Foo</vendor>"],
    "x86_vendors_differ": [H % "<vendor>Intel</vendor>", H % "<vendor>AMD</vendor>"],
    "i686": ["<cpu><arch>i686</arch><model>qemu32</model></cpu>"],
    "x86_then_arm": [H % "", ARM % "cortex-a53"],
    "arm": [ARM % "cortex-a57", ARM % "cortex-a53"],
    "ppc_same": [PPC % "POWER8"], "ppc_differ": [PPC % "POWER8", PPC % "POWER9"],
    "x86_pair": [H % "", X("Nehalem")],
    "x86_pair_reversed": [X("Nehalem"), H % ""],
    "x86_intel_amd": [X("Skylake-Client"), X("EPYC")],
    "x86_amd_intel_vendor": [X("EPYC", "<vendor>AMD</vendor>"), X("Haswell-noTSX")],
    "x86_triple": [X("Cascadelake-Server"), X("Icelake-Server-noTSX"), X("Broadwell")],
    "x86_triple_amd": [X("EPYC-Rome"), X("EPYC-Milan"), X("Opteron_G5")],
    "x86_extra_features": [H % "<feature name='invtsc'/>",
                           X("IvyBridge", "<feature name='invtsc'/><feature name='avx2'/>")],
    "x86_first_vendor_not_model": [H % "<vendor>AMD</vendor>"],
    "x86_hygon": [X("Skylake-Server", "<vendor>Hygon</vendor>")],
    "x86_removed_feature": [X("Dhyana", "<vendor>AMD</vendor>")],
    "x86_guest_decode_off": [X("Skylake-Client-noTSX-IBRS")],
    "x86_model_vendor_differs": [H % "", X("EPYC", "<vendor>Intel</vendor>")],
    "x86_vendors_do_not_match": [H % "<vendor>Intel</vendor>", X("EPYC")],
    "x86_later_unknown_vendor": [H % "", X("kvm64", "<vendor>Foo</vendor>")],
    "x86_host_policy_ignored": [H % "<feature policy='disable' name='vmx'/>",
                                H % "<feature policy='forbid' name='vmx'/>"],
    "x86_later_unknown_model": [H % "", X("Bogus")],
    "x86_malformed_second": [H % "", "<cpu><arch>x86_64</arch>"],
}


@need_real
@pytest.mark.parametrize("flags", (0, 1, 2))
@pytest.mark.parametrize("name", sorted(CASES))
def test_baseline_as_real(conn, rconn, name, flags):
    cpus = CASES[name]
    assert ours(lambda: api.virConnectBaselineCPU(conn, cpus, flags)) == \
        real(lambda: rconn.baselineCPU(cpus, flags))


def test_baseline_null_list(conn):
    got = ours(lambda: api.virConnectBaselineCPU(conn, None, 0))
    assert got[0] == "err" and got[3] == "xmlCPUs in virConnectBaselineCPU must not be NULL"


def _random_cpu(rnd: random.Random) -> str:
    cpu_map = x86_map()
    extra = ""
    vendor = rnd.choice([None, None, None, None, "Intel", "AMD", "Hygon"])
    if vendor:
        extra += f"<vendor>{vendor}</vendor>"
    for name in rnd.sample(cpu_map.order, rnd.choice([0, 0, 1, 3, 8])):
        extra += f"<feature name='{name}'/>"
    return X(rnd.choice(list(cpu_map.models)), extra)


@need_real
@pytest.mark.parametrize("seed", range(4))
def test_random_x86_sets_as_real(conn, rconn, seed):
    """1 to 4 CPUs of random models, vendors and extra features, both flags."""
    rnd = random.Random(seed)
    for _ in range(60):
        cpus = [_random_cpu(rnd) for _ in range(rnd.choice([1, 2, 2, 3, 4]))]
        flags = rnd.choice([0, 1])
        assert ours(lambda: api.virConnectBaselineCPU(conn, cpus, flags)) == \
            real(lambda: rconn.baselineCPU(cpus, flags)), (cpus, flags)


PINNED = [
    # (CPUs, flags, libvirt 9.0's answer)
    ([H % "", X("Nehalem")], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Nehalem</model>\n</cpu>\n"),
    ([X("Skylake-Client-noTSX-IBRS")], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Skylake-Client-IBRS</model>\n"
     "  <feature policy='disable' name='hle'/>\n  <feature policy='disable' name='rtm'/>\n"
     "</cpu>\n"),
    ([X("Dhyana", "<vendor>AMD</vendor>")], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>EPYC-IBPB</model>\n"
     "  <vendor>AMD</vendor>\n  <feature policy='disable' name='pclmuldq'/>\n"
     "  <feature policy='disable' name='aes'/>\n  <feature policy='disable' name='sha-ni'/>\n"
     "  <feature policy='disable' name='monitor'/>\n</cpu>\n"),
    ([H % "<feature name='invtsc'/>",
      X("IvyBridge", "<feature name='invtsc'/><feature name='avx2'/>")], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>SandyBridge</model>\n"
     "  <feature policy='require' name='fsgsbase'/>\n  <feature policy='require' name='avx2'/>\n"
     "  <feature policy='require' name='smep'/>\n  <feature policy='require' name='erms'/>\n"
     "  <feature policy='require' name='invtsc'/>\n</cpu>\n"),
    ([H % "<feature name='invtsc'/>", H % "<feature name='invtsc'/>"], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='forbid'>Haswell</model>\n"
     "  <feature policy='require' name='invtsc'/>\n</cpu>\n"),
    ([X("IvyBridge-IBRS", "<feature name='lahf_lm'/>"), X("Opteron_G2")], 0,
     "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>kvm64</model>\n"
     "  <feature policy='require' name='rdtscp'/>\n  <feature policy='require' name='lahf_lm'/>\n"
     "</cpu>\n"),
    ([H % "<vendor>Intel</vendor>", X("EPYC")], 0,
     ("err", 9, 31, "operation failed: CPU vendors do not match")),
]


@pytest.mark.parametrize("cpus,flags,want", PINNED)
def test_pinned_x86_answers(conn, cpus, flags, want):
    got = ours(lambda: api.virConnectBaselineCPU(conn, cpus, flags))
    assert got == (want if isinstance(want, tuple) else ("ok", want))


def test_expanded_keeps_disabled_policies(conn):
    """EXPAND_FEATURES lists the model's features too, sorted by name, and a
    disabled one keeps its policy (checked against libvirt 9.0)."""
    got = api.virConnectBaselineCPU(conn, [X("Skylake-Client-noTSX-IBRS")], 1)
    lines = [line.strip() for line in got.splitlines()[2:-1]]
    names = [line.split("name='")[1].split("'")[0] for line in lines]
    assert names == sorted(names) and len(names) == 64
    assert "<feature policy='disable' name='hle'/>" in lines
    assert "<feature policy='require' name='spec-ctrl'/>" in lines


def test_cpu_map_is_shipped_data():
    """The facts come from the package's own file, not the system's cpu_map."""
    cpu_map = x86_map()
    assert len(cpu_map.models) == 58 and len(cpu_map.order) == 212
    assert cpu_map.models["Dhyana"].removed == ("monitor",)
    assert cpu_map.models["EPYC"].vendor == "AMD" and cpu_map.models["kvm64"].vendor is None
