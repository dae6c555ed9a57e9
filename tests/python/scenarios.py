"""Behaviour scenarios written against libvirt-python's documented behaviour.
Run by test_behaviour.py under each implementation (pymodule_runner.py); prints one JSON
object {scenario: result}.  Results hold only deterministic values, so the two
implementations' outputs can be compared as a whole."""

import json
import os
import sys
import threading

import libvirt
from scenario_kit import expect_error, results, scenario

URI = "test:///default"
XML = """<domain type='test'><name>{name}</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"""


@scenario
def connection():
    conn = libvirt.open(URI)
    out = {"uri": conn.getURI(), "type": conn.getType(), "alive": conn.isAlive(),
           "secure": conn.isSecure(), "libversion": conn.getLibVersion(),
           "version": conn.getVersion(), "getVersion": libvirt.getVersion(),
           "info": conn.getInfo(), "maxvcpus_type": type(conn.getMaxVcpus(None)).__name__,
           "caps_is_xml": conn.getCapabilities().startswith("<capabilities"),
           "hostname_type": type(conn.getHostname()).__name__}
    out["close"] = conn.close()
    return out


@scenario
def connection_context_manager():
    with libvirt.open(URI) as conn:
        inside = conn.numOfDomains()
    return {"inside": inside, "after_close": expect_error(conn.getURI)[0]}


@scenario
def read_only_connection():
    conn = libvirt.openReadOnly(URI)
    out = {"lookup": conn.lookupByName("test").name(),
           "define": expect_error(conn.defineXML, XML.format(name="ro"))}
    conn.close()
    return out


@scenario
def domain_queries():
    conn = libvirt.open(URI)
    dom = conn.lookupByName("test")
    info = dom.info()
    out = {"names": [d.name() for d in conn.listAllDomains()],
           "active": [d.name() for d in conn.listAllDomains(libvirt.VIR_CONNECT_LIST_DOMAINS_ACTIVE)],
           "ids": conn.listDomainsID(), "defined": conn.listDefinedDomains(),
           "num": conn.numOfDomains(), "numdefined": conn.numOfDefinedDomains(),
           "info": [info[0], info[1], info[2], info[3], type(info[4]).__name__],
           "state": dom.state(), "id": dom.ID(), "uuidstr": dom.UUIDString(),
           "uuid_len": len(dom.UUID()), "ostype": dom.OSType(),
           "maxmem": dom.maxMemory(), "maxvcpus": dom.maxVcpus(),
           "active_flag": dom.isActive(), "persistent": dom.isPersistent(),
           "autostart": dom.autostart(), "xml_has_name": "<name>test</name>" in dom.XMLDesc(),
           "by_id": conn.lookupByID(1).name(),
           "by_uuid": conn.lookupByUUID(dom.UUID()).name(),
           "by_uuidstr": conn.lookupByUUIDString(dom.UUIDString()).name(),
           "connect_is_conn": dom.connect() is conn}
    conn.close()
    return out


@scenario
def domain_lifecycle():
    conn = libvirt.open(URI)
    dom = conn.defineXML(XML.format(name="life"))
    running = lambda: dom.ID() if dom.ID() < 1 else "an id"  # noqa: E731
    steps = [("defined", dom.isActive(), dom.state(), running())]
    for name in ("create", "suspend", "resume", "destroy"):
        ret = getattr(dom, name)()
        steps.append((name, ret, dom.state(), running()))
    steps.append(("undefine", dom.undefine(), None))
    steps.append(("gone", expect_error(conn.lookupByName, "life")[0], None))
    conn.close()
    return steps


@scenario
def domain_transient():
    conn = libvirt.open(URI)
    dom = conn.createXML(XML.format(name="trans"))
    out = {"persistent": dom.isPersistent(), "active": dom.isActive(),
           "listed": "trans" in [d.name() for d in conn.listAllDomains()]}
    dom.destroy()
    out["after_destroy"] = expect_error(conn.lookupByName, "trans")[0]
    conn.close()
    return out


@scenario
def handles_outlive_close():
    conn = libvirt.open(URI)
    dom = conn.lookupByName("test")
    out = {"close": conn.close(), "still_works": dom.name(), "info": dom.info()[0]}
    return out


@scenario
def errors():
    conn = libvirt.open(URI)
    libvirt.virResetLastError()
    before = libvirt.virGetLastError()
    e = expect_error(conn.lookupByName, "nope")
    last = libvirt.virGetLastError()
    caught_as = []
    try:
        conn.lookupByName("nope")
    except libvirt.libvirtError as ex:
        caught_as.append(isinstance(ex, libvirt.libvirtError))
        caught_as.append(ex.err == libvirt.virGetLastError())
    libvirt.virResetLastError()
    user_error = str(libvirt.libvirtError("mine"))   # no last error: the default message
    out = {"before": before, "error": e, "last": list(last) if last else None,
           "after_reset": libvirt.virGetLastError(), "caught": caught_as,
           "bad_uuid": expect_error(conn.lookupByUUIDString, "not-a-uuid")[0],
           "bad_xml": expect_error(conn.defineXML, "<domain>")[0],
           "bad_uri": expect_error(libvirt.open, "nosuch:///x")[0],
           "user_error": user_error,
           "user_error_after": str(libvirt.libvirtError("mine"))}
    conn.close()
    return out


@scenario
def error_handler():
    seen = []
    libvirt.registerErrorHandler(lambda ctx, e: seen.append((ctx, e[0], e[1], e[2])), "ctx")
    conn = libvirt.open(URI)
    expect_error(conn.lookupByName, "nope")
    libvirt.registerErrorHandler(None, None)
    conn.close()
    return seen


@scenario
def events_default_loop():
    libvirt.virEventRegisterDefaultImpl()
    conn = libvirt.open(URI)
    got, legacy = [], []
    cond = threading.Condition()

    def on_event(c, d, event, detail, opaque):
        with cond:
            got.append([c is conn, d.name(), event, detail, opaque])
            cond.notify_all()

    def on_legacy(c, d, event, detail, opaque):
        with cond:
            legacy.append([d.name(), event, detail, opaque])
            cond.notify_all()

    cid = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, on_event, "op")
    conn.domainEventRegister(on_legacy, 7)
    stop = []
    t = threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl()
                                         for _ in iter(lambda: bool(stop), True)], daemon=True)
    t.start()

    def wait(n):
        with cond:
            cond.wait_for(lambda: len(got) >= n and len(legacy) >= n, timeout=5)
    dom = conn.defineXML(XML.format(name="ev"))
    wait(1)
    dom.create()
    wait(2)
    dom.destroy()
    wait(3)
    conn.domainEventDeregisterAny(cid)
    conn.domainEventDeregister(on_legacy)
    dom.undefine()
    timer_fired = threading.Event()
    tid = libvirt.virEventAddTimeout(0, lambda timer, opaque: timer_fired.set(), None)
    timer_fired.wait(5)
    libvirt.virEventRemoveTimeout(tid)
    # end the loop thread before the next scenario: left blocked in the loop,
    # it would also run that scenario's handles (event_handle saw its twice)
    stop.append(1)
    wake = libvirt.virEventAddTimeout(0, lambda timer, opaque: None, None)
    t.join(5)
    libvirt.virEventRemoveTimeout(wake)
    conn.close()
    return {"id_valid": cid >= 0, "events": got, "legacy": legacy,
            "timer": timer_fired.is_set(),
            "bad_deregister": expect_error(libvirt.open(URI).domainEventDeregisterAny, 9999)[0]}


@scenario
def event_handle():
    libvirt.virEventRegisterDefaultImpl()
    r, w = os.pipe()
    seen = []
    watch = libvirt.virEventAddHandle(r, libvirt.VIR_EVENT_HANDLE_READABLE,
                                      lambda wt, fd, ev, op: seen.append([fd == r, ev, op]), "o")
    os.write(w, b"x")
    libvirt.virEventRunDefaultImpl()
    removed = libvirt.virEventRemoveHandle(watch)
    os.close(r)
    os.close(w)
    return {"seen": seen, "watch_positive": watch > 0, "removed": removed}


sys.stdout.write(json.dumps(results) + "\n")
