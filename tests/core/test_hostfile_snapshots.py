"""Snapshots written inside a test:///PATH.xml host file (<test:domainsnapshot>
children of a <domain>), compared with real libvirt loading the same file."""

import pytest

from pyvirt import api

from conftest import libvirt, need_real, ours, real

DOM = ("<domain type='test'><name>snapdom</name><uuid>11111111-2222-3333-4444-555555555501"
       "</uuid><memory>{mem}</memory><os><type>hvm</type></os>{devices}</domain>")
DISK = ("<devices><disk type='file' device='disk'><source file='/x/a'/>"
        "<target dev='vda' bus='virtio'/></disk></devices>")
S1 = ("<test:domainsnapshot><name>s1</name><state>running</state><creationTime>1386166249"
      "</creationTime><description>first</description><active>{a1}</active>"
      + DOM.format(mem=1024, devices="") + "</test:domainsnapshot>")
S2 = ("<test:domainsnapshot><name>s2</name><state>shutoff</state><parent><name>s1</name>"
      "</parent><creationTime>1386166300</creationTime><memory snapshot='no'/>"
      "<disks><disk name='vda' snapshot='internal'/></disks>"
      + DOM.format(mem=2048, devices=DISK) + "<active>1</active></test:domainsnapshot>")
NODE = ("<node xmlns:test='http://libvirt.org/schemas/domain/test/1.0'>"
        + DOM.format(mem=1024, devices="").replace("</domain>", "{snaps}</domain>") + "</node>")


def _host(tmp_path, snaps: str) -> str:
    path = tmp_path / "node.xml"
    path.write_text(NODE.format(snaps=snaps))
    return f"test://{path}"


@need_real
def test_snapshots_from_host_file_as_real(tmp_path):
    uri = _host(tmp_path, S1.format(a1=0) + S2)
    c, r = api.virConnectOpen(uri), libvirt.open(uri)
    try:
        d, rd = api.virDomainLookupByName(c, "snapdom"), r.lookupByName("snapdom")
        # libvirt lists from a hash table: the order is not part of the answer
        assert sorted(api.virDomainSnapshotListNames(d, 10, 0)) == sorted(rd.snapshotListNames(0))
        assert api.virDomainHasCurrentSnapshot(d, 0) == rd.hasCurrentSnapshot(0)
        assert api.virDomainSnapshotGetName(api.virDomainSnapshotCurrent(d, 0)) == \
            rd.snapshotCurrent(0).getName()
        for name in rd.snapshotListNames(0):
            s, rs = api.virDomainSnapshotLookupByName(d, name, 0), rd.snapshotLookupByName(name)
            assert api.virDomainSnapshotGetXMLDesc(s, 0) == rs.getXMLDesc(0)
            assert api.virDomainSnapshotIsCurrent(s, 0) == rs.isCurrent(0)
            assert api.virDomainSnapshotNumChildren(s, 0) == rs.numChildren(0)
            assert ours(lambda: api.virDomainSnapshotGetName(
                api.virDomainSnapshotGetParent(s, 0))) == real(lambda: rs.getParent().getName())
    finally:
        api.virConnectClose(c)
        r.close()


@need_real
@pytest.mark.parametrize("snaps", [S1.format(a1=1) + S2, S1.replace("<active>{a1}</active>", "")])
def test_bad_snapshots_in_host_file_as_real(tmp_path, snaps):
    uri = _host(tmp_path, snaps)
    mine = ours(lambda: api.virConnectOpen(uri))
    theirs = real(lambda: libvirt.open(uri))
    assert mine[0] == theirs[0] == "err"
    assert mine[1:] == theirs[1:]
