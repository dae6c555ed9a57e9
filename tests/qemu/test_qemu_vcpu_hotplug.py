"""Live vCPU hot(un)plug of the QEMU driver (virDomainSetVcpusFlags,
virDomainSetVcpus, virDomainSetVcpu) and what the vCPU getters say after
it, compared live with real libvirt 9.0's embed driver: the same
libvirt-python expressions run on real libvirt and, through Debian's
python3-libvirt on pyvirt's libvirt.so.0, on ours (XML parts, return
values, events, errors).  That QEMU really has the vCPUs is read from
query-cpus-fast (through virDomainQemuMonitorCommand) and from the
"CPU n/KVM" threads of the QEMU process.

The idle guest never switches QEMU's ACPI CPU hotplug out of its legacy
mode, so QEMU refuses every device_del of a vCPU at once, with or without
<acpi/>, and libvirt reports that error; a hotplug works all the same.
The cpuhp guest switches it and ejects what QEMU asks to remove (unplug
completes: DEVICE_DELETED); cpuhp_deaf switches it and ignores the
requests (libvirt gives up after 5 s with VIR_ERR_OPERATION_TIMEOUT)."""

from __future__ import annotations

import concurrent.futures
import re
import struct

import pytest

import guest
import reallibvirt
from qemutest import VIRT_TYPE, ensure_event_loop, kernels, root  # noqa: F401 (fixtures)
from support import needs_build, needs_system_libvirt
from pyvirt import api

pytestmark = [needs_build, needs_system_libvirt]

PRELUDE = r'''
import re, time, json, glob
import libvirt_qemu
def X(d, f=0):
    return "".join(re.findall(r"  <vcpu[ >].*?\n|  <vcpus>.*?</vcpus>\n", d.XMLDesc(f), re.S))
EV = []
for _ev in (libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE, libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
            libvirt.VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED):
    c.domainEventRegisterAny(None, _ev, lambda conn, dom, *a: EV.append((dom.name(), a[:-1])),
                             None)
def EVS():
    time.sleep(0.3); r = list(EV); del EV[:]; return r
def V(d):
    info, maps = d.vcpus()
    return [tuple(v[:2]) for v in info], maps
def INFO(d):
    return d.info()[:4]
def ST(d):
    s = c.domainListGetStats([d], libvirt.VIR_DOMAIN_STATS_VCPU)[0][1]
    return ({k: v for k, v in s.items() if k in ("vcpu.current", "vcpu.maximum")
             or k.endswith((".state", ".halted"))},
            sorted({k.split(".")[1] for k in s if k.split(".")[1].isdigit()}))
def QCPUS(d):
    r = json.loads(libvirt_qemu.qemuMonitorCommand(
        d, '{"execute":"query-cpus-fast"}', 0))["return"]
    return [(x["cpu-index"], x["props"], x["qom-path"] if "peripheral" in x["qom-path"]
             else "boot") for x in r]
def READY(*doms):
    """The cpuhp guests run (their firmware takes seconds): True, else False."""
    end = time.time() + 60
    for d in doms:
        while d.memoryPeek(%d, 4, libvirt.VIR_MEMORY_PHYSICAL) != %r:
            if time.time() > end:
                return False
            time.sleep(0.05)
    return True
def QMP_DEL(d, alias, left):
    """device_del behind libvirt's back, until QEMU has `left` vCPUs."""
    r = json.loads(libvirt_qemu.qemuMonitorCommand(
        d, json.dumps({"execute": "device_del", "arguments": {"id": alias}}), 0))["return"]
    end = time.time() + 10
    while len(QCPUS(d)) != left and time.time() < end:
        time.sleep(0.05)
    time.sleep(0.5)   # the driver's handling of DEVICE_DELETED
    return r
def THREADS(name):
    """QEMU's vCPU threads, by name, and the CPUs each may run on."""
    pid = open(root + "/run/qemu/" + name + ".pid").read().strip()
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        comm = open(t + "/comm").read().strip()
        if comm.startswith("CPU "):
            out[comm] = [l.split()[1] for l in open(t + "/status")
                         if l.startswith("Cpus_allowed_list")][0]
    return sorted(out.items())
'''


def xml(name: str, kernel: str, cur: int, mx: int, machine: str = "q35", vcpus: str = "",
        extra: str = "") -> str:
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu current='{cur}'>{mx}</vcpu>{vcpus}"
            f"<os><type arch='x86_64' machine='{machine}'>hvm</type><kernel>{kernel}</kernel>"
            f"</os>{extra}<devices></devices></domain>")


def vcpus(*specs: str) -> str:
    return "<vcpus>" + "".join(f"<vcpu id='{i}' {s}/>" for i, s in enumerate(specs)) + "</vcpus>"


def look(name: str) -> str:
    return f"c.lookupByName({name!r})"


PIN = "<cputune><vcpupin vcpu='2' cpuset='1'/></cputune>"   # a plugged vCPU's thread obeys it


def running(kernel: str) -> list[tuple[str, str]]:
    """Hotplug by count on q35, the errors around it, LIVE|CONFIG, unplug."""
    A = look("vh_a")
    return [
        ("define", f"c.defineXML({xml('vh_a', kernel, 2, 4, extra=PIN)!r}).create()"),
        ("xml", f"X({A})"), ("cfg", f"X({A}, 2)"), ("v", f"V({A})"), ("info", f"INFO({A})"),
        ("n_live", f"{A}.vcpusFlags(1)"), ("n_cfg", f"{A}.vcpusFlags(2)"),
        ("n_max", f"{A}.vcpusFlags(5)"), ("max", f"{A}.maxVcpus()"),
        ("pins", f"{A}.vcpuPinInfo(0)"), ("st", f"ST({A})"), ("qemu", f"QCPUS({A})"),
        ("threads", "THREADS('vh_a')"),
        ("plug3", f"{A}.setVcpusFlags(3, 1)"), ("ev1", "EVS()"),
        ("xml3", f"X({A})"), ("cfg3", f"X({A}, 2)"), ("v3", f"V({A})"), ("info3", f"INFO({A})"),
        ("n_live3", f"{A}.vcpusFlags(1)"), ("n_cfg3", f"{A}.vcpusFlags(2)"),
        ("pins3", f"{A}.vcpuPinInfo(0)"), ("st3", f"ST({A})"), ("qemu3", f"QCPUS({A})"),
        ("threads3", "THREADS('vh_a')"),
        ("same", f"{A}.setVcpusFlags(3, 1)"), ("xml_same", f"X({A})"),
        ("too_many", f"{A}.setVcpusFlags(5, 1)"),
        ("too_many_both", f"{A}.setVcpusFlags(5, 3)"),
        ("zero", f"{A}.setVcpusFlags(0, 1)"),
        ("max_live", f"{A}.setVcpusFlags(4, 5)"),
        ("max_cur", f"{A}.setVcpusFlags(4, 4)"),
        ("max_both", f"{A}.setVcpusFlags(4, 7)"),
        ("guest", f"{A}.setVcpusFlags(2, 9)"),
        ("badflag", f"{A}.setVcpusFlags(2, 64)"),
        ("unplug", f"{A}.setVcpusFlags(2, 1)"), ("xml_unplug", f"X({A})"),
        ("below_fixed", f"{A}.setVcpusFlags(1, 1)"),
        ("plug4_both", f"{A}.setVcpusFlags(4, 19)"), ("ev2", "EVS()"),
        ("xml4", f"X({A})"), ("cfg4", f"X({A}, 2)"), ("v4", f"V({A})"), ("st4", f"ST({A})"),
        ("qemu4", f"QCPUS({A})"), ("threads4", "THREADS('vh_a')"),
        ("unplug_both", f"{A}.setVcpusFlags(3, 3)"), ("cfg_unplug", f"X({A}, 2)"),
        ("cfg_only", f"{A}.setVcpusFlags(1, 2)"), ("cfg_only_xml", f"X({A}, 2)"),
        ("plain", f"{A}.setVcpus(4)"),
        ("destroy", f"{A}.destroy()"), ("undefine", f"{A}.undefine()"),
    ]


def individual(kernel: str) -> list[tuple[str, str]]:
    """<vcpus> with hotpluggable vCPUs online at boot; virDomainSetVcpu;
    a transient domain on the pc machine with <acpi/>."""
    B, P = look("vh_b"), look("vh_p")
    cpus = vcpus("enabled='yes' hotpluggable='no'", "enabled='yes' hotpluggable='yes'",
                 "enabled='no' hotpluggable='yes'", "enabled='yes' hotpluggable='yes'",
                 "enabled='no'")
    return [
        ("define", f"c.defineXML({xml('vh_b', kernel, 3, 5, vcpus=cpus)!r}).create()"),
        ("xml", f"X({B})"), ("cfg", f"X({B}, 2)"), ("v", f"V({B})"), ("info", f"INFO({B})"),
        ("st", f"ST({B})"), ("qemu", f"QCPUS({B})"), ("threads", "THREADS('vh_b')"),
        ("set_on", f"{B}.setVcpu('2', 1, 1)"), ("ev", "EVS()"),
        ("xml2", f"X({B})"), ("v2", f"V({B})"), ("qemu2", f"QCPUS({B})"), ("st2", f"ST({B})"),
        ("set_again", f"{B}.setVcpu('2', 1, 1)"),
        ("set_fixed_off", f"{B}.setVcpu('0', 0, 1)"),
        ("set_two", f"{B}.setVcpu('3-4', 1, 1)"),
        ("set_out", f"{B}.setVcpu('5', 1, 1)"),
        ("set_out_cfg", f"{B}.setVcpu('7', 1, 2)"),
        ("set_bad", f"{B}.setVcpu('x', 1, 1)"),
        ("set_empty", f"{B}.setVcpu('', 1, 1)"),
        ("set_state", f"{B}.setVcpu('4', 3, 1)"),
        ("set_flags", f"{B}.setVcpu('4', 1, 8)"),
        ("set_off", f"{B}.setVcpu('3', 0, 1)"), ("xml_off", f"X({B})"),
        ("set_both", f"{B}.setVcpu('4', 1, 3)"), ("xml_both", f"X({B})"),
        ("cfg_both", f"X({B}, 2)"), ("v_both", f"V({B})"),
        ("set_cfg_off", f"{B}.setVcpu('1', 0, 2)"), ("cfg_off", f"X({B}, 2)"),
        ("set_cfg_zero", f"{B}.setVcpu('0', 0, 2)"),
        ("pc", f"c.createXML({xml('vh_p', kernel, 1, 3, 'pc', extra='<features><acpi/></features>')!r}).name()"),
        ("pc_plug", f"{P}.setVcpusFlags(3, 1)"), ("pc_xml", f"X({P})"), ("pc_v", f"V({P})"),
        ("pc_qemu", f"QCPUS({P})"), ("pc_unplug", f"{P}.setVcpusFlags(1, 1)"),
        ("pc_set_off", f"{P}.setVcpu('2', 0, 0)"), ("pc_xml2", f"X({P})"),
        ("pc_cfg", f"{P}.setVcpusFlags(2, 2)"),
        ("destroy_p", f"{P}.destroy()"),
        ("destroy", f"{B}.destroy()"), ("cfg_after", f"X({B})"), ("undefine", f"{B}.undefine()"),
    ]


def unplug(kernels: dict[str, str]) -> list[tuple[str, str]]:
    """Unplugs a guest completes, one it ignores (the timeout)."""
    Q, F = look("vh_q"), look("vh_f")
    acpi = "<features><acpi/></features>"
    return [
        ("define", f"c.defineXML({xml('vh_q', kernels['cpuhp'], 1, 4, extra=acpi)!r}).create()"),
        ("deaf", f"c.createXML({xml('vh_f', kernels['cpuhp_deaf'], 1, 3, extra=acpi)!r})"
                 f".name()"),
        ("ready", f"READY({Q}, {F})"),
        ("plug", f"{Q}.setVcpusFlags(4, 1)"), ("xml", f"X({Q})"),
        ("unplug", f"{Q}.setVcpusFlags(2, 1)"), ("ev", "EVS()"),
        ("xml2", f"X({Q})"), ("cfg2", f"X({Q}, 2)"), ("v2", f"V({Q})"), ("info2", f"INFO({Q})"),
        ("n2", f"{Q}.vcpusFlags(1)"), ("pins2", f"{Q}.vcpuPinInfo(0)"), ("st2", f"ST({Q})"),
        ("qemu2", f"QCPUS({Q})"),
        ("set_on", f"{Q}.setVcpu('3', 1, 1)"), ("xml3", f"X({Q})"), ("qemu3", f"QCPUS({Q})"),
        ("set_off", f"{Q}.setVcpu('1', 0, 1)"), ("xml4", f"X({Q})"), ("v4", f"V({Q})"),
        ("st4", f"ST({Q})"), ("qemu4", f"QCPUS({Q})"),
        ("set_two", f"{Q}.setVcpu('1-2', 1, 1)"),
        ("replug", f"{Q}.setVcpusFlags(3, 1)"), ("xml5", f"X({Q})"), ("qemu5", f"QCPUS({Q})"),
        ("qmp_del", f"QMP_DEL({Q}, 'vcpu3', 2)"), ("ev_qmp", "EVS()"),
        ("xml_qmp", f"X({Q})"), ("v_qmp", f"V({Q})"), ("st_qmp", f"ST({Q})"),
        ("n_qmp", f"{Q}.vcpusFlags(1)"),
        ("unplug_both", f"{Q}.setVcpusFlags(1, 3)"), ("ev2", "EVS()"),
        ("xml6", f"X({Q})"), ("cfg6", f"X({Q}, 2)"), ("qemu6", f"QCPUS({Q})"),
        ("f_plug", f"{F}.setVcpusFlags(2, 1)"),
        ("f_unplug", f"{F}.setVcpusFlags(1, 1)"), ("f_ev", "EVS()"),
        ("f_xml", f"X({F})"), ("f_v", f"V({F})"), ("f_qemu", f"QCPUS({F})"),
        ("destroy", f"{Q}.destroy()"), ("undefine", f"{Q}.undefine()"),
        ("destroy_f", f"{F}.destroy()"),
    ]


BAD_VCPUS = {
    "v0_off": ("enabled='no'", "enabled='yes'", "enabled='no'", "enabled='no'"),
    "v0_hot": ("enabled='yes' hotpluggable='yes'", "enabled='no'", "enabled='no'",
               "enabled='no'"),
    "v0_late": ("enabled='yes' order='2'", "enabled='yes' order='1'", "enabled='no'",
                "enabled='no'"),
    "order_mix": ("enabled='yes' order='1'", "enabled='yes'", "enabled='no'", "enabled='no'"),
    "fixed_late": ("enabled='yes'", "enabled='yes' hotpluggable='yes'",
                   "enabled='yes' hotpluggable='no'", "enabled='no'"),
    "fixed_order": ("enabled='yes' order='1'", "enabled='yes' hotpluggable='no' order='3'",
                    "enabled='yes' hotpluggable='no' order='2'", "enabled='no'"),
    "no_enabled": ("", "enabled='yes'", "enabled='no'", "enabled='no'"),
    "bad_enabled": ("enabled='yes'", "enabled='maybe'", "enabled='no'", "enabled='no'"),
    "bad_hot": ("enabled='yes'", "enabled='yes' hotpluggable='maybe'", "enabled='no'",
                "enabled='no'"),
    "bad_order": ("enabled='yes'", "enabled='yes' order='x'", "enabled='no'", "enabled='no'"),
    "extra": ("enabled='yes'", "enabled='yes'", "enabled='no'", "enabled='no'", "enabled='no'"),
    "short": ("enabled='yes'", "enabled='yes'", "enabled='no'"),
    "count_wins": ("enabled='yes'", "enabled='yes'", "enabled='yes'", "enabled='no'"),
}


def definitions(kernel: str) -> list[tuple[str, str]]:
    """<vcpus> at define, and the config side of SetVcpusFlags and SetVcpu."""
    steps = []
    for name, specs in BAD_VCPUS.items():
        x = xml("vh_d", kernel, 2, 4, vcpus=vcpus(*specs))
        steps += [(name, f"X(c.defineXML({x!r}), 2)"),
                  (name + "_undef", f"{look('vh_d')}.undefine()")]
    D = look("vh_c")
    steps += [
        ("define", f"c.defineXML({xml('vh_c', kernel, 2, 4)!r}).name()"),
        ("on3", f"{D}.setVcpu('3', 1, 2)"), ("x1", f"X({D}, 2)"),
        ("off1", f"{D}.setVcpu('1', 0, 2)"), ("x2", f"X({D}, 2)"),
        ("zero", f"{D}.setVcpu('0', 0, 2)"), ("out", f"{D}.setVcpu('4', 1, 2)"),
        ("live", f"{D}.setVcpu('1', 1, 1)"), ("same", f"{D}.setVcpu('3', 1, 0)"),
        ("range", f"{D}.setVcpu('1-2', 1, 2)"), ("x3", f"X({D}, 2)"),
        ("fewer", f"{D}.setVcpusFlags(1, 2)"), ("x4", f"X({D}, 2)"),
        ("more", f"{D}.setVcpusFlags(3, 2)"), ("x5", f"X({D}, 2)"),
        ("hot", f"{D}.setVcpusFlags(4, 18)"), ("x6", f"X({D}, 2)"),
        ("max6", f"{D}.setVcpusFlags(6, 6)"), ("x7", f"X({D}, 2)"),
        ("max2", f"{D}.setVcpusFlags(2, 6)"), ("x8", f"X({D}, 2)"),
        ("undefine", f"{D}.undefine()"),
        ("plain", f"c.defineXML({xml('vh_c', kernel, 1, 4)!r}).name()"),
        ("hot_plain", f"{D}.setVcpusFlags(3, 18)"), ("x9", f"X({D}, 2)"),
        ("undefine2", f"{D}.undefine()"),
    ]
    return steps


def _questions(steps: list[tuple[str, str]]) -> dict[str, str]:
    prelude = PRELUDE % (guest.CPUHP_MARK, struct.pack("<I", guest.CPUHP_READY))
    q = {"a": f"exec({prelude!r}, globals())"}   # keys sorted: the prelude first
    q.update({f"s{i:03d}_{name}": expr for i, (name, expr) in enumerate(steps)})
    return q


@pytest.mark.parametrize("scenario", [definitions, running, individual, unplug],
                         ids=["definitions", "count", "individual", "unplug"])
def test_same_as_libvirt(scenario, kernels, tmp_path):  # noqa: F811 (fixture)
    if scenario is unplug and VIRT_TYPE != "kvm":
        # under TCG QEMU 7.2 drops an ejected vCPU from its list but sends
        # DEVICE_DELETED for its lapic only, the vCPU's own late or never:
        # libvirt times out, then loses track of the vCPU threads (its
        # answers vary from run to run), so there is nothing stable to match
        pytest.skip("vCPU unplug completes unreliably under TCG")
    paths = {kind: str(path) for kind, path in kernels.items()}
    q = _questions(scenario(paths) if scenario is unplug else scenario(paths["idle"]))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:   # both sides at once
        mine = pool.submit(reallibvirt.ask_on_our_library, q, str(tmp_path / "root"))
        real = reallibvirt.ask(q)
        mine = mine.result()
    assert {k: mine[k] for k in sorted(real)} == {k: real[k] for k in sorted(real)}


def test_hotplug_is_kept_for_a_new_driver(root, kernels):  # noqa: F811 (fixtures)
    """The live vCPUs are in the status file: a driver opened anew on the
    root sees them, and plugs the next one where QEMU has room."""
    ensure_event_loop()
    conn = api.virConnectOpen(f"qemu:///embed?root={root}")
    d = api.virDomainCreateXML(conn, xml("keep", str(kernels["idle"]), 1, 3), 0)
    api.virDomainSetVcpusFlags(d, 2, 1)
    before = api.virDomainGetXMLDesc(d, 0)
    api.virConnectClose(conn)
    again = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainLookupByName(again, "keep")
        assert api.virDomainGetXMLDesc(d, 0) == before
        assert re.search(r"<vcpu id='1' enabled='yes' hotpluggable='yes' order='2'/>", before)
        assert api.virDomainGetVcpusFlags(d, 1) == 2
        api.virDomainSetVcpusFlags(d, 3, 1)
        assert [v.number for v in api.virDomainGetVcpus(d, 3, 1)[0]] == [0, 1, 2]
        assert "<vcpu id='2' enabled='yes' hotpluggable='yes' order='3'/>" in \
            api.virDomainGetXMLDesc(d, 0)
        api.virDomainDestroy(d)
    finally:
        api.virConnectClose(again)
