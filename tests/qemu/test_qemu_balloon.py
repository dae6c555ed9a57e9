"""The memory balloon with real QEMU.  Expectations are what real libvirt 9.0's
embed driver gave for the same definitions and the same guest (the idle
kernel has no balloon driver, so a balloon request is never fulfilled and
the live size stays the maximum)."""

from __future__ import annotations

import re

import pytest

from qemutest import conn, domxml, ensure_event_loop, kernels, root, until  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.errors import VirtError

LIVE, CONFIG, MAXIMUM = 1, 2, 4
XML_INACTIVE = 2
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")
ABOVE_MAX = (8, 10, "invalid argument: cannot set memory higher than max memory")
MAX_ACTIVE = (55, 10, "Requested operation is not valid: cannot resize the maximum memory "
                      "on an active domain")
TRANSIENT = (55, 20, "Requested operation is not valid: transient domains do not have any "
                     "persistent config")
NO_BALLOON_PERIOD = (1, 10, "internal error: No memory balloon device configured, can not "
                            "set the collection period")
NO_BALLOON_SET = (55, 10, "Requested operation is not valid: Unable to change memory of "
                          "active domain without the balloon device and guest OS balloon driver")


def err(fn) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return e.code, e.domain, e.message


def balloon_xml(d, flags: int = 0) -> str:
    xml = api.virDomainGetXMLDesc(d, flags)
    m = re.search(r"    <memballoon[^\n]*/>\n|    <memballoon.*?</memballoon>\n", xml, re.S)
    return m.group(0) if m else ""


def info_mem(d) -> tuple[int, int]:
    info = api.virDomainGetInfo(d)
    return info.maxMem, info.memory


def current(d, flags: int = 0) -> int:
    xml = api.virDomainGetXMLDesc(d, flags)
    return int(re.search(r"<currentMemory unit='KiB'>(\d+)<", xml).group(1))


def qemu_args(root, name: str) -> str:
    return (root / "log" / "qemu" / f"{name}.log").read_text().split("starting up")[-1]


def addr(bus: int, slot: int) -> str:
    return (f"      <address type='pci' domain='0x0000' bus='0x{bus:02x}' slot='0x{slot:02x}' "
            "function='0x0'/>\n")


@pytest.mark.parametrize("machine, extra, bus, slot, qemu_bus, qemu_addr", [
    ("q35", "", 2, 0, "pci.2", "0x0"),
    ("pc", "", 0, 2, "pci.0", "0x2"),
    ("q35", "<interface type='user'><model type='virtio'/></interface>", 3, 0, "pci.3", "0x0"),
    ("pc", "<interface type='user'/><disk type='file' device='disk'><source file='/dev/null'/>"
           "<target dev='vda'/></disk>", 0, 4, "pci.0", "0x4"),
])
def test_default_balloon_placed_as_libvirt(conn, root, kernels, tmp_path, machine, extra, bus,
                                           slot, qemu_bus, qemu_addr):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * 65536)
    extra = extra.replace("/dev/null", str(disk))
    d = api.virDomainDefineXML(conn, domxml("b", kernels["idle"], extra=extra, machine=machine))
    inactive = "    <memballoon model='virtio'>\n" + addr(bus, slot) + "    </memballoon>\n"
    assert balloon_xml(d, XML_INACTIVE) == inactive
    assert balloon_xml(d) == inactive
    api.virDomainCreate(d)
    assert balloon_xml(d) == ("    <memballoon model='virtio'>\n      <alias name='balloon0'/>\n"
                              + addr(bus, slot) + "    </memballoon>\n")
    assert balloon_xml(d, XML_INACTIVE) == inactive
    # libvirt: {"driver":"virtio-balloon-pci","id":"balloon0","bus":...,"addr":...}
    assert (f"virtio-balloon-pci,id=balloon0,bus={qemu_bus},addr={qemu_addr}"
            in qemu_args(root, "b"))


def test_balloon_none_and_options(conn, root, kernels):
    d = api.virDomainDefineXML(conn, domxml("n", kernels["idle"],
                                            extra="<memballoon model='none'/>"))
    assert balloon_xml(d, XML_INACTIVE) == "    <memballoon model='none'/>\n"
    api.virDomainCreate(d)
    assert balloon_xml(d) == "    <memballoon model='none'/>\n"
    assert "virtio-balloon" not in qemu_args(root, "n")
    assert api.virDomainGetInfo(d).memory == 65536
    assert [s.tag for s in api.virDomainMemoryStats(d, 13, 0)] == [7]   # rss only
    assert err(lambda: api.virDomainSetMemory(d, 32768)) == NO_BALLOON_SET
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(d, 3, LIVE)) == NO_BALLOON_PERIOD
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(d, 3, CONFIG)) == NO_BALLOON_PERIOD
    api.virDomainSetMemoryFlags(d, 40000, CONFIG)          # the config has no balloon to ask
    assert current(d, XML_INACTIVE) == 40000

    o = api.virDomainDefineXML(conn, domxml("o", kernels["idle"], extra=(
        "<memballoon model='virtio' autodeflate='on' freePageReporting='on'>"
        "<stats period='5'/></memballoon>")))
    api.virDomainCreate(o)
    assert balloon_xml(o) == (
        "    <memballoon model='virtio' autodeflate='on' freePageReporting='on'>\n"
        "      <stats period='5'/>\n      <alias name='balloon0'/>\n" + addr(2, 0)
        + "    </memballoon>\n")
    assert ("virtio-balloon-pci,id=balloon0,deflate-on-oom=on,free-page-reporting=on,"
            "bus=pci.2,addr=0x0") in qemu_args(root, "o")


def test_set_memory_flags(conn, kernels):
    d = api.virDomainDefineXML(conn, domxml("m", kernels["idle"]))
    assert err(lambda: api.virDomainSetMemory(d, 32768)) == NOT_RUNNING
    assert err(lambda: api.virDomainSetMemoryFlags(d, 40000, LIVE)) == NOT_RUNNING
    assert err(lambda: api.virDomainSetMemoryFlags(d, 0, CONFIG)) == (
        8, 20, "memory in virDomainSetMemoryFlags must not be zero")
    assert err(lambda: api.virDomainSetMemoryFlags(d, 1, 8)) == (
        8, 10, "unsupported flags (0x8) in function qemuDomainSetMemoryFlags")
    assert err(lambda: api.virDomainSetMemoryFlags(d, 70000, CONFIG)) == ABOVE_MAX
    api.virDomainSetMemoryFlags(d, 40000, 0)               # current: the config
    assert info_mem(d) == (65536, 40000)
    api.virDomainSetMemoryFlags(d, 30000, MAXIMUM | CONFIG)   # shrinks the current too
    assert info_mem(d) == (30000, 30000)
    api.virDomainSetMaxMemory(d, 65536)
    api.virDomainSetMemoryFlags(d, 49152, CONFIG)

    api.virDomainCreate(d)
    # the idle guest never gives memory back: the live size is QEMU's actual one
    assert info_mem(d) == (65536, 65536)
    assert (current(d), current(d, XML_INACTIVE)) == (65536, 49152)
    api.virDomainSetMemory(d, 32768)
    api.virDomainSetMemoryFlags(d, 40000, LIVE | CONFIG)
    assert (current(d), current(d, XML_INACTIVE)) == (65536, 40000)
    assert api.virDomainGetInfo(d).memory == 65536
    stats = {s.tag: s.val for s in api.virDomainMemoryStats(d, 13, 0)}
    assert stats[6] == 65536 and stats[9] == 0 and stats[7] > 0
    assert err(lambda: api.virDomainSetMemory(d, 70000)) == ABOVE_MAX
    assert err(lambda: api.virDomainSetMemoryFlags(d, 50000, MAXIMUM)) == MAX_ACTIVE
    assert err(lambda: api.virDomainSetMemoryFlags(d, 50000, MAXIMUM | LIVE)) == MAX_ACTIVE
    assert err(lambda: api.virDomainSetMaxMemory(d, 50000)) == MAX_ACTIVE
    api.virDomainSetMemoryFlags(d, 60000, MAXIMUM | CONFIG)
    assert api.virDomainGetMaxMemory(d) == 65536
    assert current(d, XML_INACTIVE) == 40000
    api.virDomainSuspend(d)
    api.virDomainSetMemory(d, 20000)                       # QEMU takes it paused too
    api.virDomainDestroy(d)
    assert info_mem(d) == (60000, 40000)

    t = api.virDomainCreateXML(conn, domxml("t", kernels["idle"]), 0)
    assert err(lambda: api.virDomainSetMemoryFlags(t, 40000, CONFIG)) == TRANSIENT
    api.virDomainSetMemoryFlags(t, 40000, 0)               # current: live
    assert api.virDomainGetInfo(t).memory == 65536


def test_stats_period(conn, root, kernels):
    d = api.virDomainDefineXML(conn, domxml("p", kernels["idle"]))
    assert err(lambda: api.virDomainMemoryStats(d, 13, 0)) == NOT_RUNNING
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(d, 7, LIVE)) == NOT_RUNNING
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(d, -1, 0)) == (
        8, 20, "period in virDomainSetMemoryStatsPeriod must be zero or greater")
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(d, 1, 8)) == (
        8, 10, "unsupported flags (0x8) in function qemuDomainSetMemoryStatsPeriod")
    api.virDomainSetMemoryStatsPeriod(d, 7, 0)
    assert "<stats period='7'/>" in balloon_xml(d, XML_INACTIVE)
    api.virDomainSetMemoryStatsPeriod(d, 0, CONFIG)
    assert "<stats" not in balloon_xml(d, XML_INACTIVE)

    api.virDomainCreate(d)
    api.virDomainSetMemoryStatsPeriod(d, 2, LIVE)
    assert "<stats period='2'/>" in balloon_xml(d)
    assert "<stats" not in balloon_xml(d, XML_INACTIVE)
    # the guest reports nothing: QEMU's unknown values are left out, as libvirt does
    assert [s.tag for s in api.virDomainMemoryStats(d, 13, 0)] == [6, 9, 7]
    api.virDomainSetMemoryStatsPeriod(d, 3, LIVE | CONFIG)
    assert "<stats period='3'/>" in balloon_xml(d)
    assert "<stats period='3'/>" in balloon_xml(d, XML_INACTIVE)
    assert api.virDomainIsUpdated(d) == 0

    # a driver opened again learns the live values from QEMU
    api.virDomainSetMemoryStatsPeriod(d, 4, LIVE)
    c2 = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d2 = api.virDomainLookupByName(c2, "p")
        assert "<stats period='4'/>" in balloon_xml(d2)
        assert api.virDomainGetInfo(d2).memory == 65536
    finally:
        api.virConnectClose(c2)

    t = api.virDomainCreateXML(conn, domxml("pt", kernels["idle"], extra=(
        "<memballoon model='virtio'><stats period='4'/></memballoon>")), 0)
    assert err(lambda: api.virDomainSetMemoryStatsPeriod(t, 3, CONFIG)) == TRANSIENT
    assert "<stats period='4'/>" in balloon_xml(t)
