"""Public stream functions (virStream*) and the domain functions that hand a
stream to the driver (virDomainScreenshot).

Results: virStreamSend -> bytes written or -2 (would block); virStreamRecv
and virStreamRecvFlags -> bytes (b'' at the end), -2 (would block) or -3
(at a hole, VIR_STREAM_RECV_STOP_AT_HOLE); virStreamRecvHole -> the hole's
length.  The *All helpers take the C callbacks as Python callables, the
stream first: source(st, nbytes) -> bytes (b'' ends); sink(st, data) ->
bytes consumed; hole source(st) -> (in_data, section length); skip(st,
length); hole sink(st, length).  A callback fails by raising OSError (its
errno is reported, EIO when it has none).
"""

from __future__ import annotations

import errno as errnomod
from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect, Domain
from ..stream import (VIR_STREAM_RECV_STOP_AT_HOLE, FreeCallback, RecvResult, Stream,
                      system_error)
from . import _common as c

S = ErrorDomain.VIR_FROM_STREAMS
D = ErrorDomain.VIR_FROM_DOMAIN
# libvirt's VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX: the chunk the *All helpers move at once.
CHUNK = 262120

__all__ = [
    "virStreamNew", "virStreamSend", "virStreamRecv", "virStreamRecvFlags",
    "virStreamSendHole", "virStreamRecvHole", "virStreamSendAll", "virStreamRecvAll",
    "virStreamSparseSendAll", "virStreamSparseRecvAll", "virStreamEventAddCallback",
    "virStreamEventUpdateCallback", "virStreamEventRemoveCallback", "virStreamFinish",
    "virStreamAbort", "virDomainScreenshot", "virDomainOpenConsole", "virDomainOpenChannel",
]


def _st(stream: Any, fn: str) -> Stream:
    result: Stream = c.handle(stream, Stream, ErrorNumber.VIR_ERR_INVALID_STREAM, S, fn)
    return result


def virStreamNew(conn: Connect, flags: int) -> Stream:
    return Stream(c.conn(conn, "virStreamNew", S), flags)


def virStreamSend(stream: Stream, data: Optional[bytes]) -> int:
    st = _st(stream, "virStreamSend")
    c.non_null(data, "data", "virStreamSend", S)
    return int(st.call("virStreamSend", "send", bytes(data or b"")))


def virStreamRecv(stream: Stream, nbytes: int) -> RecvResult:
    st = _st(stream, "virStreamRecv")
    result: RecvResult = st.call("virStreamRecv", "recv", nbytes)
    return result


def virStreamRecvFlags(stream: Stream, nbytes: int, flags: int) -> RecvResult:
    st = _st(stream, "virStreamRecvFlags")
    result: RecvResult = st.call("virStreamRecvFlags", "recv_flags", nbytes, flags)
    return result


def virStreamSendHole(stream: Stream, length: int, flags: int) -> None:
    st = _st(stream, "virStreamSendHole")
    st.call("virStreamSendHole", "send_hole", length, flags)


def virStreamRecvHole(stream: Stream, flags: int) -> int:
    st = _st(stream, "virStreamRecvHole")
    return int(st.call("virStreamRecvHole", "recv_hole", flags))


def virStreamFinish(stream: Stream) -> None:
    _st(stream, "virStreamFinish").call("virStreamFinish", "finish")


def virStreamAbort(stream: Stream) -> None:
    st = _st(stream, "virStreamAbort")
    if st.backend is not None:   # a stream no driver took: nothing to abort
        st.call("virStreamAbort", "abort")


def virStreamEventAddCallback(stream: Stream, events: int, cb: Any,
                              ff: FreeCallback) -> None:
    st = _st(stream, "virStreamEventAddCallback")
    st.call("virStreamEventAddCallback", "event_add", events, cb, ff)


def virStreamEventUpdateCallback(stream: Stream, events: int) -> None:
    st = _st(stream, "virStreamEventUpdateCallback")
    st.call("virStreamEventUpdateCallback", "event_update", events)


def virStreamEventRemoveCallback(stream: Stream) -> None:
    st = _st(stream, "virStreamEventRemoveCallback")
    st.call("virStreamEventRemoveCallback", "event_remove")


# -- the all-at-once helpers: loops over the application's callbacks

def _blocking(st: Stream, what: str) -> None:
    if st.nonblocking:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, S,
                            f"data {what} cannot be used for non-blocking streams")


def _handler(call: Callable[[], Any], what: str) -> Any:
    """Run one application callback; its failure becomes libvirt's system error
    (`what` names the callback: 'send' -> "send handler failed: ...")."""
    try:
        return call()
    except OSError as e:
        message = "unable to skip hole" if what == "skip" else f"{what} handler failed"
        raise system_error(e.errno or errnomod.EIO, message) from None


def _aborting(st: Stream, run: Callable[[], None]) -> None:
    """Run `run`; on failure abort the stream, keeping the first error."""
    try:
        run()
    except BaseException:
        try:
            virStreamAbort(st)
        except errors.VirtError:
            pass
        raise


def _send(st: Stream, data: bytes) -> None:
    while data:
        done = virStreamSend(st, data)
        if done < 0:   # would block: cannot happen on a blocking stream
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S, "stream would block")
        data = data[done:]


def _sink(st: Stream, handler: Any, data: bytes) -> None:
    while data:
        done = int(_handler(lambda: handler(st, data), "recv"))
        data = data[done:]


def virStreamSendAll(stream: Stream, handler: Any) -> None:
    st = _st(stream, "virStreamSendAll")
    c.non_null(handler, "handler", "virStreamSendAll", S)
    _blocking(st, "sources")

    def run() -> None:
        while True:
            data = _handler(lambda: handler(st, CHUNK), "send")
            if not data:
                return
            _send(st, bytes(data))
    _aborting(st, run)


def virStreamRecvAll(stream: Stream, handler: Any) -> None:
    st = _st(stream, "virStreamRecvAll")
    c.non_null(handler, "handler", "virStreamRecvAll", S)
    _blocking(st, "sinks")

    def run() -> None:
        while True:
            data = virStreamRecv(st, CHUNK)
            if isinstance(data, int) or not data:
                return
            _sink(st, handler, data)
    _aborting(st, run)


def virStreamSparseSendAll(stream: Stream, handler: Any, holeHandler: Any,
                           skipHandler: Any) -> None:
    st = _st(stream, "virStreamSparseSendAll")
    for value, name in ((handler, "handler"), (holeHandler, "holeHandler"),
                        (skipHandler, "skipHandler")):
        c.non_null(value, name, "virStreamSparseSendAll", S)
    _blocking(st, "sources")

    def run() -> None:
        data_left = 0
        while True:
            if not data_left:
                in_data, length = _handler(lambda: holeHandler(st), "send")
                if not in_data and length:
                    virStreamSendHole(st, length, 0)
                    _handler(lambda: skipHandler(st, length), "skip")
                    continue
                data_left = length
            data = _handler(lambda: handler(st, min(CHUNK, data_left)), "send")
            if not data:
                return
            _send(st, bytes(data))
            data_left -= len(data)
    _aborting(st, run)


def virStreamSparseRecvAll(stream: Stream, handler: Any, holeHandler: Any) -> None:
    st = _st(stream, "virStreamSparseRecvAll")
    c.non_null(handler, "handler", "virStreamSparseRecvAll", S)
    c.non_null(holeHandler, "holeHandler", "virStreamSparseRecvAll", S)
    _blocking(st, "sinks")

    def run() -> None:
        while True:
            data = virStreamRecvFlags(st, CHUNK, VIR_STREAM_RECV_STOP_AT_HOLE)
            if data == -3:
                length = virStreamRecvHole(st, 0)
                _handler(lambda: holeHandler(st, length), "hole")
                continue
            if isinstance(data, int) or not data:
                return
            _sink(st, handler, data)
    _aborting(st, run)


# -- domain functions that give a stream to the driver

def _dom_stream(domain: Domain, stream: Stream, fn: str) -> tuple[Domain, Stream]:
    """libvirt's checks of a domain call that takes a stream."""
    dom: Domain = c.handle(domain, Domain, ErrorNumber.VIR_ERR_INVALID_DOMAIN, D, fn)
    st = _st(stream, fn)   # virCheckStreamGoto reports in the streams domain
    c.writable(dom.conn, fn, D)
    if st.conn is not dom.conn:
        raise errors.invalid_arg(D, fn, "stream", "stream must match connection of "
                                 f"domain '{dom.name}'")
    return dom, st


def virDomainOpenConsole(dom: Domain, dev_name: Optional[str], st: Stream, flags: int) -> None:
    fn = "virDomainOpenConsole"
    d, s = _dom_stream(dom, st, fn)
    c.call(d.conn, fn, D, d, dev_name, s, flags)


def virDomainOpenChannel(dom: Domain, name: Optional[str], st: Stream, flags: int) -> None:
    fn = "virDomainOpenChannel"
    d, s = _dom_stream(dom, st, fn)
    c.call(d.conn, fn, D, d, name, s, flags)


def virDomainScreenshot(domain: Domain, stream: Stream, screen: int, flags: int) -> str:
    fn = "virDomainScreenshot"
    dom, st = _dom_stream(domain, stream, fn)
    return str(c.call(dom.conn, fn, D, dom, st, screen, flags))
