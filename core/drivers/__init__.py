"""Hypervisor drivers and the choice among them for a URI."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..uri import Uri
from .base import HypervisorDriver


def open_driver(uri: Uri, auth: Any = None) -> HypervisorDriver:
    """Ask each driver in turn, as libvirt's virConnectOpen does."""
    from . import qemu, test
    driver: HypervisorDriver | None = test.open_driver(uri, auth)
    if driver is None:
        driver = qemu.open_driver(uri)
    if driver is not None:
        return driver
    raise errors.report(ErrorNumber.VIR_ERR_NO_CONNECT, ErrorDomain.VIR_FROM_NONE, uri.text)


def close_driver(driver: HypervisorDriver) -> None:
    from . import qemu, test
    if isinstance(driver, test.TestDriver):
        test.close_driver(driver)
    elif isinstance(driver, qemu.QemuDriver):
        qemu.close_driver(driver)
    driver.connect_close()
