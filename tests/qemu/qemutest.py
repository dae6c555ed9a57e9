"""Fixtures and helpers for the QEMU driver tests: real QEMU, tiny guests built here.

(Not named conftest.py: tests/core imports its own conftest by that name.)

Skipped as a whole, with the reason, when qemu-system-x86_64 or the
qemu.qmp library is missing.  Guests are `kvm` when /dev/kvm is usable,
`qemu` (TCG) otherwise, as libvirt chooses by domain type.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

import guest
from pyvirt import api
from pyvirt.drivers.qemu import capabilities
from pyvirt.drivers.qemu.monitor import IMPORT_ERROR

QEMU = shutil.which("qemu-system-x86_64")

if QEMU is None:
    pytest.skip("qemu-system-x86_64 is not installed (Debian: qemu-system-x86)",
                allow_module_level=True)
if IMPORT_ERROR is not None:
    pytest.skip(f"qemu.qmp is not importable: {IMPORT_ERROR}", allow_module_level=True)

# PYVIRT_TEST_VIRT_TYPE=qemu forces TCG on a KVM host (what CI without /dev/kvm runs).
VIRT_TYPE = os.environ.get("PYVIRT_TEST_VIRT_TYPE") or (
    "kvm" if capabilities.kvm_usable() else "qemu")


def ensure_event_loop() -> None:
    """The default event loop registered and run by one daemon thread."""
    api.virEventRegisterDefaultImpl()
    if not any(t.name == "pyvirt-loop" and t.is_alive() for t in threading.enumerate()):
        def run() -> None:
            while True:
                api.virEventRunDefaultImpl()
        threading.Thread(target=run, daemon=True, name="pyvirt-loop").start()


@pytest.fixture(scope="session")
def kernels(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("guests")
    return {kind: guest.build(kind, folder / f"{kind}.bin") for kind in guest.KINDS}


def domxml(name: str, kernel: Path | None = None, extra: str = "",
           machine: str = "q35", mem_mib: int = 64, vcpus: int = 1, acpi: bool = False) -> str:
    """`acpi`: <features><acpi/>, which the `acpi` guest's power button needs
    (QEMU runs without ACPI otherwise, as under libvirt)."""
    k = f"<kernel>{kernel}</kernel>" if kernel else ""
    features = "<features><acpi/></features>" if acpi else ""
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name>"
            f"<memory unit='MiB'>{mem_mib}</memory><vcpu>{vcpus}</vcpu>"
            f"<os><type arch='x86_64' machine='{machine}'>hvm</type>{k}</os>{features}"
            f"<devices>{extra}</devices></domain>")


class Events:
    """Lifecycle events of one connection, as (name, event, detail)."""

    def __init__(self, conn: Any) -> None:
        self.cond = threading.Condition()
        self.items: list[tuple[str, int, int]] = []
        api.virConnectDomainEventRegisterAny(conn, None, 0, self._cb, None)

    def _cb(self, conn: Any, dom: Any, event: int, detail: int) -> None:
        with self.cond:
            self.items.append((dom.name, event, detail))
            self.cond.notify_all()

    def of(self, name: str) -> list[tuple[int, int]]:
        with self.cond:
            return [(e, d) for n, e, d in self.items if n == name]

    def wait_for(self, name: str, count: int, timeout: float = 15.0) -> list[tuple[int, int]]:
        end = time.monotonic() + timeout
        with self.cond:
            while len(self.of(name)) < count and time.monotonic() < end:
                self.cond.wait(end - time.monotonic())
        return self.of(name)


@pytest.fixture
def root(tmp_path: Path) -> Iterator[Path]:
    r = tmp_path / "root"
    yield r
    kill_leftovers(r)


def kill_leftovers(r: Path) -> None:
    """No QEMU of a test outlives it: open the root again and destroy what runs."""
    if not (r / "run" / "qemu").exists():
        return
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={r}")
    try:
        for d in api.virConnectListAllDomains(c, 0):
            if api.virDomainIsActive(d):
                api.virDomainDestroy(d)
    finally:
        api.virConnectClose(c)


@pytest.fixture
def conn(root: Path) -> Iterator[Any]:
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    yield c
    for d in api.virConnectListAllDomains(c, 0):
        if api.virDomainIsActive(d):
            api.virDomainDestroy(d)
    api.virConnectClose(c)


def until(pred: Callable[[], bool], timeout: float = 10.0, interval: float = 0.01) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(interval)
    return pred()
