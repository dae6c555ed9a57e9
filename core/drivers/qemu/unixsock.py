"""The monitors' unix sockets, at paths longer than a sun_path holds.

A root deep in the file system gives monitor paths over sun_path's 108
bytes; those are reached through /proc/self/fd/DIRFD/NAME, DIRFD being
the socket's folder, opened for the call.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Iterator, Optional


def _unix_path(path: str) -> tuple[str, Optional[int]]:
    """A sun_path for `path`; long paths go through /proc/self/fd/DIRFD/NAME."""
    if len(path.encode()) < 100:
        return path, None
    dirfd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{dirfd}/{os.path.basename(path)}", dirfd


@contextlib.contextmanager
def _socket_at(path: str) -> Iterator[tuple[socket.socket, str]]:
    """A new unix stream socket and the address to reach `path` by; the
    socket is closed if the caller's block fails."""
    addr, dirfd = _unix_path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        yield sock, addr
    except BaseException:
        sock.close()
        raise
    finally:
        if dirfd is not None:
            os.close(dirfd)


def unix_listen(path: str) -> socket.socket:
    with _socket_at(path) as (sock, addr):
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock.bind(addr)
        os.chmod(addr, 0o775)   # as libvirt's, which binds under umask 002
        sock.listen(1)
    return sock


def unix_connect(path: str) -> socket.socket:
    with _socket_at(path) as (sock, addr):
        sock.connect(addr)
    return sock
