"""Many threads defining, looking up and undefining at once."""

import threading

from pyvirt import api

from conftest import domxml

THREADS = 8
ROUNDS = 40


def _worker(conns, index, failures):
    try:
        for i in range(ROUNDS):
            conn = conns[(index + i) % len(conns)]
            name = f"t{index}-{i}"
            d = api.virDomainDefineXML(conn, domxml(name))
            found = api.virDomainLookupByName(conns[i % len(conns)], name)
            assert api.virDomainGetUUID(found) == api.virDomainGetUUID(d)
            api.virDomainCreate(found)
            assert api.virDomainGetState(d, 0) == (1, 1)
            api.virDomainDestroy(d)
            api.virDomainUndefine(d)
            api.virConnectListAllDomains(conn, 0)
    except Exception as exc:  # reported by the main thread
        failures.append(exc)


def _run(conns):
    failures = []
    threads = [threading.Thread(target=_worker, args=(conns, i, failures), daemon=True)
               for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failures, failures[:3]
    names = [d.name for d in api.virConnectListAllDomains(conns[0], 0)]
    assert names == ["test"]


def test_one_connection():
    conn = api.virConnectOpen("test:///default")
    try:
        _run([conn])
    finally:
        api.virConnectClose(conn)


def test_several_connections():
    conns = [api.virConnectOpen("test:///default") for _ in range(3)]
    try:
        _run(conns)
        ids = {api.virDomainGetID(api.virDomainLookupByName(c, "test")) for c in conns}
        assert ids == {1}
    finally:
        for c in conns:
            api.virConnectClose(c)
