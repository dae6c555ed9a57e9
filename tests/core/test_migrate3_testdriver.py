"""virDomainMigrate3 between test-driver connections: libvirt's public API
answers before finding that no migration protocol is there (extended
parameters, offline, change protection), then NO_SUPPORT."""

import pytest

from pyvirt import api

from conftest import libvirt, need_real, ours, real

P_ULLONG, P_STRING = 4, 7
CASES = [({"persistent_xml": "<x/>"}, 0), ({"migrate_uri": "tcp://x"}, 0),
         ({"bandwidth": 5, "destination_name": "q"}, 0), ({}, 0),
         ({"persistent_xml": "<x/>"}, 2048), ({"persistent_xml": "<x/>"}, 8),
         ({"migrate_uri": "tcp://x"}, 1024), ({}, 256)]


@need_real
@pytest.mark.parametrize("params,flags", CASES)
def test_migrate3_as_real(conn, rconn, params, flags):
    dconn = api.virConnectOpen("test:///default")
    rdconn = libvirt.open("test:///default")
    try:
        dom = api.virDomainLookupByName(conn, "test")
        rdom = rconn.lookupByName("test")
        typed = [(k, P_ULLONG if k == "bandwidth" else P_STRING, v) for k, v in params.items()]
        assert ours(lambda: api.virDomainMigrate3(dom, dconn, typed, flags)) == \
            real(lambda: rdom.migrate3(rdconn, params, flags))
    finally:
        api.virConnectClose(dconn)
        rdconn.close()
