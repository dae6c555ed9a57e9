"""virDomainSetMetadata emits one METADATA_CHANGE event (type, namespace URI),
as libvirt's test driver does."""

from __future__ import annotations

import queue

from conftest import api, domxml, libvirt, need_real, unique

METADATA_CHANGE = 23
DESCRIPTION, ELEMENT = 0, 2


def _ours(name: str) -> list:
    got: queue.Queue = queue.Queue()
    conn = api.virConnectOpen("test:///default")
    try:
        d = api.virDomainDefineXML(conn, domxml(name))
        cid = api.virConnectDomainEventRegisterAny(
            conn, d, METADATA_CHANGE, lambda c, dom, t, uri: got.put([t, uri]), None)
        api.virDomainSetMetadata(d, DESCRIPTION, "hello", None, None, 0)
        api.virDomainSetMetadata(d, ELEMENT, "<x/>", "k", "http://example.org/k", 0)
        events = [got.get(timeout=5), got.get(timeout=5)]
        api.virConnectDomainEventDeregisterAny(conn, cid)
        api.virDomainUndefine(d)
        return events
    finally:
        api.virConnectClose(conn)


def _real(name: str) -> list:
    got: queue.Queue = queue.Queue()
    conn = libvirt.open("test:///default")
    d = conn.defineXML(domxml(name))
    cid = conn.domainEventRegisterAny(d, METADATA_CHANGE,
                                      lambda c, dom, t, uri, op: got.put([t, uri]), None)
    d.setMetadata(DESCRIPTION, "hello", None, None, 0)
    d.setMetadata(ELEMENT, "<x/>", "k", "http://example.org/k", 0)
    events = [got.get(timeout=5), got.get(timeout=5)]
    conn.domainEventDeregisterAny(cid)
    d.undefine()
    conn.close()
    return events


def test_set_metadata_event(loops):
    assert _ours(unique("meta")) == [[DESCRIPTION, None], [ELEMENT, "http://example.org/k"]]


@need_real
def test_set_metadata_event_as_real(loops):
    assert _ours(unique("meta")) == _real(unique("rmeta"))
