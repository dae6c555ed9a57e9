"""virConnectCompareCPU, virConnectCompareHypervisorCPU, virConnectBaselineCPU
and virConnectBaselineHypervisorCPU of the QEMU driver against real libvirt
9.0 on the same host: host and guest CPUs of many shapes, every flag, the
argument and XML errors.  Compared live: the answers depend on this host's
CPU and on what its QEMU and KVM can give."""

from __future__ import annotations

from typing import Any, Callable

import pytest

import reallibvirt
from qemutest import conn, root  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.errors import VirtError

H = "<cpu><arch>x86_64</arch><model>%s</model>%s</cpu>"
G = "<cpu mode='custom' match='%s'><model>%s</model>%s</cpu>"
KVM64 = G % ("exact", "kvm64", "")

COMPARED = {
    "kvm64": KVM64,
    "qemu64": G % ("exact", "qemu64", ""),
    "qemu64_nosvm": G % ("exact", "qemu64", "<feature policy='disable' name='svm'/>"),
    "strict_nosvm": G % ("strict", "qemu64", "<feature policy='disable' name='svm'/>"),
    "minimum_nosvm": G % ("minimum", "qemu64", "<feature policy='disable' name='svm'/>"),
    "forbid_sse2": G % ("exact", "kvm64", "<feature policy='forbid' name='sse2'/>"),
    "optional_svm": G % ("exact", "kvm64", "<feature policy='optional' name='svm'/>"),
    "force_svm": G % ("exact", "kvm64", "<feature policy='force' name='svm'/>"),
    "require_two": G % ("exact", "kvm64", "<feature policy='require' name='svm'/>"
                                          "<feature policy='require' name='vmx'/>"),
    "vendor_intel": "<cpu mode='custom' match='exact'><model>kvm64</model><vendor>Intel</vendor></cpu>",
    "vendor_amd": "<cpu mode='custom' match='exact'><model>kvm64</model><vendor>AMD</vendor></cpu>",
    "haswell": G % ("exact", "Haswell", ""),
    "haswell_nohle": G % ("exact", "Haswell", "<feature policy='disable' name='hle'/>"),
    "host_kvm64": H % ("kvm64", ""),
    "host_epyc": H % ("EPYC", ""),
    "host_arm": "<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>",
    "unknown_model": G % ("exact", "Bogus", ""),
    "unknown_feature": G % ("exact", "kvm64", "<feature policy='require' name='bogus'/>"),
    "no_model": "<cpu mode='custom' match='exact'/>",
    "host_model": "<cpu mode='host-model'/>",
    "passthrough": "<cpu mode='host-passthrough'/>",
    "empty": "",
    "not_xml": "<cpu",
    "not_cpu": "<domain/>",
    "arch_and_match": "<cpu match='exact'><arch>x86_64</arch><model>kvm64</model></cpu>",
    "topology_only": "<cpu><topology sockets='1' cores='1' threads='1'/></cpu>",
}

BASELINED = {
    "qemu64": [H % ("qemu64", "")],
    "kvm64": [H % ("kvm64", "")],
    "epyc": [H % ("EPYC", "")],
    "epyc_vendor": ["<cpu><arch>x86_64</arch><model>EPYC</model><vendor>AMD</vendor></cpu>"],
    "two": [H % ("Haswell", ""), H % ("Broadwell", "")],
    "vmx": [H % ("Skylake-Client", "<feature name='vmx'/>")],
    "invtsc": [H % ("Westmere", "<feature name='invtsc'/>")],
    "os_features": [H % ("kvm64", "<feature name='ospke'/><feature name='osxsave'/>"
                                  "<feature name='pku'/><feature name='xsave'/>")],
    "guest_cpu": ["<cpu mode='custom'><model>qemu64</model></cpu>"],
    "arm": ["<cpu><arch>aarch64</arch><model>cortex-a57</model></cpu>"],
    "unknown": [H % ("Bogus", "")],
    "none": [],
}
HOST_CPU = "c.getCapabilities().split('<cpu>')[1].split('</cpu>')[0].join(['<cpu>', '</cpu>'])"


def _questions() -> dict[str, str]:
    q = {"host_cpu": HOST_CPU}
    for k, x in COMPARED.items():
        q[f"c0_{k}"] = f"c.compareCPU({x!r}, 0)"
        q[f"c1_{k}"] = f"c.compareCPU({x!r}, 1)"
        q[f"h0_{k}"] = f"c.compareHypervisorCPU(None, None, None, None, {x!r}, 0)"
        q[f"t1_{k}"] = f"c.compareHypervisorCPU(None, None, None, 'qemu', {x!r}, 1)"
    for k, xs in BASELINED.items():
        for fl in range(4):
            q[f"b{fl}_{k}"] = f"c.baselineCPU({xs!r}, {fl})"
            q[f"hb{fl}_{k}"] = f"c.baselineHypervisorCPU(None, None, None, None, {xs!r}, {fl})"
            q[f"tb{fl}_{k}"] = f"c.baselineHypervisorCPU(None, None, None, 'qemu', {xs!r}, {fl})"
    for fl in range(4):
        q[f"b{fl}_host"] = f"c.baselineCPU([{HOST_CPU}], {fl})"
        q[f"hb{fl}_host"] = f"c.baselineHypervisorCPU(None, None, None, None, [{HOST_CPU}], {fl})"
    q.update({
        "c_flags": f"c.compareCPU({KVM64!r}, 4)",
        "h_flags": f"c.compareHypervisorCPU(None, None, None, None, {KVM64!r}, 4)",
        "h_bad_arch": f"c.compareHypervisorCPU(None, 'bogus', None, None, {KVM64!r}, 0)",
        "h_i686": f"c.compareHypervisorCPU(None, 'i686', None, None, {KVM64!r}, 0)",
        "b_flags": f"c.baselineCPU([{H % ('kvm64', '')!r}], 4)",
        "hb_flags": f"c.baselineHypervisorCPU(None, None, None, None, [{H % ('kvm64', '')!r}], 4)",
        "hb_bad_arch": f"c.baselineHypervisorCPU(None, 'bogus', None, None, "
                       f"[{H % ('kvm64', '')!r}], 0)",
    })
    return q


@pytest.fixture(scope="module")
def real() -> dict[str, tuple[Any, ...]]:
    return reallibvirt.ask(_questions())


def _ours(fn: Callable[[], Any]) -> tuple[Any, ...]:
    try:
        return ("ok", fn())
    except VirtError as e:
        return ("err", int(e.code), int(e.domain), e.message)


@pytest.mark.parametrize("key", list(COMPARED))
def test_compare(conn, real, key):
    x = COMPARED[key]
    assert _ours(lambda: api.virConnectCompareCPU(conn, x, 0)) == real[f"c0_{key}"]
    assert _ours(lambda: api.virConnectCompareCPU(conn, x, 1)) == real[f"c1_{key}"]
    assert _ours(lambda: api.virConnectCompareHypervisorCPU(
        conn, None, None, None, None, x, 0)) == real[f"h0_{key}"]
    assert _ours(lambda: api.virConnectCompareHypervisorCPU(
        conn, None, None, None, "qemu", x, 1)) == real[f"t1_{key}"]


@pytest.mark.parametrize("key", list(BASELINED))
def test_baseline(conn, real, key):
    xs = BASELINED[key]
    for fl in range(4):
        assert _ours(lambda: api.virConnectBaselineCPU(conn, xs, fl)) == real[f"b{fl}_{key}"]
        assert _ours(lambda: api.virConnectBaselineHypervisorCPU(
            conn, None, None, None, None, xs, fl)) == real[f"hb{fl}_{key}"], fl
        assert _ours(lambda: api.virConnectBaselineHypervisorCPU(
            conn, None, None, None, "qemu", xs, fl)) == real[f"tb{fl}_{key}"], fl


def test_baseline_of_this_hosts_cpu(conn, real):
    """The host CPU of real libvirt's capabilities (MIGRATABLE drops invtsc)."""
    host = [real["host_cpu"][1]]
    for fl in range(4):
        assert _ours(lambda: api.virConnectBaselineCPU(conn, host, fl)) == real[f"b{fl}_host"]
        assert _ours(lambda: api.virConnectBaselineHypervisorCPU(
            conn, None, None, None, None, host, fl)) == real[f"hb{fl}_host"]


def test_argument_errors(conn, real):
    h = H % ("kvm64", "")
    assert _ours(lambda: api.virConnectCompareCPU(conn, KVM64, 4)) == real["c_flags"]
    assert _ours(lambda: api.virConnectCompareHypervisorCPU(
        conn, None, None, None, None, KVM64, 4)) == real["h_flags"]
    assert _ours(lambda: api.virConnectCompareHypervisorCPU(
        conn, None, "bogus", None, None, KVM64, 0)) == real["h_bad_arch"]
    assert _ours(lambda: api.virConnectCompareHypervisorCPU(
        conn, None, "i686", None, None, KVM64, 0)) == real["h_i686"]
    assert _ours(lambda: api.virConnectBaselineCPU(conn, [h], 4)) == real["b_flags"]
    assert _ours(lambda: api.virConnectBaselineHypervisorCPU(
        conn, None, None, None, None, [h], 4)) == real["hb_flags"]
    assert _ours(lambda: api.virConnectBaselineHypervisorCPU(
        conn, None, "bogus", None, None, [h], 0)) == real["hb_bad_arch"]
