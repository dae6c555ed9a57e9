"""DIR/etc/qemu.conf of an embed root, as libvirt 9.0 reads it (only the keys
this driver uses; the others are parsed and ignored).

The syntax is libvirt's config format: ``key = value`` lines, values being
strings ("..." or '...'), integers, or lists ``[ v, v, ]``; ``#`` starts a
comment; ``;`` may end an assignment.  Booleans are the integers 0 and 1.
Wording, codes and error domains of the failures are libvirt's, as its embed
driver gives them on open (probed with python3-libvirt 9.0).

Certificate directories: the default one is ROOT/etc/pki/qemu in embed mode
(not /etc/pki/qemu); migration's falls back to /etc/pki/libvirt-migrate when
that exists, else to the default one.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import Optional, Union

from ... import errors
from ...errors import ErrorDomain, ErrorNumber

Value = Union[str, int, list["Value"]]
PORT_MIN, PORT_MAX = 49152, 49215       # libvirt's migration port range
SERVICE_MIGRATE_DIR = "/etc/pki/libvirt-migrate"


@dataclasses.dataclass(frozen=True)
class QemuConfig:
    """The settings of qemu.conf this driver acts on; ex) migrate_tls_x509_verify=True."""
    default_tls_x509_cert_dir: str
    migrate_tls_x509_cert_dir: str
    migrate_tls_x509_verify: bool = True
    migrate_tls_force: bool = False
    migration_port_min: int = PORT_MIN
    migration_port_max: int = PORT_MAX
    seccomp_sandbox: bool = True   # QEMU's -sandbox: on unless the file says 0


class _Reader:
    """One pass over the text; line numbers for the errors."""

    def __init__(self, text: str, path: str) -> None:
        self.text, self.path, self.pos, self.line = text, path, 0, 1

    def error(self, what: str) -> errors.VirtError:
        return errors.report(ErrorNumber.VIR_ERR_CONF_SYNTAX, ErrorDomain.VIR_FROM_CONF,
                             f"{self.path}:{self.line}: {what}")

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def blanks(self, newlines: bool = False) -> None:
        """Skip spaces (and, inside a list, newlines: not comments, as libvirt)."""
        while self.pos < len(self.text):
            c = self.text[self.pos]
            if c in " \t\r":
                self.pos += 1
            elif newlines and c == "\n":
                self.pos += 1
                self.line += 1
            else:
                return

    def comment(self) -> None:
        end = self.text.find("\n", self.pos)
        self.pos = len(self.text) if end < 0 else end

    def name(self) -> str:
        c = self.peek()
        if not (c.isascii() and (c.isalpha() or c == "_")):
            raise self.error("expecting a name")
        start = self.pos
        while self.peek() and self.peek().isascii() and (self.peek().isalnum()
                                                         or self.peek() in "_."):
            self.pos += 1
        return self.text[start:self.pos]

    def value(self) -> Value:
        c = self.peek()
        if c in ("'", '"'):
            return self.string(c)
        if c == "[":
            return self.list()
        if c and (c.isdigit() or c in "+-"):
            start = self.pos
            self.pos += 1
            while self.peek().isdigit():
                self.pos += 1
            try:
                return int(self.text[start:self.pos])
            except ValueError:
                raise self.error("expecting a value") from None
        raise self.error("expecting a value")

    def string(self, quote: str) -> str:
        if quote == '"' and self.text.startswith('"""', self.pos):
            end = self.text.find('"""', self.pos + 3)
            if end < 0:
                raise self.error("unterminated string")
            s = self.text[self.pos + 3:end]
            self.line += s.count("\n")
            self.pos = end + 3
            return s
        end = self.pos + 1
        while end < len(self.text) and self.text[end] not in (quote, "\n"):
            end += 1
        if end >= len(self.text) or self.text[end] != quote:
            raise self.error("unterminated string")
        s = self.text[self.pos + 1:end]
        self.pos = end + 1
        return s

    def list(self) -> list[Value]:
        self.pos += 1
        items: list[Value] = []
        self.blanks(newlines=True)
        while self.peek() != "]":
            items.append(self.value())
            self.blanks(newlines=True)
            if self.peek() == ",":
                self.pos += 1
                self.blanks(newlines=True)
            elif self.peek() != "]":
                raise self.error("list is not closed with ]")
        self.pos += 1
        return items

    def separator(self) -> None:
        self.blanks()
        c = self.peek()
        if c == ";":   # another assignment may follow on the line
            self.pos += 1
            return
        if c == "#":
            self.comment()
            c = self.peek()
        if c == "\n":
            self.pos += 1
            self.line += 1
        elif c:
            raise self.error("expecting a separator")


def parse(text: str, path: str) -> dict[str, Value]:
    """libvirt's config syntax -> {key: value}; a later assignment wins."""
    r = _Reader(text, path)
    out: dict[str, Value] = {}
    while r.pos < len(r.text):
        r.blanks()
        c = r.peek()
        if c == "#":
            r.comment()
        if r.peek() in ("\n", ""):
            if r.peek():
                r.pos += 1
                r.line += 1
            continue
        key = r.name()
        r.blanks()
        if r.peek() != "=":
            raise r.error("expecting an assignment")
        r.pos += 1
        r.blanks()
        out[key] = r.value()
        r.separator()
    return out


def _wrong(path: str, detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_CONF,
                         f"{path}: {detail}")


def _string(conf: dict[str, Value], key: str, path: str) -> Optional[str]:
    v = conf.get(key)
    if v is not None and not isinstance(v, str):
        raise _wrong(path, f"expected a string for '{key}' parameter")
    return v


def _bool(conf: dict[str, Value], key: str, path: str) -> Optional[bool]:
    v = conf.get(key)
    if v is None:
        return None
    if not isinstance(v, int) or v < 0:
        raise _wrong(path, f"expected a bool for '{key}' parameter")
    if v > 1:
        raise _wrong(path, f"value for '{key}' parameter must be 0 or 1")
    return bool(v)


def _uint(conf: dict[str, Value], key: str, path: str, default: int) -> int:
    v = conf.get(key)
    if v is None:
        return default
    if not isinstance(v, int) or v < 0:
        raise _wrong(path, f"expected an unsigned integer for '{key}' parameter")
    if v > 0xFFFFFFFF:
        raise _wrong(path, f"value for '{key}' parameter must be in range 0:{0xFFFFFFFF}")
    return v


def _int(conf: dict[str, Value], key: str, path: str) -> Optional[int]:
    v = conf.get(key)
    if v is not None and not isinstance(v, int):
        raise _wrong(path, f"expected a signed integer for '{key}' parameter")
    return v


def _qemu_error(code: ErrorNumber, detail: str) -> errors.VirtError:
    return errors.report(code, ErrorDomain.VIR_FROM_QEMU, detail)


def load(root: Path) -> QemuConfig:
    """ROOT/etc/qemu.conf, checked as libvirt checks it when the driver opens."""
    path = root / "etc" / "qemu.conf"
    try:
        text = path.read_text()
    except FileNotFoundError:
        text = ""
    conf = parse(text, str(path))
    spath = str(path)
    default_dir = _string(conf, "default_tls_x509_cert_dir", spath)
    default_verify = _bool(conf, "default_tls_x509_verify", spath)
    migrate_dir = _string(conf, "migrate_tls_x509_cert_dir", spath)
    migrate_verify = _bool(conf, "migrate_tls_x509_verify", spath)
    force = _bool(conf, "migrate_tls_force", spath)
    port_min = _uint(conf, "migration_port_min", spath, PORT_MIN)
    port_max = _uint(conf, "migration_port_max", spath, PORT_MAX)
    sandbox = _int(conf, "seccomp_sandbox", spath)   # libvirt: any value but 0 is on
    if port_min <= 0:
        raise _qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                          f"{spath}: migration_port_min: port must be greater than 0")
    if port_max > 65535 or port_max < port_min:
        raise _qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                          f"{spath}: migration_port_max: port must be between the "
                          f"minimal port {port_min} and 65535")
    for key, given in (("default_tls_x509_cert_dir", default_dir),
                       ("migrate_tls_x509_cert_dir", migrate_dir)):
        if given is not None and not os.path.exists(given):
            raise _qemu_error(ErrorNumber.VIR_ERR_CONF_SYNTAX,
                              f"{key} directory '{given}' does not exist")
    default_dir = default_dir or str(root / "etc" / "pki" / "qemu")
    if migrate_dir is None:
        migrate_dir = (SERVICE_MIGRATE_DIR if os.path.exists(SERVICE_MIGRATE_DIR)
                       else default_dir)
    if migrate_verify is None:
        migrate_verify = default_verify if default_verify is not None else True
    return QemuConfig(default_dir, migrate_dir, migrate_verify, bool(force),
                      port_min, port_max, sandbox != 0)
