"""virDomainQemuMonitorCommandWithFiles: file descriptors in (an int array and
its count) and out (a malloc'ed int array the caller frees, and its count),
a shape of its own, written by hand rather than given a generic kind."""

from _pyvirt_libvirt_qemu_cffi import ffi, lib

from . import runtime as rt

_F = rt.Fn("virDomainQemuMonitorCommandWithFiles", 0)


@ffi.def_extern(name="virDomainQemuMonitorCommandWithFiles", error=-1)
def _virDomainQemuMonitorCommandWithFiles(domain, cmd, ninfiles, infiles, noutfiles, outfiles,
                                          result, flags):
    try:
        rt.enter()
        from pyvirt import api
        dom = rt.obj(domain, "virDomainPtr", _F)
        if result == ffi.NULL:
            raise rt.null_arg("result", _F)
        if ninfiles and infiles == ffi.NULL:
            raise rt.null_arg("infiles", _F)
        files = [infiles[i] for i in range(ninfiles)]
        fds, reply = api.virDomainQemuMonitorCommandWithFiles(
            dom, None if cmd == ffi.NULL else ffi.string(cmd).decode(), files, flags)
        if outfiles != ffi.NULL:
            arr = ffi.NULL
            if fds:
                arr = ffi.cast("int *", lib.malloc(ffi.sizeof("int") * len(fds)))
                for i, fd in enumerate(fds):
                    arr[i] = fd
            outfiles[0] = arr
        if noutfiles != ffi.NULL:
            noutfiles[0] = len(fds)
        result[0] = rt.cstring(reply)
        return 0
    except BaseException as e:
        rt.fail(e, _F)
        return -1
