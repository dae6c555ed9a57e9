"""Domain entry points beyond the life cycle, and snapshots, compared with
real libvirt's test driver on a fresh domain each."""

import re

import pytest

from pyvirt import api

from conftest import need_real, ours, real, unique

DISKS = ("<devices><disk type='file' device='disk'><source file='/x/img'/>"
         "<target dev='vda' bus='virtio'/></disk><interface type='network'>"
         "<mac address='aa:bb:cc:00:00:01'/><source network='default'/>"
         "<target dev='vnet7'/></interface></devices>")


def dxml(name, uuid):
    return (f"<domain type='test'><name>{name}</name><uuid>{uuid}</uuid>"
            f"<memory>1048576</memory><vcpu>2</vcpu><os><type>hvm</type></os>{DISKS}</domain>")


def noid(xml):
    return re.sub(r" id='\d+'", "", xml, count=1)


def ok0(f):
    return lambda: f() or 0


@pytest.fixture
def pair(conn, rconn):
    name = unique("xdom")
    uuid = f"6b1a2c3d-4e5f-4a6b-8c7d-{abs(hash(name)) % 10**12:012d}"
    d = api.virDomainDefineXML(conn, dxml(name, uuid))
    r = rconn.defineXML(dxml(name, uuid))
    api.virDomainCreate(d)
    r.create()
    yield d, r
    for f in (lambda: api.virDomainDestroy(d), r.destroy,
              lambda: api.virDomainUndefineFlags(d, 3), lambda: r.undefineFlags(3)):
        try:
            f()
        except Exception:
            pass


@need_real
def test_vcpus_as_real(pair):
    d, r = pair
    for flags in (0, 1, 2, 4, 5, 6, 3):
        assert ours(lambda: api.virDomainGetVcpusFlags(d, flags)) == real(
            lambda: r.vcpusFlags(flags))
    for n, flags in ((1, 0), (3, 0), (33, 6), (4, 6), (3, 5)):
        assert ours(ok0(lambda: api.virDomainSetVcpusFlags(d, n, flags))) == real(
            lambda: r.setVcpusFlags(n, flags))
    assert noid(api.virDomainGetXMLDesc(d, 0)) == noid(r.XMLDesc(0))
    assert api.virDomainGetXMLDesc(d, 2) == r.XMLDesc(2)
    infos, maps = api.virDomainGetVcpus(d, 8, 2)
    rinfo, rmaps = r.vcpus()
    assert [(i.number, i.state, i.cpu) for i in infos] == [(a, b, e) for a, b, _, e in rinfo]


@need_real
def test_metadata_as_real(pair):
    d, r = pair
    for kind, uri in ((0, None), (1, None), (2, "http://x/")):
        assert ours(lambda: api.virDomainGetMetadata(d, kind, uri, 0)) == real(
            lambda: r.metadata(kind, uri, 0))
    api.virDomainSetMetadata(d, 0, "hello", None, None, 0)
    r.setMetadata(0, "hello", None, None, 0)
    api.virDomainSetMetadata(d, 2, '<foo bar="1"><b/></foo>', "x", "http://x/", 0)
    r.setMetadata(2, '<foo bar="1"><b/></foo>', "x", "http://x/", 0)
    assert api.virDomainGetMetadata(d, 2, "http://x/", 0) == r.metadata(2, "http://x/", 0)
    assert noid(api.virDomainGetXMLDesc(d, 0)) == noid(r.XMLDesc(0))


@need_real
def test_stats_time_and_queries_as_real(pair):
    d, r = pair
    assert ours(lambda: api.virDomainBlockStats(d, "vdz", 40)) == real(
        lambda: r.blockStats("vdz"))
    assert ours(lambda: api.virDomainInterfaceStats(d, "zz", 64)) == real(
        lambda: r.interfaceStats("zz"))
    assert ours(lambda: api.virDomainGetBlockInfo(d, "vdz", 0)) == real(
        lambda: r.blockInfo("vdz"))
    info = api.virDomainGetBlockInfo(d, "vda", 0)
    assert [info.capacity, info.allocation, info.physical] == r.blockInfo("vda")
    assert api.virDomainGetTime(d, 0) == tuple(r.getTime().values())
    api.virDomainSetTime(d, 1234, 5, 0)
    r.setTime({"seconds": 1234, "nseconds": 5})
    assert api.virDomainGetTime(d, 0) == tuple(r.getTime().values())
    assert api.virDomainGetHostname(d, 0) == r.hostname()
    assert api.virDomainGetSchedulerType(d) == tuple(r.schedulerType())
    assert {n: v for n, _, v in api.virDomainGetSchedulerParameters(d)} == \
        r.schedulerParameters()
    stats = {s.tag: s.val for s in api.virDomainMemoryStats(d, 20, 0)}
    assert len(stats) == len(r.memoryStats())
    for getter, ref in ((api.virDomainGetMemoryParameters, r.memoryParameters),
                        (api.virDomainGetNumaParameters, r.numaParameters),
                        (api.virDomainGetBlkioParameters, r.blkioParameters)):
        assert {n: v for n, _, v in getter(d, 0)} == ref(0)
    label = api.virDomainGetSecurityLabel(d)
    assert [label.label, bool(label.enforcing)] == r.securityLabel()


@need_real
def test_save_restore_managed_save_as_real(pair, tmp_path):
    d, r = pair
    assert ours(lambda: api.virDomainHasManagedSaveImage(d, 0)) == real(
        lambda: r.hasManagedSaveImage(0))
    api.virDomainManagedSave(d, 0)
    r.managedSave(0)
    assert api.virDomainGetState(d, 0) == tuple(r.state())
    assert api.virDomainHasManagedSaveImage(d, 0) == r.hasManagedSaveImage(0)
    assert ours(ok0(lambda: api.virDomainUndefine(d))) == real(r.undefine)
    api.virDomainCreate(d)
    r.create()
    assert api.virDomainHasManagedSaveImage(d, 0) == r.hasManagedSaveImage(0)
    ours_img, real_img = str(tmp_path / "ours.img"), str(tmp_path / "real.img")
    api.virDomainSave(d, ours_img)
    r.save(real_img)
    assert api.virDomainGetState(d, 0) == tuple(r.state())
    assert open(ours_img, "rb").read()[:15] == open(real_img, "rb").read()[:15]
    api.virDomainRestore(d.conn, real_img)   # libvirt's image restores here too
    r.connect().restore(ours_img)            # and ours there
    assert api.virDomainGetState(d, 0) == tuple(r.state())
    assert ours(ok0(lambda: api.virDomainRename(d, "x", 0))) == real(lambda: r.rename("x", 0))


@need_real
def test_snapshots_as_real(pair):
    d, r = pair
    assert ours(lambda: api.virDomainSnapshotCurrent(d, 0)) == real(
        lambda: r.snapshotCurrent(0))
    s1 = api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>s1</name>"
                                           "<description>d</description></domainsnapshot>", 0)
    r1 = r.snapshotCreateXML("<domainsnapshot><name>s1</name><description>d</description>"
                             "</domainsnapshot>", 0)
    strip = lambda x: "\n".join(l for l in x.split("\n") if "creationTime" not in l)
    assert strip(api.virDomainSnapshotGetXMLDesc(s1, 0)) == strip(r1.getXMLDesc(0))
    s2 = api.virDomainSnapshotCreateXML(d, "<domainsnapshot><name>s2</name></domainsnapshot>", 0)
    r2 = r.snapshotCreateXML("<domainsnapshot><name>s2</name></domainsnapshot>", 0)
    assert strip(api.virDomainSnapshotGetXMLDesc(s2, 0)) == strip(r2.getXMLDesc(0))
    assert sorted(api.virDomainSnapshotListNames(d, 10, 0)) == sorted(r.snapshotListNames(0))
    assert api.virDomainSnapshotListChildrenNames(s1, 10, 0) == r1.listChildrenNames(0)
    assert ours(lambda: api.virDomainSnapshotGetParent(s1, 0)) == real(
        lambda: r1.getParent(0))
    assert ours(lambda: api.virDomainSnapshotCreateXML(
        d, "<domainsnapshot><name>s1</name></domainsnapshot>", 0)) == real(
        lambda: r.snapshotCreateXML("<domainsnapshot><name>s1</name></domainsnapshot>", 0))
    api.virDomainRevertToSnapshot(s1, 0)
    r.revertToSnapshot(r1, 0)
    assert api.virDomainGetState(d, 0) == tuple(r.state())
    assert api.virDomainSnapshotIsCurrent(s1, 0) == r1.isCurrent(0)
    api.virDomainSnapshotDelete(s1, 0)
    r1.delete(0)
    assert sorted(api.virDomainSnapshotListNames(d, 10, 0)) == sorted(r.snapshotListNames(0))
    assert ours(lambda: api.virDomainSnapshotGetParent(s2, 0)) == real(
        lambda: r2.getParent(0))
    assert ours(lambda: api.virDomainSnapshotLookupByName(d, "zz", 0)) == real(
        lambda: r.snapshotLookupByName("zz", 0))
    assert ours(lambda: api.virDomainCheckpointCreateXML(d, "<domaincheckpoint/>", 0)) == real(
        lambda: r.checkpointCreateXML("<domaincheckpoint/>", 0))
