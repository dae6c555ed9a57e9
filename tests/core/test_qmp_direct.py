"""The monitor spoken to directly on the starting thread (qmpdirect.py):
its framing against a scripted QMP peer on a socketpair, where the bytes
QEMU would send can be chosen exactly (split lines, trailing messages,
garbage).  The real QEMU side is in tests/qemu (every start goes direct)."""

from __future__ import annotations

import json
import socket
import threading

import pytest

from pyvirt.drivers.qemu.qmpdirect import MonitorError, DirectSession

GREETING = b'{"QMP": {"version": {}, "capabilities": []}}\r\n'


class Peer:
    """The QEMU end: answers each command it reads with `script(cmd, id)`
    (the bytes to send back), in a thread."""

    def __init__(self, sock: socket.socket, script) -> None:
        self.sock, self.script = sock, script
        self.commands: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self._serve()
        except OSError:   # the test is over: its sockets are closed
            pass

    def _serve(self) -> None:
        self.sock.sendall(GREETING)
        buf = b""
        decoder = json.JSONDecoder()
        while True:
            chunk = self.sock.recv(65536)
            if not chunk:
                return
            buf += chunk
            while buf.strip():
                try:
                    msg, end = decoder.raw_decode(buf.decode())
                except ValueError:
                    break
                buf = buf[end:].lstrip()
                self.commands.append(msg["execute"])
                for part in self.script(msg["execute"], msg["id"]):
                    self.sock.sendall(part)


def reply(msg_id: str, ret: object = None) -> bytes:
    return json.dumps({"return": {} if ret is None else ret, "id": msg_id}).encode() + b"\r\n"


def event(name: str) -> bytes:
    return json.dumps({"event": name, "data": {}, "timestamp": {"seconds": 1,
                                                               "microseconds": 2}}).encode() + b"\r\n"


@pytest.fixture
def pair():
    ours, theirs = socket.socketpair()
    yield ours, theirs
    ours.close()
    theirs.close()


def test_events_come_in_order_before_the_answer(pair) -> None:
    ours, theirs = pair

    def script(cmd, msg_id):
        if cmd == "qmp_capabilities":
            return [reply(msg_id)]
        # an event split across writes, then another glued to the reply
        first = event("RESUME")
        return [first[:7], first[7:], event("RTC_CHANGE") + reply(msg_id, {"x": 1})]

    Peer(theirs, script)
    seen = []
    session = DirectSession(ours, lambda msg: seen.append(str(msg["event"])))
    session.greet(5.0)
    assert session.execute_all([("cont", None)], 5.0) == [{"x": 1}]
    assert seen == ["RESUME", "RTC_CHANGE"]


def test_nothing_past_the_answer_is_read(pair) -> None:
    """What follows the last reply wanted stays in the socket, whole, for
    qemu.qmp to read after the hand-over."""
    ours, theirs = pair
    after = event("SHUTDOWN")
    Peer(theirs, lambda cmd, msg_id: [reply(msg_id) + after])
    session = DirectSession(ours, lambda msg: None)
    session.greet(5.0)
    session.execute_all([("cont", None)], 5.0)
    ours.settimeout(5.0)
    assert ours.recv(65536) == after


def test_answers_in_order_and_the_first_error(pair) -> None:
    ours, theirs = pair

    def script(cmd, msg_id):
        if cmd == "bad":
            return [json.dumps({"error": {"class": "GenericError", "desc": "no such thing"},
                                "id": msg_id}).encode() + b"\n"]
        return [reply(msg_id, cmd)]

    peer = Peer(theirs, script)
    session = DirectSession(ours, lambda msg: None)
    session.greet(5.0)
    assert session.execute_all([("a", None), ("b", {"k": 1})], 5.0) == ["a", "b"]
    with pytest.raises(MonitorError) as err:
        session.execute_all([("bad", None), ("c", None)], 5.0)
    assert (str(err.value), err.value.qmp_class, err.value.eof) == \
        ("no such thing", "GenericError", False)
    # every reply of the batch was read: the next command's is the next one
    assert session.execute_all([("d", None)], 5.0) == ["d"]
    assert peer.commands == ["qmp_capabilities", "a", "b", "bad", "c", "d"]


@pytest.mark.parametrize("sent", [b'{"return": {}, "id": "pyv', b'{"oops\n'],
                         ids=["cut-off", "garbage"])
def test_a_broken_stream_is_the_end(pair, sent) -> None:
    ours, theirs = pair

    def script(cmd, msg_id):
        if cmd == "qmp_capabilities":
            return [reply(msg_id)]
        theirs.sendall(sent)
        theirs.shutdown(socket.SHUT_WR)
        return []

    Peer(theirs, script)
    session = DirectSession(ours, lambda msg: None)
    session.greet(5.0)
    with pytest.raises(MonitorError) as err:
        session.execute_all([("cont", None)], 5.0)
    assert err.value.eof


def test_no_greeting_in_time(pair) -> None:
    ours, _ = pair
    with pytest.raises(MonitorError, match="timed out waiting for the monitor's greeting"):
        DirectSession(ours, lambda msg: None).greet(0.2)
