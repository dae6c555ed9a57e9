"""Just enough QMP over a unix socket for the raw-QEMU floors of `make bench`.

Commands are matched to their replies by id; events are kept and handed to
an optional hook as soon as they are read, so that a reaction (the
migration's migrate-continue at pre-switchover) goes out at once, as
directly as a client can: no thread, no event loop.  `pump` reads several
monitors at once until a condition holds.
"""

from __future__ import annotations

import itertools
import json
import select
import socket
import time
from typing import Any, Callable, Optional

EventHook = Callable[["Qmp", dict], None]


class Qmp:
    def __init__(self, sock: socket.socket, on_event: Optional[EventHook] = None) -> None:
        self.sock = sock
        self.buf = b""
        self.ids = itertools.count()
        self.on_event = on_event
        self.events: list[dict] = []
        self.read()                                   # the greeting
        self.call("qmp_capabilities")

    @classmethod
    def connect(cls, path: str, timeout: float = 30.0,
                on_event: Optional[EventHook] = None) -> "Qmp":
        """To a monitor QEMU listens on, retried while QEMU starts."""
        end = time.monotonic() + timeout
        while True:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                sock.connect(path)
                return cls(sock, on_event)
            except OSError:
                sock.close()
                if time.monotonic() > end:
                    raise
                time.sleep(0.002)

    def read(self) -> dict:
        """The next message; an event is recorded and hooked first."""
        while b"\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise EOFError("QEMU closed the monitor")
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        msg = json.loads(line)
        if "event" in msg:
            self.events.append(msg)
            if self.on_event is not None:
                self.on_event(self, msg)
        return msg

    def send(self, cmd: str, **args: Any) -> int:
        """Send `cmd` without waiting; its reply is skipped when read."""
        ident = next(self.ids)
        msg = {"execute": cmd, "id": ident, **({"arguments": args} if args else {})}
        self.sock.sendall(json.dumps(msg).encode() + b"\n")
        return ident

    def call(self, cmd: str, **args: Any) -> Any:
        ident = self.send(cmd, **args)
        while True:
            reply = self.read()
            if reply.get("id") != ident:
                continue
            if "error" in reply:
                raise RuntimeError(f"{cmd}: {reply['error'].get('desc', 'QMP error')}")
            return reply["return"]

    def pass_fd(self, fd: int, name: str) -> None:
        """getfd: `fd` passed along with the command (SCM_RIGHTS) and named."""
        ident = next(self.ids)
        msg = {"execute": "getfd", "id": ident, "arguments": {"fdname": name}}
        socket.send_fds(self.sock, [json.dumps(msg).encode() + b"\n"], [fd])
        while True:
            reply = self.read()
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"getfd: {reply['error'].get('desc', 'QMP error')}")
                return

    def close(self) -> None:
        self.sock.close()


def pump(qmps: list[Qmp], done: Callable[[], bool], timeout: float = 120.0) -> None:
    """Read every message the monitors send (events reach their hooks) until
    done() holds."""
    end = time.monotonic() + timeout
    while not done():
        waiting = [q for q in qmps if b"\n" in q.buf]
        if not waiting:
            left = end - time.monotonic()
            if left <= 0:
                raise RuntimeError(f"QEMU did not get there within {timeout:.0f} s")
            # a short wait: done() may be a moment rather than a message
            socks = select.select([q.sock for q in qmps], [], [], min(left, 0.005))[0]
            waiting = [q for q in qmps if q.sock in socks]
        for q in waiting:
            q.read()


def migration_status(qmp: Qmp) -> Optional[str]:
    """The status of the last MIGRATION event `qmp` read; a failure raises."""
    for msg in reversed(qmp.events):
        if msg["event"] == "MIGRATION":
            status = msg["data"]["status"]
            if status in ("failed", "cancelled"):
                raise RuntimeError(f"migration {status}")
            return str(status)
    return None
