"""Shared fixtures: our API, and real libvirt 9.0 (python3-libvirt) as the
reference when it is importable."""

from __future__ import annotations

import itertools
import threading
from typing import Any, Callable

import pytest

from pyvirt import api
from pyvirt.errors import VirtError

try:
    import libvirt  # the system's real binding: the reference
    libvirt.registerErrorHandler(lambda *a: None, None)
except ImportError:  # pragma: no cover - reference not installed
    libvirt = None

_names = itertools.count()


def unique(prefix: str = "dom") -> str:
    return f"{prefix}{next(_names)}"


def domxml(name: str, extra: str = "", uuid: str | None = None, mem: int = 1024) -> str:
    u = f"<uuid>{uuid}</uuid>" if uuid else ""
    return (f"<domain type='test'><name>{name}</name>{u}<memory>{mem}</memory>"
            f"<os><type>hvm</type></os>{extra}</domain>")


def ours(fn: Callable[[], Any]) -> tuple:
    """('ok', value) or ('err', code, domain, message)."""
    try:
        return ("ok", fn())
    except VirtError as e:
        return ("err", int(e.code), int(e.domain), e.message)


def real(fn: Callable[[], Any]) -> tuple:
    try:
        return ("ok", fn())
    except libvirt.libvirtError as e:
        return ("err", e.get_error_code(), e.get_error_domain(), e.get_error_message())


need_real = pytest.mark.skipif(libvirt is None, reason="real libvirt not importable")


@pytest.fixture
def conn():
    c = api.virConnectOpen("test:///default")
    yield c
    api.virConnectClose(c)


@pytest.fixture(scope="session")
def rconn():
    if libvirt is None:
        pytest.skip("real libvirt not importable")
    c = libvirt.open("test:///default")
    yield c
    c.close()


class Loops:
    """Both event loops, each run by its own daemon thread."""

    def __init__(self) -> None:
        api.virEventRegisterDefaultImpl()
        self.ours_thread = threading.Thread(target=self._run_ours, daemon=True,
                                            name="pyvirt-loop")
        self.ours_thread.start()
        self.real_thread = None
        if libvirt is not None:
            libvirt.virEventRegisterDefaultImpl()
            self.real_thread = threading.Thread(target=self._run_real, daemon=True,
                                                name="libvirt-loop")
            self.real_thread.start()

    @staticmethod
    def _run_ours() -> None:
        while True:
            api.virEventRunDefaultImpl()

    @staticmethod
    def _run_real() -> None:
        while True:
            libvirt.virEventRunDefaultImpl()


@pytest.fixture(scope="session")
def loops() -> Loops:
    return Loops()
