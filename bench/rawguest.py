"""The raw floors' QEMU command line: the benchmarked guest's hardware.

The managed sides define a tiny q35 domain (no <features><acpi/>, balloon
'none'); libvirt 9.0 and pyvirt turn it into the same hardware: the qemu64
CPU, no ACPI, UTC clock, two PCIe root ports and the default qemu-xhci USB
controller behind the first.  The floor runs that hardware too, or it would
measure a smaller machine: the root ports and the USB controller alone add
about 50 ms to a precopy's downtime on this guest (measured with the raw
floor, 6 rounds each way).  What is left out is management (sandbox,
logging, pidfile), not hardware.
"""

from __future__ import annotations

MEM_MIB = 256

_DEVICES = ("pcie-root-port,port=8,chassis=1,id=pci.1,bus=pcie.0,multifunction=on,addr=0x1",
            "pcie-root-port,port=9,chassis=2,id=pci.2,bus=pcie.0,addr=0x1.0x1",
            "qemu-xhci,id=usb,bus=pci.1,addr=0x0")


def argv(name: str, accel: str, kernel: str, *extra: str) -> list[str]:
    """Starts paused (-S); `extra` adds the monitor and the like."""
    out = ["qemu-system-x86_64", "-name", f"guest={name}", "-S",
           "-machine", "q35,usb=off,dump-guest-core=off", "-accel", accel,
           "-cpu", "qemu64", "-m", f"{MEM_MIB}", "-smp", "1",
           "-no-user-config", "-nodefaults", "-rtc", "base=utc", "-no-shutdown",
           "-no-acpi", "-display", "none", "-kernel", kernel]
    for device in _DEVICES:
        out += ["-device", device]
    return out + list(extra)
