"""qemu.conf of an embed root (pyvirt.drivers.qemu.qemuconf): libvirt's config
syntax, the keys the QEMU driver uses, their defaults and fallbacks, and the
errors of a bad file, each compared with what libvirt 9.0's embed driver says
when it opens the same root (python3-libvirt in a subprocess: one embed root
per process)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from pyvirt.drivers.qemu import qemuconf
from pyvirt.errors import VirtError

REFERENCE = "/usr/bin/python3"
_PROBE = """
import sys, threading, libvirt
libvirt.registerErrorHandler(lambda c, e: None, None)
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
try:
    libvirt.open('qemu:///embed?root=' + sys.argv[1]).close()
    print('OK')
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
"""


def _reference_available() -> bool:
    return (os.path.exists(REFERENCE) and os.path.exists("/usr/sbin/libvirtd")
            and subprocess.run([REFERENCE, "-c", "import libvirt"],
                               capture_output=True).returncode == 0)


def _root(tmp_path: Path, text: str) -> Path:
    (tmp_path / "etc").mkdir(parents=True, exist_ok=True)
    (tmp_path / "etc" / "qemu.conf").write_text(text)
    return tmp_path


def _ours(root: Path) -> str:
    try:
        qemuconf.load(root)
        return "OK"
    except VirtError as exc:
        return f"{exc.code} {exc.domain} {exc}"


CASES = {
    "tls dir missing": 'migrate_tls_x509_cert_dir = "/nonexistent/pki"\n',
    "default dir missing": 'default_tls_x509_cert_dir = "/nonexistent/pki"\n',
    "bool as string": 'migrate_tls_x509_verify = "yes"\n',
    "bool out of range": 'migrate_tls_x509_verify = 2\n',
    "bool negative": 'migrate_tls_force = -1\n',
    "dir as integer": "migrate_tls_x509_cert_dir = 5\n",
    "port as string": 'migration_port_min = "a"\n',
    "no assignment": "foo bar\n",
    "no value": "foo = \n",
    "unterminated string": 'foo = "abc\n',
    "open list": 'a = [ "x", \n',
    "port zero": "unknown_key = 1\n# c\n\nmigration_port_min = 0\n",
    "ports reversed": "migration_port_min = 50000\nmigration_port_max = 49000\n",
    "port too big": "migration_port_min = 70000\n",
    "float": "x = 1.5\n",
    "sandbox as string": 'seccomp_sandbox = "x"\n',
    "sandbox off": "seccomp_sandbox = 0\n",
    "comment in a list": 'a = [ "x", # no\n "y" ]\n',
    "fine": ('# comment\nstdio_handler = "file"   # trailing\nuser = "root"; group = \'root\'\n'
             'cgroup_controllers = [ ]\nsome_list = [ "mount",\n\n  "x", ]\n'
             "migrate_tls_force = 1\nx = -5\n"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_as_libvirt(tmp_path, case):
    root = _root(tmp_path / "root", CASES[case])
    ours = _ours(root)
    if not _reference_available():
        pytest.skip("python3-libvirt/libvirtd 9.0 not installed")
    ref = subprocess.run([REFERENCE, "-c", _PROBE, str(root)], capture_output=True,
                         text=True, timeout=120).stdout.strip()
    assert ours == ref


def test_syntax():
    conf = qemuconf.parse('a = 1\nb = "two" ; c = [1, "x", [ ]]\n'
                          'd = """multi\nline"""\n# e = 5\nf=\'g\'#c\n', "f")
    assert conf == {"a": 1, "b": "two", "c": [1, "x", []], "d": "multi\nline", "f": "g"}
    with pytest.raises(VirtError) as err:
        qemuconf.parse("a = 1\n\nb = [1 2]\n", "/x/qemu.conf")
    assert (err.value.code, err.value.domain, str(err.value)) == (
        33, 9, "configuration file syntax error: /x/qemu.conf:3: list is not closed with ]")
    with pytest.raises(VirtError) as err:
        qemuconf.parse("9a = 1\n", "f")
    assert str(err.value).endswith("f:1: expecting a name")


def test_defaults_and_fallbacks(tmp_path):
    root = tmp_path / "r"
    conf = qemuconf.load(root)                         # no qemu.conf at all
    if os.path.exists(qemuconf.SERVICE_MIGRATE_DIR):
        pytest.skip("this host has /etc/pki/libvirt-migrate")
    # embed mode: the default directory is under the root, migration falls back to it
    assert conf.default_tls_x509_cert_dir == str(root / "etc" / "pki" / "qemu")
    assert conf.migrate_tls_x509_cert_dir == conf.default_tls_x509_cert_dir
    assert conf.migrate_tls_x509_verify is True and conf.migrate_tls_force is False
    assert (conf.migration_port_min, conf.migration_port_max) == (49152, 49215)
    pki = tmp_path / "pki"
    pki.mkdir()
    _root(root, f'default_tls_x509_cert_dir = "{pki}"\ndefault_tls_x509_verify = 0\n'
                "migration_port_min = 50000\nmigration_port_max = 50010\n")
    conf = qemuconf.load(root)
    assert conf.migrate_tls_x509_cert_dir == str(pki)
    assert conf.migrate_tls_x509_verify is False           # from default_tls_x509_verify
    assert (conf.migration_port_min, conf.migration_port_max) == (50000, 50010)
    _root(root, f'migrate_tls_x509_cert_dir = "{pki}"\ndefault_tls_x509_verify = 0\n'
                "migrate_tls_x509_verify = 1\nmigrate_tls_force = 1\n")
    conf = qemuconf.load(root)
    assert conf.migrate_tls_x509_cert_dir == str(pki)
    assert conf.default_tls_x509_cert_dir == str(root / "etc" / "pki" / "qemu")
    assert conf.migrate_tls_x509_verify is True and conf.migrate_tls_force is True
