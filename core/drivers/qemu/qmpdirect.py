"""A new QEMU's monitor spoken to directly, on the thread that starts it.

A start's exchanges with QEMU (greeting, capabilities, the few setup
commands, cont) are strictly one after another, while on two CPUs QEMU's
own threads compete with ours.  Going through the QMP thread costs two
thread hops per command and Python work on both threads; on the start's
path that was 1-3 ms against raw QEMU's 0.4 ms for capabilities and cont.
So a Monitor begins direct: the starting thread writes each command and
reads up to its reply itself, handing the events it meets to the same
callbacks, in order, as the QMP thread would.  Then the socket is handed
to qemu.qmp (Monitor.hand_over), which never sees a byte twice: nothing is
read past the last reply wanted (MSG_PEEK finds the line's end first).
Messages are qemu.qmp's own Message objects.
"""

from __future__ import annotations

import itertools
import select
import socket
import time
from typing import Any, Callable, Optional

try:
    from qemu.qmp import Message
except ImportError:  # pragma: no cover - monitor.IMPORT_ERROR refuses the driver then
    Message = dict

EventHandler = Callable[[Any], None]   # the event's Message
Meanwhile = Callable[[Callable[[], bool]], None]

_PEEK = 65536


class MonitorError(Exception):
    """The monitor failed: `eof` when QEMU went away, else QEMU's error text
    (`qmp_class` its class) or a timeout.  (Here rather than in monitor.py,
    which has it from here, so that both modules raise the one kind.)"""

    def __init__(self, message: str, eof: bool = False,
                 qmp_class: Optional[str] = None) -> None:
        super().__init__(message)
        self.eof = eof
        self.qmp_class = qmp_class


class DirectSession:
    """One monitor socket in blocking use by one thread at a time (the
    owner serialises: Monitor holds its lock around every call)."""

    def __init__(self, sock: socket.socket, on_event: EventHandler) -> None:
        self.sock = sock
        self.on_event = on_event
        self.closed = False          # shut down under an exchange: give up
        self._ids = itertools.count(1)   # ints: qemu.qmp drops a stray one
        self._buf = b""

    def greet(self, timeout: float, meanwhile: Optional[Meanwhile] = None) -> None:
        """QEMU's greeting, then capabilities negotiation; `meanwhile(answered)`
        runs first, while QEMU boots."""
        deadline = time.monotonic() + timeout
        if meanwhile is not None:
            meanwhile(self._answered)
        greeting = self._read(deadline, "the monitor's greeting")
        if "QMP" not in greeting:
            raise MonitorError("QEMU's monitor did not greet", eof=True)
        self.execute_all([("qmp_capabilities", None)], deadline - time.monotonic())

    def execute_all(self, cmds: list[tuple[str, Optional[dict[str, Any]]]], timeout: float,
                    meanwhile: Optional[Meanwhile] = None) -> list[Any]:
        """Send `cmds` at once and read every reply (the stream stays clean
        for whoever reads next); their answers in order, or the first
        error.  Events met on the way go to on_event first."""
        deadline = time.monotonic() + timeout
        # short: QEMU reads a command a byte per main-loop turn (3-4 us each)
        ids = [next(self._ids) for _ in cmds]
        data = b"".join(bytes(Message({"execute": cmd, **({"arguments": args} if args else {}),
                                       "id": i}))
                        for (cmd, args), i in zip(cmds, ids))
        try:
            self.sock.sendall(data)
        except OSError as exc:
            raise MonitorError(str(exc), eof=True) from None
        if meanwhile is not None:
            meanwhile(self._answered)
        replies: dict[int, Message] = {}
        while len(replies) < len(ids):
            msg = self._read(deadline, f"QEMU command '{cmds[0][0]}'")
            if "event" in msg:
                self.on_event(msg)
            elif msg.get("id") in ids:
                replies[msg["id"]] = msg
        for i in ids:
            error = replies[i].get("error")
            if error is not None:
                raise MonitorError(str(error.get("desc", error)), qmp_class=error.get("class"))
        return [replies[i].get("return") for i in ids]

    def _answered(self) -> bool:
        try:
            return bool(select.select([self.sock], [], [], 0)[0])
        except (OSError, ValueError):
            return True

    def _read(self, deadline: float, what: str) -> Message:
        """The next message, and not a byte more."""
        while True:
            if self.closed:
                raise MonitorError("the monitor was closed", eof=True)
            left = deadline - time.monotonic()
            if left <= 0:
                raise MonitorError(f"timed out waiting for {what}")
            try:
                self.sock.settimeout(left)
                data = self.sock.recv(_PEEK, socket.MSG_PEEK)
                end = data.find(b"\n")
                if data:
                    data = self.sock.recv(end + 1 if end >= 0 else len(data))
            except TimeoutError:
                raise MonitorError(f"timed out waiting for {what}") from None
            except OSError as exc:
                raise MonitorError(str(exc), eof=True) from None
            if not data:
                raise MonitorError("QEMU closed the monitor", eof=True)
            self._buf += data
            if self._buf.endswith(b"\n"):
                line, self._buf = self._buf, b""
                if not line.strip():
                    continue
                try:
                    return Message(line)
                except Exception:   # qemu.qmp's DeserializationError and friends
                    raise MonitorError("QEMU's monitor sent garbage", eof=True) from None
