"""Guest and host queries (control info, disk errors, filesystems, interface
addresses, freeze/thaw, block I/O tune, sysinfo, CPU model names), compared
with real libvirt on the same host file."""

from __future__ import annotations

import os
from typing import Any

import pytest

from pyvirt import api

from conftest import libvirt, need_real, ours, real

URI = "test://" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "data",
                               "host-guest.xml")
DOMAINS = ("g1", "g2", "nonet", "bare", "down")


@pytest.fixture(scope="module")
def both():
    mine = api.virConnectOpen(URI)
    theirs = libvirt.open(URI) if libvirt is not None else None
    yield mine, theirs
    api.virConnectClose(mine)


def _ifaddrs(items: list) -> dict[str, Any]:
    return {i.name: {"addrs": [{"addr": a.addr, "prefix": a.prefix, "type": a.type}
                               for a in i.addrs], "hwaddr": i.hwaddr} for i in items}


# Each query: (ours on a pyvirt Domain, real on a libvirt.virDomain).
QUERIES = {
    "controlInfo": (lambda d: [*vars(api.virDomainGetControlInfo(d, 0)).values()],
                    lambda d: d.controlInfo()),
    "controlInfo_flags": (lambda d: api.virDomainGetControlInfo(d, 1),
                          lambda d: d.controlInfo(1)),
    "diskErrors": (lambda d: {e.disk: e.error for e in api.virDomainGetDiskErrors(d, 16, 0)},
                   lambda d: d.diskErrors()),
    "fsInfo": (lambda d: [(f.mountpoint, f.name, f.fstype, f.devAlias)
                          for f in api.virDomainGetFSInfo(d, 0)],
               lambda d: d.fsInfo()),
    "fsInfo_flags": (lambda d: api.virDomainGetFSInfo(d, 1), lambda d: d.fsInfo(1)),
    "ifaddr_lease": (lambda d: _ifaddrs(api.virDomainInterfaceAddresses(d, 0, 0)),
                     lambda d: d.interfaceAddresses(0)),
    "ifaddr_agent": (lambda d: _ifaddrs(api.virDomainInterfaceAddresses(d, 1, 0)),
                     lambda d: d.interfaceAddresses(1)),
    "ifaddr_arp": (lambda d: _ifaddrs(api.virDomainInterfaceAddresses(d, 2, 0)),
                   lambda d: d.interfaceAddresses(2)),
    "ifaddr_bad_source": (lambda d: api.virDomainInterfaceAddresses(d, 3, 0),
                          lambda d: d.interfaceAddresses(3)),
    "ifaddr_flags": (lambda d: api.virDomainInterfaceAddresses(d, 0, 1),
                     lambda d: d.interfaceAddresses(0, 1)),
    "freeze_all": (lambda d: api.virDomainFSFreeze(d, None, 0), lambda d: d.fsFreeze()),
    "freeze_some": (lambda d: api.virDomainFSFreeze(d, ["/boot"], 0),
                    lambda d: d.fsFreeze(["/boot"])),
    "freeze_unknown": (lambda d: api.virDomainFSFreeze(d, ["/", "/x"], 0),
                       lambda d: d.fsFreeze(["/", "/x"])),
    "freeze_flags": (lambda d: api.virDomainFSFreeze(d, None, 1), lambda d: d.fsFreeze(None, 1)),
    "thaw_all": (lambda d: api.virDomainFSThaw(d, None, 0), lambda d: d.fsThaw()),
    "thaw_some": (lambda d: api.virDomainFSThaw(d, ["/"], 0), lambda d: d.fsThaw(["/"])),
    "blkiotune_vda": (lambda d: {k: v for k, _, v in api.virDomainGetBlockIoTune(d, "vda", 0)},
                      lambda d: d.blockIoTune("vda")),
    "blkiotune_sda_config": (
        lambda d: {k: v for k, _, v in api.virDomainGetBlockIoTune(d, "sda", 2)},
        lambda d: d.blockIoTune("sda", 2)),
    "blkiotune_both": (lambda d: api.virDomainGetBlockIoTune(d, "vda", 3),
                       lambda d: d.blockIoTune("vda", 3)),
    "blkiotune_null": (lambda d: api.virDomainGetBlockIoTune(d, None, 0),
                       lambda d: d.blockIoTune(None)),
}


@need_real
@pytest.mark.parametrize("query", sorted(QUERIES))
@pytest.mark.parametrize("name", DOMAINS)
def test_guest_query_as_real(both, name, query):
    mine, theirs = both
    ours_fn, real_fn = QUERIES[query]
    d = api.virDomainLookupByName(mine, name)
    rd = theirs.lookupByName(name)
    assert ours(lambda: ours_fn(d)) == real(lambda: real_fn(rd))


@need_real
@pytest.mark.parametrize("arch", ["i686", "x86_64", "ppc64", "ppc64le", "aarch64", "s390x",
                                  "armv7l", "mips", "bogus", ""])
def test_cpu_model_names_as_real(both, arch):
    mine, theirs = both
    assert ours(lambda: api.virConnectGetCPUModelNames(mine, arch, 0)) == \
        real(lambda: theirs.getCPUModelNames(arch))


@need_real
def test_sysinfo_and_flags_as_real(both):
    mine, theirs = both
    assert api.virConnectGetSysinfo(mine, 0) == theirs.getSysinfo()
    assert ours(lambda: api.virConnectGetSysinfo(mine, 1)) == real(lambda: theirs.getSysinfo(1))
    assert ours(lambda: api.virConnectGetCPUModelNames(mine, "x86_64", 1)) == \
        real(lambda: theirs.getCPUModelNames("x86_64", 1))


@need_real
@pytest.mark.parametrize("query", ["fsInfo", "freeze_all", "ifaddr_agent", "ifaddr_lease",
                                   "diskErrors", "controlInfo"])
def test_read_only_as_real(query):
    mine = api.virConnectOpenReadOnly(URI)
    try:
        ours_fn, real_fn = QUERIES[query]
        got = ours(lambda: ours_fn(api.virDomainLookupByName(mine, "g1")))
        want = real(lambda: real_fn(libvirt.openReadOnly(URI).lookupByName("g1")))
        assert got == want
    finally:
        api.virConnectClose(mine)
