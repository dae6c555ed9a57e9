"""IOThreads (<iothreads>, <iothreadids>, iothreadpin; add, delete, pin,
tune, list) and block I/O tuning (virDomainSetBlockIoTune, <iotune>),
compared step by step with real libvirt's test driver."""

import re

import pytest

from pyvirt import api

from conftest import need_real, ours, real, unique

P_UINT, P_ULLONG, P_STRING = 2, 4, 7


def _bools(cpumap: bytes) -> list[bool]:
    return [i // 8 < len(cpumap) and bool(cpumap[i // 8] >> (i % 8) & 1) for i in range(8)]


def _bitmap(cpus: tuple) -> bytes:
    return bytes([sum(1 << i for i, on in enumerate(cpus) if on)])


def _info(d, flags):
    got = ours(lambda: api.virDomainGetIOThreadInfo(d, flags))
    if got[0] == "err":
        return got
    return ("ok", [(i.iothread_id, _bools(i.cpumap)) for i in got[1]])


def _noid(xml: str) -> str:
    return re.sub(r" id='\d+'>", ">", xml, count=1)


def _define(conn, rconn, extra: str, devices: str = ""):
    name = unique("iot")
    uuid = f"7c2b3d4e-5f60-4a7b-8c9d-{abs(hash(name)) % 10**12:012d}"
    xml = (f"<domain type='test'><name>{name}</name><uuid>{uuid}</uuid><memory>1024</memory>"
           f"<vcpu>2</vcpu>{extra}<os><type>hvm</type></os><devices>{devices}</devices>"
           f"</domain>")
    return ours(lambda: api.virDomainDefineXML(conn, xml)), real(lambda: rconn.defineXML(xml))


def _cleanup(d, r):
    for f in (lambda: api.virDomainDestroy(d), r.destroy,
              lambda: api.virDomainUndefineFlags(d, 0), lambda: r.undefineFlags(0)):
        try:
            f()
        except Exception:
            pass


DEFINITIONS = {
    "ids_and_count": "<iothreads>1</iothreads><iothreadids><iothread id='5'/>"
                     "<iothread id='2'/></iothreadids>",
    "pool": "<iothreadids><iothread id='3' thread_pool_max='4'/></iothreadids>",
    "autofill_pinned": "<iothreads>2</iothreads><cputune><iothreadpin iothread='2' "
                       "cpuset='1,0'/><vcpupin vcpu='0' cpuset='1'/></cputune>",
    "mixed": "<iothreads>3</iothreads><iothreadids><iothread id='5'/><iothread id='2' "
             "thread_pool_min='1' thread_pool_max='4'/></iothreadids><cputune>"
             "<iothreadpin iothread='5' cpuset='1-2'/></cputune>",
    "bad_count": "<iothreads>x</iothreads>",
    "zero_id": "<iothreadids><iothread id='0'/></iothreadids>",
    "duplicate_id": "<iothreadids><iothread id='3'/><iothread id='3'/></iothreadids>",
    "pin_unknown": "<iothreads>1</iothreads><cputune><iothreadpin iothread='4' "
                   "cpuset='0'/></cputune>",
}

# (operation, iothread id, argument, flags); "start" starts both domains.
STEPS = [("add", 7, None, 0), ("add", 5, None, 0), ("add", 0, None, 0), ("add", 8, None, 1),
         ("add", 9, None, 4), ("del", 2, None, 0), ("del", 9, None, 0),
         ("pin", 7, (True, False, True), 0), ("pin", 9, (True,), 0), ("pin", 7, (False,), 0),
         ("pin", 7, (True,), 3), ("params", 7, {"poll_max_ns": 10, "poll_grow": 2}, 0),
         ("params", 5, {"poll_max_ns": 10}, 0), ("params", 7, {"thread_pool_max": 5}, 0),
         ("params", 9, {"poll_max_ns": 10}, 0),
         ("params", 7, {"poll_max_ns": 10}, 1), ("start", 0, None, 0), ("add", 11, None, 1),
         ("pin", 11, (False, True), 1), ("params", 11, {"poll_shrink": 3}, 0),
         ("params", 11, {"poll_shrink": 3}, 2), ("del", 5, None, 0), ("del", 7, None, 2),
         ("add", 12, None, 2)]


def _step(d, r, op, tid, arg, flags):
    if op == "add":
        return (ours(lambda: api.virDomainAddIOThread(d, tid, flags) or 0),
                real(lambda: r.addIOThread(tid, flags)))
    if op == "del":
        return (ours(lambda: api.virDomainDelIOThread(d, tid, flags) or 0),
                real(lambda: r.delIOThread(tid, flags)))
    if op == "pin":
        return (ours(lambda: api.virDomainPinIOThread(d, tid, _bitmap(arg), flags) or 0),
                real(lambda: r.pinIOThread(tid, arg, flags)))
    typed = [(k, P_ULLONG if k == "poll_max_ns" else P_UINT, v) for k, v in arg.items()]
    return (ours(lambda: api.virDomainSetIOThreadParams(d, tid, typed, flags) or 0),
            real(lambda: r.setIOThreadParams(tid, arg, flags)))


@need_real
@pytest.mark.parametrize("name", sorted(DEFINITIONS))
def test_iothreads_as_real(conn, rconn, name):
    mine, theirs = _define(conn, rconn, DEFINITIONS[name])
    if mine[0] == "err" or theirs[0] == "err":
        assert mine == theirs
        return
    d, r = mine[1], theirs[1]
    try:
        assert api.virDomainGetXMLDesc(d, 0) == r.XMLDesc(0)
        for op, tid, arg, flags in STEPS:
            if op == "start":
                api.virDomainCreate(d)
                r.create()
                continue
            mine_step, theirs_step = _step(d, r, op, tid, arg, flags)
            where = (op, tid, arg, flags)
            assert mine_step == theirs_step, where
            for info_flags in (0, 2):
                assert _info(d, info_flags) == real(lambda: r.ioThreadInfo(info_flags)), where
            assert api.virDomainGetXMLDesc(d, 2) == r.XMLDesc(2), where
            assert _noid(api.virDomainGetXMLDesc(d, 0)) == _noid(r.XMLDesc(0)), where
    finally:
        _cleanup(d, r)


DISKS = ("<disk type='file' device='disk'><source file='/x/a'/><target dev='vda' bus='virtio'/>"
         "</disk><disk type='file' device='cdrom'><source file='/x/b'/>"
         "<target dev='hdc' bus='ide'/><readonly/><address type='drive' controller='0' "
         "bus='1' target='0' unit='0'/></disk><controller type='ide' index='0'/>")

# (disk, parameters, flags); each applied in turn to one domain.
IOTUNE_STEPS = [
    ("hdc", {"read_bytes_sec_max": 1}, 0),
    ("vda", {"total_bytes_sec": 5, "total_bytes_sec_max": 9, "group_name": "g<1"}, 0),
    ("vda", {"read_bytes_sec": 5}, 0),
    ("vda", {"total_bytes_sec": 100}, 0),
    ("vda", {"read_bytes_sec_max": 10**16}, 0),
    ("vda", {"total_iops_sec_max": 3, "read_iops_sec_max": 3}, 0),
    ("/x/b", {"size_iops_sec": 3, "write_iops_sec_max_length": 7}, 2),
    ("vdx", {"size_iops_sec": 3}, 0),
    ("vda", {"size_iops_sec": 3}, 1),
    ("vda", {"total_bytes_sec": 0, "total_bytes_sec_max": 0, "group_name": "h"}, 0),
    ("start", None, 0),
    ("vda", {"write_bytes_sec": 4, "write_bytes_sec_max": 4}, 0),
    ("hdc", {"read_bytes_sec_max": 0}, 1),
    ("hdc", {"total_iops_sec": 2, "total_iops_sec_max": 2}, 2),
]


@need_real
def test_block_iotune_as_real(conn, rconn):
    mine, theirs = _define(conn, rconn, "", DISKS)
    d, r = mine[1], theirs[1]
    try:
        for disk, params, flags in IOTUNE_STEPS:
            if disk == "start":
                api.virDomainCreate(d)
                r.create()
                continue
            typed = [(k, P_STRING if k == "group_name" else P_ULLONG, v)
                     for k, v in params.items()]
            where = (disk, params, flags)
            assert ours(lambda: api.virDomainSetBlockIoTune(d, disk, typed, flags) or 0) == \
                real(lambda: r.setBlockIoTune(disk, params, flags)), where
            for name in ("vda", "hdc"):
                for get_flags in (0, 2):
                    assert {k: v for k, _, v in api.virDomainGetBlockIoTune(d, name, get_flags)} \
                        == r.blockIoTune(name, get_flags), where
            iotunes = [re.findall(r"<iotune>.*?</iotune>", x, re.S)
                       for x in (api.virDomainGetXMLDesc(d, 0), r.XMLDesc(0),
                                 api.virDomainGetXMLDesc(d, 2), r.XMLDesc(2))]
            assert iotunes[0] == iotunes[1] and iotunes[2] == iotunes[3], where
    finally:
        _cleanup(d, r)


def test_set_block_iotune_arguments(conn):
    dom = api.virDomainLookupByName(conn, "test")
    for disk, params, message in (
            (None, [("size_iops_sec", P_ULLONG, 1)],
             "disk in virDomainSetBlockIoTune must not be NULL"),
            ("vda", [], "nparams in virDomainSetBlockIoTune must be greater than zero")):
        got = ours(lambda: api.virDomainSetBlockIoTune(dom, disk, params, 0))
        assert got[0] == "err" and got[3] == message
    got = ours(lambda: api.virDomainSetBlockIoTune(dom, "vda", [("bogus", P_ULLONG, 1)], 0))
    assert got == ("err", 74, 0, "argument unsupported: parameter 'bogus' not supported")
    got = ours(lambda: api.virDomainSetBlockIoTune(dom, "vda", [("group_name", P_ULLONG, 1)], 0))
    assert got == ("err", 8, 0, "invalid argument: invalid type 'ullong' for parameter "
                   "'group_name', expected 'string'")
