"""Connection and node functions, compared with real libvirt's test driver."""

import pytest

from pyvirt import api
from pyvirt.structs import NodeInfo

from conftest import libvirt, need_real, ours, real


def test_basic_values(conn):
    assert api.virConnectGetType(conn) == "TEST"
    assert api.virConnectGetVersion(conn) == 2
    assert api.virConnectGetLibVersion(conn) == 9000000
    assert api.virConnectGetURI(conn) == "test:///default"
    assert (api.virConnectIsAlive(conn), api.virConnectIsSecure(conn),
            api.virConnectIsEncrypted(conn)) == (1, 1, 0)
    assert api.virConnectGetMaxVcpus(conn, None) == 32
    assert api.virGetVersion(None) == (9000000, 9000000)
    assert api.virNodeGetInfo(conn) == NodeInfo("i686", 3145728, 16, 1400, 2, 2, 2, 2)


@need_real
def test_same_as_real(conn, rconn):
    assert api.virConnectGetHostname(conn) == rconn.getHostname()
    assert api.virConnectGetVersion(conn) == rconn.getVersion()
    assert api.virConnectGetMaxVcpus(conn, "test") == rconn.getMaxVcpus("test")
    info = api.virNodeGetInfo(conn)
    r = rconn.getInfo()  # the binding reports memory in MiB
    assert [info.model, info.memory >> 10, info.cpus, info.mhz, info.nodes, info.sockets,
            info.cores, info.threads] == r
    assert api.virGetVersion("Test") == libvirt.getVersion("Test")


@need_real
def test_capabilities_byte_identical(conn, rconn):
    assert api.virConnectGetCapabilities(conn) == rconn.getCapabilities()


@need_real
@pytest.mark.parametrize("uri", ["test:///", "::::", "test:///nonexistent.xml"])
def test_open_errors_as_real(uri):
    assert ours(lambda: api.virConnectOpen(uri)) == real(lambda: libvirt.open(uri))


def test_unknown_scheme_has_no_driver():
    r = ours(lambda: api.virConnectOpen("foo:///bar"))
    assert r == ("err", 5, 0, "no connection driver available for foo:///bar")


def test_default_host_shared_then_dropped():
    a = api.virConnectOpen("test:///default")
    b = api.virConnectOpen("test:///default")
    assert a.driver is b.driver
    api.virDomainDefineXML(a, "<domain type='test'><name>shared</name><memory>1</memory>"
                              "<os><type>hvm</type></os></domain>")
    assert api.virDomainGetName(api.virDomainLookupByName(b, "shared")) == "shared"
    api.virConnectClose(a)
    api.virConnectClose(b)
    c = api.virConnectOpen("test:///default")
    try:
        assert ours(lambda: api.virDomainLookupByName(c, "shared"))[0] == "err"
    finally:
        api.virConnectClose(c)


def test_closed_connection_is_invalid():
    c = api.virConnectOpen("test:///default")
    api.virConnectClose(c)
    # libvirt-host.c checks the handle under its own domain, VIR_FROM_DOMAIN
    assert ours(lambda: api.virConnectGetType(c)) == \
        ("err", 6, 20, "invalid connection pointer in virConnectGetType")


def test_host_file(tmp_path):
    path = tmp_path / "node.xml"
    path.write_text(
        "<node><cpu><mhz>2000</mhz><model>x86_64</model><nodes>1</nodes><sockets>1</sockets>"
        "<cores>4</cores><threads>1</threads><active>4</active></cpu>"
        "<memory>4000000</memory>"
        "<domain type='test'><name>f1</name><memory>1024</memory><os><type>hvm</type></os>"
        "</domain><domain type='test'><name>f2</name><memory>1024</memory>"
        "<os><type>hvm</type></os></domain></node>")
    c = api.virConnectOpen(f"test://{path}")
    try:
        assert api.virNodeGetInfo(c) == NodeInfo("x86_64", 4000000, 4, 2000, 1, 1, 4, 1)
        doms = api.virConnectListAllDomains(c, 0)
        got = [(d.name, d.id, api.virDomainGetState(d, 0)) for d in doms]
        assert got == [("f1", 1, (1, 0)), ("f2", 2, (1, 0))]
        if libvirt is not None:
            r = libvirt.open(f"test://{path}")
            assert sorted((d.name(), d.ID(), tuple(d.state())) for d in r.listAllDomains()) \
                == sorted((n, i, s) for n, i, s in got)
            ri = r.getInfo()
            assert ri[1] == 4000000 >> 10 and ri[2:] == [4, 2000, 1, 1, 4, 1]
    finally:
        api.virConnectClose(c)
