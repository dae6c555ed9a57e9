"""Streams in the core: the Stream handle and its backends, the *All helpers
looping over Python callbacks (round trips through a loopback backend, holes
included), and the test driver's virDomainScreenshot, compared with real
libvirt where it is installed."""

from __future__ import annotations

import errno
import threading

import pytest

from conftest import need_real, ours, real
from pyvirt import api
from pyvirt.errors import VirtError
from pyvirt.stream import LoopbackStream, VIR_STREAM_NONBLOCK

PNG = b"\x89PNG\r\n\x1a\n"


def _shot(conn, flags=0):
    st = api.virStreamNew(conn, flags)
    assert api.virDomainScreenshot(api.virDomainLookupByName(conn, "test"), st, 0, 0) \
        == "image/png"
    return st


def _read_all(st, chunk=1000) -> bytes:
    data = b""
    while True:
        got = api.virStreamRecv(st, chunk)
        if not got:
            return data
        data += got


def _loopback(conn, flags=0):
    st = api.virStreamNew(conn, flags)
    st.attach(LoopbackStream())
    return st


@need_real
def test_screenshot_is_real_libvirts_image(conn, rconn):
    st = _shot(conn)
    data = _read_all(st)
    api.virStreamFinish(st)
    rst = rconn.newStream(0)
    assert rconn.lookupByName("test").screenshot(rst, 0, 0) == "image/png"
    chunks: list[bytes] = []
    rst.recvAll(lambda s, b, acc: acc.append(b), chunks)
    rst.finish()
    assert data.startswith(PNG) and data == b"".join(chunks)


def test_recv_all_and_finish(conn):
    st = _shot(conn)
    seen: list[bytes] = []
    api.virStreamRecvAll(st, lambda s, data: seen.append(data) or len(data))
    assert b"".join(seen).startswith(PNG) and len(seen) == 1   # one 256 KiB chunk
    api.virStreamFinish(st)
    api.virStreamFinish(st)   # again: still fine, as libvirt's
    with pytest.raises(VirtError, match="stream is not open"):
        api.virStreamRecv(st, 10)
    api.virStreamAbort(st)


def test_a_sink_taking_part_of_each_chunk_is_called_again(conn):
    st = _shot(conn)
    sizes: list[int] = []

    def sink(_st, data):
        sizes.append(len(data))
        return min(len(data), 10000)
    api.virStreamRecvAll(st, sink)
    assert sizes == [33443, 23443, 13443, 3443]


def _raising(*_a):
    raise OSError(errno.EIO, "no")


# case -> (how ours is driven, how python3-libvirt is, or the C wording where
# python3-libvirt loops in Python itself and never reaches libvirt's helper)
CASES = {
    "unused send": (lambda st: api.virStreamSend(st, b"x"), lambda st: st.send(b"x")),
    "unused recv": (lambda st: api.virStreamRecv(st, 5), lambda st: st.recv(5)),
    "unused finish": (api.virStreamFinish, lambda st: st.finish()),
    "unused hole": (lambda st: api.virStreamRecvHole(st, 0), lambda st: st.recvHole(0)),
    "nonblock recvall": (lambda st: api.virStreamRecvAll(st, lambda s, d: len(d)),
                         (55, 38, "Requested operation is not valid: data sinks cannot be "
                          "used for non-blocking streams")),
    "nonblock sendall": (lambda st: api.virStreamSendAll(st, lambda s, n: b""),
                         (55, 38, "Requested operation is not valid: data sources cannot "
                          "be used for non-blocking streams")),
    "failing sink": (lambda st: api.virStreamRecvAll(st, _raising),
                     (38, 38, "recv handler failed: Input/output error")),
}


@need_real
@pytest.mark.parametrize("case", sorted(CASES))
def test_errors_as_real_libvirt(conn, rconn, case):
    drive_ours, reference = CASES[case]
    st = api.virStreamNew(conn, VIR_STREAM_NONBLOCK if case.startswith("nonblock") else 0)
    if not case.startswith("unused"):
        api.virDomainScreenshot(api.virDomainLookupByName(conn, "test"), st, 0, 0)
    got = ours(lambda: drive_ours(st))
    want = ("err", *reference) if isinstance(reference, tuple) else \
        real(lambda: reference(rconn.newStream(0)))
    assert got == want


@need_real
def test_screenshot_arguments_as_real_libvirt(conn, rconn):
    import libvirt
    other, rother = api.virConnectOpen("test:///default"), libvirt.open("test:///default")
    dom, rdom = api.virDomainLookupByName(conn, "test"), rconn.lookupByName("test")
    try:
        assert ours(lambda: api.virDomainScreenshot(dom, api.virStreamNew(other, 0), 0, 0)) \
            == real(lambda: rdom.screenshot(rother.newStream(0), 0, 0))
        assert ours(lambda: api.virDomainScreenshot(dom, api.virStreamNew(conn, 0), 0, 2)) \
            == real(lambda: rdom.screenshot(rconn.newStream(0), 0, 2))
        assert ours(lambda: api.virDomainScreenshot(dom, None, 0, 0))[:3] == \
            ("err", 73, 38)
    finally:
        api.virConnectClose(other)
        rother.close()
    assert ours(lambda: api.virStreamAbort(api.virStreamNew(conn, 0))) == ("ok", None)


def test_round_trip_send_all_recv_all(conn):
    st = _loopback(conn)
    payload = bytes(range(256)) * 3000   # 768000 bytes: several 256 KiB chunks
    pieces = [payload[i:i + 100000] for i in range(0, len(payload), 100000)]
    api.virStreamSendAll(st, lambda s, n: pieces.pop(0) if pieces else b"")
    out: list[bytes] = []
    api.virStreamRecvAll(st, lambda s, data: out.append(data) or len(data))
    assert b"".join(out) == payload
    assert max(len(b) for b in out) <= 262120


def test_round_trip_sparse(conn):
    """Data, a hole, data: the sparse helpers carry the hole as a hole."""
    st = _loopback(conn)
    sections = [(True, 5), (False, 1 << 20), (True, 3)]
    source_data = [b"hello", b"bye"]
    skipped: list[int] = []

    def hole_source(_st):
        return sections.pop(0) if sections else (True, 0)
    api.virStreamSparseSendAll(st, lambda s, n: source_data.pop(0) if source_data else b"",
                               hole_source, lambda s, length: skipped.append(length))
    assert skipped == [1 << 20]
    got: list = []
    api.virStreamSparseRecvAll(st, lambda s, data: got.append(data) or len(data),
                               lambda s, length: got.append(length))
    assert got == [b"hello", 1 << 20, b"bye"]


def test_recv_flags_stops_at_holes(conn):
    st = _loopback(conn)
    api.virStreamSend(st, b"ab")
    api.virStreamSendHole(st, 4096, 0)
    assert api.virStreamRecvFlags(st, 10, 1) == b"ab"
    assert api.virStreamRecvFlags(st, 10, 1) == -3
    assert api.virStreamRecvHole(st, 0) == 4096
    assert api.virStreamRecvFlags(st, 10, 1) == b""


def test_failing_source_aborts_with_errno(conn):
    st = _loopback(conn)

    def source(_st, _n):
        raise OSError(errno.ENOSPC, "full")
    with pytest.raises(VirtError, match="send handler failed: No space left on device"):
        api.virStreamSendAll(st, source)
    with pytest.raises(VirtError, match="stream is not open"):
        api.virStreamSend(st, b"x")


def test_nonblocking_stream_events_run_on_the_loop_thread(conn, loops):
    st = _shot(conn, VIR_STREAM_NONBLOCK)
    data: list[bytes] = []
    done = threading.Event()
    threads: set[str] = set()
    freed: list[bool] = []

    def on_event(stream, events):
        threads.add(threading.current_thread().name)
        got = api.virStreamRecv(stream, 4096)
        if got == -2:
            return
        if not got:
            api.virStreamEventRemoveCallback(stream)
            done.set()
            return
        data.append(got)
    api.virStreamEventAddCallback(st, 1, on_event, lambda: freed.append(True))
    assert done.wait(10)
    assert b"".join(data).startswith(PNG) and len(b"".join(data)) == 33443
    assert threads == {"pyvirt-loop"} and freed == [True]
    api.virStreamFinish(st)
