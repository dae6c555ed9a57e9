"""Streams (virStreamPtr): a handle the application makes with virStreamNew
and a driver later attaches a data source or sink to (virDomainScreenshot,
virStorageVolUpload/Download, ...), as libvirt's virStream and its
virStreamDriver.

A Stream with no backend answers VIR_ERR_NO_SUPPORT for the data calls,
and virStreamAbort on it is a no-op, as in libvirt.  FileStream is
libvirt's fdstream for a local file: reads and writes go to a file
descriptor, events are event-loop watches on it, and after finish/abort
every data call fails with "stream is not open".
"""

from __future__ import annotations

import os
import threading
from typing import Any, Callable, Optional, Union

from . import eventloop
from .errors import ErrorDomain, ErrorNumber, VirtError, no_support, report
from .objects import Connect

S = ErrorDomain.VIR_FROM_STREAMS
VIR_STREAM_NONBLOCK = 1
VIR_STREAM_RECV_STOP_AT_HOLE = 1
EventCallback = Callable[[Any, int], None]
FreeCallback = Optional[Callable[[], None]]
RecvResult = Union[bytes, int]   # data (b'' at the end), -2 would block, -3 at a hole


def system_error(errno: int, what: str) -> VirtError:
    """virReportSystemError in the streams domain: 'what: strerror'."""
    message = f"{what}: {os.strerror(errno)}"
    return VirtError(ErrorNumber.VIR_ERR_SYSTEM_ERROR, S, message, str1="%s", str2=message,
                     int1=errno)


def _not_open() -> VirtError:
    return report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S, "stream is not open")


class Stream:
    """A stream handle; `backend` is what a driver attached, or None."""

    def __init__(self, conn: Connect, flags: int) -> None:
        self.conn = conn
        self.flags = flags
        self.backend: Optional[StreamBackend] = None
        self.lock = threading.RLock()

    @property
    def nonblocking(self) -> bool:
        return bool(self.flags & VIR_STREAM_NONBLOCK)

    def attach(self, backend: "StreamBackend") -> None:
        """A driver takes the stream (a stream used again gets the new backend)."""
        with self.lock:
            old, self.backend = self.backend, backend
        if old is not None:
            old.close()

    def call(self, fn: str, op: str, *args: Any) -> Any:
        """Run backend operation `op`; NO_SUPPORT naming `fn` when it has none."""
        with self.lock:
            backend = self.backend
            method = getattr(backend, op, None) if backend is not None else None
            if method is None:
                raise no_support(fn, S)
            return method(*args)

    def __repr__(self) -> str:
        return f"<Stream {self.backend!r} flags={self.flags:#x}>"


class StreamBackend:
    """What a driver attaches to a stream.  Each operation a backend lacks
    (send, recv, recv_flags, send_hole, recv_hole, event_add, event_update,
    event_remove) makes its public function fail with VIR_ERR_NO_SUPPORT;
    finish and abort always exist."""

    def finish(self) -> None:
        self.close()

    def abort(self) -> None:
        self.close()

    def close(self) -> None:
        """Release what the backend holds; called once it is no longer used."""


class FileStream(StreamBackend):
    """A local file as stream data (libvirt's virFDStreamOpenFile): `length`
    bytes from `offset` (0: to the end), opened for reading or writing; or,
    with `fd`, a descriptor already open both ways (a console's pty, a
    channel's socket), closed with the stream, `on_close` told then."""

    def __init__(self, stream: Stream, path: str, offset: int = 0, length: int = 0,
                 write: bool = False, fd: Optional[int] = None,
                 on_close: Optional[Callable[[], None]] = None) -> None:
        if fd is None:
            mode = os.O_WRONLY if write else os.O_RDONLY
            try:
                fd = os.open(path, mode | os.O_CLOEXEC)
            except OSError as e:
                raise system_error(e.errno or 5, f"Unable to open stream for '{path}'") from None
        self.fd: Optional[int] = fd
        self.on_close = on_close
        self.ended = False
        if offset:
            os.lseek(fd, offset, os.SEEK_SET)
        self.stream = stream
        self.left = length or -1   # bytes still to transfer; -1 unlimited
        self.watch = 0
        self.cb: Optional[EventCallback] = None
        self.ff: FreeCallback = None

    def __repr__(self) -> str:
        return f"<FileStream fd={self.fd}>"

    def _fd(self) -> int:
        if self.fd is None:
            raise _not_open()
        return self.fd

    def end(self) -> None:
        """The device behind it is gone (its domain stopped): what is left
        to read is the end of the data, as libvirt's stream shows it."""
        self.close()
        self.ended = True

    def send(self, data: bytes) -> int:
        fd = self._fd()
        if self.left >= 0:
            data = data[:self.left]
        try:
            done = os.write(fd, data)
        except BlockingIOError:
            return -2
        except OSError as e:
            raise system_error(e.errno or 5, "cannot write to stream") from None
        if self.left >= 0:
            self.left -= done
        return done

    def recv(self, nbytes: int) -> RecvResult:
        if self.ended:
            return b""
        fd = self._fd()
        if self.left >= 0:
            nbytes = min(nbytes, self.left)
        try:
            data = os.read(fd, nbytes) if nbytes else b""
        except BlockingIOError:
            return -2
        except OSError as e:
            raise system_error(e.errno or 5, "cannot read from stream") from None
        if self.left >= 0:
            self.left -= len(data)
        return data

    def event_add(self, events: int, cb: EventCallback, ff: FreeCallback) -> None:
        fd = self._fd()
        if self.watch:
            raise report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S,
                         "stream already has a callback registered")
        impl = eventloop.current_impl()
        stream = self.stream
        watch = -1
        if impl is not None:
            watch = impl.add_handle(fd, events, lambda _w, _fd, ev: cb(stream, ev), None)
        if watch < 0:
            raise report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S,
                         "cannot register file watch on stream")
        self.watch, self.cb, self.ff = watch, cb, ff

    def _watch(self) -> int:
        self._fd()
        if not self.watch:
            raise report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S,
                         "stream does not have a callback registered")
        return self.watch

    def event_update(self, events: int) -> None:
        watch = self._watch()
        impl = eventloop.current_impl()
        if impl is not None:
            impl.update_handle(watch, events)

    def event_remove(self) -> None:
        self._watch()
        self._drop_watch()

    def _drop_watch(self) -> None:
        watch, ff = self.watch, self.ff
        self.watch, self.cb, self.ff = 0, None, None
        impl = eventloop.current_impl()
        if watch and impl is not None:
            impl.remove_handle(watch)
        if watch and ff is not None:
            ff()

    def close(self) -> None:
        self._drop_watch()
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)
            if self.on_close is not None:
                self.on_close()

    def __del__(self) -> None:
        if getattr(self, "fd", None) is not None:
            os.close(self.fd)   # type: ignore[arg-type]


class LoopbackStream(StreamBackend):
    """Bytes sent come back out of recv, holes included: a test double for the
    stream machinery (the test driver has no read-write stream user)."""

    def __init__(self) -> None:
        self.chunks: list[Union[bytes, int]] = []   # data, or a hole's length
        self.closed = False
        self.ended = False

    def _open(self) -> None:
        if self.closed:
            raise _not_open()

    def send(self, data: bytes) -> int:
        self._open()
        self.chunks.append(bytes(data))
        return len(data)

    def send_hole(self, length: int, flags: int) -> None:
        self._open()
        self.chunks.append(length)

    def recv(self, nbytes: int) -> RecvResult:
        return self.recv_flags(nbytes, 0)

    def recv_flags(self, nbytes: int, flags: int) -> RecvResult:
        self._open()
        while self.chunks:
            head = self.chunks[0]
            if isinstance(head, int):
                if flags & VIR_STREAM_RECV_STOP_AT_HOLE:
                    return -3
                self.chunks[0] = b"\0" * head
                continue
            data, rest = head[:nbytes], head[nbytes:]
            if rest:
                self.chunks[0] = rest
            else:
                self.chunks.pop(0)
            return data
        return b""

    def recv_hole(self, flags: int) -> int:
        self._open()
        if not self.chunks or not isinstance(self.chunks[0], int):
            raise report(ErrorNumber.VIR_ERR_OPERATION_INVALID, S, "Invalid stream hole")
        length = self.chunks.pop(0)
        assert isinstance(length, int)
        return length

    def close(self) -> None:
        self.closed = True

    def finish(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.closed = True
        self.chunks.clear()
