"""Behaviour scenarios for the objects beside domains (networks, storage, interfaces,
node devices, secrets, snapshots, checkpoints) and for errors, written against
libvirt-python's documented behaviour.  Run by test_object_behaviour.py under each
implementation, the system's own libvirt included; prints one JSON object
{scenario: result} of deterministic values only, so that the outputs of the
implementations can be compared as a whole."""

import json
import sys
import threading

import libvirt
from scenario_kit import err, expect_error, results, scenario

URI = "test:///default"
libvirt.registerErrorHandler(lambda ctx, e: None, None)   # keep stderr for failures


def code(call, *args):
    """The error code a call fails with, or what it returns."""
    try:
        return ["ok", call(*args)]
    except libvirt.libvirtError as e:
        return ["error", e.get_error_code(), e.get_error_domain()]


class Events:
    """The default event loop run in a thread, and what the callbacks saw."""
    def __init__(self):
        libvirt.virEventRegisterDefaultImpl()
        self.seen, self.cond, self.stop = [], threading.Condition(), False
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        while not self.stop:
            libvirt.virEventRunDefaultImpl()

    def callback(self, *record):
        with self.cond:
            self.seen.append(list(record))
            self.cond.notify_all()

    def wait(self, n):
        with self.cond:
            self.cond.wait_for(lambda: len(self.seen) >= n, timeout=5)
        return self.seen[:n]

    def close(self):
        self.stop = True
        libvirt.virEventAddTimeout(0, lambda t, o: libvirt.virEventRemoveTimeout(t), None)
        self.thread.join(5)


NET_XML = """<network><name>{name}</name><bridge name='{bridge}'/>
<forward mode='nat'/><ip address='192.168.{n}.1' netmask='255.255.255.0'>
<dhcp><range start='192.168.{n}.2' end='192.168.{n}.254'/></dhcp></ip></network>"""


@scenario
def networks():
    conn = libvirt.open(URI)
    net = conn.networkLookupByName("default")
    out = {"list": [n.name() for n in conn.listAllNetworks()],
           "names": conn.listNetworks(), "defined": conn.listDefinedNetworks(),
           "num": [conn.numOfNetworks(), conn.numOfDefinedNetworks()],
           "active": net.isActive(), "persistent": net.isPersistent(),
           "autostart": net.autostart(), "bridge": net.bridgeName(),
           "uuid_len": len(net.UUID()),
           "by_uuid": conn.networkLookupByUUID(net.UUID()).name(),
           "by_uuidstr": conn.networkLookupByUUIDString(net.UUIDString()).name(),
           "xml_name": "<name>default</name>" in net.XMLDesc(0),
           "leases": code(net.DHCPLeases), "ports": code(net.listAllPorts, 0),
           "connect_is_conn": net.connect() is conn}
    new = conn.networkDefineXML(NET_XML.format(name="n1", bridge="virbr7", n=7))
    steps = [("defined", new.isActive(), new.isPersistent())]
    steps.append(("autostart", new.setAutostart(1), new.autostart()))
    steps.append(("create", new.create(), new.isActive()))
    steps.append(("create_again", code(new.create)))
    steps.append(("destroy", new.destroy(), new.isActive()))
    steps.append(("undefine", new.undefine(), code(conn.networkLookupByName, "n1")))
    trans = conn.networkCreateXML(NET_XML.format(name="n2", bridge="virbr8", n=8))
    steps.append(("transient", trans.isActive(), trans.isPersistent()))
    steps.append(("transient_destroy", trans.destroy(), code(conn.networkLookupByName, "n2")))
    out["steps"] = steps
    conn.close()
    return out


@scenario
def network_update():
    conn = libvirt.open(URI)
    net = conn.networkDefineXML(NET_XML.format(name="upd", bridge="virbr9", n=9))
    host = "<host mac='52:54:00:00:00:09' name='h9' ip='192.168.9.9'/>"
    flags = libvirt.VIR_NETWORK_UPDATE_AFFECT_CONFIG
    out = {"add": net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                             libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, flags),
           "has_host": "h9" in net.XMLDesc(0),
           "inactive_flag": code(net.XMLDesc, libvirt.VIR_NETWORK_XML_INACTIVE)}
    out["add_again"] = code(net.update, libvirt.VIR_NETWORK_UPDATE_COMMAND_ADD_LAST,
                            libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, flags)
    out["delete"] = net.update(libvirt.VIR_NETWORK_UPDATE_COMMAND_DELETE,
                               libvirt.VIR_NETWORK_SECTION_IP_DHCP_HOST, -1, host, flags)
    out["gone"] = "h9" in net.XMLDesc(0)
    net.undefine()
    conn.close()
    return out


@scenario
def network_events():
    ev = Events()
    conn = libvirt.open(URI)
    cid = conn.networkEventRegisterAny(
        None, libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
        lambda c, n, event, detail, opaque: ev.callback(n.name(), event, detail, opaque), "o")
    net = conn.networkDefineXML(NET_XML.format(name="ev", bridge="virbr10", n=10))
    net.create()
    net.destroy()
    net.undefine()
    seen = ev.wait(4)
    out = {"id": cid, "events": seen,
           "deregister": conn.networkEventDeregisterAny(cid),
           "deregister_again": code(conn.networkEventDeregisterAny, cid)}
    ev.close()
    conn.close()
    return out


@scenario
def event_registration():
    """Which second registrations libvirt refuses: the same event, object and
    connection, whatever the Python callback."""
    ev = Events()
    conn, other = libvirt.open(URI), libvirt.open(URI)
    f, g = (lambda *a: None), (lambda *a: None)
    out = {}
    for kind, obj in (("domain", conn.lookupByName("test")),
                      ("network", conn.networkLookupByName("default")),
                      ("storagePool", conn.storagePoolLookupByName("default-pool")),
                      ("nodeDevice", conn.nodeDeviceLookupByName("computer"))):
        register = getattr(conn, kind + "EventRegisterAny")
        first = code(register, None, 0, f, None)
        out[kind] = [first, code(register, None, 0, g, 1), code(register, obj, 0, f, None),
                     code(register, None, 1, f, None),
                     code(getattr(other, kind + "EventRegisterAny"), None, 0, f, None)]
        deregister = getattr(conn, kind + "EventDeregisterAny")
        deregister(first[1])
        out[kind].append(code(register, None, 0, g, None))
        for result in out[kind][2:]:     # leave no callback behind
            if result[0] == "ok":
                deregister(result[1]) if result is not out[kind][4] else \
                    getattr(other, kind + "EventDeregisterAny")(result[1])
    ev.close()
    conn.close()
    other.close()
    return out


POOL_XML = """<pool type='dir'><name>{name}</name><target><path>/{name}-path</path>
</target></pool>"""
VOL_XML = """<volume><name>{name}</name><capacity unit='MiB'>{mib}</capacity>
<allocation>0</allocation></volume>"""


@scenario
def storage_pools():
    conn = libvirt.open(URI)
    pool = conn.storagePoolLookupByName("default-pool")
    out = {"list": [p.name() for p in conn.listAllStoragePools()],
           "names": conn.listStoragePools(), "defined": conn.listDefinedStoragePools(),
           "num": [conn.numOfStoragePools(), conn.numOfDefinedStoragePools()],
           "info": pool.info(), "active": pool.isActive(), "persistent": pool.isPersistent(),
           "autostart": pool.autostart(),
           "by_uuid": conn.storagePoolLookupByUUID(pool.UUID()).name(),
           "by_uuidstr": conn.storagePoolLookupByUUIDString(pool.UUIDString()).name(),
           "xml_name": "<name>default-pool</name>" in pool.XMLDesc(0)}
    new = conn.storagePoolDefineXML(POOL_XML.format(name="p1"))
    steps = [("defined", new.isActive(), new.isPersistent(), new.info()[0])]
    steps.append(("build", new.build(0)))
    steps.append(("create", new.create(0), new.isActive(), new.info()[0]))
    steps.append(("refresh", new.refresh(0), new.listVolumes(), new.numOfVolumes()))
    steps.append(("autostart", new.setAutostart(1), new.autostart()))
    steps.append(("undefine_running", code(new.undefine)))
    steps.append(("destroy", new.destroy(), new.isActive()))
    steps.append(("delete", new.delete(0)))
    steps.append(("undefine", new.undefine(), code(conn.storagePoolLookupByName, "p1")))
    out["steps"] = steps
    trans = conn.storagePoolCreateXML(POOL_XML.format(name="p2"), 0)
    out["transient"] = [trans.isActive(), trans.isPersistent(), trans.destroy(),
                        code(conn.storagePoolLookupByName, "p2")]
    conn.close()
    return out


@scenario
def storage_volumes():
    conn = libvirt.open(URI)
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML(VOL_XML.format(name="v1", mib=10), 0)
    out = {"name": vol.name(), "key": vol.key(), "path": vol.path(), "info": vol.info(),
           "listed": pool.listVolumes(), "all": [v.name() for v in pool.listAllVolumes()],
           "by_name": pool.storageVolLookupByName("v1").key(),
           "by_key": conn.storageVolLookupByKey(vol.key()).name(),
           "by_path": conn.storageVolLookupByPath(vol.path()).name(),
           "pool_of_vol": vol.storagePoolLookupByVolume().name(),
           "xml_name": "<name>v1</name>" in vol.XMLDesc(0),
           "duplicate": code(pool.createXML, VOL_XML.format(name="v1", mib=1), 0)}
    out["resize"] = [code(vol.resize, 20 * 1024 * 1024, 0), vol.info()]
    clone = pool.createXMLFrom(VOL_XML.format(name="v2", mib=5), vol, 0)
    out["clone"] = [clone.name(), clone.info(), sorted(pool.listVolumes())]
    out["wipe"] = code(vol.wipe, 0)
    out["delete"] = [clone.delete(0), vol.delete(0), pool.listVolumes(),
                     code(pool.storageVolLookupByName, "v1")]
    conn.close()
    return out


@scenario
def storage_volume_streams():
    conn = libvirt.open(URI)
    pool = conn.storagePoolLookupByName("default-pool")
    vol = pool.createXML(VOL_XML.format(name="sv", mib=1), 0)
    st = conn.newStream(0)
    out = {"upload": code(vol.upload, st, 0, 4, 0)}
    st2 = conn.newStream(0)
    out["download"] = code(vol.download, st2, 0, 4, 0)
    vol.delete(0)
    conn.close()
    return out


@scenario
def storage_events():
    ev = Events()
    conn = libvirt.open(URI)
    cid = conn.storagePoolEventRegisterAny(
        None, libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
        lambda c, p, event, detail, opaque: ev.callback(p.name(), event, detail, opaque), 5)
    pool = conn.storagePoolDefineXML(POOL_XML.format(name="pe"))
    pool.create(0)
    pool.destroy()
    pool.undefine()
    out = {"events": ev.wait(4), "deregister": conn.storagePoolEventDeregisterAny(cid)}
    ev.close()
    conn.close()
    return out


IFACE_XML = """<interface type='ethernet' name='{name}'><start mode='onboot'/>
<mac address='aa:bb:cc:dd:ee:{n}'/><protocol family='ipv4'><ip address='192.168.0.{n}'
prefix='24'/></protocol></interface>"""


@scenario
def interfaces():
    conn = libvirt.open(URI)
    eth1 = conn.interfaceLookupByName("eth1")
    out = {"list": [i.name() for i in conn.listAllInterfaces()],
           "names": conn.listInterfaces(), "defined": conn.listDefinedInterfaces(),
           "num": [conn.numOfInterfaces(), conn.numOfDefinedInterfaces()],
           "mac": eth1.MACString(), "active": eth1.isActive(),
           "by_mac": conn.interfaceLookupByMACString(eth1.MACString()).name(),
           "xml_name": "name='eth1'" in eth1.XMLDesc(0)}
    iface = conn.interfaceDefineXML(IFACE_XML.format(name="eth7", n=17), 0)
    steps = [("defined", iface.isActive())]
    steps.append(("create", iface.create(0), iface.isActive()))
    steps.append(("create_again", code(iface.create, 0)))
    steps.append(("destroy", iface.destroy(0), iface.isActive()))
    steps.append(("undefine", iface.undefine(), code(conn.interfaceLookupByName, "eth7")))
    out["steps"] = steps
    conn.close()
    return out


@scenario
def interface_transactions():
    conn = libvirt.open(URI)
    out = {"begin": conn.changeBegin(0), "begin_again": code(conn.changeBegin, 0)}
    conn.interfaceDefineXML(IFACE_XML.format(name="eth8", n=18), 0)
    out["rollback"] = conn.changeRollback(0)
    out["after_rollback"] = code(conn.interfaceLookupByName, "eth8")
    out["rollback_again"] = code(conn.changeRollback, 0)
    conn.changeBegin(0)
    conn.interfaceDefineXML(IFACE_XML.format(name="eth9", n=19), 0)
    out["commit"] = conn.changeCommit(0)
    out["after_commit"] = conn.interfaceLookupByName("eth9").name()
    out["commit_again"] = code(conn.changeCommit, 0)
    conn.interfaceLookupByName("eth9").undefine()
    conn.close()
    return out


@scenario
def node_devices():
    conn = libvirt.open(URI)
    dev = conn.nodeDeviceLookupByName("scsi_host1")
    out = {"list": sorted(d.name() for d in conn.listAllDevices(0)),
           "names": sorted(conn.listDevices(None, 0)),
           "scsi_hosts": sorted(conn.listDevices("scsi_host", 0)),
           "num": conn.numOfDevices(None, 0), "name": dev.name(), "parent": dev.parent(),
           "caps": dev.listCaps(), "numcaps": dev.numOfCaps(),
           "xml_name": "<name>scsi_host1</name>" in dev.XMLDesc(0),
           "missing": expect_error(conn.nodeDeviceLookupByName, "nodev")}
    ev = Events()
    cid = conn.nodeDeviceEventRegisterAny(
        None, libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
        lambda c, d, event, detail, opaque: ev.callback(d.name(), event, detail, opaque), 1)
    xml = """<device><parent>scsi_host11</parent><capability type='scsi_host'>
    <capability type='fc_host'><wwnn>2000000012341234</wwnn><wwpn>1000000012341234</wwpn>
    </capability></capability></device>"""
    out["create_no_vport"] = code(conn.nodeDeviceCreateXML, xml, 0)
    new = conn.nodeDeviceCreateXML(xml.replace("scsi_host11", "scsi_host1"), 0)
    out["created"] = [new.name(), new.parent(), new.listCaps()]
    out["destroy"] = new.destroy()
    out["destroy_parentless"] = code(conn.nodeDeviceLookupByName("computer").destroy)
    out["events"] = ev.wait(2)
    out["deregister"] = conn.nodeDeviceEventDeregisterAny(cid)
    ev.close()
    conn.close()
    return out


@scenario
def secrets():
    conn = libvirt.open(URI)
    xml = ("<secret ephemeral='no' private='no'><usage type='volume'><volume>/v</volume>"
           "</usage></secret>")
    out = {"list": code(conn.listSecrets), "all": code(conn.listAllSecrets, 0),
           "num": code(conn.numOfSecrets), "define": code(conn.secretDefineXML, xml, 0),
           "by_usage": code(conn.secretLookupByUsage, libvirt.VIR_SECRET_USAGE_TYPE_VOLUME, "/v"),
           "by_uuid": code(conn.secretLookupByUUIDString, "6695eb01-f6a4-8304-79aa-97f2502e193f")}
    conn.close()
    return out


DOM_XML = """<domain type='test'><name>{name}</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os><devices><disk type='file'
device='disk'><source file='/{name}.img'/><target dev='vda' bus='virtio'/></disk>
</devices></domain>"""


@scenario
def snapshots():
    ev = Events()
    conn = libvirt.open(URI)
    dom = conn.defineXML(DOM_XML.format(name="snap"))
    dom.create()
    cid = conn.domainEventRegisterAny(
        dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, event, detail, opaque: ev.callback(d.name(), event, detail), None)
    out = {"none": [dom.hasCurrentSnapshot(), dom.snapshotNum(), dom.snapshotListNames(),
                    code(dom.snapshotCurrent)]}
    s1 = dom.snapshotCreateXML("<domainsnapshot><name>s1</name></domainsnapshot>")
    dom.suspend()
    s2 = dom.snapshotCreateXML("<domainsnapshot><name>s2</name></domainsnapshot>")
    dom.resume()
    out["created"] = [s1.getName(), s2.getName(), s2.getParent().getName(),
                      code(s1.getParent)]
    out["list"] = [sorted(dom.snapshotListNames()), dom.snapshotNum(),
                   sorted(s.getName() for s in dom.listAllSnapshots()),
                   dom.snapshotListNames(libvirt.VIR_DOMAIN_SNAPSHOT_LIST_ROOTS)]
    out["children"] = [s1.listChildrenNames(), s1.numChildren(),
                       [s.getName() for s in s1.listAllChildren()], s2.numChildren()]
    out["current"] = [dom.snapshotCurrent().getName(), s2.isCurrent(), s1.isCurrent(),
                      s1.hasMetadata(), dom.hasCurrentSnapshot()]
    out["lookup"] = [dom.snapshotLookupByName("s1").getName(),
                     s1.getDomain().name(), s1.getConnect() is conn,
                     "<name>s1</name>" in s1.getXMLDesc(0),
                     expect_error(dom.snapshotLookupByName, "nosnap")]
    out["revert"] = [dom.revertToSnapshot(s2), dom.state(), dom.snapshotCurrent().getName()]
    out["revert_running"] = [dom.revertToSnapshot(s1), dom.state()]
    out["delete"] = [s2.delete(), dom.snapshotListNames(),
                     s1.delete(libvirt.VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN), dom.snapshotNum()]
    out["undefine_with_snapshots"] = None
    dom.snapshotCreateXML("<domainsnapshot><name>s3</name></domainsnapshot>")
    dom.destroy()
    out["undefine_with_snapshots"] = code(dom.undefine)
    out["undefine_metadata"] = dom.undefineFlags(
        libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    out["events"] = ev.wait(8)
    conn.domainEventDeregisterAny(cid)
    ev.close()
    conn.close()
    return out


@scenario
def snapshot_revert():
    """Every (snapshot state, domain state, flags): the result, state and events."""
    ev = Events()
    conn = libvirt.open(URI)
    cid = conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, event, detail, o: ev.callback(d.name(), event, detail), None)

    def bring(dom, state):
        if state != "shutoff" and not dom.isActive():
            dom.create()
        now = dom.state()[0]
        if state == "paused" and now == libvirt.VIR_DOMAIN_RUNNING:
            dom.suspend()
        elif state == "running" and now == libvirt.VIR_DOMAIN_PAUSED:
            dom.resume()
        elif state == "shutoff" and dom.isActive():
            dom.destroy()

    def settle():
        """The events queued so far: a marker domain's define and undefine end them."""
        conn.defineXML(DOM_XML.format(name="marker")).undefine()
        with ev.cond:
            ev.cond.wait_for(lambda: ["marker", libvirt.VIR_DOMAIN_EVENT_UNDEFINED, 0]
                             in ev.seen, timeout=5)
            seen = [e[1:] for e in ev.seen if e[0] != "marker"]
            del ev.seen[:]
        return seen

    out = {}
    for snap_state in ("running", "paused", "shutoff"):
        for state in ("running", "paused", "shutoff"):
            for flags in (0, libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING,
                          libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED,
                          libvirt.VIR_DOMAIN_SNAPSHOT_REVERT_FORCE):
                dom = conn.defineXML(DOM_XML.format(name="rev"))
                bring(dom, snap_state)
                snap = dom.snapshotCreateXML("<domainsnapshot><name>s</name></domainsnapshot>")
                bring(dom, state)
                settle()
                ret = code(dom.revertToSnapshot, snap, flags)
                out[f"{snap_state}<-{state}/{flags}"] = [ret, dom.state(), settle()]
                if dom.isActive():
                    dom.destroy()
                dom.undefineFlags(libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA)
    conn.domainEventDeregisterAny(cid)
    ev.close()
    conn.close()
    return out


@scenario
def checkpoints():
    conn = libvirt.open(URI)
    dom = conn.defineXML(DOM_XML.format(name="ckpt"))
    dom.create()
    c1 = dom.checkpointCreateXML("<domaincheckpoint><name>c1</name></domaincheckpoint>")
    c2 = dom.checkpointCreateXML("<domaincheckpoint><name>c2</name></domaincheckpoint>")
    out = {"names": [c1.getName(), c2.getName(), c2.getParent().getName()],
           "no_parent": code(c1.getParent),
           "list": sorted(c.getName() for c in dom.listAllCheckpoints()),
           "roots": [c.getName() for c in dom.listAllCheckpoints(
               libvirt.VIR_DOMAIN_CHECKPOINT_LIST_ROOTS)],
           "children": [c.getName() for c in c1.listAllChildren()],
           "lookup": dom.checkpointLookupByName("c2").getName(),
           "xml": "<name>c1</name>" in c1.getXMLDesc(0),
           "domain": c1.getDomain().name(),
           "missing": expect_error(dom.checkpointLookupByName, "nock"),
           "duplicate": code(dom.checkpointCreateXML,
                             "<domaincheckpoint><name>c1</name></domaincheckpoint>")}
    out["delete"] = [c1.delete(libvirt.VIR_DOMAIN_CHECKPOINT_DELETE_CHILDREN),
                     [c.getName() for c in dom.listAllCheckpoints()]]
    dom.destroy()
    dom.undefine()
    conn.close()
    return out


@scenario
def error_cases():
    conn = libvirt.open(URI)
    dom = conn.lookupByName("test")
    out = {
        "no_domain": expect_error(conn.lookupByName, "nope"),
        "no_network": expect_error(conn.networkLookupByName, "nope"),
        "no_pool": expect_error(conn.storagePoolLookupByName, "nope"),
        "no_volume": expect_error(conn.storagePoolLookupByName("default-pool")
                                  .storageVolLookupByName, "nope"),
        "no_vol_path": expect_error(conn.storageVolLookupByPath, "/nope"),
        "no_interface": expect_error(conn.interfaceLookupByName, "nope"),
        "no_iface_mac": expect_error(conn.interfaceLookupByMACString, "00:00:00:00:00:01"),
        "no_uuid": expect_error(conn.lookupByUUIDString, "00000000-0000-0000-0000-000000000001"),
        "bad_uuid": expect_error(conn.networkLookupByUUIDString, "zz"),
        "bad_domain_xml": expect_error(conn.defineXML, "<domain"),
        "domain_xml_no_name": expect_error(conn.defineXML, "<domain type='test'/>"),
        "bad_network_xml": expect_error(conn.networkDefineXML, "<network><bogus/>"),
        "network_no_name": expect_error(conn.networkDefineXML, "<network/>"),
        "bad_pool_xml": expect_error(conn.storagePoolDefineXML, "<pool type='dir'>"),
        "bad_flags_xmldesc": expect_error(dom.XMLDesc, 1 << 30),
        "bad_flags_network": expect_error(conn.networkLookupByName("default").XMLDesc, 1 << 30),
        "bad_flags_list": expect_error(conn.listAllDomains, 1 << 30),
        "suspend_inactive": expect_error(conn.defineXML(DOM_XML.format(name="inact")).suspend),
        "create_running": expect_error(dom.create),
        "duplicate_network": expect_error(conn.networkCreateXML,
                                          NET_XML.format(name="default", bridge="x", n=3)),
    }
    conn.lookupByName("inact").undefine()
    try:
        conn.lookupByName("nope")
    except libvirt.libvirtError as e:
        out["attrs"] = [type(e.err).__name__, len(e.err), e.err[:3] == tuple(err(e)[:3])
                        if isinstance(e.err, tuple) else list(e.err[:3]) == err(e)[:3]]
    conn.close()
    out["closed"] = expect_error(conn.lookupByName, "test")
    return out


@scenario
def last_error():
    """A successful call clears the thread's last error; an event id libvirt-python
    has no callback for fails before libvirt is asked (no libvirt error)."""
    conn = libvirt.open(URI)
    expect_error(conn.lookupByName, "nope")
    out = {"after_error": libvirt.virGetLastError() is not None}
    conn.lookupByName("test").info()
    out["after_success"] = libvirt.virGetLastError()
    f = (lambda *a: None)
    out["unknown_ids"] = [
        [code(getattr(conn, kind + "EventRegisterAny"), None, eid, f, None),
         libvirt.virGetLastError()]
        for kind, eid in (("domain", 27), ("domain", -1), ("network", 1),
                          ("storagePool", 2), ("nodeDevice", 2), ("secret", 2))]
    conn.close()
    return out


sys.stdout.write(json.dumps(results) + "\n")
