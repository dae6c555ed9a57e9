"""The monitors' unix sockets, at paths longer than a sun_path holds.

A root deep in the file system gives monitor paths over sun_path's 108
bytes; those are reached through /proc/self/fd/DIRFD/NAME, DIRFD being
the socket's folder, opened for the call.
"""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Optional


def _unix_path(path: str) -> tuple[str, Optional[int]]:
    """A sun_path for `path`; long paths go through /proc/self/fd/DIRFD/NAME."""
    if len(path.encode()) < 100:
        return path, None
    dirfd = os.open(os.path.dirname(path), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    return f"/proc/self/fd/{dirfd}/{os.path.basename(path)}", dirfd


def unix_listen(path: str) -> socket.socket:
    addr, dirfd = _unix_path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        sock.bind(addr)
        sock.listen(1)
    except OSError:
        sock.close()
        raise
    finally:
        if dirfd is not None:
            os.close(dirfd)
    return sock


def unix_connect(path: str) -> socket.socket:
    addr, dirfd = _unix_path(path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(addr)
    except OSError:
        sock.close()
        raise
    finally:
        if dirfd is not None:
            os.close(dirfd)
    return sock
