"""Every domain event a test:///default operation emits, one operation at a time.

Run under a `libvirt` module (pyvirt's generated one, or python3-libvirt on
either library, see tests/python/pymodule_runner.py).  Registers a callback
for every domain event ID, performs each operation of OPS on a fresh domain,
and prints one JSON line: {operation: [[event id, payload...], ...]}; a
failed operation records ["error", code, domain] after its events.
Events of one operation are told apart from the next by defining and
undefining a marker domain, whose own events are never recorded.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import threading
from typing import Any, Callable

import libvirt

LAST_ID = 27        # VIR_DOMAIN_EVENT_ID_LAST in libvirt 9.0
MARKER = "survey-marker"

DOMAIN = """<domain type='test'>
  <name>{name}</name>
  <memory>1048576</memory><currentMemory>524288</currentMemory>
  <vcpu current='2'>4</vcpu>
  <os><type>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <source file='/var/lib/libvirt/images/{name}.img'/>
      <target dev='vda' bus='virtio'/>
    </disk>
    <interface type='network'>
      <mac address='52:54:00:11:22:33'/>
      <source network='default'/>
    </interface>
  </devices>
</domain>"""

DISK_B = """<disk type='file' device='disk'>
  <source file='/var/lib/libvirt/images/b.img'/><target dev='vdb' bus='virtio'/></disk>"""
IFACE = """<interface type='network'>
  <mac address='52:54:00:11:22:33'/><source network='default'/>
  <link state='down'/></interface>"""


def _plain(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _plain(v[k]) for k in sorted(v)}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    if isinstance(v, (libvirt.virDomain,)):
        return v.name()
    if isinstance(v, bytes):
        return v.hex()
    return v


class Recorder:
    def __init__(self) -> None:
        self.events: list = []
        self.cond = threading.Condition()
        self.marker_seen = 0
        self.base = ""      # the domain under test, reported as "D"

    def _name(self, dom: libvirt.virDomain) -> str:
        name = dom.name()
        return "D" + name[len(self.base):] if self.base and name.startswith(self.base) else name

    def callback(self, *args: Any) -> None:
        conn, dom, rest, event_id = args[0], args[1], args[2:-1], args[-1]
        with self.cond:
            if dom.name() == MARKER:
                if event_id == 0 and rest[0] == 1:   # UNDEFINED
                    self.marker_seen += 1
                    self.cond.notify_all()
                return
            row = [event_id, self._name(dom)] + _plain(list(rest))
            if event_id == 0:   # lifecycle: whether the event's domain has an id
                row.append("id" if dom.ID() != -1 else -1)
            self.events.append(row)

    def flush(self, conn: libvirt.virConnect) -> list:
        with self.cond:
            want = self.marker_seen + 1
        conn.defineXML(DOMAIN.format(name=MARKER)).undefine()
        with self.cond:
            if not self.cond.wait_for(lambda: self.marker_seen >= want, 10):
                raise RuntimeError("marker event never came")
            got, self.events = self.events, []
        return got


def _snapshot_xml(name: str) -> str:
    return f"<domainsnapshot><name>{name}</name></domainsnapshot>"


def ops(tmp: str) -> dict[str, Callable[[libvirt.virConnect, libvirt.virDomain], Any]]:
    """Operation name -> what it does to a running domain (set up by the caller)."""
    save = os.path.join(tmp, "save.img")
    tp = libvirt
    return {
        "suspend": lambda c, d: d.suspend(),
        "suspend-resume": lambda c, d: (d.suspend(), d.resume()),
        "destroy": lambda c, d: d.destroy(),
        "shutdown": lambda c, d: d.shutdown(),
        "reboot": lambda c, d: d.reboot(0),
        "reset": lambda c, d: d.reset(0),
        "save-restore": lambda c, d: (d.save(save), c.restore(save)),
        "save-restore-paused": lambda c, d: (d.save(save),
                                             c.restoreFlags(save, None, tp.VIR_DOMAIN_SAVE_PAUSED)),
        "managedsave-start": lambda c, d: (d.managedSave(0), d.create()),
        "managedsave-remove": lambda c, d: (d.managedSave(0), d.managedSaveRemove(0)),
        "setMemory": lambda c, d: d.setMemory(262144),
        "setMemoryFlags-config": lambda c, d: d.setMemoryFlags(262144, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "setMaxMemory-inactive": lambda c, d: (d.destroy(), d.setMaxMemory(2097152)),
        "setVcpus": lambda c, d: d.setVcpus(3),
        "setVcpusFlags-config": lambda c, d: d.setVcpusFlags(3, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "attachDevice": lambda c, d: d.attachDevice(DISK_B),
        "attachDevice-config": lambda c, d: d.attachDeviceFlags(DISK_B, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "detachDevice": lambda c, d: d.detachDevice(DOMAIN_DISK.format(name=d.name())),
        "detachDeviceAlias": lambda c, d: d.detachDeviceAlias("ua-x", 0),
        "updateDevice": lambda c, d: d.updateDeviceFlags(IFACE, 0),
        "blockJobAbort": lambda c, d: d.blockJobAbort("vda", 0),
        "blockPull": lambda c, d: d.blockPull("vda", 0, 0),
        "blockRebase": lambda c, d: d.blockRebase("vda", None, 0, 0),
        "blockCommit": lambda c, d: d.blockCommit("vda", None, None, 0, 0),
        "blockCopy": lambda c, d: d.blockCopy("vda", "<disk type='file'><source file='/tmp/x'/></disk>"),
        "blockResize": lambda c, d: d.blockResize("vda", 1024, 0),
        "pmSuspend": lambda c, d: d.pMSuspendForDuration(tp.VIR_NODE_SUSPEND_TARGET_MEM, 0, 0),
        "pmSuspend-wakeup": lambda c, d: (d.pMSuspendForDuration(tp.VIR_NODE_SUSPEND_TARGET_MEM, 0, 0),
                                          d.pMWakeup(0)),
        "pmSuspend-disk": lambda c, d: d.pMSuspendForDuration(tp.VIR_NODE_SUSPEND_TARGET_DISK, 0, 0),
        "snapshot-create": lambda c, d: d.snapshotCreateXML(_snapshot_xml("s1"), 0),
        "snapshot-create-halt": lambda c, d: d.snapshotCreateXML(
            _snapshot_xml("s1"), tp.VIR_DOMAIN_SNAPSHOT_CREATE_HALT),
        "snapshot-revert": lambda c, d: d.revertToSnapshot(
            d.snapshotCreateXML(_snapshot_xml("s1"), 0), 0),
        "snapshot-revert-paused": lambda c, d: d.revertToSnapshot(
            d.snapshotCreateXML(_snapshot_xml("s1"), 0), tp.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED),
        "snapshot-revert-from-stopped": lambda c, d: (
            d.snapshotCreateXML(_snapshot_xml("s1"), 0), d.destroy(),
            d.revertToSnapshot(d.snapshotLookupByName("s1"), 0)),
        "snapshot-delete": lambda c, d: d.snapshotCreateXML(_snapshot_xml("s1"), 0).delete(0),
        "rename-inactive": lambda c, d: _rename_there_and_back(d),
        "setMetadata": lambda c, d: d.setMetadata(tp.VIR_DOMAIN_METADATA_TITLE, "t", None, None, 0),
        "setSchedulerParameters": lambda c, d: d.setSchedulerParameters({"weight": 100}),
        "setSchedulerParametersFlags-config": lambda c, d: d.setSchedulerParametersFlags(
            {"weight": 100}, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "setBlkioParameters": lambda c, d: d.setBlkioParameters({"weight": 200}, 0),
        "setMemoryParameters": lambda c, d: d.setMemoryParameters({"hard_limit": 4194304}, 0),
        "setNumaParameters": lambda c, d: d.setNumaParameters({"numa_nodeset": "0"}, 0),
        "setInterfaceParameters": lambda c, d: d.setInterfaceParameters(
            "52:54:00:11:22:33", {"inbound.average": 100}, 0),
        "setBlockIoTune": lambda c, d: d.setBlockIoTune("vda", {"total_bytes_sec": 1000}, 0),
        "pinVcpu": lambda c, d: d.pinVcpu(0, (True,)),
        "pinVcpuFlags-config": lambda c, d: d.pinVcpuFlags(0, (True,), tp.VIR_DOMAIN_AFFECT_CONFIG),
        "pinEmulator": lambda c, d: d.pinEmulator((True,), 0),
        "pinIOThread": lambda c, d: (d.addIOThread(1, 0), d.pinIOThread(1, (True,), 0)),
        "addIOThread": lambda c, d: d.addIOThread(5, 0),
        "addIOThread-config": lambda c, d: d.addIOThread(5, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "delIOThread": lambda c, d: (d.addIOThread(5, 0), d.delIOThread(5, 0)),
        "setIOThreadParams": lambda c, d: (d.addIOThread(5, 0),
                                           d.setIOThreadParams(5, {"poll_max_ns": 10}, 0)),
        "setBlockThreshold": lambda c, d: d.setBlockThreshold("vda", 1000, 0),
        "setTime": lambda c, d: d.setTime({"seconds": 1000, "nseconds": 0}, 0),
        "setUserPassword": lambda c, d: d.setUserPassword("root", "pw", 0),
        "setPerfEvents": lambda c, d: d.setPerfEvents({"cmt": True}, 0),
        "setAutostart": lambda c, d: d.setAutostart(1),
        "injectNMI": lambda c, d: d.injectNMI(0),
        "sendKey": lambda c, d: d.sendKey(0, 0, [1], 1, 0),
        "fsFreeze-thaw": lambda c, d: (d.fsFreeze(), d.fsThaw()),
        "fsTrim": lambda c, d: d.fSTrim(None, 0, 0),
        "setLifecycleAction": lambda c, d: d.setLifecycleAction(
            tp.VIR_DOMAIN_LIFECYCLE_REBOOT, tp.VIR_DOMAIN_LIFECYCLE_ACTION_DESTROY, 0),
        "setGuestVcpus": lambda c, d: d.setGuestVcpus("1", 0, 0),
        "setVcpu": lambda c, d: d.setVcpu("1", 0, 0),
        "agentSetResponseTimeout": lambda c, d: d.agentSetResponseTimeout(5, 0),
        "undefine-running": lambda c, d: d.undefine(),
        "undefine-inactive": lambda c, d: (d.destroy(), d.undefine()),
        "redefine-running": lambda c, d: c.defineXML(d.XMLDesc(tp.VIR_DOMAIN_XML_INACTIVE)),
        "redefine-inactive": lambda c, d: (d.destroy(),
                                           c.defineXML(d.XMLDesc(tp.VIR_DOMAIN_XML_INACTIVE))),
        "migrate": lambda c, d: d.migrate(c, 0, None, None, 0),
        "migrateSetMaxSpeed": lambda c, d: d.migrateSetMaxSpeed(100, 0),
        "abortJob": lambda c, d: d.abortJob(),
        "coreDump": lambda c, d: d.coreDump(os.path.join(tmp, "core"), 0),
        "coreDump-crash": lambda c, d: d.coreDump(os.path.join(tmp, "core"), tp.VIR_DUMP_CRASH),
        "screenshot": lambda c, d: d.screenshot(c.newStream(0), 0, 0),
        "checkpoint-create": lambda c, d: d.checkpointCreateXML(
            "<domaincheckpoint><name>c1</name></domaincheckpoint>", 0),
        "define-undefine-new": lambda c, d: c.defineXML(
            DOMAIN.format(name=d.name() + "n")).undefine(),
        "createXML-destroy": lambda c, d: c.createXML(
            DOMAIN.format(name=d.name() + "n"), 0).destroy(),
        "createXML-paused": lambda c, d: c.createXML(
            DOMAIN.format(name=d.name() + "n"), tp.VIR_DOMAIN_START_PAUSED).destroy(),
        "shutdownFlags": lambda c, d: d.shutdownFlags(0),
        "destroyFlags-graceful": lambda c, d: d.destroyFlags(tp.VIR_DOMAIN_DESTROY_GRACEFUL),
        "setMetadata-description": lambda c, d: d.setMetadata(
            tp.VIR_DOMAIN_METADATA_DESCRIPTION, "x", None, None, tp.VIR_DOMAIN_AFFECT_CONFIG),
        "setMetadata-element": lambda c, d: d.setMetadata(
            tp.VIR_DOMAIN_METADATA_ELEMENT, "<a/>", "k", "http://k/", 0),
        "setMetadata-remove": lambda c, d: d.setMetadata(
            tp.VIR_DOMAIN_METADATA_TITLE, None, None, None, 0),
        "setMemoryStatsPeriod": lambda c, d: d.setMemoryStatsPeriod(5, 0),
        "suspend-suspend": lambda c, d: (d.suspend(), d.suspend()),
        "reboot-paused": lambda c, d: (d.suspend(), d.reboot(0)),
        "paused-save-restore": lambda c, d: (d.suspend(), d.save(save), c.restore(save)),
        "paused-managedsave-start": lambda c, d: (d.suspend(), d.managedSave(0), d.create()),
        "paused-snapshot-halt": lambda c, d: (d.suspend(), d.snapshotCreateXML(
            _snapshot_xml("s1"), tp.VIR_DOMAIN_SNAPSHOT_CREATE_HALT)),
        "paused-shutdown": lambda c, d: (d.suspend(), d.shutdown()),
        "paused-destroy": lambda c, d: (d.suspend(), d.destroy()),
        "inactive-create": lambda c, d: (d.destroy(), d.create()),
        "inactive-createWithFlags-paused": lambda c, d: (
            d.destroy(), d.createWithFlags(tp.VIR_DOMAIN_START_PAUSED)),
        "inactive-setMemoryFlags-config": lambda c, d: (
            d.destroy(), d.setMemoryFlags(262144, tp.VIR_DOMAIN_AFFECT_CONFIG)),
        "inactive-setVcpusFlags-config": lambda c, d: (
            d.destroy(), d.setVcpusFlags(3, tp.VIR_DOMAIN_AFFECT_CONFIG)),
        "inactive-setMetadata": lambda c, d: (
            d.destroy(), d.setMetadata(tp.VIR_DOMAIN_METADATA_TITLE, "t", None, None, 0)),
        "inactive-snapshot-create-revert": lambda c, d: (
            d.destroy(), d.revertToSnapshot(d.snapshotCreateXML(_snapshot_xml("s1"), 0), 0)),
        "inactive-undefine-managedsave": lambda c, d: (
            d.managedSave(0), d.undefineFlags(tp.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE)),
        "inactive-reboot": lambda c, d: (d.destroy(), d.reboot(0)),
        "transient-lifecycle": lambda c, d: _transient(c, d, lambda t: (
            t.suspend(), t.resume(), t.shutdown())),
        "transient-save-restore": lambda c, d: _transient(c, d, lambda t: (
            t.save(save), c.restore(save), t.destroy())),
        "transient-define": lambda c, d: _transient(c, d, lambda t: (
            c.defineXML(t.XMLDesc(0)), t.destroy(), t.undefine())),
        "transient-snapshot-revert": lambda c, d: _transient(c, d, lambda t: (
            t.revertToSnapshot(t.snapshotCreateXML(_snapshot_xml("s1"), 0), 0), t.destroy())),
        "transient-managedsave": lambda c, d: _transient(c, d, lambda t: t.managedSave(0)),
        "transient-coreDump-crash": lambda c, d: _transient(
            c, d, lambda t: t.coreDump(os.path.join(tmp, "core"), tp.VIR_DUMP_CRASH)),
    }


def _rename_there_and_back(d: libvirt.virDomain) -> None:
    name = d.name()   # libvirt 9.0 leaves the handle's name as it was
    d.destroy()
    d.rename(name + "-r", 0)
    d.rename(name, 0)


def _transient(c: libvirt.virConnect, d: libvirt.virDomain,
               fn: Callable[[libvirt.virDomain], Any]) -> None:
    """Run fn on a transient twin of d; a twin left running is destroyed."""
    t = c.createXML(DOMAIN.format(name=d.name() + "t"), 0)
    try:
        fn(t)
    finally:
        try:
            c.lookupByName(d.name() + "t").destroy()
        except libvirt.libvirtError:
            pass


DOMAIN_DISK = """<disk type='file' device='disk'>
  <source file='/var/lib/libvirt/images/{name}.img'/><target dev='vda' bus='virtio'/></disk>"""


def main() -> None:
    wanted = sys.argv[1:]
    libvirt.registerErrorHandler(lambda *a: None, None)
    libvirt.virEventRegisterDefaultImpl()

    def loop() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()

    threading.Thread(target=loop, daemon=True).start()
    conn = libvirt.open("test:///default")
    rec = Recorder()
    ids = [conn.domainEventRegisterAny(None, i, rec.callback, i) for i in range(LAST_ID)]
    out: dict[str, list] = {}
    with tempfile.TemporaryDirectory() as tmp:
        table = ops(tmp)
        for n, (op, fn) in enumerate(sorted(table.items())):
            if wanted and op not in wanted:
                continue
            name = f"survey{n}"
            d = conn.defineXML(DOMAIN.format(name=name))
            d.create()
            rec.flush(conn)
            rec.base = name
            result: list = []
            try:
                fn(conn, d)
            except libvirt.libvirtError as e:
                result = [["error", e.get_error_code(), e.get_error_domain()]]
            except (TypeError, AttributeError) as e:   # the op itself is wrong here
                result = [["python-error", type(e).__name__, str(e)]]
            out[op] = rec.flush(conn) + result
            for cleanup in (lambda: d.destroy(), lambda: d.managedSaveRemove(0),
                            lambda: [s.delete(0) for s in d.listAllSnapshots(0)],
                            lambda: [s.delete(0) for s in d.listAllCheckpoints(0)],
                            lambda: d.undefine()):
                try:
                    cleanup()
                except libvirt.libvirtError:
                    pass
            try:
                conn.lookupByName(name).undefine()
            except libvirt.libvirtError:
                pass
            rec.flush(conn)
    for i in ids:
        conn.domainEventDeregisterAny(i)
    conn.close()
    print(json.dumps(out, sort_keys=True))


if __name__ == "__main__":
    main()
