"""Networks of the test driver, compared with real libvirt's."""

import pytest

from pyvirt import api

from conftest import libvirt, need_real, ours, real, unique

UUID = "0b7e4c3a-5b2e-4b8a-9c1d-2f3e4a5b6c7d"


def netxml(name, uuid=UUID, extra=""):
    return (f"<network><name>{name}</name><uuid>{uuid}</uuid>{extra}"
            "<forward mode='nat'/><ip address='10.9.0.1' netmask='255.255.255.0'><dhcp>"
            "<range start='10.9.0.2' end='10.9.0.9'/>"
            "<host ip='10.9.0.5' name='h' mac='00:11:22:33:44:55'/></dhcp></ip>"
            "<bridge name='br9'/><domain name='x'/></network>")


@need_real
def test_default_network_as_real(conn, rconn):
    n = api.virNetworkLookupByName(conn, "default")
    r = rconn.networkLookupByName("default")
    assert api.virNetworkGetXMLDesc(n, 0) == r.XMLDesc(0)
    assert api.virNetworkGetUUIDString(n) == r.UUIDString()
    assert (api.virNetworkIsActive(n), api.virNetworkIsPersistent(n),
            api.virNetworkGetAutostart(n), api.virNetworkGetBridgeName(n)) == (
        r.isActive(), r.isPersistent(), r.autostart(), r.bridgeName())


@need_real
def test_define_start_stop_undefine_as_real(conn, rconn):
    name = unique("net")
    n = api.virNetworkDefineXML(conn, netxml(name))
    r = rconn.networkDefineXML(netxml(name))
    try:
        assert api.virNetworkGetXMLDesc(n, 0) == r.XMLDesc(0)
        assert name in api.virConnectListDefinedNetworks(conn, 100)
        for step in ("create", "create", "destroy", "undefine", "undefine"):
            assert ours(lambda: getattr(api, f"virNetwork{step.title()}")(n) or 0) == \
                real(lambda: getattr(r, step)())
    finally:
        for f in (lambda: api.virNetworkUndefine(n), r.undefine):
            try:
                f()
            except Exception:
                pass


@need_real
@pytest.mark.parametrize("xml", [
    "<network><name>default</name></network>",
    "<network></network>", "<net/>", "",
    "<network><name>x</name><uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid></network>",
])
def test_define_errors_as_real(conn, rconn, xml):
    assert ours(lambda: api.virNetworkDefineXML(conn, xml)) == real(
        lambda: rconn.networkDefineXML(xml))


@need_real
def test_lookup_and_flag_errors_as_real(conn, rconn):
    assert ours(lambda: api.virNetworkLookupByName(conn, "nope")) == real(
        lambda: rconn.networkLookupByName("nope"))
    u = "dd8fe884-6c02-601e-7551-cca97df1c5d0"
    assert ours(lambda: api.virNetworkLookupByUUIDString(conn, u)) == real(
        lambda: rconn.networkLookupByUUIDString(u))
    assert ours(lambda: api.virConnectListAllNetworks(conn, 1 << 10)) == real(
        lambda: rconn.listAllNetworks(1 << 10))
    n = api.virNetworkLookupByName(conn, "default")
    assert ours(lambda: api.virNetworkGetXMLDesc(n, 1)) == real(
        lambda: rconn.networkLookupByName("default").XMLDesc(1))
    assert ours(lambda: api.virNetworkGetDHCPLeases(n, None, 0)) == real(
        lambda: rconn.networkLookupByName("default").DHCPLeases())


@need_real
def test_transient_network_as_real(conn, rconn):
    name = unique("tnet")
    xml = f"<network><name>{name}</name></network>"
    n = api.virNetworkCreateXML(conn, xml)
    r = rconn.networkCreateXML(xml)
    assert (api.virNetworkIsPersistent(n), api.virNetworkIsActive(n)) == (
        r.isPersistent(), r.isActive())
    assert ours(lambda: api.virNetworkUndefine(n) or 0) == real(r.undefine)
    assert ours(lambda: api.virNetworkGetBridgeName(n)) == real(r.bridgeName)
    api.virNetworkDestroy(n)
    r.destroy()
    assert ours(lambda: api.virNetworkGetXMLDesc(n, 0)) == real(lambda: r.XMLDesc(0))


@need_real
def test_update_dhcp_host_as_real(conn, rconn):
    name = unique("unet")
    xml = netxml(name, uuid="0b7e4c3a-5b2e-4b8a-9c1d-2f3e4a5b6c7e")
    n, r = api.virNetworkDefineXML(conn, xml), rconn.networkDefineXML(xml)
    host = "<host mac='00:11:22:33:44:66' name='g' ip='10.9.0.6'/>"
    try:
        for cmd, section, item in ((3, 4, host), (3, 4, host), (2, 4, host), (2, 4, host),
                                   (3, 1, "<bridge/>"), (3, 4, "<x/>"), (0, 0, "<x/>")):
            assert ours(lambda: api.virNetworkUpdate(n, cmd, section, -1, item, 0) or 0) == real(
                lambda: r.update(cmd, section, -1, item, 0))
            assert api.virNetworkGetXMLDesc(n, 0) == r.XMLDesc(0)
    finally:
        api.virNetworkUndefine(n)
        r.undefine()


def test_readonly_connection_cannot_define():
    ro = api.virConnectOpenReadOnly("test:///default")
    try:
        r = ours(lambda: api.virNetworkDefineXML(ro, "<network><name>x</name></network>"))
        assert r[:3] == ("err", 29, 19)
    finally:
        api.virConnectClose(ro)
