"""Stream externs the templates do not express: reads whose result is data
or a status (-2 would block, -3 at a hole), the *All helpers that loop in
the core over the application's C source/sink callbacks, and the event
callback, which gets back the very virStreamPtr it was registered on.

A C callback that returns a negative value fails the helper: it becomes an
OSError carrying the C errno (EIO when the callback left it 0), which the
core reports as libvirt does ("send handler failed: ...").
"""

import errno as errnomod

from _pyvirt_libvirt_cffi import ffi

from . import runtime as rt

_NULL = ffi.NULL
_FN = {n: rt.Fn(n, 38) for n in (
    "virStreamRecv", "virStreamRecvFlags", "virStreamSendAll", "virStreamRecvAll",
    "virStreamSparseSendAll", "virStreamSparseRecvAll", "virStreamEventAddCallback")}


def _api(name):
    try:
        from pyvirt import api
    except Exception as e:   # pyvirt failed to start: say why, as every extern does
        return getattr(rt.Unavailable(e), name)
    return getattr(api, name, None)


def _call(name, *args):
    impl = _api(name)
    if impl is None:
        raise rt.unsupported(_FN[name])
    return impl(*args)


def _checked(ret):
    """A C callback's int result, or OSError when it reports failure."""
    if ret < 0:
        raise OSError(ffi.errno or errnomod.EIO, "callback failed")
    return ret


def _c_call(func, *args):
    ffi.errno = 0
    return _checked(func(*args))


def _recv(name, st, data, nbytes, *flags):
    F = _FN[name]
    try:
        rt.enter()
        a_st = rt.obj(st, "virStreamPtr", F)
        if data == _NULL and nbytes > 0:
            raise rt.null_arg("data", F)
        r = _call(name, a_st, nbytes, *flags)
        if isinstance(r, int):   # -2 would block, -3 at a hole
            return r
        chunk = bytes(r)[:nbytes]
        if chunk:
            ffi.memmove(data, chunk, len(chunk))
        return len(chunk)
    except BaseException as e:
        rt.fail(e, F)
        return -1


@ffi.def_extern(name="virStreamRecv", error=-1)
def _virStreamRecv(st, data, nbytes):
    return _recv("virStreamRecv", st, data, nbytes)


@ffi.def_extern(name="virStreamRecvFlags", error=-1)
def _virStreamRecvFlags(st, data, nbytes, flags):
    return _recv("virStreamRecvFlags", st, data, nbytes, flags)


def _source(st, handler, opaque):
    """source(stream, nbytes) -> bytes over a C virStreamSourceFunc."""
    if handler == _NULL:
        return None

    def source(_stream, nbytes):
        buf = ffi.new("char[]", max(nbytes, 1))
        got = _c_call(handler, st, buf, nbytes, opaque)
        return ffi.buffer(buf, got)[:]
    return source


def _sink(st, handler, opaque):
    """sink(stream, data) -> bytes consumed over a C virStreamSinkFunc."""
    if handler == _NULL:
        return None

    def sink(_stream, data):
        return _c_call(handler, st, ffi.from_buffer(data), len(data), opaque)
    return sink


def _hole_source(st, handler, opaque):
    if handler == _NULL:
        return None

    def hole_source(_stream):
        in_data, length = ffi.new("int *"), ffi.new("long long *")
        _c_call(handler, st, in_data, length, opaque)
        return bool(in_data[0]), int(length[0])
    return hole_source


def _skip(st, handler, opaque):
    if handler == _NULL:
        return None
    return lambda _stream, length: _c_call(handler, st, length, opaque)


_hole_sink = _skip   # virStreamSinkHoleFunc has virStreamSourceSkipFunc's shape


def _all(name, st, *callbacks):
    F = _FN[name]
    try:
        rt.enter()
        a_st = rt.obj(st, "virStreamPtr", F)
        _call(name, a_st, *callbacks)
        return 0
    except BaseException as e:
        rt.fail(e, F)
        return -1


@ffi.def_extern(name="virStreamSendAll", error=-1)
def _virStreamSendAll(st, handler, opaque):
    return _all("virStreamSendAll", st, _source(st, handler, opaque))


@ffi.def_extern(name="virStreamRecvAll", error=-1)
def _virStreamRecvAll(st, handler, opaque):
    return _all("virStreamRecvAll", st, _sink(st, handler, opaque))


@ffi.def_extern(name="virStreamSparseSendAll", error=-1)
def _virStreamSparseSendAll(st, handler, holeHandler, skipHandler, opaque):
    return _all("virStreamSparseSendAll", st, _source(st, handler, opaque),
                _hole_source(st, holeHandler, opaque), _skip(st, skipHandler, opaque))


@ffi.def_extern(name="virStreamSparseRecvAll", error=-1)
def _virStreamSparseRecvAll(st, handler, holeHandler, opaque):
    return _all("virStreamSparseRecvAll", st, _sink(st, handler, opaque),
                _hole_sink(st, holeHandler, opaque))


@ffi.def_extern(name="virStreamEventAddCallback", error=-1)
def _virStreamEventAddCallback(stream, events, cb, opaque, ff):
    F = _FN["virStreamEventAddCallback"]
    try:
        rt.enter()
        a_st = rt.obj(stream, "virStreamPtr", F)
        release = None
        if ff != _NULL:
            def release():
                ff(opaque)

        def callback(_stream, ev):
            if cb != _NULL:
                cb(stream, ev, opaque)
        _call("virStreamEventAddCallback", a_st, events, callback, release)
        return 0
    except BaseException as e:
        rt.fail(e, F)
        return -1
