"""virEventRegisterImpl: an application's own event loop, driven from the core.

The application gives six C functions; the core gets six Python callables with
the signatures of pyvirt.api.virEventRegisterImpl. Python callbacks the core
hands to the application's loop travel as cffi handles through fixed
trampolines (extern "Python"), so no C closures are generated at run time.
"""

from _pyvirt_libvirt_cffi import ffi, lib

from . import runtime as rt

_F = rt.Fn("virEventRegisterImpl", 0)
_live: dict[int, object] = {}   # handle address -> (callback, free) kept alive for C


def _keep(callback, free) -> object:
    h = ffi.new_handle((callback, free))
    _live[int(ffi.cast("uintptr_t", h))] = h
    return h


@ffi.def_extern()
def pyvirt_handle_cb(watch, fd, events, opaque):
    callback, _ = ffi.from_handle(opaque)
    callback(watch, fd, events)


@ffi.def_extern()
def pyvirt_timeout_cb(timer, opaque):
    callback, _ = ffi.from_handle(opaque)
    callback(timer)


@ffi.def_extern()
def pyvirt_free_cb(opaque):
    _, free = ffi.from_handle(opaque)
    _live.pop(int(ffi.cast("uintptr_t", opaque)), None)
    if free is not None:
        free()


def _impl(add_handle, update_handle, remove_handle, add_timeout, update_timeout, remove_timeout):
    """The six Python callables; None stands for a function the application left NULL."""
    def py_add_handle(fd, events, callback, free=None):
        return add_handle(fd, events, lib.pyvirt_handle_cb, _keep(callback, free), lib.pyvirt_free_cb)

    def py_add_timeout(timeout, callback, free=None):
        return add_timeout(timeout, lib.pyvirt_timeout_cb, _keep(callback, free), lib.pyvirt_free_cb)

    wrapped = (py_add_handle, lambda watch, events: update_handle(watch, events),
               lambda watch: remove_handle(watch), py_add_timeout,
               lambda timer, timeout: update_timeout(timer, timeout),
               lambda timer: remove_timeout(timer))
    given = (add_handle, update_handle, remove_handle, add_timeout, update_timeout, remove_timeout)
    return tuple(None if c == ffi.NULL else w for c, w in zip(given, wrapped))


@ffi.def_extern(name="virEventRegisterImpl")
def _virEventRegisterImpl(addHandle, updateHandle, removeHandle, addTimeout, updateTimeout,
                          removeTimeout):
    try:
        rt.enter()
        from pyvirt import api
        api.virEventRegisterImpl(*_impl(addHandle, updateHandle, removeHandle, addTimeout,
                                        updateTimeout, removeTimeout))
    except BaseException as e:
        rt.fail(e, _F)
