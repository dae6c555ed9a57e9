"""AFFECT_LIVE / AFFECT_CONFIG on the test driver's tuning calls, compared at
the C level with libvirt 9.0 (ctypes on the real libvirt.so.0, since the
reference Python binding calls each getter before its setter): a LIVE change
or query of an inactive domain is "domain is not running", LIVE with CONFIG
is invalid, and a running domain keeps its live values apart from its
persistent ones."""

from __future__ import annotations

import ctypes
from typing import Any, Callable

import pytest

from pyvirt import api
from pyvirt.errors import VirtError

from conftest import libvirt, unique

REAL_SO = "/usr/lib/x86_64-linux-gnu/libvirt.so.0"
MAC = "52:54:00:11:22:33"
P_UINT, P_ULLONG, P_BOOLEAN, P_STRING = 2, 4, 6, 7


class _Value(ctypes.Union):
    _fields_ = [("i", ctypes.c_int), ("ui", ctypes.c_uint), ("l", ctypes.c_longlong),
                ("ul", ctypes.c_ulonglong), ("d", ctypes.c_double), ("b", ctypes.c_char),
                ("s", ctypes.c_char_p)]


class _Param(ctypes.Structure):
    _fields_ = [("field", ctypes.c_char * 80), ("type", ctypes.c_int), ("value", _Value)]


class _Error(ctypes.Structure):
    _fields_ = [("code", ctypes.c_int), ("domain", ctypes.c_int), ("message", ctypes.c_char_p)]


def _xml(name: str) -> str:
    return (f"<domain type='test'><name>{name}</name><memory>1048576</memory><vcpu>2</vcpu>"
            "<os><type>hvm</type></os><devices>"
            "<interface type='network'><mac address='" + MAC + "'/>"
            "<source network='default'/></interface></devices></domain>")


def _params(params: list[tuple[str, int, Any]]) -> Any:
    arr = (_Param * len(params))()
    for p, (name, ptype, value) in zip(arr, params):
        p.field, p.type = name.encode(), ptype
        if ptype == P_STRING:
            p.value.s = value.encode()
        elif ptype == P_BOOLEAN:
            p.value.b = bytes([value])
        else:
            setattr(p.value, {P_UINT: "ui", P_ULLONG: "ul"}[ptype], value)
    return arr


def _value(p: _Param) -> Any:
    if p.type == P_STRING:
        return (p.value.s or b"").decode()
    if p.type == P_BOOLEAN:
        return p.value.b != b"\x00"
    return getattr(p.value, {1: "i", 2: "ui", 3: "l", 4: "ul"}[p.type])


class Real:
    """The same calls on libvirt's own library, in this process."""

    def __init__(self, dom_name: str):
        lib = self.lib = ctypes.CDLL(REAL_SO)
        lib.virConnectOpen.restype = lib.virDomainLookupByName.restype = ctypes.c_void_p
        lib.virGetLastError.restype = ctypes.POINTER(_Error)
        self.conn = ctypes.c_void_p(lib.virConnectOpen(b"test:///default"))
        self.dom = ctypes.c_void_p(lib.virDomainLookupByName(self.conn, dom_name.encode()))

    def close(self) -> None:
        self.lib.virDomainFree(self.dom)
        self.lib.virConnectClose(self.conn)

    def _result(self, rc: int, value: Any = None) -> tuple:
        if rc < 0:
            e = self.lib.virGetLastError().contents
            return ("err", e.code, e.domain, e.message.decode())
        return ("ok", value)

    def get(self, fn: str, *pre: Any, flags: int) -> tuple:
        arr, n = (_Param * 32)(), ctypes.c_int(32)
        rc = getattr(self.lib, fn)(self.dom, *pre, arr, ctypes.byref(n), ctypes.c_uint(flags))
        return self._result(rc, {arr[i].field.decode(): _value(arr[i]) for i in range(n.value)}
                            if rc >= 0 else None)

    def get_alloc(self, fn: str, flags: int) -> tuple:
        arr, n = ctypes.POINTER(_Param)(), ctypes.c_int(0)
        rc = getattr(self.lib, fn)(self.dom, ctypes.byref(arr), ctypes.byref(n),
                                   ctypes.c_uint(flags))
        return self._result(rc, {arr[i].field.decode(): _value(arr[i]) for i in range(n.value)}
                            if rc >= 0 else None)

    def set(self, fn: str, *pre: Any, params: list, flags: int) -> tuple:
        rc = getattr(self.lib, fn)(self.dom, *pre, _params(params), ctypes.c_int(len(params)),
                                   ctypes.c_uint(flags))
        return self._result(rc)

    def call(self, fn: str, *args: Any) -> tuple:
        return self._result(getattr(self.lib, fn)(self.dom, *args), None)


def _ours(fn: Callable[[], Any]) -> tuple:
    try:
        value = fn()
    except VirtError as e:
        return ("err", int(e.code), int(e.domain), e.message)
    if isinstance(value, list) and value and isinstance(value[0], tuple):
        return ("ok", {name: ("" if v is None else v) for name, _, v in value})
    return ("ok", None)


U = ctypes.c_uint
MEM = [("hard_limit", P_ULLONG, 2000000)]
NUMA = [("numa_nodeset", P_STRING, "0")]
BLKIO = [("weight", P_UINT, 500)]
SCHED = [("weight", P_UINT, 100)]
BW = [("inbound.average", P_UINT, 100)]
PERF = [("cmt", P_BOOLEAN, 1)]


def _ours_params(params: list) -> list:
    return [(n, t, bool(v) if t == P_BOOLEAN else v) for n, t, v in params]


# name -> (our call, the real call); each takes (domain handle or Real, flags)
CALLS: dict[str, tuple[Callable[[Any, int], Any], Callable[[Real, int], tuple]]] = {
    "get_memory": (lambda d, f: api.virDomainGetMemoryParameters(d, f),
                   lambda r, f: r.get("virDomainGetMemoryParameters", flags=f)),
    "set_memory": (lambda d, f: api.virDomainSetMemoryParameters(d, _ours_params(MEM), f),
                   lambda r, f: r.set("virDomainSetMemoryParameters", params=MEM, flags=f)),
    "get_numa": (lambda d, f: api.virDomainGetNumaParameters(d, f),
                 lambda r, f: r.get("virDomainGetNumaParameters", flags=f)),
    "set_numa": (lambda d, f: api.virDomainSetNumaParameters(d, _ours_params(NUMA), f),
                 lambda r, f: r.set("virDomainSetNumaParameters", params=NUMA, flags=f)),
    "get_blkio": (lambda d, f: api.virDomainGetBlkioParameters(d, f),
                  lambda r, f: r.get("virDomainGetBlkioParameters", flags=f)),
    "set_blkio": (lambda d, f: api.virDomainSetBlkioParameters(d, _ours_params(BLKIO), f),
                  lambda r, f: r.set("virDomainSetBlkioParameters", params=BLKIO, flags=f)),
    "get_sched": (lambda d, f: api.virDomainGetSchedulerParametersFlags(d, f),
                  lambda r, f: r.get("virDomainGetSchedulerParametersFlags", flags=f)),
    "set_sched": (lambda d, f: api.virDomainSetSchedulerParametersFlags(
        d, _ours_params(SCHED), f),
        lambda r, f: r.set("virDomainSetSchedulerParametersFlags", params=SCHED, flags=f)),
    "get_iface": (lambda d, f: api.virDomainGetInterfaceParameters(d, MAC, f),
                  lambda r, f: r.get("virDomainGetInterfaceParameters", MAC.encode(), flags=f)),
    "get_iface_unknown": (
        lambda d, f: api.virDomainGetInterfaceParameters(d, "nope", f),
        lambda r, f: r.get("virDomainGetInterfaceParameters", b"nope", flags=f)),
    "set_iface": (lambda d, f: api.virDomainSetInterfaceParameters(d, MAC, _ours_params(BW), f),
                  lambda r, f: r.set("virDomainSetInterfaceParameters", MAC.encode(),
                                     params=BW, flags=f)),
    "get_perf": (lambda d, f: api.virDomainGetPerfEvents(d, f),
                 lambda r, f: r.get_alloc("virDomainGetPerfEvents", f)),
    "set_perf": (lambda d, f: api.virDomainSetPerfEvents(d, _ours_params(PERF), f),
                 lambda r, f: r.set("virDomainSetPerfEvents", params=PERF, flags=f)),
    "get_launch_security": (lambda d, f: api.virDomainGetLaunchSecurityInfo(d, f),
                            lambda r, f: r.get_alloc("virDomainGetLaunchSecurityInfo", f)),
    "memory_stats_period": (lambda d, f: api.virDomainSetMemoryStatsPeriod(d, 5, f),
                            lambda r, f: r.call("virDomainSetMemoryStatsPeriod",
                                                ctypes.c_int(5), U(f))),
    "set_memory_flags": (lambda d, f: api.virDomainSetMemoryFlags(d, 524288, f),
                         lambda r, f: r.call("virDomainSetMemoryFlags", ctypes.c_ulong(524288),
                                             U(f))),
    "set_vcpus_flags": (lambda d, f: api.virDomainSetVcpusFlags(d, 1, f),
                        lambda r, f: r.call("virDomainSetVcpusFlags", U(1), U(f))),
    "pin_vcpu": (lambda d, f: api.virDomainPinVcpuFlags(d, 0, b"\x01", f),
                 lambda r, f: r.call("virDomainPinVcpuFlags", U(0), ctypes.c_char_p(b"\x01"),
                                     ctypes.c_int(1), U(f))),
    "pin_emulator": (lambda d, f: api.virDomainPinEmulator(d, b"\x01", f),
                     lambda r, f: r.call("virDomainPinEmulator", ctypes.c_char_p(b"\x01"),
                                         ctypes.c_int(1), U(f))),
    "lifecycle_action": (lambda d, f: api.virDomainSetLifecycleAction(d, 0, 1, f),
                         lambda r, f: r.call("virDomainSetLifecycleAction", U(0), U(1), U(f))),
    "set_vcpus": (lambda d, f: api.virDomainSetVcpus(d, 1),
                  lambda r, f: r.call("virDomainSetVcpus", U(1))),
}
FLAGS = {"current": 0, "live": 1, "config": 2, "live_config": 3}


@pytest.fixture(params=["inactive", "running"])
def both(request, conn, rconn):
    """One domain of the same name on each library, defined, maybe started."""
    name = unique("affect")
    ours = api.virDomainDefineXML(conn, _xml(name))
    rdom = rconn.defineXML(_xml(name))
    if request.param == "running":
        api.virDomainCreate(ours)
        rdom.create()
    real = Real(name)
    yield ours, real
    real.close()
    if request.param == "running":
        api.virDomainDestroy(ours)
        rdom.destroy()
    api.virDomainUndefine(ours)
    rdom.undefine()


@pytest.mark.skipif(libvirt is None, reason="real libvirt not importable")
@pytest.mark.parametrize("flags", sorted(FLAGS))
@pytest.mark.parametrize("call", sorted(CALLS))
def test_call_as_real(both, call, flags):
    ours, real = both
    mine, theirs = CALLS[call]
    assert _ours(lambda: mine(ours, FLAGS[flags])) == theirs(real, FLAGS[flags])


@pytest.mark.skipif(libvirt is None, reason="real libvirt not importable")
def test_call_sequence_as_real(both):
    """Every call with every flag in turn, so that later answers see earlier
    changes (live values apart from persistent ones on a running domain)."""
    ours, real = both
    for call in sorted(CALLS):
        for flags in FLAGS.values():
            mine, theirs = CALLS[call]
            assert _ours(lambda: mine(ours, flags)) == theirs(real, flags), (call, flags)
            for getter in ("get_memory", "get_numa", "get_blkio", "get_iface"):
                for f in (0, 1, 2):
                    g_mine, g_theirs = CALLS[getter]
                    assert _ours(lambda: g_mine(ours, f)) == g_theirs(real, f), \
                        (call, flags, getter, f)


def test_live_on_inactive_is_not_running(conn):
    """Pinned without the reference: what libvirt 9.0 answers."""
    dom = api.virDomainDefineXML(conn, _xml(unique("affect")))
    try:
        for getter in (api.virDomainGetMemoryParameters, api.virDomainGetNumaParameters,
                       api.virDomainGetBlkioParameters, api.virDomainGetPerfEvents):
            assert _ours(lambda: getter(dom, 1)) == (
                "err", 55, 20, "Requested operation is not valid: domain is not running")
            assert _ours(lambda: getter(dom, 3))[1:3] == (8, 20)
        assert _ours(lambda: api.virDomainPinVcpuFlags(dom, 0, b"\x01", 0)) == (
            "err", 55, 12,
            "Requested operation is not valid: cannot pin vcpus on an inactive domain")
        assert _ours(lambda: api.virDomainSetMemoryStatsPeriod(dom, 5, 2)) == (
            "err", 1, 12, "internal error: No memory balloon device configured, can not set "
            "the collection period")
    finally:
        api.virDomainUndefine(dom)


def test_running_domain_keeps_live_and_config_apart(conn):
    dom = api.virDomainDefineXML(conn, _xml(unique("affect")))
    try:
        api.virDomainSetMemoryParameters(dom, _ours_params(MEM), 2)
        api.virDomainCreate(dom)
        assert _ours(lambda: api.virDomainGetMemoryParameters(dom, 1))[1]["hard_limit"] == 2000000
        api.virDomainSetMemoryParameters(dom, [("hard_limit", P_ULLONG, 3000000)], 1)
        assert _ours(lambda: api.virDomainGetMemoryParameters(dom, 2))[1]["hard_limit"] == 2000000
        assert _ours(lambda: api.virDomainGetMemoryParameters(dom, 0))[1]["hard_limit"] == 3000000
        api.virDomainDestroy(dom)
        assert _ours(lambda: api.virDomainGetMemoryParameters(dom, 0))[1]["hard_limit"] == 2000000
    finally:
        api.virDomainUndefine(dom)
