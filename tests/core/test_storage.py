"""Storage pools and volumes of the test driver, compared with real libvirt's."""

import pytest

from pyvirt import api

from conftest import need_real, ours, real, unique


def poolxml(name, uuid="5f0f3c2e-1d2b-4c3a-8e9f-0a1b2c3d4e5f"):
    return (f"<pool type='dir'><name>{name}</name><uuid>{uuid}</uuid>"
            f"<target><path>/{name}</path></target></pool>")


VOL = ("<volume><name>v1</name><allocation>0</allocation><capacity unit='M'>10</capacity>"
       "<target><path>/ignored/v1</path><permissions><owner>107</owner><group>107</group>"
       "<mode>0744</mode><label>l</label></permissions></target></volume>")


def ok0(f):
    return lambda: f() or 0


@need_real
def test_default_pool_as_real(conn, rconn):
    p = api.virStoragePoolLookupByName(conn, "default-pool")
    r = rconn.storagePoolLookupByName("default-pool")
    assert api.virStoragePoolGetXMLDesc(p, 0) == r.XMLDesc(0)
    info = api.virStoragePoolGetInfo(p)
    assert [info.state, info.capacity, info.allocation, info.available] == r.info()


@need_real
def test_pool_and_volume_life_as_real(conn, rconn):
    name = unique("pool")
    p, r = api.virStoragePoolDefineXML(conn, poolxml(name), 0), rconn.storagePoolDefineXML(
        poolxml(name), 0)
    try:
        assert api.virStoragePoolGetXMLDesc(p, 0) == r.XMLDesc(0)
        assert ours(lambda: api.virStoragePoolListVolumes(p, 10)) == real(r.listVolumes)
        assert ours(lambda: api.virStorageVolCreateXML(p, VOL, 0)) == real(
            lambda: r.createXML(VOL, 0))
        assert ours(ok0(lambda: api.virStoragePoolCreate(p, 0))) == real(lambda: r.create(0))
        v, rv = api.virStorageVolCreateXML(p, VOL, 0), r.createXML(VOL, 0)
        assert api.virStorageVolGetXMLDesc(v, 0) == rv.XMLDesc(0)
        info = api.virStorageVolGetInfo(v)
        assert [info.type, info.capacity, info.allocation] == rv.info()
        assert (api.virStorageVolGetKey(v), api.virStorageVolGetPath(v)) == (rv.key(), rv.path())
        assert ours(lambda: api.virStorageVolCreateXML(p, VOL, 0)) == real(
            lambda: r.createXML(VOL, 0))
        clone = VOL.replace("v1", "v2").replace("<allocation>0</allocation>", "")
        c2, rc2 = (api.virStorageVolCreateXMLFrom(p, clone, v, 0),
                   r.createXMLFrom(clone, rv, 0))
        assert api.virStorageVolGetXMLDesc(c2, 0) == rc2.XMLDesc(0)
        pi = api.virStoragePoolGetInfo(p)
        assert [pi.state, pi.capacity, pi.allocation, pi.available] == r.info()
        key = api.virStorageVolGetKey(v)
        assert api.virStorageVolGetName(api.virStorageVolLookupByKey(conn, key)) == "v1"
        assert api.virStorageVolGetName(api.virStorageVolLookupByPath(conn, key)) == "v1"
        for bad in ("zz",):
            assert ours(lambda: api.virStorageVolLookupByKey(conn, bad)) == real(
                lambda: rconn.storageVolLookupByKey(bad))
            assert ours(lambda: api.virStorageVolLookupByPath(conn, bad)) == real(
                lambda: rconn.storageVolLookupByPath(bad))
            assert ours(lambda: api.virStorageVolLookupByName(p, bad)) == real(
                lambda: r.storageVolLookupByName(bad))
        assert api.virStoragePoolGetName(api.virStoragePoolLookupByVolume(v)) == name
        assert ours(ok0(lambda: api.virStoragePoolUndefine(p))) == real(r.undefine)
        assert ours(ok0(lambda: api.virStoragePoolDelete(p, 0))) == real(lambda: r.delete(0))
        assert ours(ok0(lambda: api.virStoragePoolBuild(p, 0))) == real(lambda: r.build(0))
        assert ours(ok0(lambda: api.virStoragePoolRefresh(p, 0))) == real(lambda: r.refresh(0))
        assert ours(ok0(lambda: api.virStorageVolDelete(v, 0))) == real(lambda: rv.delete(0))
        assert ours(ok0(lambda: api.virStorageVolDelete(v, 0))) == real(lambda: rv.delete(0))
        assert ours(lambda: api.virStorageVolGetInfo(v)) == real(rv.info)
        assert ours(ok0(lambda: api.virStoragePoolDestroy(p))) == real(r.destroy)
        assert ours(ok0(lambda: api.virStoragePoolDestroy(p))) == real(r.destroy)
        assert ours(lambda: api.virStoragePoolListVolumes(p, 10)) == real(r.listVolumes)
    finally:
        for f in (lambda: api.virStoragePoolUndefine(p), r.undefine):
            try:
                f()
            except Exception:
                pass


@need_real
@pytest.mark.parametrize("xml", [
    "<pool type='xxx'><name>p</name></pool>", "<pool type='dir'><name>p</name></pool>",
    "<pool type='dir'><name>default-pool</name><target><path>/elsewhere</path></target></pool>",
    "<pool type='dir'><name>q</name><target><path>/default-pool</path></target></pool>",
    "", "<pool/>",
])
def test_pool_define_errors_as_real(conn, rconn, xml):
    assert ours(lambda: api.virStoragePoolDefineXML(conn, xml, 0)) == real(
        lambda: rconn.storagePoolDefineXML(xml, 0))


@need_real
def test_pool_lookup_errors_as_real(conn, rconn):
    assert ours(lambda: api.virStoragePoolLookupByName(conn, "zz")) == real(
        lambda: rconn.storagePoolLookupByName("zz"))
    u = "dfe224cb-28fb-8dd0-c4b2-64eb3f0f4560"
    assert ours(lambda: api.virStoragePoolLookupByUUIDString(conn, u)) == real(
        lambda: rconn.storagePoolLookupByUUIDString(u))
    p = api.virStoragePoolLookupByName(conn, "default-pool")
    assert ours(lambda: api.virStoragePoolGetXMLDesc(p, 1)) == real(
        lambda: rconn.storagePoolLookupByName("default-pool").XMLDesc(1))


@need_real
def test_transient_pool_as_real(conn, rconn):
    name = unique("tpool")
    xml = poolxml(name, "5f0f3c2e-1d2b-4c3a-8e9f-0a1b2c3d4e60")
    p, r = api.virStoragePoolCreateXML(conn, xml, 0), rconn.storagePoolCreateXML(xml, 0)
    assert (api.virStoragePoolIsPersistent(p), api.virStoragePoolIsActive(p)) == (
        r.isPersistent(), r.isActive())
    api.virStoragePoolDestroy(p)
    r.destroy()
    assert ours(lambda: api.virStoragePoolGetInfo(p)) == real(r.info)


@need_real
@pytest.mark.parametrize("args", [("logical", None), ("netfs", "<source><host name='x'/></source>"),
                                  ("netfs", None), ("dir", None)])
def test_find_pool_sources_as_real(conn, rconn, args):
    assert ours(lambda: api.virConnectFindStoragePoolSources(conn, *args, 0)) == real(
        lambda: rconn.findStoragePoolSources(*args, 0))
