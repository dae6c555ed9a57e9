"""The test driver package: test:///default and test:///PATH.xml hosts."""

from __future__ import annotations

import threading
from typing import Any, Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...uri import Uri
from .auth import authenticate
from .driver import TestDriver, load_default
from .hostfile import load_file

__all__ = ["TestDriver", "open_driver", "close_driver"]


class _DefaultHost:
    """The one host every test:///default connection of the process shares."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.driver: Optional[TestDriver] = None


_default = _DefaultHost()


def open_driver(uri: Uri, auth: Any = None) -> Optional[TestDriver]:
    """The driver instance for `uri`, or None when the URI is not ours;
    a host file's <auth> users are checked through `auth`'s callback."""
    if uri.scheme != "test" or not uri.is_local:
        return None
    if uri.path == "/default":
        with _default.lock:
            if _default.driver is None:
                _default.driver = load_default()
            _default.driver.refs += 1
            return _default.driver
    if uri.path in ("", "/"):
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_TEST,
                            "testOpen: supply a path or use test:///default")
    driver = load_file(uri.path)
    authenticate(driver.auth_users, auth)
    driver.refs += 1
    return driver


def close_driver(driver: TestDriver) -> None:
    """Drop one connection's hold; the default host goes with the last one."""
    with _default.lock:
        driver.refs -= 1
        if driver.refs <= 0 and driver is _default.driver:
            _default.driver = None
