"""Reboot, save/restore, managed save, vCPU/memory/block/interface statistics and
autostart on real QEMU, with the events, states and errors of libvirt 9.0's embed
driver (probed with python3-libvirt on this machine, unprivileged, TCG)."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from qemutest import Events, conn, domxml, ensure_event_loop, kernels, root, until  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.errors import VirtError

DEFINED, UNDEFINED, STARTED, SUSPENDED, RESUMED, STOPPED, SHUTDOWN = 0, 1, 2, 3, 4, 5, 6
RUNNING, PAUSED, SHUTOFF = 1, 3, 5
REBOOT_ID = 1
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")


def err(fn) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return int(e.code), int(e.domain), e.message


class Reboots:
    def __init__(self, conn) -> None:
        self.names: list[str] = []
        self.cond = threading.Condition()
        api.virConnectDomainEventRegisterAny(conn, None, REBOOT_ID, self._cb, None)

    def _cb(self, conn, dom) -> None:
        with self.cond:
            self.names.append(dom.name)
            self.cond.notify_all()


def test_reboot(conn, kernels):
    """ACPI reboot: the guest powers off, the driver resets it (libvirt's fake
    reboot): REBOOT events (QEMU's RESETs), no lifecycle event, RUNNING/BOOTED."""
    ev, reboots = Events(conn), Reboots(conn)
    d = api.virDomainDefineXML(conn, domxml("rb", kernels["acpi"], acpi=True))
    assert err(lambda: api.virDomainReboot(d, 0)) == NOT_RUNNING
    api.virDomainCreate(d)
    assert err(lambda: api.virDomainReboot(d, 2)) == (
        74, 10, "argument unsupported: QEMU guest agent is not configured")
    assert err(lambda: api.virDomainReboot(d, 4)) == (
        8, 10, "unsupported flags (0x4) in function qemuDomainReboot")

    def rebooted() -> bool:
        if reboots.names:
            return True
        api.virDomainReboot(d, 0)   # the button counts once the guest enabled it
        return False
    assert until(rebooted, timeout=30, interval=0.25)
    assert until(lambda: api.virDomainGetState(d, 0) == (RUNNING, 1), timeout=5)
    assert ev.of("rb") == [(DEFINED, 0), (RESUMED, 0), (STARTED, 0)]
    # Rebooted for real: the guest answers the button again, now as a shutdown.
    def shut() -> bool:
        if (SHUTDOWN, 1) in ev.of("rb"):
            return True
        api.virDomainShutdown(d)
        return False
    assert until(shut, timeout=30, interval=0.25)
    assert ev.wait_for("rb", 5)[3:] == [(SHUTDOWN, 1), (STOPPED, 0)]
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 1)


def test_save_and_restore(conn, kernels, tmp_path):
    ev = Events(conn)
    d = api.virDomainDefineXML(conn, domxml("sv", kernels["idle"]))
    image = str(tmp_path / "sv.save")
    assert err(lambda: api.virDomainSave(d, image)) == NOT_RUNNING
    assert err(lambda: api.virDomainSaveFlags(d, image, None, 6)) == (
        8, 20, "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are "
               "mutually exclusive")
    assert err(lambda: api.virDomainRestore(conn, str(kernels["idle"]))) == (
        9, 10, "operation failed: image magic is incorrect")
    api.virDomainCreate(d)
    api.virDomainSave(d, image)
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 5)                 # SHUTOFF_SAVED
    assert ev.wait_for("sv", 5)[3:] == [(SUSPENDED, 0), (STOPPED, 4)]  # STOPPED_SAVED
    head = Path(image).read_bytes()[:96]
    assert head[:16] == b"LibvirtQemudSave" and head[92:96] == b"<dom"
    assert "<name>sv</name>" in api.virDomainSaveImageGetXMLDesc(conn, image, 0)

    api.virDomainRestore(conn, image)
    assert api.virDomainGetState(d, 0) == (RUNNING, 3)                 # RUNNING_RESTORED
    assert ev.wait_for("sv", 7)[5:] == [(STARTED, 2), (RESUMED, 2)]
    assert api.virDomainGetInfo(d).cpuTime >= 0
    assert err(lambda: api.virDomainRestore(conn, image)) == (
        55, 20, "Requested operation is not valid: domain 'sv' is already active")
    missing = str(tmp_path / "none.save")
    assert err(lambda: api.virDomainRestore(conn, missing)) == (
        38, 10, f"Failed to open file '{missing}': No such file or directory")

    # paused at save: restored paused, SUSPENDED_RESTORED, PAUSED/MIGRATION
    api.virDomainSuspend(d)
    api.virDomainSave(d, image)
    api.virDomainRestore(conn, image)
    assert api.virDomainGetState(d, 0) == (PAUSED, 2)
    assert ev.wait_for("sv", 11)[7:] == [(SUSPENDED, 0), (STOPPED, 4), (STARTED, 2),
                                         (SUSPENDED, 4)]
    api.virDomainResume(d)
    assert api.virDomainGetState(d, 0) == (RUNNING, 5)

    # a transient domain goes away on save and comes back, transient, on restore
    t = api.virDomainCreateXML(conn, domxml("tv", kernels["idle"]), 0)
    api.virDomainSave(t, image)
    assert err(lambda: api.virDomainLookupByName(conn, "tv"))[:2] == (42, 10)
    api.virDomainRestore(conn, image)
    t = api.virDomainLookupByName(conn, "tv")
    assert (api.virDomainGetState(t, 0), api.virDomainIsPersistent(t)) == ((RUNNING, 3), 0)


def test_managed_save(conn, root, kernels):
    ev = Events(conn)
    d = api.virDomainDefineXML(conn, domxml("ms", kernels["idle"]))
    assert err(lambda: api.virDomainManagedSave(d, 0)) == NOT_RUNNING
    assert api.virDomainHasManagedSaveImage(d, 0) == 0
    path = root / "lib/qemu/save/ms.save"
    assert err(lambda: api.virDomainManagedSaveRemove(d, 0)) == (
        38, 10, f"Failed to remove managed save file '{path}': No such file or directory")
    api.virDomainCreate(d)
    api.virDomainManagedSave(d, 0)
    assert api.virDomainGetState(d, 0) == (SHUTOFF, 5)
    assert (api.virDomainHasManagedSaveImage(d, 0), path.exists()) == (1, True)
    assert err(lambda: api.virDomainUndefine(d)) == (
        55, 10, "Requested operation is not valid: Refusing to undefine while domain "
                "managed save image exists")
    api.virDomainCreate(d)                       # starts from the image, then drops it
    assert api.virDomainGetState(d, 0) == (RUNNING, 3)
    assert (api.virDomainHasManagedSaveImage(d, 0), path.exists()) == (0, False)
    assert ev.wait_for("ms", 7)[3:] == [(SUSPENDED, 0), (STOPPED, 4), (STARTED, 2),
                                        (RESUMED, 2)]
    api.virDomainManagedSave(d, 4)               # VIR_DOMAIN_SAVE_PAUSED
    api.virDomainCreate(d)
    assert api.virDomainGetState(d, 0) == (PAUSED, 2)
    assert ev.wait_for("ms", 11)[7:] == [(SUSPENDED, 0), (STOPPED, 4), (STARTED, 2),
                                         (SUSPENDED, 4)]
    t = api.virDomainCreateXML(conn, domxml("mt", kernels["idle"]), 0)
    assert err(lambda: api.virDomainManagedSave(t, 0)) == (
        55, 10, "Requested operation is not valid: cannot do managed save for transient domain")
    api.virDomainManagedSave(d, 0)
    api.virDomainUndefineFlags(d, 1)             # VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
    assert not path.exists()


def test_managed_save_survives_reopen(root, kernels):
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    d = api.virDomainDefineXML(c, domxml("mr", kernels["idle"]))
    api.virDomainCreate(d)
    api.virDomainManagedSave(d, 0)
    api.virConnectClose(c)
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainLookupByName(c, "mr")
        assert api.virDomainGetState(d, 0) == (SHUTOFF, 5)
        assert api.virDomainHasManagedSaveImage(d, 0) == 1
        api.virDomainCreate(d)
        assert api.virDomainGetState(d, 0) == (RUNNING, 3)
        api.virDomainDestroy(d)
    finally:
        api.virConnectClose(c)


def test_statistics(conn, kernels, tmp_path):
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"\0" * 1024 * 1024)
    extra = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
             "<interface type='user'><mac address='52:54:00:11:22:33'/>"
             "<model type='virtio'/></interface>")
    d = api.virDomainDefineXML(conn, domxml("st", kernels["idle"], extra=extra, vcpus=2))
    assert err(lambda: api.virDomainGetVcpus(d, 2, 1)) == (
        55, 10, "Requested operation is not valid: cannot retrieve vcpu information for "
                "inactive domain")
    for fn in (lambda: api.virDomainMemoryStats(d, 13, 0),
               lambda: api.virDomainBlockStats(d, "vda", 40),
               lambda: api.virDomainInterfaceStats(d, "52:54:00:11:22:33", 64)):
        assert err(fn) == NOT_RUNNING
    assert err(lambda: api.virDomainGetVcpusFlags(d, 8)) == (     # VIR_DOMAIN_VCPU_GUEST
        8, 10, "invalid argument: vCPU count provided by the guest agent can only be "
               "requested for live domains")
    api.virDomainCreate(d)
    assert err(lambda: api.virDomainGetVcpusFlags(d, 8)) == (
        74, 10, "argument unsupported: QEMU guest agent is not configured")
    infos, maps = api.virDomainGetVcpus(d, 2, 1)
    assert [(i.number, i.state) for i in infos] == [(0, 1), (1, 1)]
    ncpus = os.cpu_count() or 1
    assert len(maps) == 2 and maps[0] & 1 and all(0 <= i.cpu < ncpus for i in infos)
    assert api.virDomainGetVcpusFlags(d, 0) == 2
    assert [s.tag for s in api.virDomainMemoryStats(d, 13, 0)] == [6, 9, 7]  # actual, last, rss
    stats = {s.tag: s.val for s in api.virDomainMemoryStats(d, 13, 0)}
    assert stats[6] == 65536 and 0 < stats[7]
    for name in ("vda", str(disk), ""):
        bs = api.virDomainBlockStats(d, name, 40)
        assert bs.errs == -1 and min(bs.rd_req, bs.rd_bytes, bs.wr_req, bs.wr_bytes) >= 0
    assert err(lambda: api.virDomainBlockStats(d, "vdz", 40)) == (
        8, 10, "invalid argument: invalid path: vdz")
    assert err(lambda: api.virDomainInterfaceStats(d, "52:54:00:11:22:33", 64)) == (
        1, 0, "internal error: Interface name not provided")
    assert err(lambda: api.virDomainInterfaceStats(d, "eth9", 64)) == (
        8, 20, "invalid argument: 'eth9' is not a known interface")


def test_autostart(root, kernels):
    """As libvirt 9.0: autostart runs on the root's first open only (run/qemu/
    autostarted); removing that marker is a new boot."""
    ensure_event_loop()
    url = f"qemu:///embed?root={root}"
    c = api.virConnectOpen(url)
    d = api.virDomainDefineXML(c, domxml("as", kernels["idle"]))
    assert api.virDomainGetAutostart(d) == 0
    api.virDomainSetAutostart(d, 1)
    assert api.virDomainGetAutostart(d) == 1
    link = root / "etc/qemu/autostart/as.xml"
    assert os.readlink(link) == str(root / "etc/qemu/as.xml")
    t = api.virDomainCreateXML(c, domxml("at", kernels["idle"]), 0)
    assert err(lambda: api.virDomainSetAutostart(t, 1)) == (
        55, 10, "Requested operation is not valid: cannot set autostart for transient domain")
    api.virDomainDestroy(t)
    api.virConnectClose(c)
    c = api.virConnectOpen(url)                  # same "boot": nothing starts
    d = api.virDomainLookupByName(c, "as")
    assert (api.virDomainGetState(d, 0), api.virDomainGetAutostart(d)) == ((SHUTOFF, 0), 1)
    api.virConnectClose(c)
    (root / "run/qemu/autostarted").unlink()
    c = api.virConnectOpen(url)                  # a new "boot": it starts
    try:
        d = api.virDomainLookupByName(c, "as")
        assert api.virDomainGetState(d, 0) == (RUNNING, 1)
        api.virDomainDestroy(d)
        api.virDomainSetAutostart(d, 0)
        assert not os.path.lexists(link)
        api.virDomainSetAutostart(d, 1)
        api.virDomainUndefine(d)                 # takes the link with it
        assert not os.path.lexists(link)
    finally:
        api.virConnectClose(c)
