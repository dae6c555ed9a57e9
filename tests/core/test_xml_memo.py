"""The test driver hands out the same GetXMLDesc document until something changes:
after every kind of change, the document is the one formatted afresh."""

import pytest

from pyvirt import api
from pyvirt.conf.domain import format_domain_xml
from pyvirt.drivers.changes import is_query

from conftest import domxml, unique

DISK = ("<disk type='file' device='disk'><source file='/{0}.img'/>"
        "<target dev='{0}' bus='virtio'/></disk>")
CDROM = ("<disk type='file' device='cdrom'><source file='/a.iso'/>"
         "<target dev='hdc' bus='ide'/><readonly/></disk>")
TUNE = [("read_iops_sec", 4, 100), ("read_iops_sec_max", 4, 200)]   # VIR_TYPED_PARAM_ULLONG
LIVE, CONFIG = 1, 2

CHANGES = [   # (what, call, whether the document changes)
    ("set memory", lambda d: api.virDomainSetMemoryFlags(d, 512, LIVE), True),
    ("set vcpus", lambda d: api.virDomainSetVcpusFlags(d, 1, LIVE), True),
    ("block iotune (an element edited in place)",
     lambda d: api.virDomainSetBlockIoTune(d, "vda", TUNE, LIVE), True),
    ("metadata", lambda d: api.virDomainSetMetadata(d, 0, "new", None, None, LIVE), True),
    ("destroy", lambda d: api.virDomainDestroy(d), True),
    ("suspend", lambda d: api.virDomainSuspend(d), False),
]


def fresh(conn, dom, inactive=False):
    obj = conn.driver._obj(dom)
    return format_domain_xml(obj.persistent_def() if inactive else obj.def_, inactive=inactive)


@pytest.mark.parametrize("what,change,changes", CHANGES, ids=[c[0] for c in CHANGES])
def test_document_follows_every_change(conn, what, change, changes):
    devices = "<devices>" + DISK.format("vda") + CDROM + "</devices>"
    dom = api.virDomainDefineXML(conn, domxml(unique("memo"), "<vcpu>2</vcpu>" + devices))
    api.virDomainCreate(dom)
    try:
        before = api.virDomainGetXMLDesc(dom, 0)
        assert api.virDomainGetXMLDesc(dom, 0) is before       # unchanged: the same one
        change(dom)
        after = api.virDomainGetXMLDesc(dom, 0)
        assert after == fresh(conn, dom) and (after != before) == changes, what
        assert api.virDomainGetXMLDesc(dom, 2) == fresh(conn, dom, inactive=True)
    finally:
        if api.virDomainIsActive(dom):
            api.virDomainDestroy(dom)
        api.virDomainUndefine(dom)


def test_redefined_domain_gets_its_new_document(conn):
    name, uuid = unique("memo"), "6695eb01-f6a4-8304-79aa-97f2502e1940"
    dom = api.virDomainDefineXML(conn, domxml(name, uuid=uuid, mem=1024))
    assert "1024" in api.virDomainGetXMLDesc(dom, 0)
    api.virDomainDefineXML(conn, domxml(name, uuid=uuid, mem=2048))
    assert "2048" in api.virDomainGetXMLDesc(dom, 0)
    api.virDomainUndefine(dom)


@pytest.mark.parametrize("name,query", [
    ("virDomainGetXMLDesc", True), ("virConnectListAllDomains", True),
    ("virDomainLookupByName", True), ("virConnectNumOfDomains", True),
    ("virDomainIsActive", True), ("virDomainHasCurrentSnapshot", True),
    ("virDomainSetMemoryFlags", False), ("virDomainSuspend", False),
    ("virDomainDefineXML", False), ("virDomainUpdateDeviceFlags", False),
    ("virDomainSnapshotCreateXML", False), ("virNetworkUpdate", False),
    ("virDomainBlockCommit", False), ("virDomainIsolate", False)])
def test_which_entry_points_only_read(name, query):
    assert is_query(name) is query


def test_threads_changing_and_reading_never_see_an_old_document(conn):
    """Eight threads each change their own domain and read its document straight
    after: the document always shows their change, whatever the others do at the
    same moment (the shared version is moved without a lock)."""
    import re
    import sys
    import threading

    doms = [api.virDomainCreateXML(conn, domxml(unique("memo"), mem=1 << 20), 0)
            for _ in range(8)]
    failures: list[str] = []
    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)          # switch threads as often as CPython can

    def work(dom) -> None:
        for kib in range(4096, 4096 + 300):
            api.virDomainSetMemoryFlags(dom, kib, LIVE)
            shown = re.search(r"<currentMemory unit='KiB'>(\d+)<", api.virDomainGetXMLDesc(dom, 0))
            if shown is None or int(shown.group(1)) != kib:
                failures.append(f"set {kib}, document shows {shown and shown.group(1)}")
    try:
        threads = [threading.Thread(target=work, args=(d,), daemon=True) for d in doms]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
        for d in doms:
            api.virDomainDestroy(d)
    assert failures == []
    assert "virDomainSetMemoryFlags" in conn.driver.changes.entries    # the counted path
