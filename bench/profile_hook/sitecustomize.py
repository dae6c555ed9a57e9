"""Profiles the Python running inside pyvirt's libvirt.so.0 (bench/profile.py).

On PYTHONPATH, this module is imported when the shim starts its interpreter.
It enables cProfile on the starting thread and, since an embedding process
never finalizes Python, dumps the stats from a C atexit handler.  It then
runs the system's own sitecustomize (Debian's), which it shadows.
"""

import cProfile
import ctypes
import os

_out = os.environ.get("PYVIRT_PROFILE_OUT")
if _out:
    _prof = cProfile.Profile()

    @ctypes.CFUNCTYPE(None, ctypes.c_void_p)
    def _dump(_arg):
        _prof.disable()
        _prof.dump_stats(_out)

    # atexit() itself lives in libc_nonshared.a; __cxa_atexit is what it calls.
    ctypes.CDLL(None).__cxa_atexit(_dump, None, None)
    _prof.enable()

try:   # chain to the sitecustomize this one shadows
    import importlib.util
    import sys
    for _d in sys.path[1:]:
        _p = os.path.join(_d, "sitecustomize.py")
        if _d and os.path.abspath(_d) != os.path.dirname(os.path.abspath(__file__)) \
                and os.path.exists(_p):
            _spec = importlib.util.spec_from_file_location("_system_sitecustomize", _p)
            _spec.loader.exec_module(importlib.util.module_from_spec(_spec))
            break
except Exception:
    pass
