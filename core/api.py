"""pyvirt's public surface: one function per libvirt public C function.

THE CONTRACT (what the C shim and the Python module rely on)

* Name: the C name (``virConnectOpen``, ``virDomainLookupByName``, ...).
* Arguments: the C arguments in C order, minus output pointers and their
  length/count arguments.  ``const char *`` -> str or None; handles
  (virConnectPtr, virDomainPtr, ...) -> pyvirt.objects.Connect, Domain, ...;
  ints and flags -> int; ``unsigned char *uuid`` (VIR_UUID_BUFLEN raw
  bytes) -> bytes.  A C callback plus its opaque pointer is one Python
  callable; a ``virFreeCallback`` is a callable taking no argument, or None.
* Results: int status functions (0 on success) return None; functions
  returning a count, boolean or id return int; ``char *`` -> str; handles
  -> the core object.  Output parameters: one -> that value; several -> a
  tuple in C argument order.  Output structs (virDomainInfoPtr,
  virNodeInfoPtr, ...) -> dataclasses of pyvirt.structs whose attribute
  names are the C field names.  Arrays the C side allocates
  (``virDomainPtr **domains``) -> list; caller-buffer arrays with a maximum
  (``int *ids, int maxids``): the maximum stays an argument and the result
  is a list of at most that many.
* Typed parameters (``virTypedParameterPtr params, int nparams``) arrive as a
  list of ``(name, type, value)`` tuples (type: VIR_TYPED_PARAM_* int; value
  int, float, bool or str); typed-parameter outputs, caller- or
  callee-allocated, are returned the same way (the shim answers the C
  "how many?" query from the list's length).  ``const char **`` + count ->
  list of str; ``unsigned char *`` + length (cpumaps, secret values) ->
  bytes; ``char ***`` outputs -> list of str (the C result is its length).
  A function returning a value beside outputs (virDomainGetSchedulerType)
  returns ``(value, output, ...)``.
* Errors: every failure raises pyvirt.errors.VirtError, which carries
  code, domain, message, level, str1..3, int1, int2 as libvirt's virError.
  The shim stores it as the thread's last error and returns -1 or NULL.
  A function the connection's driver lacks raises VIR_ERR_NO_SUPPORT.
* Exceptions to the status rule, mirroring C where libvirt sets no error:
  virConnectClose returns 0; virEventAddHandle/virEventAddTimeout return
  the id or -1, virEventRemoveHandle/virEventRemoveTimeout return 0 or -1.
* Closing: the shim calls virConnectClose when the handle's last
  reference goes; the core then releases the driver (test:///default's
  shared host is discarded with its last connection) and drops the
  connection's event callbacks, calling their free callbacks.
* Threads: every function may be called from any thread at once.
  Event callbacks run only on the thread running the event loop.
"""

from __future__ import annotations

import os
from typing import Any, Callable, Optional

from . import drivers, errors, eventloop, uri as urimod, viruuid
from .errors import ErrorDomain, ErrorNumber
from .events import VIR_DOMAIN_EVENT_ID_LAST, DomainEventID, dispatcher
from .objects import Connect, Domain
from .structs import DomainInfo, NodeInfo
from .drivers.base import LIBVIR_VERSION_NUMBER

VIR_CONNECT_RO = 1
VIR_DOMAIN_XML_SECURE = 1

D = ErrorDomain.VIR_FROM_DOMAIN
N = ErrorDomain.VIR_FROM_NONE
HOST = ErrorDomain.VIR_FROM_DOMAIN  # the VIR_FROM_THIS of libvirt-host.c (vir{Connect,Node}*)
FreeCallback = Optional[Callable[[], None]]


# -- argument checks, as libvirt's virCheck* macros word them

def _conn(conn: Any, fn: str, domain: int = N) -> Connect:
    if not isinstance(conn, Connect) or conn.closed:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_CONN, domain, fn)
    return conn


def _dom(dom: Any, fn: str) -> Domain:
    if not isinstance(dom, Domain) or dom.conn.closed:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    return dom


def _non_null(value: Any, arg: str, fn: str, domain: int = D) -> None:
    if value is None:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must not be NULL")


def _non_negative(value: int, arg: str, fn: str, domain: int = D) -> None:
    if value < 0:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must be zero or greater")


def _non_zero(value: int, arg: str, fn: str, domain: int = D) -> None:
    if value == 0:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must not be zero")


def _writable(conn: Connect, fn: str, domain: int = D) -> None:
    if conn.readonly:
        raise errors.operation_denied(fn, domain)


def _entry(conn: Connect, c_name: str, public: Optional[str] = None,
           domain: int = D) -> Callable[..., Any]:
    """The driver's entry point for `c_name`; NO_SUPPORT names `public`."""
    entry = conn.driver.entry_point(c_name)
    if entry is None:
        raise errors.no_support(public or c_name, domain)
    return entry


def _call_dom(dom: Any, fn: str, entry: str, *args: Any, write: bool = False) -> Any:
    # _dom, _writable and _entry inlined: most domain calls come this way
    if not isinstance(dom, Domain) or dom.conn.closed:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    conn = dom.conn
    if write and conn.readonly:
        raise errors.operation_denied(fn, D)
    call = conn.entries.get(entry)
    if call is None:
        call = conn.driver.entry_point(entry)
        if call is None:
            raise errors.no_support(fn, D)
        conn.entries[entry] = call
    return call(dom, *args)


# -- library and connections

def virGetVersion(type: Optional[str]) -> tuple[int, int]:
    return LIBVIR_VERSION_NUMBER, LIBVIR_VERSION_NUMBER


def virConnectOpenAuth(name: Optional[str], auth: Any, flags: int) -> Connect:
    if name is None:
        name = os.environ.get("LIBVIRT_DEFAULT_URI")
    if name is None:
        raise errors.report(ErrorNumber.VIR_ERR_NO_CONNECT, N, "(null)")
    parsed = urimod.parse(name)
    driver = drivers.open_driver(parsed, auth)
    return Connect(driver, name, readonly=bool(flags & VIR_CONNECT_RO))


def virConnectOpen(name: Optional[str]) -> Connect:
    return virConnectOpenAuth(name, None, 0)


def virConnectOpenReadOnly(name: Optional[str]) -> Connect:
    return virConnectOpenAuth(name, None, VIR_CONNECT_RO)


def virConnectClose(conn: Connect) -> int:
    c = _conn(conn, "virConnectClose")
    if c.mark_closed():
        dispatcher.drop_connection(c)
        drivers.close_driver(c.driver)
    return 0


def virConnectGetType(conn: Connect) -> str:
    c = _conn(conn, "virConnectGetType", HOST)
    return str(_entry(c, "virConnectGetType", domain=HOST)())


def virConnectGetVersion(conn: Connect) -> int:
    c = _conn(conn, "virConnectGetVersion", HOST)
    return int(_entry(c, "virConnectGetVersion", domain=HOST)())


def virConnectGetLibVersion(conn: Connect) -> int:
    _conn(conn, "virConnectGetLibVersion", HOST)
    return LIBVIR_VERSION_NUMBER


def virConnectGetHostname(conn: Connect) -> str:
    c = _conn(conn, "virConnectGetHostname", HOST)
    return str(_entry(c, "virConnectGetHostname", domain=HOST)())


def virConnectGetURI(conn: Connect) -> str:
    return _conn(conn, "virConnectGetURI", HOST).uri


def virConnectIsAlive(conn: Connect) -> int:
    c = _conn(conn, "virConnectIsAlive", HOST)
    return int(_entry(c, "virConnectIsAlive", domain=HOST)())


def virConnectIsSecure(conn: Connect) -> int:
    c = _conn(conn, "virConnectIsSecure", HOST)
    return int(_entry(c, "virConnectIsSecure", domain=HOST)())


def virConnectIsEncrypted(conn: Connect) -> int:
    c = _conn(conn, "virConnectIsEncrypted", HOST)
    return int(_entry(c, "virConnectIsEncrypted", domain=HOST)())


def virNodeGetInfo(conn: Connect) -> NodeInfo:
    c = _conn(conn, "virNodeGetInfo", HOST)
    result: NodeInfo = _entry(c, "virNodeGetInfo", domain=HOST)()
    return result


def virConnectGetMaxVcpus(conn: Connect, type: Optional[str]) -> int:
    c = _conn(conn, "virConnectGetMaxVcpus", HOST)
    return int(_entry(c, "virConnectGetMaxVcpus", domain=HOST)(type))


def virConnectGetCapabilities(conn: Connect) -> str:
    c = _conn(conn, "virConnectGetCapabilities", HOST)
    return str(_entry(c, "virConnectGetCapabilities", domain=HOST)())


# -- listing domains

def virConnectNumOfDomains(conn: Connect) -> int:
    c = _conn(conn, "virConnectNumOfDomains", D)
    return int(_entry(c, "virConnectNumOfDomains")())


def virConnectListDomains(conn: Connect, maxids: int) -> list[int]:
    c = _conn(conn, "virConnectListDomains", D)
    _non_negative(maxids, "maxids", "virConnectListDomains")
    return list(_entry(c, "virConnectListDomains")(maxids))


def virConnectNumOfDefinedDomains(conn: Connect) -> int:
    c = _conn(conn, "virConnectNumOfDefinedDomains", D)
    return int(_entry(c, "virConnectNumOfDefinedDomains")())


def virConnectListDefinedDomains(conn: Connect, maxnames: int) -> list[str]:
    c = _conn(conn, "virConnectListDefinedDomains", D)
    _non_negative(maxnames, "maxnames", "virConnectListDefinedDomains")
    return list(_entry(c, "virConnectListDefinedDomains")(maxnames))


def virConnectListAllDomains(conn: Connect, flags: int) -> list[Domain]:
    c = _conn(conn, "virConnectListAllDomains", D)
    return list(_entry(c, "virConnectListAllDomains")(c, flags))


# -- lookups

def virDomainLookupByName(conn: Connect, name: Optional[str]) -> Domain:
    c = _conn(conn, "virDomainLookupByName", D)
    _non_null(name, "name", "virDomainLookupByName")
    result: Domain = _entry(c, "virDomainLookupByName")(c, name)
    return result


def virDomainLookupByID(conn: Connect, id: int) -> Domain:
    c = _conn(conn, "virDomainLookupByID", D)
    _non_negative(id, "id", "virDomainLookupByID")
    result: Domain = _entry(c, "virDomainLookupByID")(c, id)
    return result


def virDomainLookupByUUID(conn: Connect, uuid: Optional[bytes]) -> Domain:
    c = _conn(conn, "virDomainLookupByUUID", D)
    _non_null(uuid, "uuid", "virDomainLookupByUUID")
    assert uuid is not None
    result: Domain = _entry(c, "virDomainLookupByUUID")(c, bytes(uuid[:viruuid.VIR_UUID_BUFLEN]))
    return result


def virDomainLookupByUUIDString(conn: Connect, uuidstr: Optional[str]) -> Domain:
    fn = "virDomainLookupByUUIDString"
    c = _conn(conn, fn, D)
    _non_null(uuidstr, "uuidstr", fn)
    assert uuidstr is not None
    raw = viruuid.parse(uuidstr)
    if raw is None:
        raise errors.invalid_arg(D, fn, "uuidstr", "Invalid UUID")
    result: Domain = _entry(c, "virDomainLookupByUUID", fn)(c, raw)
    return result


# -- domain handle accessors (read the handle, as libvirt does)

def virDomainGetName(domain: Domain) -> str:
    return _dom(domain, "virDomainGetName").name


def virDomainGetID(domain: Domain) -> int:
    return _dom(domain, "virDomainGetID").id


def virDomainGetUUID(domain: Domain) -> bytes:
    return _dom(domain, "virDomainGetUUID").uuid


def virDomainGetUUIDString(domain: Domain) -> str:
    return _dom(domain, "virDomainGetUUIDString").uuid_string


def virDomainGetConnect(domain: Domain) -> Connect:
    return _dom(domain, "virDomainGetConnect").conn


# -- domain queries

def virDomainGetOSType(domain: Domain) -> str:
    return str(_call_dom(domain, "virDomainGetOSType", "virDomainGetOSType"))


def virDomainGetInfo(domain: Domain) -> DomainInfo:
    # _call_dom, inlined: dom.info() is among the most frequent calls
    if not isinstance(domain, Domain) or domain.conn.closed:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, "virDomainGetInfo")
    call = domain.conn.entries.get("virDomainGetInfo")
    if call is None:
        return _call_dom(domain, "virDomainGetInfo", "virDomainGetInfo")
    result: DomainInfo = call(domain)
    return result


def virDomainGetState(domain: Domain, flags: int) -> tuple[int, int]:
    state, reason = _call_dom(domain, "virDomainGetState", "virDomainGetState", flags)
    return int(state), int(reason)


def virDomainGetXMLDesc(domain: Domain, flags: int) -> str:
    d = _dom(domain, "virDomainGetXMLDesc")
    if d.conn.readonly and flags & VIR_DOMAIN_XML_SECURE:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_DENIED, D,
                            "virDomainGetXMLDesc with secure flag")
    return str(_entry(d.conn, "virDomainGetXMLDesc")(d, flags))


def virDomainGetMaxMemory(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainGetMaxMemory", "virDomainGetMaxMemory"))


def virDomainGetMaxVcpus(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainGetMaxVcpus", "virDomainGetMaxVcpus"))


def virDomainGetVcpusFlags(domain: Domain, flags: int) -> int:
    return int(_call_dom(domain, "virDomainGetVcpusFlags", "virDomainGetVcpusFlags", flags))


def virDomainIsActive(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainIsActive", "virDomainIsActive"))


def virDomainIsPersistent(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainIsPersistent", "virDomainIsPersistent"))


def virDomainIsUpdated(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainIsUpdated", "virDomainIsUpdated"))


def virDomainGetAutostart(domain: Domain) -> int:
    return int(_call_dom(domain, "virDomainGetAutostart", "virDomainGetAutostart"))


# -- domain changes

def virDomainDefineXMLFlags(conn: Connect, xml: Optional[str], flags: int) -> Domain:
    fn = "virDomainDefineXMLFlags"
    c = _conn(conn, fn, D)
    _writable(c, fn)
    _non_null(xml, "xml", fn)
    result: Domain = _entry(c, "virDomainDefineXMLFlags", fn)(c, xml, flags)
    return result


def virDomainDefineXML(conn: Connect, xml: Optional[str]) -> Domain:
    fn = "virDomainDefineXML"
    c = _conn(conn, fn, D)
    _writable(c, fn)
    _non_null(xml, "xml", fn)
    result: Domain = _entry(c, "virDomainDefineXMLFlags", fn)(c, xml, 0)
    return result


def virDomainCreateXML(conn: Connect, xmlDesc: Optional[str], flags: int) -> Domain:
    fn = "virDomainCreateXML"
    c = _conn(conn, fn, D)
    _non_null(xmlDesc, "xmlDesc", fn)
    _writable(c, fn)
    result: Domain = _entry(c, "virDomainCreateXML", fn)(c, xmlDesc, flags)
    return result


def virDomainUndefineFlags(domain: Domain, flags: int) -> None:
    _call_dom(domain, "virDomainUndefineFlags", "virDomainUndefineFlags", flags, write=True)


def virDomainUndefine(domain: Domain) -> None:
    _call_dom(domain, "virDomainUndefine", "virDomainUndefineFlags", 0, write=True)


def virDomainCreateWithFlags(domain: Domain, flags: int) -> None:
    _call_dom(domain, "virDomainCreateWithFlags", "virDomainCreateWithFlags", flags, write=True)


def virDomainCreate(domain: Domain) -> None:
    _call_dom(domain, "virDomainCreate", "virDomainCreateWithFlags", 0, write=True)


def virDomainDestroyFlags(domain: Domain, flags: int) -> None:
    _call_dom(domain, "virDomainDestroyFlags", "virDomainDestroyFlags", flags, write=True)


def virDomainDestroy(domain: Domain) -> None:
    _call_dom(domain, "virDomainDestroy", "virDomainDestroyFlags", 0, write=True)


def virDomainSuspend(domain: Domain) -> None:
    _call_dom(domain, "virDomainSuspend", "virDomainSuspend", write=True)


def virDomainResume(domain: Domain) -> None:
    _call_dom(domain, "virDomainResume", "virDomainResume", write=True)


def virDomainShutdownFlags(domain: Domain, flags: int) -> None:
    _call_dom(domain, "virDomainShutdownFlags", "virDomainShutdownFlags", flags, write=True)


def virDomainShutdown(domain: Domain) -> None:
    _call_dom(domain, "virDomainShutdown", "virDomainShutdownFlags", 0, write=True)


def virDomainReboot(domain: Domain, flags: int) -> None:
    _call_dom(domain, "virDomainReboot", "virDomainReboot", flags, write=True)


def virDomainSetAutostart(domain: Domain, autostart: int) -> None:
    _call_dom(domain, "virDomainSetAutostart", "virDomainSetAutostart", autostart, write=True)


def virDomainSetMemory(domain: Domain, memory: int) -> None:
    fn = "virDomainSetMemory"
    d = _dom(domain, fn)
    _writable(d.conn, fn)
    _non_zero(memory, "memory", fn)
    _entry(d.conn, fn)(d, memory)


def virDomainSetMaxMemory(domain: Domain, memory: int) -> None:
    fn = "virDomainSetMaxMemory"
    d = _dom(domain, fn)
    _writable(d.conn, fn)
    _non_zero(memory, "memory", fn)
    _entry(d.conn, fn)(d, memory)


# -- domain events

def virConnectDomainEventRegister(conn: Connect, cb: Optional[Callable[..., Any]],
                                  freecb: FreeCallback) -> None:
    fn = "virConnectDomainEventRegister"
    c = _conn(conn, fn, D)
    _non_null(cb, "cb", fn)
    assert cb is not None
    dispatcher.register(c, None, DomainEventID.VIR_DOMAIN_EVENT_ID_LIFECYCLE, cb, freecb,
                        legacy=True)


def virConnectDomainEventDeregister(conn: Connect, cb: Optional[Callable[..., Any]]) -> None:
    fn = "virConnectDomainEventDeregister"
    c = _conn(conn, fn, D)
    _non_null(cb, "cb", fn)
    assert cb is not None
    dispatcher.deregister_legacy(c, cb)


def virConnectDomainEventRegisterAny(conn: Connect, dom: Optional[Domain], eventID: int,
                                     cb: Optional[Callable[..., Any]],
                                     freecb: FreeCallback) -> int:
    fn = "virConnectDomainEventRegisterAny"
    c = _conn(conn, fn, D)
    if dom is not None:
        _dom(dom, fn)
    _non_null(cb, "cb", fn)
    _non_negative(eventID, "eventID", fn)
    if eventID >= VIR_DOMAIN_EVENT_ID_LAST:
        raise errors.invalid_arg(D, fn, "eventID",
                                 f"eventID must be less than {VIR_DOMAIN_EVENT_ID_LAST}")
    assert cb is not None
    return dispatcher.register(c, dom, eventID, cb, freecb, legacy=False)


def virConnectDomainEventDeregisterAny(conn: Connect, callbackID: int) -> None:
    fn = "virConnectDomainEventDeregisterAny"
    c = _conn(conn, fn, D)
    _non_negative(callbackID, "callbackID", fn)
    dispatcher.deregister_any(c, callbackID)


# -- the event loop

def virEventRegisterDefaultImpl() -> None:
    eventloop.register_default_impl()


def virEventRunDefaultImpl() -> None:
    eventloop.run_default_impl()


def virEventRegisterImpl(addHandle: Any, updateHandle: Any, removeHandle: Any,
                         addTimeout: Any, updateTimeout: Any, removeTimeout: Any) -> None:
    eventloop.register_impl(eventloop.ExternalEventImpl(
        addHandle, updateHandle, removeHandle, addTimeout, updateTimeout, removeTimeout))


def virEventAddHandle(fd: int, events: int, cb: eventloop.HandleCallback,
                      ff: FreeCallback) -> int:
    impl = eventloop.current_impl()
    return impl.add_handle(fd, events, cb, ff) if impl is not None else -1


def virEventUpdateHandle(watch: int, events: int) -> None:
    impl = eventloop.current_impl()
    if impl is not None:
        impl.update_handle(watch, events)


def virEventRemoveHandle(watch: int) -> int:
    impl = eventloop.current_impl()
    return impl.remove_handle(watch) if impl is not None else -1


def virEventAddTimeout(timeout: int, cb: eventloop.TimeoutCallback, ff: FreeCallback) -> int:
    impl = eventloop.current_impl()
    return impl.add_timeout(timeout, cb, ff) if impl is not None else -1


def virEventUpdateTimeout(timer: int, timeout: int) -> None:
    impl = eventloop.current_impl()
    if impl is not None:
        impl.update_timeout(timer, timeout)


def virEventRemoveTimeout(timer: int) -> int:
    impl = eventloop.current_impl()
    return impl.remove_timeout(timer) if impl is not None else -1


# -- networks, storage, interfaces, node devices, snapshots, checkpoints and
# the other domain functions live in pyvirt.apis, one module per object
# kind; they join this namespace here (a function defined above wins).
def _join_apis() -> None:
    from .apis import exported
    namespace = globals()
    for name, func in exported().items():
        namespace.setdefault(name, func)


_join_apis()
