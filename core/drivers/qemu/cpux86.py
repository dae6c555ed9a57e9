"""x86 CPUs named in libvirt 9.0's vocabulary: the host's CPU for the
capabilities document, the host-model CPU of domain capabilities, and the
CPU models libvirt's map knows.  (Being written: the interface first.)"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Optional

from lxml import etree

if TYPE_CHECKING:
    from .qmpprobe import Probe


@dataclasses.dataclass(frozen=True)
class HostCPU:
    """The host's CPU as libvirt's capabilities show it.  ex) vendor='AMD'
    model='kvm64' features=('vme', 'ht', ...) family=26 model_number=2
    stepping=1 phys_bits=48"""
    vendor: str                  # '' when libvirt's map knows no such vendor
    model: str
    features: tuple[str, ...]    # beyond the model's, in the map's order
    family: int
    model_number: int
    stepping: int
    phys_bits: int               # <maxphysaddr mode='emulate' bits=.../>


def host_cpu() -> HostCPU:
    """This host's CPU, read with CPUID (once per process)."""
    raise NotImplementedError


def host_model(probe: "Probe") -> Optional[etree._Element]:
    """<mode name='host-model' supported='yes'> with its model, vendor and
    features for the accelerator of `probe`; None when QEMU could not
    expand its host CPU (then libvirt writes supported='no')."""
    raise NotImplementedError


def model_vendor(name: str) -> str:
    """The vendor of a map model: 'Intel', 'AMD', 'Hygon', or 'unknown'."""
    raise NotImplementedError


def known_model(name: str) -> bool:
    """Whether libvirt 9.0's x86 map has the model `name`."""
    raise NotImplementedError


def model_names() -> list[str]:
    """The map's x86 models in its order (virConnectGetCPUModelNames)."""
    raise NotImplementedError
