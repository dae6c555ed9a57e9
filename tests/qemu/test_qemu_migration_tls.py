"""VIR_MIGRATE_TLS between two embed roots with real QEMU and real x509
certificates (made here with the openssl CLI), configured through each
root's etc/qemu.conf as libvirt's embed mode reads it.

What libvirt 9.0 does was traced on two libvirtd (shared/reference/
libvirt-qemu/daemons.sh with migrate_tls_x509_cert_dir in qemu.conf): the same
events as a plain migration, QEMU's own words when a certificate does not
verify (the guest stays on the source, the destination STOPPED/FAILED), and
the migrate_tls_force refusal."""

from __future__ import annotations

import dataclasses
import shutil
import socket
import subprocess
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from qemutest import domxml, ensure_event_loop, kernels, kill_leftovers  # noqa: F401
from test_qemu_postcopy import pause_postcopy
from test_qemu_migration import (RESUMED_MIGRATED, STARTED_MIGRATED, STOPPED_FAILED,
                                 STOPPED_MIGRATED, SUSPENDED_MIGRATED, Recorder,
                                 _check_dirty_memory, _wait_dirtying, assert_precopy_events, migrate_in_thread,
                                 start_dirty)
from pyvirt import api, migration as mig
from pyvirt.errors import VirtError

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")

LIVE, TLS, POSTCOPY = mig.VIR_MIGRATE_LIVE, mig.VIR_MIGRATE_TLS, mig.VIR_MIGRATE_POSTCOPY
RUNNING_BOOTED = (1, 1)
RESUMED_POSTCOPY, SUSPENDED_POSTCOPY = (4, 3), (3, 7)
BASE_CONF = 'stdio_handler = "file"\nuser = "root"\ngroup = "root"\n'


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(d: Path) -> Path:
    """A CA and a server and a client certificate signed by it, under
    libvirt's file names; the names are localhost, 127.0.0.1 and this host's."""
    d.mkdir(parents=True)
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca-key.pem",
             "-out", "ca-cert.pem", "-days", "2", "-subj", "/CN=pyvirt test CA",
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    for who, usage in (("server", "serverAuth"), ("client", "clientAuth")):
        (d / f"{who}.ext").write_text(
            "basicConstraints=critical,CA:FALSE\n"
            "keyUsage=critical,digitalSignature,keyEncipherment\n"
            f"extendedKeyUsage={usage}\n"
            f"subjectAltName=DNS:localhost,DNS:{socket.gethostname()},IP:127.0.0.1\n")
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{who}-key.pem",
                 "-out", f"{who}.csr", "-subj", "/CN=localhost", cwd=d)
        _openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca-cert.pem", "-CAkey",
                 "ca-key.pem", "-CAcreateserial", "-out", f"{who}-cert.pem", "-days", "2",
                 "-extfile", f"{who}.ext", cwd=d)
    return d


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("pki")
    empty = base / "empty"
    empty.mkdir()
    return {"good": _make_pki(base / "good"), "other": _make_pki(base / "other"),
            "empty": empty}


@pytest.fixture
def roots(tmp_path: Path) -> Iterator[Any]:
    """open(conf_a, conf_b) -> (src_conn, dst_conn, src_ev, dst_ev), each root
    with BASE_CONF plus its own lines in etc/qemu.conf."""
    ensure_event_loop()
    opened: list[Any] = []
    paths = [tmp_path / "a", tmp_path / "b"]

    def open_two(conf_a: str, conf_b: str) -> tuple[Any, Any, Recorder, Recorder]:
        for root, extra in zip(paths, (conf_a, conf_b)):
            (root / "etc").mkdir(parents=True, exist_ok=True)
            (root / "etc" / "qemu.conf").write_text(BASE_CONF + extra)
        conns = [api.virConnectOpen(f"qemu:///embed?root={r}") for r in paths]
        opened.extend(conns)
        return conns[0], conns[1], Recorder(conns[0]), Recorder(conns[1])
    yield open_two
    for c in opened:
        api.virConnectClose(c)
    for r in paths:
        kill_leftovers(r)


def _tls_conf(d: Path, extra: str = "") -> str:
    return f'migrate_tls_x509_cert_dir = "{d}"\n{extra}'


def _qmp(conn: Any, dom: Any, cmd: str, args: Any = None) -> Any:
    return conn.driver.runtime[dom.uuid].monitor.execute(cmd, args)


def _tls_left(conn: Any, dom: Any) -> tuple[str, str, bool]:
    """QEMU's TLS migration parameters and whether the credentials object is there."""
    p = _qmp(conn, dom, "query-migrate-parameters")
    objects = [o["name"] for o in _qmp(conn, dom, "qom-list", {"path": "/objects"})]
    return p.get("tls-creds", ""), p.get("tls-hostname", ""), "objlibvirt_migrate_tls0" in objects


class Relay:
    """A TCP relay in front of the destination's migration port that keeps the
    first bytes the source sends."""

    def __init__(self, port: int) -> None:
        self.first = b""
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self._target = port
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        conn, _ = self.server.accept()
        out = socket.create_connection(("127.0.0.1", self._target))
        self.first = conn.recv(64)
        out.sendall(self.first)
        for a, b in ((conn, out), (out, conn)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    @staticmethod
    def _pump(a: socket.socket, b: socket.socket) -> None:
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def test_tls_precopy_through_a_relay(roots, pki, kernels, tmp_path):
    """The v3 phases by hand (Perform sent through a relay): the stream is a
    TLS handshake, the dirty guest arrives intact, both sides' events are a
    plain migration's, and the destination's QEMU forgets the credentials."""
    src_conn, dst_conn, src_ev, dst_ev = roots(
        _tls_conf(pki["good"]),
        _tls_conf(pki["good"], "migration_port_min = 49500\nmigration_port_max = 49510\n"))
    src = start_dirty(src_conn, src_ev, "tmig", kernels["dirty"], tmp_path)
    flags = LIVE | TLS
    s, d = src_conn.driver, dst_conn.driver
    params = mig.MigrationParams()
    cookie, params.dom_xml = s.domain_migrate_begin3_params(src, params, flags)
    cookie, uri = d.domain_migrate_prepare3_params(dst_conn, params, cookie, flags)
    port = int(uri.rsplit(":", 1)[1])
    assert 49500 <= port <= 49510                     # qemu.conf's migration range
    relay = Relay(port)
    cookie = s.domain_migrate_perform3_params(
        src, None, dataclasses.replace(params, uri=f"tcp:localhost:{relay.port}"),
        cookie, flags)
    ddom, cookie = d.domain_migrate_finish3_params(dst_conn, params, cookie, flags, False)
    s.domain_migrate_confirm3_params(src, params, cookie, flags, False)
    # a TLS record (handshake, version 3.x), not QEMU's plain "QEVM" stream
    assert relay.first[:2] == b"\x16\x03" and b"QEVM" not in relay.first, relay.first
    assert api.virDomainGetState(ddom, 0) == (1, 2)
    assert_precopy_events(src_ev, dst_ev)
    assert _tls_left(dst_conn, ddom) == ("", "", False)
    _check_dirty_memory(dst_conn, ddom, tmp_path)
    api.virDomainDestroy(ddom)


def test_tls_postcopy_of_a_dirtying_guest(roots, pki, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = roots(_tls_conf(pki["good"]),
                                               _tls_conf(pki["good"]))
    src = api.virDomainCreateXML(src_conn, domxml("tpc", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    _wait_dirtying(src_conn, src, tmp_path)
    t, result = migrate_in_thread(src, dst_conn, [("bandwidth", mig.P_ULLONG, 10)],
                                  LIVE | TLS | POSTCOPY)
    try:
        src_ev.wait(lambda items: any(i[0] == "iter" for i in items) or not t.is_alive(), 40)
        assert t.is_alive(), result
        # the source's QEMU uses the client credentials for this host's name
        creds, hostname, present = _tls_left(src_conn, src)
        assert creds == "objlibvirt_migrate_tls0" and present
        assert hostname == socket.gethostname()
        api.virDomainMigrateStartPostCopy(src, 0)
    finally:
        t.join(60)
    assert "dom" in result, result
    ddom = result["dom"]
    assert api.virDomainGetState(ddom, 0) == (1, 2)
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    dst_ev.wait(lambda items: len(items) >= 3)
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, SUSPENDED_POSTCOPY, STOPPED_MIGRATED]
    assert dst_ev.items == [("lc",) + STARTED_MIGRATED, ("lc",) + RESUMED_POSTCOPY,
                            ("lc",) + RESUMED_MIGRATED]
    assert _tls_left(dst_conn, ddom) == ("", "", False)
    _check_dirty_memory(dst_conn, ddom, tmp_path)
    api.virDomainDestroy(ddom)


@pytest.mark.parametrize("case", ["unknown CA", "wrong hostname"])
def test_peer_that_does_not_verify(roots, pki, kernels, case):
    """QEMU refuses the destination's certificate: the migration fails with
    QEMU's words (as libvirt 9.0 reports them), the guest runs on the source,
    which forgets the credentials again; the destination is STOPPED/FAILED."""
    src_dir = pki["other"] if case == "unknown CA" else pki["good"]
    src_conn, dst_conn, src_ev, dst_ev = roots(
        _tls_conf(src_dir), _tls_conf(pki["good"], "migrate_tls_x509_verify = 0\n"))
    src = api.virDomainCreateXML(src_conn, domxml("tbad", kernels["idle"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    params = ([("tls.destination", mig.P_STRING, "wronghost")]
              if case == "wrong hostname" else [])
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, params, LIVE | TLS)
    why = ("The certificate hasn't got a known issuer" if case == "unknown CA"
           else "Certificate does not match the hostname wronghost")
    assert (err.value.code, err.value.domain, str(err.value)) == (
        9, 10, f"operation failed: job 'migration out' failed: {why}")
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    dst_ev.wait(lambda items: len(items) >= 2)
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, STOPPED_FAILED]
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert _tls_left(src_conn, src) == ("", "", False)
    assert src_ev.lifecycle() == []


def test_forced_tls_and_missing_files(roots, pki, kernels):
    """migrate_tls_force refuses a plain migration; a certificate directory
    without the files fails in QEMU's object-add (libvirt 9.0's messages)."""
    src_conn, dst_conn, src_ev, dst_ev = roots(
        _tls_conf(pki["good"], "migrate_tls_force = 1\n"), _tls_conf(pki["empty"]))
    src = api.virDomainCreateXML(src_conn, domxml("tforce", kernels["idle"]), 0)
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, [], LIVE)
    assert (err.value.code, err.value.domain, str(err.value)) == (
        55, 10, "Requested operation is not valid: this libvirtd instance allows "
                "migration only with VIR_MIGRATE_TLS flag")
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, [], LIVE | TLS)
    assert (err.value.code, err.value.domain, str(err.value)) == (
        1, 10, "internal error: unable to execute QEMU command 'object-add': Unable to "
               f"access credentials {pki['empty']}/ca-cert.pem: No such file or directory")
    assert api.virDomainGetState(src, 0) == RUNNING_BOOTED
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert dst_ev.lifecycle() == []


def test_tls_postcopy_paused_and_recovered(roots, pki, kernels, tmp_path):
    """A paused post-copy over TLS resumes over TLS: both QEMUs keep their
    credentials while paused (migrate-recover and migrate resume use them)."""
    src_conn, dst_conn, src_ev, dst_ev = roots(_tls_conf(pki["good"]),
                                               _tls_conf(pki["good"]))
    src = api.virDomainCreateXML(src_conn, domxml("trec", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    _wait_dirtying(src_conn, src, tmp_path)
    flags = LIVE | TLS | POSTCOPY
    pause_postcopy(src, dst_conn, src_ev, dst_ev, flags)
    ddom = api.virDomainLookupByName(dst_conn, "trec")
    assert _tls_left(dst_conn, ddom)[0] == "objlibvirt_migrate_tls0"
    ddom = api.virDomainMigrate3(src, dst_conn, [], flags | mig.VIR_MIGRATE_POSTCOPY_RESUME)
    assert api.virDomainGetState(ddom, 0) == (1, 2)
    assert _tls_left(dst_conn, ddom) == ("", "", False)
    _check_dirty_memory(dst_conn, ddom, tmp_path)
    api.virDomainDestroy(ddom)
