"""Host interfaces (and their transactions) and node devices, compared with
real libvirt's test driver."""

import pytest

from pyvirt import api

from conftest import need_real, ours, real, unique


def ok0(f):
    return lambda: f() or 0


@need_real
def test_default_interface_as_real(conn, rconn):
    i = api.virInterfaceLookupByName(conn, "eth1")
    r = rconn.interfaceLookupByName("eth1")
    assert api.virInterfaceGetXMLDesc(i, 0) == r.XMLDesc(0)
    assert (api.virInterfaceGetMACString(i), api.virInterfaceIsActive(i)) == (
        r.MACString(), r.isActive())
    assert ours(lambda: api.virInterfaceGetXMLDesc(i, 1)) == real(lambda: r.XMLDesc(1))


@need_real
def test_interface_life_and_transaction_as_real(conn, rconn):
    name = unique("ethT")
    xml = (f"<interface type='bridge' name='{name}'><start mode='onboot'/><protocol "
           f"family='ipv4'><dhcp/></protocol><bridge stp='off' delay='0.01'><interface "
           f"type='ethernet' name='eth9'><mac address='ab:bb:cc:dd:ee:ff'/></interface>"
           f"</bridge></interface>")
    assert ours(ok0(lambda: api.virInterfaceChangeCommit(conn, 0))) == real(
        lambda: rconn.changeCommit(0))
    assert ours(ok0(lambda: api.virInterfaceChangeRollback(conn, 0))) == real(
        lambda: rconn.changeRollback(0))
    api.virInterfaceChangeBegin(conn, 0)
    rconn.changeBegin(0)
    assert ours(ok0(lambda: api.virInterfaceChangeBegin(conn, 0))) == real(
        lambda: rconn.changeBegin(0))
    i, r = api.virInterfaceDefineXML(conn, xml, 0), rconn.interfaceDefineXML(xml, 0)
    assert api.virInterfaceGetXMLDesc(i, 0) == r.XMLDesc(0)
    for step in ("Create", "Create", "Destroy", "Destroy"):
        assert ours(ok0(lambda: getattr(api, f"virInterface{step}")(i, 0))) == real(
            lambda: getattr(r, step.lower())(0))
    api.virInterfaceChangeRollback(conn, 0)
    rconn.changeRollback(0)
    assert ours(lambda: api.virInterfaceLookupByName(conn, name)) == real(
        lambda: rconn.interfaceLookupByName(name))


@need_real
@pytest.mark.parametrize("xml", ["<interface type='test'/>", "<interface type='ethernet'/>",
                                 "", "<iface/>"])
def test_interface_define_errors_as_real(conn, rconn, xml):
    assert ours(lambda: api.virInterfaceDefineXML(conn, xml, 0)) == real(
        lambda: rconn.interfaceDefineXML(xml, 0))


@need_real
def test_node_devices_as_real(conn, rconn):
    assert sorted(api.virNodeListDevices(conn, None, 100, 0)) == sorted(
        rconn.listDevices(None, 0))
    for cap in ("scsi_host", "fc_host", "vports", "system", "net"):
        assert sorted(api.virNodeListDevices(conn, cap, 100, 0)) == sorted(
            rconn.listDevices(cap, 0))
        assert api.virNodeNumOfDevices(conn, cap, 0) == rconn.numOfDevices(cap, 0)
    for name in rconn.listDevices(None, 0):
        d, r = api.virNodeDeviceLookupByName(conn, name), rconn.nodeDeviceLookupByName(name)
        assert api.virNodeDeviceGetXMLDesc(d, 0) == r.XMLDesc(0)
        assert api.virNodeDeviceListCaps(d, 10) == r.listCaps()
    assert ours(lambda: api.virNodeDeviceLookupByName(conn, "zz")) == real(
        lambda: rconn.nodeDeviceLookupByName("zz"))
    assert ours(lambda: api.virConnectListAllNodeDevices(conn, 1 << 31)) == real(
        lambda: rconn.listAllDevices(1 << 31))


@need_real
def test_vhba_create_destroy_as_real(conn, rconn):
    xml = ("<device><parent>scsi_host1</parent><capability type='scsi_host'>"
           "<capability type='fc_host'><wwnn>2000000012341111</wwnn>"
           "<wwpn>1000000012341111</wwpn></capability></capability></device>")
    d, r = api.virNodeDeviceCreateXML(conn, xml, 0), rconn.nodeDeviceCreateXML(xml, 0)
    assert api.virNodeDeviceGetXMLDesc(d, 0) == r.XMLDesc(0)
    assert ours(ok0(lambda: api.virNodeDeviceDestroy(d))) == real(r.destroy)
    assert ours(ok0(lambda: api.virNodeDeviceDestroy(d))) == real(r.destroy)
    bad = xml.replace("scsi_host1", "computer")
    assert ours(lambda: api.virNodeDeviceCreateXML(conn, bad, 0)) == real(
        lambda: rconn.nodeDeviceCreateXML(bad, 0))
