"""Network, storage pool and node device events, delivered on the event loop
with libvirt's event and detail codes."""

import queue

from pyvirt import api
from pyvirt.objects import Network, NodeDevice, StoragePool

from conftest import unique


def _collect(conn, register, event_id, obj=None):
    got: queue.Queue = queue.Queue()
    cb = lambda c, o, *args: got.put((type(o).__name__, o.name, args))  # noqa: E731
    cid = register(conn, obj, event_id, cb, None)
    return got, cid


def _drain(got, n):
    return [got.get(timeout=5) for _ in range(n)]


def test_network_lifecycle_events(conn, loops):
    got, cid = _collect(conn, api.virConnectNetworkEventRegisterAny, 0)
    name = unique("evnet")
    net = api.virNetworkDefineXML(conn, f"<network><name>{name}</name></network>")
    api.virNetworkCreate(net)
    api.virNetworkDestroy(net)
    api.virNetworkUndefine(net)
    # DEFINED, STARTED, STOPPED, UNDEFINED, detail 0
    assert _drain(got, 4) == [("Network", name, (e, 0)) for e in (0, 2, 3, 1)]
    api.virConnectNetworkEventDeregisterAny(conn, cid)


def test_pool_lifecycle_and_refresh_events(conn, loops):
    got, cid = _collect(conn, api.virConnectStoragePoolEventRegisterAny, 0)
    ref, rid = _collect(conn, api.virConnectStoragePoolEventRegisterAny, 1)
    name = unique("evpool")
    pool = api.virStoragePoolDefineXML(
        conn, f"<pool type='dir'><name>{name}</name><target><path>/{name}</path></target>"
              f"</pool>", 0)
    api.virStoragePoolCreate(pool, 0)
    api.virStoragePoolRefresh(pool, 0)
    api.virStoragePoolDestroy(pool)
    api.virStoragePoolUndefine(pool)
    assert _drain(got, 4) == [("StoragePool", name, (e, 0)) for e in (0, 2, 3, 1)]
    assert _drain(ref, 1) == [("StoragePool", name, ())]
    api.virConnectStoragePoolEventDeregisterAny(conn, cid)
    api.virConnectStoragePoolEventDeregisterAny(conn, rid)


def test_node_device_events(conn, loops):
    got, cid = _collect(conn, api.virConnectNodeDeviceEventRegisterAny, 0)
    dev = api.virNodeDeviceCreateXML(
        conn, "<device><parent>scsi_host2</parent><capability type='scsi_host'>"
              "<capability type='fc_host'><wwnn>2000000012349999</wwnn>"
              "<wwpn>1000000012349999</wwpn></capability></capability></device>", 0)
    api.virNodeDeviceDestroy(dev)
    assert _drain(got, 2) == [("NodeDevice", dev.name, (e, 0)) for e in (0, 1)]
    api.virConnectNodeDeviceEventDeregisterAny(conn, cid)


def test_event_ids_checked(conn):
    from pyvirt.errors import VirtError
    import pytest
    with pytest.raises(VirtError) as exc:
        api.virConnectNetworkEventRegisterAny(conn, None, 1, lambda *a: None, None)
    assert exc.value.code == 8
    assert isinstance(api.virNetworkLookupByName(conn, "default"), Network)
    assert isinstance(api.virStoragePoolLookupByName(conn, "default-pool"), StoragePool)
    assert isinstance(api.virNodeDeviceLookupByName(conn, "computer"), NodeDevice)
