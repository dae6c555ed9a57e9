"""Lifecycle events: the sequences real libvirt's test driver emits, the
thread they are delivered on, and callback registration rules."""

import threading

import pytest

from pyvirt import api

from conftest import domxml, libvirt, need_real, ours, real, unique


class Recorder:
    """Collects events until a marker domain's UNDEFINED arrives."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.events = []
        self.threads = set()
        self.done = threading.Event()

    def __call__(self, conn, dom, event, detail, *rest):
        name = dom.name if not callable(dom.name) else dom.name()
        self.threads.add(threading.current_thread().name)
        if name == self.marker:
            if event == 1:
                self.done.set()
            return
        self.events.append((name, event, detail))


SCENARIOS = {
    "define-redefine-undefine": ["define", "define", "undefine"],
    "start-suspend-resume-destroy": ["define", "create", "suspend", "resume", "destroy"],
    "shutdown": ["define", "create", "shutdown"],
    "shutdown-paused": ["define", "create", "suspend", "shutdown"],
    "reboot-restart": ["define", "create", "reboot", "destroy"],
    "reboot-destroy": ["define_destroy_on_reboot", "create", "reboot"],
    "undefine-running-then-destroy": ["define", "create", "undefine", "destroy"],
    "transient": ["createxml", "suspend", "destroy"],
    "failures-emit-nothing": ["define", "suspend", "resume", "shutdown"],
}


def _run_ours(conn, name, uuid, steps):
    d = None
    for step in steps:
        try:
            if step.startswith("define"):
                extra = "<on_reboot>destroy</on_reboot>" if "destroy" in step else ""
                d = api.virDomainDefineXML(conn, domxml(name, extra, uuid=uuid))
            elif step == "createxml":
                d = api.virDomainCreateXML(conn, domxml(name, uuid=uuid), 0)
            else:
                {"create": api.virDomainCreate, "suspend": api.virDomainSuspend,
                 "resume": api.virDomainResume, "shutdown": api.virDomainShutdown,
                 "reboot": lambda x: api.virDomainReboot(x, 0),
                 "destroy": api.virDomainDestroy, "undefine": api.virDomainUndefine}[step](d)
        except Exception:
            pass


def _run_real(conn, name, uuid, steps):
    d = None
    for step in steps:
        try:
            if step.startswith("define"):
                extra = "<on_reboot>destroy</on_reboot>" if "destroy" in step else ""
                d = conn.defineXML(domxml(name, extra, uuid=uuid))
            elif step == "createxml":
                d = conn.createXML(domxml(name, uuid=uuid), 0)
            else:
                {"create": lambda x: x.create(), "suspend": lambda x: x.suspend(),
                 "resume": lambda x: x.resume(), "shutdown": lambda x: x.shutdown(),
                 "reboot": lambda x: x.reboot(0), "destroy": lambda x: x.destroy(),
                 "undefine": lambda x: x.undefine()}[step](d)
        except libvirt.libvirtError:
            pass


def _collect_ours(steps, name, uuid):
    marker = unique("marker")
    rec = Recorder(marker)
    conn = api.virConnectOpen("test:///default")
    try:
        cid = api.virConnectDomainEventRegisterAny(conn, None, 0, rec, None)
        _run_ours(conn, name, uuid, steps)
        api.virDomainUndefine(api.virDomainDefineXML(conn, domxml(marker)))
        assert rec.done.wait(5)
        api.virConnectDomainEventDeregisterAny(conn, cid)
    finally:
        api.virConnectClose(conn)
    return rec


def _collect_real(steps, name, uuid):
    marker = unique("marker")
    rec = Recorder(marker)
    conn = libvirt.open("test:///default")
    cid = conn.domainEventRegisterAny(None, 0, lambda c, d, e, det, op: rec(c, d, e, det), None)
    _run_real(conn, name, uuid, steps)
    conn.defineXML(domxml(marker)).undefine()
    assert rec.done.wait(5)
    conn.domainEventDeregisterAny(cid)
    conn.close()
    return rec


@need_real
@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_lifecycle_sequence_as_real(loops, scenario):
    name = unique("ev")
    uuid = "44444444-2222-3333-4444-%012d" % int(name[2:])
    mine = _collect_ours(SCENARIOS[scenario], name, uuid)
    theirs = _collect_real(SCENARIOS[scenario], name, uuid)
    assert mine.events == theirs.events
    assert mine.threads == {"pyvirt-loop"}


def test_pinned_sequences(loops):
    """What real libvirt 9.0 emits, written down (event, detail)."""
    name = unique("pin")
    got = _collect_ours(SCENARIOS["start-suspend-resume-destroy"] + ["create", "shutdown"],
                        name, None).events
    assert [(e, d) for _, e, d in got] == [(0, 0), (2, 0), (3, 0), (4, 0), (5, 1),
                                           (2, 0), (5, 0)]


def test_callbacks_never_run_in_caller_thread(loops, conn):
    seen = []
    done = threading.Event()

    def cb(c, dom, event, detail):
        seen.append(threading.current_thread().name)
        done.set()

    api.virConnectDomainEventRegister(conn, cb, None)
    api.virDomainSuspend(api.virDomainLookupByName(conn, "test"))
    assert not seen  # not delivered inside the API call
    assert done.wait(5)
    assert seen == ["pyvirt-loop"]
    api.virConnectDomainEventDeregister(conn, cb)


def test_domain_filter_and_free_callbacks(loops, conn):
    freed = []
    got = []
    done = threading.Event()
    other = api.virDomainDefineXML(conn, domxml(unique()))
    test = api.virDomainLookupByName(conn, "test")

    def cb(c, dom, event, detail):
        got.append((dom.name, event))
        done.set()

    cid = api.virConnectDomainEventRegisterAny(conn, test, 0, cb, lambda: freed.append(1))
    api.virDomainCreate(other)
    api.virDomainSuspend(test)
    assert done.wait(5)
    assert got == [("test", 3)]
    assert freed == []
    api.virConnectDomainEventDeregisterAny(conn, cid)
    assert freed == [1]


def test_registration_errors(loops, conn):
    def cb(*a):
        pass

    api.virConnectDomainEventRegister(conn, cb, None)
    assert ours(lambda: api.virConnectDomainEventRegister(conn, cb, None)) == \
        ("err", 8, 0, "invalid argument: event callback already tracked")
    api.virConnectDomainEventDeregister(conn, cb)
    r = ours(lambda: api.virConnectDomainEventDeregister(conn, cb))
    assert r[:3] == ("err", 8, 0) and r[3].endswith(" not registered")
    cid = api.virConnectDomainEventRegisterAny(conn, None, 0, cb, None)
    assert ours(lambda: api.virConnectDomainEventRegisterAny(conn, None, 0, cb, None)) == \
        ("err", 8, 0, "invalid argument: event callback already tracked")
    assert ours(lambda: api.virConnectDomainEventRegisterAny(conn, None, 27, cb, None)) == \
        ("err", 8, 20, "eventID must be less than 27")
    assert ours(lambda: api.virConnectDomainEventRegisterAny(conn, None, -1, cb, None)) == \
        ("err", 8, 20, "eventID in virConnectDomainEventRegisterAny must be zero or greater")
    assert ours(lambda: api.virConnectDomainEventRegisterAny(conn, None, 0, None, None)) == \
        ("err", 8, 20, "cb in virConnectDomainEventRegisterAny must not be NULL")
    api.virConnectDomainEventDeregisterAny(conn, cid)
    assert ours(lambda: api.virConnectDomainEventDeregisterAny(conn, cid)) == \
        ("err", 8, 0, f"invalid argument: could not find event callback {cid} for deletion")
    assert ours(lambda: api.virConnectDomainEventDeregisterAny(conn, -1)) == \
        ("err", 8, 20, "callbackID in virConnectDomainEventDeregisterAny must be zero or greater")


@need_real
def test_deregister_any_unknown_as_real(loops, conn, rconn):
    assert ours(lambda: api.virConnectDomainEventDeregisterAny(conn, 999)) == \
        real(lambda: rconn.domainEventDeregisterAny(999))
