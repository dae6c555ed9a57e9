"""test:///PATH.xml hosts: every object kind the file format allows, and
<auth> users, compared with real libvirt opening the same file."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest

from pyvirt import api
from pyvirt.apis import interface as ifapi, network as netapi, nodedev as devapi, \
    storage as stapi
from pyvirt.apis import domain_extra

from conftest import libvirt, need_real, ours, real

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
FULL = "test://" + os.path.join(DATA, "host-full.xml")
AUTH = "test://" + os.path.join(DATA, "host-auth.xml")

CRED_AUTHNAME, CRED_PASSPHRASE, CRED_NOECHOPROMPT = 2, 5, 7


def _parent(dev: Any) -> Any:
    """As libvirt-python's parent(): None when the device has none."""
    r = ours(lambda: devapi.virNodeDeviceGetParent(dev))
    return r[1] if r[0] == "ok" else None


def summary_ours(c: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in api.virConnectListAllDomains(c, 0):
        uuid = api.virDomainGetUUIDString(d)
        out["dom " + d.name] = (api.virDomainGetID(d), list(api.virDomainGetState(d, 0)),
                                api.virDomainIsPersistent(d),
                                domain_extra.virDomainHasManagedSaveImage(d, 0),
                                uuid if d.name in ("web", "paused") else "")
    info = api.virNodeGetInfo(c)
    out["node"] = [info.model, info.memory >> 10, info.cpus, info.mhz, info.nodes,
                   info.sockets, info.cores, info.threads]
    for n in netapi.virConnectListAllNetworks(c, 0):
        out["net " + netapi.virNetworkGetName(n)] = (
            netapi.virNetworkIsActive(n), netapi.virNetworkIsPersistent(n),
            netapi.virNetworkGetAutostart(n), netapi.virNetworkGetXMLDesc(n, 0))
    for i in ifapi.virConnectListAllInterfaces(c, 0):
        out["iface " + ifapi.virInterfaceGetName(i)] = (
            ifapi.virInterfaceGetMACString(i), ifapi.virInterfaceIsActive(i),
            ifapi.virInterfaceGetXMLDesc(i, 0))
    for p in stapi.virConnectListAllStoragePools(c, 0):
        info = dataclasses.astuple(stapi.virStoragePoolGetInfo(p))
        out["pool " + stapi.virStoragePoolGetName(p)] = (
            stapi.virStoragePoolIsActive(p), stapi.virStoragePoolIsPersistent(p),
            stapi.virStoragePoolGetAutostart(p), list(info),
            stapi.virStoragePoolGetXMLDesc(p, 0))
        for v in stapi.virStoragePoolListAllVolumes(p, 0):
            vinfo = dataclasses.astuple(stapi.virStorageVolGetInfo(v))
            out["vol " + stapi.virStorageVolGetName(v)] = (
                stapi.virStorageVolGetKey(v), stapi.virStorageVolGetPath(v), list(vinfo),
                stapi.virStorageVolGetXMLDesc(v, 0))
    for d in devapi.virConnectListAllNodeDevices(c, 0):
        out["dev " + devapi.virNodeDeviceGetName(d)] = (
            _parent(d), devapi.virNodeDeviceListCaps(d, 16),
            devapi.virNodeDeviceGetXMLDesc(d, 0))
    return out


def summary_real(c: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for d in c.listAllDomains():
        out["dom " + d.name()] = (d.ID(), d.state(), d.isPersistent(),
                                  d.hasManagedSaveImage(),
                                  d.UUIDString() if d.name() in ("web", "paused") else "")
    out["node"] = c.getInfo()
    for n in c.listAllNetworks():
        out["net " + n.name()] = (n.isActive(), n.isPersistent(), n.autostart(), n.XMLDesc())
    for i in c.listAllInterfaces():
        out["iface " + i.name()] = (i.MACString(), i.isActive(), i.XMLDesc())
    for p in c.listAllStoragePools():
        out["pool " + p.name()] = (p.isActive(), p.isPersistent(), p.autostart(), p.info(),
                                   p.XMLDesc())
        for v in p.listAllVolumes():
            out["vol " + v.name()] = (v.key(), v.path(), v.info(), v.XMLDesc())
    for d in c.listAllDevices():
        out["dev " + d.name()] = (d.parent(), d.listCaps(), d.XMLDesc())
    return out


def test_full_host_file_loads():
    c = api.virConnectOpen(FULL)
    try:
        s = summary_ours(c)
    finally:
        api.virConnectClose(c)
    assert s["dom web"][:2] == (1, [1, 0])
    assert s["dom paused"][:2] == (2, [3, 0])
    assert s["dom off"][:2] == (-1, [5, 0])
    assert s["dom temp"][2] == 0
    assert s["dom saved"][3] == 1
    assert s["pool pool-a"][3] == [2, 107374182400, 54096, 107374128304]
    assert s["vol vol2.img"][:2] == ("custom-key", "/elsewhere/vol2.img")
    assert {"net private", "net lan", "iface eth2", "iface eth3", "dev File_test_device",
            "dev pci_0000_00_02_0"} <= set(s)


@need_real
def test_full_host_file_as_real():
    c = api.virConnectOpen(FULL)
    try:
        mine = summary_ours(c)
    finally:
        api.virConnectClose(c)
    theirs = summary_real(libvirt.open(FULL))
    assert sorted(mine) == sorted(theirs)
    for key in theirs:
        assert (key, list(mine[key]) if isinstance(mine[key], tuple) else mine[key]) == \
            (key, list(theirs[key]) if isinstance(theirs[key], tuple) else theirs[key])


class FakeAuth:
    """What the shim and the Python module hand the core: credtype and ask()."""

    def __init__(self, credtype: list[int], answers: dict[int, str | None],
                 refuse: bool = False) -> None:
        self.credtype = credtype
        self.answers = answers
        self.refuse = refuse
        self.seen: list[list[Any]] = []

    def ask(self, creds: list[dict]) -> list[str | None] | None:
        for c in creds:
            self.seen.append([c["type"], c["prompt"], c["challenge"], c["defresult"]])
        if self.refuse:
            return None
        return [self.answers.get(c["type"]) for c in creds]


AUTH_CASES = {
    "good": ([2, 5], {2: "alice", 5: "secret"}, False),
    "badpw": ([2, 5], {2: "alice", 5: "nope"}, False),
    "nouser": ([2, 5], {2: "carol", 5: "secret"}, False),
    "nopassword_user": ([2, 5], {2: "bob"}, False),
    "nopassword_user_given_one": ([2, 5], {2: "bob", 5: "x"}, False),
    "refused": ([2, 5], {}, True),
    "no_name_answer": ([2, 5], {}, False),
    "no_password_answer": ([2, 5], {2: "alice"}, False),
    "only_passphrase": ([5], {5: "secret"}, False),
    "only_authname": ([2], {2: "alice"}, False),
    "only_authname_bob": ([2], {2: "bob"}, False),
    "noecho": ([2, 7], {2: "alice", 7: "secret"}, False),
    "noecho_first": ([2, 7, 5], {2: "alice", 7: "secret", 5: "wrong"}, False),
    "empty": ([2, 5], {2: "", 5: ""}, False),
    "no_types": ([], {}, False),
}


def _ours_auth(uri: str, case: tuple, flags: int = 0) -> tuple:
    auth = FakeAuth(*case)

    def run() -> list[str]:
        c = api.virConnectOpenAuth(uri, auth, flags)
        try:
            return [d.name for d in api.virConnectListAllDomains(c, 0)]
        finally:
            api.virConnectClose(c)
    return ours(run), auth.seen


def _real_auth(uri: str, case: tuple, flags: int = 0) -> tuple:
    credtype, answers, refuse = case
    seen: list[list[Any]] = []

    def cb(creds: list, opaque: Any) -> int:
        for c in creds:
            seen.append(list(c[:4]))
            c[4] = answers.get(c[0])
        return -1 if refuse else 0
    return real(lambda: [d.name() for d in libvirt.openAuth(uri, [credtype, cb, None],
                                                            flags).listAllDomains()]), seen


def test_auth_good_and_bad():
    assert _ours_auth(AUTH, AUTH_CASES["good"])[0] == ("ok", ["d1"])
    r = _ours_auth(AUTH, AUTH_CASES["badpw"])[0]
    assert r[:3] == ("err", 45, 12)


@need_real
@pytest.mark.parametrize("name", sorted(AUTH_CASES))
def test_auth_as_real(name):
    assert _ours_auth(AUTH, AUTH_CASES[name]) == _real_auth(AUTH, AUTH_CASES[name])


@need_real
def test_auth_readonly_as_real():
    case = AUTH_CASES["good"]
    assert _ours_auth(AUTH, case, 1) == _real_auth(AUTH, case, 1)


@need_real
@pytest.mark.parametrize("opener", ["virConnectOpen", "virConnectOpenReadOnly"])
def test_auth_required_without_callback(opener):
    real_open = {"virConnectOpen": libvirt.open,
                 "virConnectOpenReadOnly": libvirt.openReadOnly}[opener]
    assert ours(lambda: getattr(api, opener)(AUTH)) == real(lambda: real_open(AUTH))


@need_real
def test_no_auth_section_needs_no_credentials():
    case = ([2, 5], {}, True)   # a refusing callback is never called
    assert _ours_auth(FULL, case)[1] == _real_auth(FULL, case)[1] == []


@need_real
def test_objects_from_named_files_as_real():
    uri = "test://" + os.path.join(DATA, "host-files.xml")
    c = api.virConnectOpen(uri)
    try:
        mine = summary_ours(c)
    finally:
        api.virConnectClose(c)
    theirs = summary_real(libvirt.open(uri))
    assert {k: list(v) if isinstance(v, tuple) else v for k, v in mine.items()} == \
        {k: list(v) if isinstance(v, tuple) else v for k, v in theirs.items()}


@need_real
@pytest.mark.parametrize("name", ["host-missing.xml", "host-badpool.xml", "host-baddev.xml"])
def test_bad_host_files_as_real(name):
    uri = "test://" + os.path.join(DATA, name)
    assert ours(lambda: api.virConnectOpen(uri)) == real(lambda: libvirt.open(uri))
