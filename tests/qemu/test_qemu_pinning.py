"""vCPU, emulator and IOThread pinning, IOThreads and vCPU counts of the QEMU
driver, compared live with real libvirt 9.0: the same libvirt-python
expressions run on real libvirt's embed driver and, through Debian's
python3-libvirt on pyvirt's libvirt.so.0, on ours.  Where the threads may
run is read from /proc/PID/task/TID/status (Cpus_allowed_list)."""

from __future__ import annotations

import re

import pytest

import reallibvirt
from qemutest import VIRT_TYPE, ensure_event_loop, root  # noqa: F401 (fixtures)
from support import needs_build, needs_system_libvirt
from pyvirt import api

pytestmark = [needs_build, needs_system_libvirt]

# helpers defined in each session: the pins' part of an XML, the TUNABLE
# events seen since the last look, where QEMU's own threads may run
PRELUDE = r'''
import re, time, glob
def X(d, f=0):
    return "".join(re.findall(r"  <vcpu[ >].*?\n|  <vcpus>.*?</vcpus>\n|  <iothreads>.*?\n|"
                              r"  <iothreadids>.*?</iothreadids>\n|  <cputune>.*?</cputune>\n",
                              d.XMLDesc(f), re.S))
EV = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE,
                         lambda conn, dom, params, o: EV.append((dom.name(), params)), None)
def EVS():
    time.sleep(0.3); r = list(EV); del EV[:]; return r
def AFF(name):
    pid = open(root + "/run/qemu/" + name + ".pid").read().strip()
    out = {}
    for t in glob.glob(f"/proc/{pid}/task/*"):
        comm = open(t + "/comm").read().strip()
        if t.endswith("/" + pid) or comm.startswith(("CPU ", "IO iothread")):
            cal = [l.split()[1] for l in open(t + "/status") if l.startswith("Cpus_allowed_list")]
            out["main" if t.endswith("/" + pid) else comm] = cal[0]
    return out
'''
XML = ("<domain type='" + VIRT_TYPE + "'><name>{n}</name><memory unit='MiB'>64</memory>"
       "<vcpu current='1'>3</vcpu><iothreads>2</iothreads>"
       "<os><type arch='x86_64' machine='q35'>hvm</type></os><features><acpi/></features>"
       "<devices></devices></domain>")
I, R, T = "c.lookupByName('vp_in')", "c.lookupByName('vp_run')", "c.lookupByName('vp_tr')"

INACTIVE = [
    ("define", f"c.defineXML({XML.format(n='vp_in')!r}).name()"),
    ("pininfo", f"{I}.vcpuPinInfo(0)"),
    ("pininfo_live", f"{I}.vcpuPinInfo(1)"),
    ("pininfo_both", f"{I}.vcpuPinInfo(3)"),
    ("pin_cfg", f"{I}.pinVcpuFlags(0, (True, False), 0)"),
    ("pin_offline_cfg", f"{I}.pinVcpuFlags(2, (False, True), 2)"),
    ("pin_bad_vcpu", f"{I}.pinVcpuFlags(3, (True, False), 0)"),
    ("pin_bad_vcpu_empty", f"{I}.pinVcpuFlags(3, (False, False), 0)"),
    ("pin_empty", f"{I}.pinVcpuFlags(0, (False, False), 0)"),
    ("pin_live", f"{I}.pinVcpuFlags(0, (True, False), 1)"),
    ("pin_plain", f"{I}.pinVcpu(0, (True, False))"),
    ("pin_bad_flags", f"{I}.pinVcpuFlags(0, (True, False), 4)"),
    ("pin_xml", f"X({I}, 2)"),
    ("pininfo1", f"{I}.vcpuPinInfo(0)"),
    ("emu", f"{I}.emulatorPinInfo(0)"),
    ("emu_live", f"{I}.emulatorPinInfo(1)"),
    ("emu_pin", f"{I}.pinEmulator((False, True), 0)"),
    ("emu_pin_empty", f"{I}.pinEmulator((False, False), 0)"),
    ("emu_pin_live", f"{I}.pinEmulator((True, True), 1)"),
    ("emu1", f"{I}.emulatorPinInfo(0)"),
    ("io", f"{I}.ioThreadInfo(0)"),
    ("io_live", f"{I}.ioThreadInfo(1)"),
    ("io_add", f"{I}.addIOThread(5, 0)"),
    ("io_add_again", f"{I}.addIOThread(5, 0)"),
    ("io_add_zero", f"{I}.addIOThread(0, 0)"),
    ("io_add_live", f"{I}.addIOThread(6, 1)"),
    ("io_xml1", f"X({I}, 2)"),
    ("io_del", f"{I}.delIOThread(1, 0)"),
    ("io_del_unknown", f"{I}.delIOThread(9, 0)"),
    ("io_pin", f"{I}.pinIOThread(2, (False, True), 0)"),
    ("io_pin_unknown", f"{I}.pinIOThread(9, (False, True), 0)"),
    ("io_pin_empty", f"{I}.pinIOThread(2, (False, False), 0)"),
    ("io_params", f"{I}.setIOThreadParams(2, {{'poll_max_ns': 100}}, 0)"),
    ("io_params_bad", f"{I}.setIOThreadParams(2, {{'poll_max_ns': 100, 'bogus': 1}}, 0)"),
    ("io_params_unknown", f"{I}.setIOThreadParams(9, {{'poll_max_ns': 100}}, 0)"),
    ("io_params_live", f"{I}.setIOThreadParams(2, {{'poll_max_ns': 100}}, 1)"),
    ("io1", f"{I}.ioThreadInfo(0)"),
    ("io_xml2", f"X({I}, 2)"),
    ("sv", f"{I}.setVcpusFlags(2, 0)"),
    ("sv_xml1", f"X({I}, 2)"),
    ("sv_too_many", f"{I}.setVcpusFlags(5, 2)"),
    ("sv_live", f"{I}.setVcpusFlags(2, 1)"),
    ("sv_max_nocfg", f"{I}.setVcpusFlags(5, 4)"),
    ("sv_max5", f"{I}.setVcpusFlags(5, 6)"),
    ("sv_xml2", f"X({I}, 2)"),
    ("sv_max1", f"{I}.setVcpusFlags(1, 6)"),
    ("sv_xml3", f"X({I}, 2)"),
    ("sv_guest", f"{I}.setVcpusFlags(1, 8)"),
    ("sv_badflag", f"{I}.setVcpusFlags(1, 64)"),
    ("sv_plain", f"{I}.setVcpus(1)"),
    ("events", "EVS()"),
    ("undefine", f"{I}.undefine()"),
]
RUNNING = [
    ("start", f"c.defineXML({XML.format(n='vp_run')!r}).create()"),
    ("transient", f"c.createXML({XML.format(n='vp_tr')!r}, 0).name()"),
    ("aff0", "AFF('vp_run')"),
    ("pininfo_live", f"{R}.vcpuPinInfo(1)"),
    ("pininfo", f"{R}.vcpuPinInfo(0)"),
    ("pin", f"{R}.pinVcpu(0, (True, False))"),
    ("ev1", "EVS()"),
    ("aff1", "AFF('vp_run')"),
    ("pin_offline_live", f"{R}.pinVcpuFlags(1, (True, False), 1)"),
    ("pin_offline_both", f"{R}.pinVcpuFlags(1, (True, False), 3)"),
    ("pin_offline_cfg", f"{R}.pinVcpuFlags(1, (False, True), 2)"),
    ("pin_out_live", f"{R}.pinVcpuFlags(3, (True, False), 1)"),
    ("pin_out_both", f"{R}.pinVcpuFlags(3, (True, False), 3)"),
    ("pin_both", f"{R}.pinVcpuFlags(0, (False, True), 3)"),
    ("ev2", "EVS()"),
    ("xml_live", f"X({R}, 0)"),
    ("xml_cfg", f"X({R}, 2)"),
    ("pininfo_cfg", f"{R}.vcpuPinInfo(2)"),
    ("emu_live", f"{R}.pinEmulator((True, False), 1)"),
    ("ev3", "EVS()"),
    ("aff2", "AFF('vp_run')"),
    ("emuinfo", f"{R}.emulatorPinInfo(0)"),
    ("emuinfo_cfg", f"{R}.emulatorPinInfo(2)"),
    ("io_live", f"{R}.ioThreadInfo(0)"),
    ("io_pin", f"{R}.pinIOThread(1, (False, True), 1)"),
    ("ev4", "EVS()"),
    ("io_pin_unknown_live", f"{R}.pinIOThread(9, (False, True), 1)"),
    ("io_pin_unknown_both", f"{R}.pinIOThread(9, (False, True), 3)"),
    ("aff3", "AFF('vp_run')"),
    ("io_add", f"{R}.addIOThread(4, 1)"),
    ("io_add_dup", f"{R}.addIOThread(4, 1)"),
    ("aff4", "AFF('vp_run')"),
    ("io_live2", f"{R}.ioThreadInfo(0)"),
    ("io_cfg2", f"{R}.ioThreadInfo(2)"),
    ("xml_live3", f"X({R}, 0)"),
    ("io_params", f"{R}.setIOThreadParams(4, {{'poll_max_ns': 100, 'poll_grow': 2, "
                  f"'poll_shrink': 3}}, 1)"),
    ("io_params_cur", f"{R}.setIOThreadParams(4, {{'poll_max_ns': 200}}, 0)"),
    ("io_params_both", f"{R}.setIOThreadParams(4, {{'poll_max_ns': 200}}, 3)"),
    ("io_params_pool", f"{R}.setIOThreadParams(4, {{'thread_pool_min': 1, "
                       f"'thread_pool_max': 4}}, 1)"),
    ("io_params_poolbad", f"{R}.setIOThreadParams(4, {{'thread_pool_min': 5, "
                          f"'thread_pool_max': 4}}, 1)"),
    ("io_params_neg", f"{R}.setIOThreadParams(4, {{'thread_pool_min': -2}}, 1)"),
    ("xml_live4", f"X({R}, 0)"),
    ("ev5", "EVS()"),
    ("io_del", f"{R}.delIOThread(4, 1)"),
    ("io_del_both", f"{R}.delIOThread(2, 3)"),
    ("io_live3", f"{R}.ioThreadInfo(0)"),
    ("xml_live5", f"X({R}, 0)"),
    ("xml_cfg5", f"X({R}, 2)"),
    ("sv_too_many", f"{R}.setVcpusFlags(4, 1)"),
    ("sv_max_live", f"{R}.setVcpusFlags(4, 5)"),
    ("sv_max_cfg", f"{R}.setVcpusFlags(2, 6)"),
    ("xml_cfg6", f"X({R}, 2)"),
    ("t_pin_cfg", f"{T}.pinVcpuFlags(0, (True, False), 2)"),
    ("t_pin", f"{T}.pinVcpuFlags(0, (True, False), 0)"),
    ("t_sv_cfg", f"{T}.setVcpusFlags(2, 2)"),
    ("t_io_cfg", f"{T}.addIOThread(3, 2)"),
    ("t_emu_cfg", f"{T}.emulatorPinInfo(2)"),
    ("t_pininfo_cfg", f"{T}.vcpuPinInfo(2)"),
    ("t_ioinfo_cfg", f"{T}.ioThreadInfo(2)"),
    ("ev7", "EVS()"),
    ("destroy", f"{R}.destroy()"),
    ("destroy_t", f"{T}.destroy()"),
    ("undefine", f"{R}.undefine()"),
]


def _questions(steps: list[tuple[str, str]]) -> dict[str, str]:
    q = {"a": f"exec({PRELUDE!r}, globals())"}   # keys sorted: the prelude first
    q.update({f"s{i:03d}_{name}": expr for i, (name, expr) in enumerate(steps)})
    return q


@pytest.mark.parametrize("steps", [INACTIVE, RUNNING], ids=["inactive", "running"])
def test_same_as_libvirt(steps, tmp_path):
    q = _questions(steps)
    real = reallibvirt.ask(q)
    mine = reallibvirt.ask_on_our_library(q, str(tmp_path / "root"))
    assert {k: mine[k] for k in sorted(real)} == {k: real[k] for k in sorted(real)}


def test_live_pins_are_kept_for_a_new_driver(root):
    """The live pins are in the status file: a driver opened anew on the root sees them."""
    ensure_event_loop()
    conn = api.virConnectOpen(f"qemu:///embed?root={root}")
    d = api.virDomainCreateXML(conn, XML.format(n="keep"), 0)
    api.virDomainPinVcpuFlags(d, 0, bytes([0b10]), 1)
    api.virDomainPinEmulator(d, bytes([0b01]), 1)
    api.virDomainPinIOThread(d, 2, bytes([0b10]), 1)
    api.virConnectClose(conn)
    again = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainLookupByName(again, "keep")
        assert api.virDomainGetVcpuPinInfo(d, 3, 1, 0) == bytes([0b10, 0b11, 0b11])
        assert api.virDomainGetEmulatorPinInfo(d, 1, 0) == bytes([0b01])
        xml = api.virDomainGetXMLDesc(d, 0)
        assert re.search(r"<vcpupin vcpu='0' cpuset='1'/>\s*<emulatorpin cpuset='0'/>\s*"
                         r"<iothreadpin iothread='2' cpuset='1'/>", xml)
        api.virDomainDestroy(d)
    finally:
        api.virConnectClose(again)
