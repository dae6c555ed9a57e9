"""Output structs of the public API, as small dataclasses whose attribute
names are exactly the C struct field names."""

from __future__ import annotations

import dataclasses


@dataclasses.dataclass
class NodeInfo:
    """virNodeInfo; memory in KiB."""
    model: str
    memory: int
    cpus: int
    mhz: int
    nodes: int
    sockets: int
    cores: int
    threads: int


@dataclasses.dataclass
class DomainInfo:
    """virDomainInfo; memory in KiB, cpuTime in nanoseconds."""
    state: int
    maxMem: int
    memory: int
    nrVirtCpu: int
    cpuTime: int
