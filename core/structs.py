"""Output structs of the public API, as small dataclasses whose attribute
names are exactly the C struct field names."""

from __future__ import annotations

import dataclasses
from typing import Optional


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


@dataclasses.dataclass
class StoragePoolInfo:
    """virStoragePoolInfo; sizes in bytes."""
    state: int
    capacity: int
    allocation: int
    available: int


@dataclasses.dataclass
class StorageVolInfo:
    """virStorageVolInfo; sizes in bytes."""
    type: int
    capacity: int
    allocation: int


@dataclasses.dataclass
class DomainBlockInfo:
    """virDomainBlockInfo; sizes in bytes."""
    capacity: int
    allocation: int
    physical: int


@dataclasses.dataclass
class DomainBlockJobInfo:
    """virDomainBlockJobInfo; all zero (type 0) when the disk has no job."""
    type: int = 0
    bandwidth: int = 0
    cur: int = 0
    end: int = 0


@dataclasses.dataclass
class DomainBlockStats:
    """virDomainBlockStatsStruct."""
    rd_req: int
    rd_bytes: int
    wr_req: int
    wr_bytes: int
    errs: int


@dataclasses.dataclass
class DomainInterfaceStats:
    """virDomainInterfaceStatsStruct."""
    rx_bytes: int
    rx_packets: int
    rx_errs: int
    rx_drop: int
    tx_bytes: int
    tx_packets: int
    tx_errs: int
    tx_drop: int


@dataclasses.dataclass
class VcpuInfo:
    """virVcpuInfo; cpuTime in nanoseconds."""
    number: int
    state: int
    cpuTime: int
    cpu: int


@dataclasses.dataclass
class MemoryStat:
    """virDomainMemoryStatStruct: one (tag, value) pair."""
    tag: int
    val: int


@dataclasses.dataclass
class DomainControlInfo:
    """virDomainControlInfo."""
    state: int
    details: int
    stateTime: int


@dataclasses.dataclass
class SecurityLabel:
    """virSecurityLabel."""
    label: str
    enforcing: int


@dataclasses.dataclass
class SecurityModel:
    """virSecurityModel."""
    model: str
    doi: str


@dataclasses.dataclass
class DomainDiskError:
    """virDomainDiskError; error: VIR_DOMAIN_DISK_ERROR_*."""
    disk: str
    error: int


@dataclasses.dataclass
class DomainFSInfo:
    """virDomainFSInfo; devAlias: the disks' target names."""
    mountpoint: str
    name: str
    fstype: str
    devAlias: list[str]


@dataclasses.dataclass
class DomainIPAddress:
    """virDomainIPAddress; type: VIR_IP_ADDR_TYPE_*."""
    type: int
    addr: str
    prefix: int


@dataclasses.dataclass
class DomainInterface:
    """virDomainInterface."""
    name: str
    hwaddr: Optional[str]
    addrs: list[DomainIPAddress]


@dataclasses.dataclass
class NodeCPUStats:
    """virNodeCPUStats; ex) field='user' value=9797400000 (ns)."""
    field: str
    value: int


@dataclasses.dataclass
class NodeMemoryStats:
    """virNodeMemoryStats; ex) field='free' value=6415836 (KiB)."""
    field: str
    value: int


@dataclasses.dataclass
class DomainStatsRecord:
    """virDomainStatsRecord: a domain and its statistics as typed parameters,
    [(name, VIR_TYPED_PARAM_*, value)]; indexable as (dom, params) too."""
    dom: object
    params: list[tuple[str, int, object]]

    def __getitem__(self, index: int) -> object:
        return (self.dom, self.params)[index]


@dataclasses.dataclass
class DomainIOThreadInfo:
    """virDomainIOThreadInfo; cpumap: one bit per host CPU, as bytes."""
    iothread_id: int
    cpumap: bytes
