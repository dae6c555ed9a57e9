"""The per-connection error functions (virConnGetLastError and friends).

libvirt keeps a copy of the last error of each connection beside the thread's;
runtime.fail() maintains it in the connection's Box.
"""

from _pyvirt_libvirt_cffi import ffi, lib

from . import runtime as rt

_F = {n: rt.Fn(n, 0) for n in ("virConnGetLastError", "virConnCopyLastError",
                               "virConnResetLastError", "virConnSetErrorFunc")}


def _box(conn, name):
    return rt.box(conn, "virConnectPtr", _F[name])


@ffi.def_extern(name="virConnGetLastError", error=ffi.NULL)
def _virConnGetLastError(conn):
    try:
        b = _box(conn, "virConnGetLastError")
    except Exception:
        return ffi.NULL
    return b.error if b.error is not None and b.error.code != 0 else ffi.NULL


@ffi.def_extern(name="virConnCopyLastError", error=-1)
def _virConnCopyLastError(conn, to):
    try:
        b = _box(conn, "virConnCopyLastError")
    except Exception:
        return -1
    if to == ffi.NULL:
        return -1
    with rt.CONN_ERROR_LOCK:
        if b.error is not None and b.error.code != 0:
            lib.pyvirt_copy_error(to, b.error)
        else:
            lib.virResetError(to)
    return to.code


@ffi.def_extern(name="virConnResetLastError")
def _virConnResetLastError(conn):
    try:
        b = _box(conn, "virConnResetLastError")
    except Exception:
        return
    with rt.CONN_ERROR_LOCK:
        if b.error is not None:
            lib.virResetError(b.error)


@ffi.def_extern(name="virConnSetErrorFunc")
def _virConnSetErrorFunc(conn, userData, handler):
    try:
        b = _box(conn, "virConnSetErrorFunc")
    except Exception:
        return
    b.handler = None if handler == ffi.NULL else handler
    b.handler_data = userData
