"""The domain XML of the QEMU driver against libvirt 9.0's on the corpus of
xmlcorpus.py: the inactive document after define, the live one while
running (per-run values masked; the CPU as QEMU expanded it), the
migratable one while running (what migration sends), and the -device
lines, -cpu and -no-acpi of the QEMU command line.  data/domxml/ holds what
libvirt produced (xmlref_capture.py).  Then the -cpu and live CPU of other
<cpu> modes, pinned from libvirt 9.0 on TCG."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import xmlcorpus
from qemutest import VIRT_TYPE, conn, ensure_event_loop, kernels, kill_leftovers, root  # noqa: F401
from pyvirt import api, migration as mig
from pyvirt.drivers.base import host_name
from pyvirt.cpu.x86 import x86_map
from pyvirt.drivers.qemu import guestcpu
from pyvirt.drivers.qemu.monitor import Monitor
from pyvirt.errors import VirtError

DATA = Path(__file__).parent / "data" / "domxml"
VIR_DOMAIN_XML_INACTIVE = 2
MIGRATABLE = 8   # VIR_DOMAIN_XML_MIGRATABLE
NAMES = sorted(xmlcorpus.CORPUS)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xmlcorpus")
    for args in xmlcorpus.image_commands(str(folder)):
        subprocess.run(args, check=True)
    return folder


def expected(name: str, kind: str) -> str:
    return (DATA / f"{name}.{kind}").read_text()


def define(c: Any, name: str, kernels: dict[str, Path], images: Path) -> Any:
    xml = xmlcorpus.fill(xmlcorpus.domain(name), str(kernels["idle"]), str(images), VIRT_TYPE)
    return api.virDomainDefineXML(c, xml)


def ours(dom: Any, kernels: dict[str, Path], images: Path, live: bool,
         flags: int = 0) -> str:
    return xmlcorpus.mask(api.virDomainGetXMLDesc(dom, flags), str(kernels["idle"]),
                          str(images), live)


@pytest.mark.parametrize("name", NAMES)
def test_inactive_xml(conn: Any, kernels: dict[str, Path], images: Path, name: str) -> None:
    dom = define(conn, name, kernels, images)
    got = ours(dom, kernels, images, False)
    assert got == expected(name, "inactive.xml")
    # defined again as it now reads: nothing moves
    api.virDomainDefineXML(conn, api.virDomainGetXMLDesc(dom, 0))
    assert ours(dom, kernels, images, False) == got


def _argv(root: Path, name: str) -> list[str]:
    pid = (root / "run" / "qemu" / f"{name}.pid").read_text().strip()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]




@pytest.mark.parametrize("name", NAMES)
def test_live_xml_and_devices(conn: Any, root: Path, kernels: dict[str, Path],
                              images: Path, name: str) -> None:
    dom = define(conn, name, kernels, images)
    api.virDomainCreate(dom)
    try:
        argv = _argv(root, name)
        assert xmlcorpus.device_lines(argv) == expected(name, "devices").splitlines()
        assert xmlcorpus.machine_lines(argv) == expected(name, "args").splitlines()
        if VIRT_TYPE == "kvm":   # libvirt's documents were captured on KVM (this host's CPU)
            assert ours(dom, kernels, images, True) == expected(name, "live.xml")
        assert ours(dom, kernels, images, True, MIGRATABLE) == expected(name, "migratable.xml")
    finally:
        api.virDomainDestroy(dom)


def test_live_consoles_are_real(conn: Any, kernels: dict[str, Path], images: Path) -> None:
    """The pty the live XML names is the serial port's, and the VNC port
    it names speaks RFB."""
    dom = define(conn, "pc-ide-nic-serial-vnc", kernels, images)
    api.virDomainCreate(dom)
    try:
        live = etree.fromstring(api.virDomainGetXMLDesc(dom, 0))
        pty = live.find("devices/serial/source").get("path")
        assert live.find("devices/console").get("tty") == pty
        fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
        try:
            assert os.ttyname(fd) == pty
        finally:
            os.close(fd)
        port = int(live.find("devices/graphics").get("port"))
        assert 5900 <= port <= 5999
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(12).startswith(b"RFB ")
    finally:
        api.virDomainDestroy(dom)


# <cpu> -> (-cpu and -no-acpi, the live <cpu>) of a TCG guest, from libvirt 9.0
# (TCG gives every host the same CPU; None: the live <cpu> is the defined one)
NAMES_CPU = ("<cpu mode='custom' match='exact'><model>qemu64</model>"
             "<feature policy='require' name='lahf_lm'/><feature policy='disable' name='pni'/>"
             "<feature policy='require' name='tsc-deadline'/>"
             "<feature policy='require' name='pclmuldq'/>"
             "<feature policy='require' name='fxsr_opt'/><feature policy='force' name='abm'/>"
             "<feature policy='forbid' name='sse4a'/><feature policy='optional' name='popcnt'/>"
             "<feature policy='require' name='sse4.1'/>"
             "<feature policy='require' name='cmp_legacy'/></cpu>")
TCG_CPUS = {
    "default": ("", ["-cpu qemu64", "-no-acpi"], """\
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>qemu64</model>
    <feature policy='require' name='hypervisor'/>
    <feature policy='require' name='lahf_lm'/>
  </cpu>
"""),
    "acpi-kvm64": ("<features><acpi/></features>"
                   "<cpu mode='custom' match='exact'><model>kvm64</model></cpu>",
                   ["-cpu kvm64"], """\
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>kvm64</model>
    <feature policy='require' name='hypervisor'/>
  </cpu>
"""),
    "feature-names": (NAMES_CPU, ["-cpu qemu64,lahf-lm=on,pni=off,tsc-deadline=on,pclmulqdq=on,"
                                  "fxsr-opt=on,abm=on,sse4a=off,popcnt=on,sse4.1=on,cmp-legacy=on",
                                  "-no-acpi"], """\
  <cpu mode='custom' match='exact' check='full'>
    <model fallback='forbid'>qemu64</model>
    <feature policy='require' name='lahf_lm'/>
    <feature policy='disable' name='pni'/>
    <feature policy='disable' name='tsc-deadline'/>
    <feature policy='require' name='pclmuldq'/>
    <feature policy='disable' name='fxsr_opt'/>
    <feature policy='force' name='abm'/>
    <feature policy='forbid' name='sse4a'/>
    <feature policy='require' name='popcnt'/>
    <feature policy='require' name='sse4.1'/>
    <feature policy='disable' name='cmp_legacy'/>
    <feature policy='require' name='hypervisor'/>
  </cpu>
"""),
    "maximum": ("<cpu mode='maximum'/>", ["-cpu max", "-no-acpi"], None),
}


def _tcg_domain(name: str, head: str, kernel: Path) -> str:
    return (f"<domain type='qemu'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu>1</vcpu><os><type arch='x86_64' machine='pc'>hvm</type>"
            f"<kernel>{kernel}</kernel></os>{head}"
            f"<devices><memballoon model='none'/></devices></domain>")


def _cpu_of(xml: str) -> str:
    return xml[xml.index("  <cpu"):xml.index("  <clock")]


@pytest.mark.parametrize("case", sorted(TCG_CPUS))
def test_cpu_and_acpi_argv_and_live_cpu(conn: Any, root: Path, kernels: dict[str, Path],
                                        case: str) -> None:
    head, args, live_cpu = TCG_CPUS[case]
    dom = api.virDomainDefineXML(conn, _tcg_domain(case, head, kernels["idle"]))
    inactive = _cpu_of(api.virDomainGetXMLDesc(dom, 0))
    api.virDomainCreate(dom)
    try:
        assert xmlcorpus.machine_lines(_argv(root, case)) == args
        assert _cpu_of(api.virDomainGetXMLDesc(dom, 0)) == (live_cpu or inactive)
        assert _cpu_of(api.virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE)) == inactive
    finally:
        api.virDomainDestroy(dom)


def test_a_later_start_knows_its_cpu(conn: Any, kernels: dict[str, Path],
                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """QEMU's answer about the vCPUs is kept per QEMU binary, host and CPU
    options: the first start of a kind asks QEMU, later ones show the same
    live CPU without asking; another CPU is asked about again."""
    monkeypatch.setattr(guestcpu, "_ANSWERS", {})
    asked: list[list[str]] = []
    execute_all = Monitor.execute_all

    def spy(self: Monitor, cmds: list, *args: Any) -> list:
        asked.append([cmd for cmd, _ in cmds])
        return execute_all(self, cmds, *args)
    monkeypatch.setattr(Monitor, "execute_all", spy)
    for case in ("default", "default", "acpi-kvm64", "default", "acpi-kvm64"):
        head, _, live_cpu = TCG_CPUS[case]
        dom = api.virDomainCreateXML(conn, _tcg_domain(case, head, kernels["idle"]), 0)
        try:
            assert _cpu_of(api.virDomainGetXMLDesc(dom, 0)) == live_cpu
        finally:
            api.virDomainDestroy(dom)
    assert asked == [["qom-get", "qom-get"]] * 2


def test_qemu_environment_and_log(conn: Any, root: Path, kernels: dict[str, Path],
                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """QEMU gets libvirt 9.0's environment, not the caller's: C locale, a few
    variables passed on, HOME and XDG in the domain's folder; the domain's
    log shows it before the command, one option per line (libvirt's log on
    the same input)."""
    monkeypatch.setenv("TMPDIR", "/tmp")
    monkeypatch.setenv("LD_PRELOAD", "")
    monkeypatch.setenv("NOT_PASSED", "x")
    for name in ("LD_LIBRARY_PATH", "USER", "LOGNAME"):
        monkeypatch.delenv(name, raising=False)
    dom = api.virDomainCreateXML(conn, _tcg_domain("env", "", kernels["idle"]), 0)
    try:
        pid = (root / "run" / "qemu" / "env.pid").read_text().strip()
        environ = Path(f"/proc/{pid}/environ").read_bytes().decode().split("\0")[:-1]
    finally:
        api.virDomainDestroy(dom)
    home = environ[3].split("=", 1)[1]
    assert home.startswith(f"{root}/lib/qemu/domain-") and home.endswith("-env")
    assert environ == ["LC_ALL=C", "LD_PRELOAD=", f"PATH={os.environ['PATH']}", f"HOME={home}",
                       "TMPDIR=/tmp", f"XDG_DATA_HOME={home}/.local/share",
                       f"XDG_CACHE_HOME={home}/.cache", f"XDG_CONFIG_HOME={home}/.config"]
    header, log = (root / "log" / "qemu" / "env.log").read_text() \
        .rsplit(": starting up ", 1)[1].split("\n", 1)
    # libvirt 9.0's first line (a build without a packager's name), QEMU's
    # version as libvirt has it from query-version: x.y.z and the package
    out = subprocess.run(["/usr/bin/qemu-system-x86_64", "-version"], capture_output=True,
                         text=True).stdout
    version, package = re.search(r"version (\S+) \((.*)\)", out).groups()
    assert header == (f"libvirt version: 9.0.0, qemu version: {version}{package}, "
                      f"kernel: {os.uname().release}, hostname: {host_name()}")
    assert log.startswith("LC_ALL=C \\\nLD_PRELOAD='' \\\n")
    assert f"XDG_CONFIG_HOME={home}/.config \\\n/usr/bin/qemu-system-x86_64 \\\n" \
           "-name guest=env,debug-threads=on \\\n-S \\\n-machine pc" in log
    # QEMU's own lines are timed (-msg timestamp=on, last, as libvirt's), and the
    # stop leaves libvirt's line with its reason
    assert " \\\n-msg timestamp=on\n" in log
    assert re.search(r"\n\d{4}-\d\d-\d\dT[\d:.]+Z qemu-system-x86_64: terminating on signal 15", log)
    assert re.search(r"\n\d{4}-\d\d-\d\d [\d:]+\.\d{3}\+0000: shutting down, reason=destroyed\n$",
                     log)


@pytest.mark.parametrize("setting, want", [("", "on,obsolete=deny,elevateprivileges=deny,"
                                                   "spawn=deny,resourcecontrol=deny"),
                                              ("seccomp_sandbox = 0", "off"),
                                              ("seccomp_sandbox = 2", "on,obsolete=deny,"
                                               "elevateprivileges=deny,spawn=deny,"
                                               "resourcecontrol=deny")])
def test_seccomp_sandbox_as_qemu_conf_says(tmp_path: Path, kernels: dict[str, Path],
                                           setting: str, want: str) -> None:
    """QEMU runs under libvirt 9.0's seccomp filter unless qemu.conf's
    seccomp_sandbox is 0 (libvirt's argv for each setting)."""
    ensure_event_loop()
    root = tmp_path / "r"
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(setting + "\n")
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        dom = api.virDomainCreateXML(c, _tcg_domain("sb", "", kernels["idle"]), 0)
        argv = _argv(root, "sb")
        api.virDomainDestroy(dom)
    finally:
        api.virConnectClose(c)
        kill_leftovers(root)
    assert argv[argv.index("-sandbox") + 1] == want
    assert argv[-2:] == ["-msg", "timestamp=on"]


def test_audio_backends_as_libvirt(conn: Any, root: Path, kernels: dict[str, Path]) -> None:
    """Each <audio type='none'> (every domain gets one) is an -audiodev, and
    VNC's audio goes to the first, as in libvirt 9.0's argv for the same
    XML; other audio types are refused, not dropped."""
    two = ("<graphics type='vnc' port='-1'/>"
           "<audio id='1' type='none'/><audio id='2' type='none'/>")
    dom = api.virDomainCreateXML(conn, _tcg_domain("aud", "", kernels["idle"]).replace(
        "<devices>", f"<devices>{two}"), 0)
    try:
        argv = _argv(root, "aud")
    finally:
        api.virDomainDestroy(dom)
    pairs = [(a, argv[i + 1]) for i, a in enumerate(argv[:-1]) if a in ("-audiodev", "-vnc")]
    assert pairs == [("-audiodev", '{"id":"audio1","driver":"none"}'),
                     ("-audiodev", '{"id":"audio2","driver":"none"}'),
                     ("-vnc", "127.0.0.1:0,to=99,audiodev=audio1")]
    with pytest.raises(VirtError) as exc:
        api.virDomainCreateXML(conn, _tcg_domain("pulse", "", kernels["idle"]).replace(
            "<devices>", "<devices><audio id='1' type='pulseaudio'/>"), 0)
    assert (exc.value.code, str(exc.value)) == (
        67, "unsupported configuration: audio type 'pulseaudio' is not supported yet")


def test_host_passthrough_needs_kvm(conn: Any, kernels: dict[str, Path]) -> None:
    dom = api.virDomainDefineXML(conn, _tcg_domain("hp", "<cpu mode='host-passthrough'/>",
                                                   kernels["idle"]))
    with pytest.raises(VirtError) as exc:
        api.virDomainCreate(dom)
    assert (exc.value.code, exc.value.domain, str(exc.value)) == (
        67, 10, "unsupported configuration: CPU mode 'host-passthrough' for x86_64 qemu "
        "domain on x86_64 host is not supported by hypervisor")
    assert api.virDomainIsActive(dom) == 0


@pytest.mark.parametrize("device", [
    "<disk type='file' device='disk'><source file='/nonexistent.img'/><target dev='hda'/></disk>",
    "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>",
    "<controller type='ide' index='0'/>"])
def test_no_ide_on_q35(conn: Any, device: str) -> None:
    """q35 has AHCI, not IDE: libvirt refuses an IDE disk or controller at
    define (a pc machine takes them: the XML corpus)."""
    xml = ("<domain type='qemu'><name>ide</name><memory unit='MiB'>64</memory>"
           "<os><type arch='x86_64' machine='q35'>hvm</type></os>"
           f"<devices>{device}</devices></domain>")
    with pytest.raises(VirtError) as exc:
        api.virDomainDefineXML(conn, xml)
    assert (exc.value.code, exc.value.domain, str(exc.value)) == (
        67, 10, "unsupported configuration: IDE controllers are unsupported for this "
        "QEMU binary or machine type")
    assert api.virConnectListAllDomains(conn, 0) == []


def test_live_cpu_survives_a_reopened_driver(root: Path, kernels: dict[str, Path]) -> None:
    """The status file keeps the live CPU (and the defined one beside it): a
    driver opened later shows the same documents."""
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    head, _, live_cpu = TCG_CPUS["feature-names"]
    dom = api.virDomainDefineXML(c, _tcg_domain("keep", head, kernels["idle"]))
    api.virDomainCreate(dom)
    live, inactive = (api.virDomainGetXMLDesc(dom, 0),
                      api.virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE))
    assert _cpu_of(live) == live_cpu
    api.virConnectClose(c)
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        dom = api.virDomainLookupByName(c, "keep")
        assert api.virDomainGetXMLDesc(dom, 0) == live
        assert api.virDomainGetXMLDesc(dom, VIR_DOMAIN_XML_INACTIVE) == inactive
        api.virDomainDestroy(dom)
        assert _cpu_of(api.virDomainGetXMLDesc(dom, 0)) == _cpu_of(inactive)
    finally:
        api.virConnectClose(c)


def test_live_cpu_on_the_migration_destination(tmp_path: Path, kernels: dict[str, Path]) -> None:
    """The destination is sent the defined CPU and shows what its own QEMU
    gave the guest: the same live CPU as the source."""
    ensure_event_loop()
    roots = [tmp_path / "a", tmp_path / "b"]
    src_conn, dst_conn = (api.virConnectOpen(f"qemu:///embed?root={r}") for r in roots)
    try:
        head, _, live_cpu = TCG_CPUS["feature-names"]
        src = api.virDomainCreateXML(src_conn, _tcg_domain("mig", head, kernels["idle"]), 0)
        assert _cpu_of(api.virDomainGetXMLDesc(src, 0)) == live_cpu
        dst = api.virDomainMigrate(src, dst_conn, mig.VIR_MIGRATE_LIVE, None, None, 0)
        assert _cpu_of(api.virDomainGetXMLDesc(dst, 0)) == live_cpu
        api.virDomainDestroy(dst)
    finally:
        for c in (src_conn, dst_conn):
            api.virConnectClose(c)
        for r in roots:
            kill_leftovers(r)


CPU_MAP = Path("/usr/share/libvirt/cpu_map")


@pytest.mark.skipif(not (CPU_MAP / "x86_features.xml").exists(),
                    reason="libvirt's CPU map is not installed (Debian: libvirt-daemon)")
def test_cpu_map_agrees_with_libvirts() -> None:
    """pyvirt's x86 map (pyvirt.cpu.x86) is libvirt's: every feature's bit
    in the map's order, and every model's features."""
    theirs = []
    for f in etree.parse(str(CPU_MAP / "x86_features.xml")).getroot().iter("feature"):
        item = f.find("cpuid")
        if item is None:
            item = f.find("msr")
        regs = [(k, int(v, 16)) for k, v in item.attrib.items()
                if k in ("eax", "ebx", "ecx", "edx") and int(v, 16)]
        (reg, mask), = regs
        if item.tag == "cpuid":
            bit = ("cpuid", int(item.get("eax_in"), 16), int(item.get("ecx_in", "0"), 16),
                   reg, mask.bit_length() - 1)
        else:
            bit = ("msr", int(item.get("index"), 16), 0, reg, mask.bit_length() - 1)
        theirs.append((f.get("name"), bit))
    cpu_map = x86_map()
    assert [(f.name, f.bit) for f in cpu_map.features] == theirs

    def features(model: str) -> set[str]:
        m = etree.parse(str(CPU_MAP / f"x86_{model}.xml")).getroot().find("model")
        base = m.find("model")
        return ((features(base.get("name")) if base is not None else set())
                | {f.get("name") for f in m.findall("feature") if f.get("removed") != "yes"})
    for name, model in cpu_map.models.items():
        assert model.features == features(name), name
