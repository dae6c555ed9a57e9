"""virDomainOpenConsole and virDomainOpenChannel: a stream on a running
domain's pty console (made raw, as a terminal program wants it) or on a
channel's unix socket, as libvirt 9.0's QEMU driver gives them.  One
stream per device at a time: another open fails unless FORCE, which
aborts the stream that had it."""

from __future__ import annotations

import os
import termios
import threading
from typing import TYPE_CHECKING, Callable, Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...stream import FileStream, Stream, system_error
from .unixsock import unix_connect

if TYPE_CHECKING:
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
CONSOLE_FORCE, CONSOLE_SAFE = 1, 2
CHANNEL_FORCE = 1


def _alias(dev: etree._Element) -> Optional[str]:
    alias = dev.find("alias")
    return alias.get("name") if alias is not None else None


def _console(d: DomainDef, name: Optional[str]) -> Optional[tuple[etree._Element, str]]:
    """The first console (else serial port), or the console, serial or
    parallel port whose alias is `name`, looked for in that order; with
    libvirt's own alias for it (a console's is consoleN, whatever its XML
    shows for the serial port it stands for)."""
    kinds = ("console", "serial") if name is None else ("console", "serial", "parallel")
    for kind in kinds:
        for index, dev in enumerate(dev for dev in d.devices if dev.tag == kind):
            alias = f"console{index}" if kind == "console" else (_alias(dev) or "")
            if name is None or alias == name:
                return dev, alias
    return None


def _channel(d: DomainDef, name: Optional[str]) -> Optional[etree._Element]:
    for dev in (dev for dev in d.devices if dev.tag == "channel"):
        target = dev.find("target")
        if name is not None and (_alias(dev) == name or (
                target is not None and target.get("name") == name)):
            return dev
    return None


def _source_path(dev: etree._Element) -> str:
    source = dev.find("source")
    return (source.get("path") or "") if source is not None else ""


def _open_pty(path: str, nonblocking: bool) -> int:
    """The pty opened both ways and made raw (cfmakeraw's flags)."""
    flags = os.O_RDWR | os.O_NOCTTY | os.O_CLOEXEC | (os.O_NONBLOCK if nonblocking else 0)
    try:
        fd = os.open(path, flags)
    except OSError as e:
        raise system_error(e.errno or 5, f"Unable to open stream for '{path}'") from None
    try:
        iflag, oflag, cflag, lflag, ispeed, ospeed, cc = termios.tcgetattr(fd)
        iflag &= ~(termios.IGNBRK | termios.BRKINT | termios.PARMRK | termios.ISTRIP
                   | termios.INLCR | termios.IGNCR | termios.ICRNL | termios.IXON)
        oflag &= ~termios.OPOST
        lflag &= ~(termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG
                   | termios.IEXTEN)
        cflag = (cflag & ~(termios.CSIZE | termios.PARENB)) | termios.CS8
        termios.tcsetattr(fd, termios.TCSANOW, [iflag, oflag, cflag, lflag, ispeed, ospeed, cc])
    except termios.error:
        pass   # not a terminal after all: a plain device stream
    return fd


class CharDevices:
    """Mixed into QemuDriver (which supplies lock, _running, live_def)."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _running(self, dom: Domain, domain: int = ...) -> tuple[DomainObj, Runtime]: ...
        def live_def(self, obj: DomainObj, inactive: bool = False) -> DomainDef: ...

    def domain_open_console(self, dom: Domain, dev_name: Optional[str], stream: Stream,
                            flags: int) -> None:
        errors.check_flags(flags, CONSOLE_FORCE | CONSOLE_SAFE, "qemuDomainOpenConsole", Q)
        obj, rt = self._running(dom)
        with self.lock:
            found = _console(self.live_def(obj), dev_name)
        if found is None:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"cannot find character device {dev_name or '<null>'}")
        dev, alias = found
        if dev.get("type", "pty") != "pty" or not _source_path(dev):
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"character device {dev_name or alias} is not using a PTY")
        path = _source_path(dev)
        self._attach(rt, stream, path, bool(flags & CONSOLE_FORCE), "console session",
                     lambda: _open_pty(path, stream.nonblocking))

    def domain_open_channel(self, dom: Domain, name: Optional[str], stream: Stream,
                            flags: int) -> None:
        errors.check_flags(flags, CHANNEL_FORCE, "qemuDomainOpenChannel", Q)
        obj, rt = self._running(dom)
        with self.lock:
            dev = _channel(self.live_def(obj), name)
        if dev is None:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"cannot find channel {name or '<null>'}")
        if dev.get("type") != "unix" or not _source_path(dev):
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"channel {name} is not using a UNIX socket")
        path = _source_path(dev)

        def connect() -> int:
            try:
                sock = unix_connect(path)
            except OSError as e:
                raise system_error(e.errno or 5, f"Unable to connect to '{path}'") from None
            sock.setblocking(not stream.nonblocking)
            return sock.detach()
        self._attach(rt, stream, path, bool(flags & CHANNEL_FORCE), "channel stream", connect)

    def _attach(self, rt: Runtime, stream: Stream, path: str, force: bool, kind: str,
                open_fd: Callable[[], int]) -> None:
        with self.lock:
            holder = rt.streams.get(path)
            if holder is not None and not force:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                    f"Active {kind} exists for this domain")
            rt.streams[path] = stream
        if holder is not None and holder is not stream and holder.backend is not None:
            holder.backend.abort()   # its user sees the stream end
        try:
            fd = open_fd()
        except BaseException:
            self._release(rt, path, stream)
            raise
        stream.attach(FileStream(stream, path, fd=fd,
                                 on_close=lambda: self._release(rt, path, stream)))

    def _release(self, rt: Runtime, path: str, stream: Stream) -> None:
        with self.lock:
            if rt.streams.get(path) is stream:
                del rt.streams[path]
