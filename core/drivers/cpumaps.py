"""CPU maps as the API passes them (one bit per host CPU, CPU 0 the lowest
bit of the first byte), and the host CPUs a map of "everywhere" names;
shared by the drivers' pinning entry points."""

from __future__ import annotations

import os
from typing import Iterable, Optional

from ..conf.domain_iothreads import parse_cpuset


def host_cpus() -> frozenset[int]:
    """The host's online CPUs (virHostCPUGetAvailableCPUsBitmap)."""
    try:
        with open("/sys/devices/system/cpu/online", encoding="ascii") as f:
            cpus = parse_cpuset(f.read().strip())
    except OSError:
        cpus = None
    return cpus if cpus else frozenset(range(os.cpu_count() or 1))


def host_cpu_count() -> int:
    """virHostCPUGetCount: one past the highest present CPU."""
    try:
        with open("/sys/devices/system/cpu/present", encoding="ascii") as f:
            cpus = parse_cpuset(f.read().strip())
    except OSError:
        cpus = None
    return max(cpus) + 1 if cpus else os.cpu_count() or 1


def cpus_of(cpumap: bytes) -> frozenset[int]:
    """virBitmapNewData: every bit set in `cpumap`, however long it is."""
    return frozenset(i for i in range(len(cpumap) * 8) if cpumap[i // 8] >> (i % 8) & 1)


def cpumap_bytes(cpus: Iterable[int], maplen: Optional[int] = None) -> bytes:
    """The map of `cpus`: `maplen` bytes (virBitmapToDataBuf, CPUs past it
    dropped), or as many as the highest CPU needs (virBitmapToData)."""
    cpus = frozenset(cpus)
    if maplen is None:
        maplen = max(cpus) // 8 + 1 if cpus else 1
    data = bytearray(maplen)
    for cpu in cpus:
        if cpu // 8 < maplen:
            data[cpu // 8] |= 1 << (cpu % 8)
    return bytes(data)
