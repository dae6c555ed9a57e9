"""The QEMU driver: real QEMU/KVM guests, ``qemu:///embed?root=DIR``.

Unlike libvirt, a process may open several roots: each is its own host
(one QemuDriver).  Connections to the same root share its driver; when the
last one closes the driver lets go of the guests, which keep running, and
the next open reconnects to them.  libvirt's embed mode requires an event
loop before opening; so does ours, with the same error.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Optional

from ... import errors, eventloop
from ...errors import ErrorDomain, ErrorNumber
from ...uri import Uri
from .driver import QemuDriver
from .monitor import IMPORT_ERROR, qmp_thread
from .paths import RootLayout
from .statuswrite import status_writer

__all__ = ["QemuDriver", "open_driver", "close_driver"]

_lock = threading.Lock()
_roots: dict[str, QemuDriver] = {}


def open_driver(uri: Uri) -> Optional[QemuDriver]:
    """The driver for `uri`, or None when the URI is not an embedded QEMU one."""
    if uri.scheme != "qemu" or not uri.is_local or uri.path != "/embed":
        return None
    root = uri.param("root")
    if root is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_URI,
                            "Missing URI parameter 'root'")
    if not os.path.isabs(root):
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_NONE,
                            "root path must be absolute")
    if eventloop.current_impl() is None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_EVENT,
                            "An event loop implementation must be registered")
    if IMPORT_ERROR is not None:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_QEMU,
                            "the QEMU driver needs the Python package qemu.qmp, which this "
                            f"interpreter cannot import ({IMPORT_ERROR})")
    key = os.path.realpath(root)
    with _lock:
        driver = _roots.get(key)
        if driver is None:
            driver = QemuDriver(RootLayout(Path(key)))
            try:
                driver.load()
            except BaseException:
                driver.unload()
                raise
            _roots[key] = driver
        driver.refs += 1
        return driver


def close_driver(driver: QemuDriver) -> None:
    if qmp_thread.is_current() or status_writer.is_current():
        # the garbage collector dropped a connection on one of the driver's own
        # threads: closing there would wait for that very thread (or for an
        # open that waits for it), so another thread closes it
        threading.Thread(target=close_driver, args=(driver,), name="pyvirt-close",
                         daemon=True).start()
        return
    with _lock:
        driver.refs -= 1
        if driver.refs > 0:
            return
        if _roots.get(str(driver.layout.root)) is driver:
            del _roots[str(driver.layout.root)]
    driver.unload()
