"""What the test driver makes up about a running guest, as libvirt's does:
control info, disk errors, filesystems (two on the first disk), interface
addresses, filesystem freeze/thaw, block I/O tuning (iotune.py), the host's
sysinfo and CPU model names.  Mixed into TestDriver; uses its lock."""

from __future__ import annotations

import ipaddress
import threading
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ... import errors
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import (DomainControlInfo, DomainDiskError, DomainFSInfo, DomainInterface,
                        DomainIPAddress)
from ...cpu import baseline
from . import iotune
from ...cpu import models
from .domain_extra import check_params, find_disk

T = ErrorDomain.VIR_FROM_TEST
D = ErrorDomain.VIR_FROM_DOMAIN
IP_ADDR_TYPE_IPV4 = 0
IFADDR_SOURCES = (0, 1, 2)   # lease, agent, arp: all answered alike
DISK_ERROR_KINDS = 2         # VIR_DOMAIN_DISK_ERROR_UNSPEC, _NO_SPACE in turn
# The two filesystems every guest has on its first disk: (mount point, partition).
GUEST_FILESYSTEMS = (("/", 1), ("/boot", 2))

SYSINFO_XML = """<sysinfo type='smbios'>
  <bios>
    <entry name='vendor'>LENOVO</entry>
    <entry name='version'>G4ETA1WW (2.61 )</entry>
    <entry name='date'>05/07/2014</entry>
    <entry name='release'>2.61</entry>
  </bios>
</sysinfo>
"""


def _not_running() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D, "domain is not running")


def _disks(devices: list[etree._Element]) -> list[etree._Element]:
    return [dev for dev in devices if dev.tag == "disk"]


def _target(dev: etree._Element) -> str:
    target = dev.find("target")
    return "" if target is None else target.get("dev", "")


class GuestInfoMixin:
    """Guest and host queries of the test driver."""

    lock: threading.RLock

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _one_def(self, obj: DomainObj, flags: int) -> Any: ...
        def _net_by_name(self, name: str) -> Any: ...

    def _running(self, dom: Domain) -> DomainObj:
        obj = self._obj(dom)
        if not obj.is_active():
            raise _not_running()
        return obj

    def domain_get_control_info(self, dom: Domain, flags: int) -> DomainControlInfo:
        errors.check_flags(flags, 0, "testDomainGetControlInfo")
        with self.lock:
            self._running(dom)
            return DomainControlInfo(state=0, details=0, stateTime=0)

    def domain_get_disk_errors(self, dom: Domain, maxerrors: int,
                               flags: int) -> list[DomainDiskError]:
        errors.check_flags(flags, 0, "testDomainGetDiskErrors")
        with self.lock:
            disks = _disks(self._running(dom).def_.devices)
            return [DomainDiskError(_target(dev), i % DISK_ERROR_KINDS + 1)
                    for i, dev in enumerate(disks[:maxerrors])]

    def domain_get_fs_info(self, dom: Domain, flags: int) -> list[DomainFSInfo]:
        errors.check_flags(flags, 0, "testDomainGetFSInfo")
        with self.lock:
            disks = _disks(self._running(dom).def_.devices)
            first = next((d for d in disks if d.get("device", "disk") == "disk"), None)
            if first is None:
                return []
            dev = _target(first)
            return [DomainFSInfo(mountpoint, f"{dev}{part}", "ext4", [dev])
                    for mountpoint, part in GUEST_FILESYSTEMS]

    def domain_interface_addresses(self, dom: Domain, source: int,
                                   flags: int) -> list[DomainInterface]:
        errors.check_flags(flags, 0, "testDomainInterfaceAddresses")
        if source not in IFADDR_SOURCES:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, T,
                                f"Unknown IP address data source {source}")
        with self.lock:
            obj = self._running(dom)
            nets = [dev for dev in obj.def_.devices if dev.tag == "interface"]
            out = []
            for i, net in enumerate(nets):
                mac = net.find("mac")
                if net.get("type") == "network":
                    source = net.find("source")
                    base, prefix = self._guest_net_base(
                        "" if source is None else source.get("network", ""))
                    addr = str(base + 1 + 20 * (obj.id - 1) + i)
                else:
                    addr, prefix = f"192.168.0.{1 + i}", 24
                out.append(DomainInterface(
                    name=f"testnet{i}", hwaddr=None if mac is None else mac.get("address"),
                    addrs=[DomainIPAddress(IP_ADDR_TYPE_IPV4, addr, prefix)]))
            return out

    def _guest_net_base(self, name: str) -> tuple[ipaddress.IPv4Address, int]:
        """Where a guest's addresses on network `name` start (its first DHCP
        range, else its first IP) and that IP's prefix."""
        net = self._net_by_name(name).def_
        ips = net.kept.get("ip", [])
        if not ips:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                                f"network '{name}' has no IP address")
        ip = ips[0]
        prefix = ip.get("prefix")
        if prefix is None:
            mask = ip.get("netmask", "255.255.255.0")
            prefix = str(ipaddress.IPv4Network(f"0.0.0.0/{mask}").prefixlen)
        start = ip.find("dhcp/range")
        first = ip.get("address", "0.0.0.0") if start is None else start.get("start", "")
        return ipaddress.IPv4Address(first), int(prefix)

    def _fs_freeze_thaw(self, dom: Domain, mountpoints: Optional[list[str]], flags: int,
                        fn: str) -> int:
        errors.check_flags(flags, 0, fn)
        with self.lock:
            self._running(dom)
            known = [mp for mp, _ in GUEST_FILESYSTEMS]
            if not mountpoints:
                return len(known)
            for mp in mountpoints:
                if mp not in known:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                        f"mount point not found: {mp}")
            return 0 if len(mountpoints) else len(known)

    def domain_fs_freeze(self, dom: Domain, mountpoints: Optional[list[str]],
                         flags: int) -> int:
        return self._fs_freeze_thaw(dom, mountpoints, flags, "testDomainFSFreeze")

    def domain_fs_thaw(self, dom: Domain, mountpoints: Optional[list[str]], flags: int) -> int:
        return self._fs_freeze_thaw(dom, mountpoints, flags, "testDomainFSThaw")

    def domain_get_block_io_tune(self, dom: Domain, disk: str,
                                 flags: int) -> list[tuple[str, int, Any]]:
        errors.check_flags(flags, 1 | 2 | 4, "testDomainGetBlockIoTune")
        with self.lock:
            d = self._one_def(self._obj(dom), flags & 3)
            found = find_disk(d, disk)
            if found is None:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    f"disk '{disk}' was not found in the domain config")
            return iotune.typed(iotune.read(found))

    def domain_set_block_io_tune(self, dom: Domain, disk: str,
                                 params: list[tuple[str, int, Any]], flags: int) -> None:
        errors.check_flags(flags, 1 | 2, "testDomainSetBlockIoTune")
        check_params(params, iotune.TYPES)
        with self.lock:
            d = self._one_def(self._obj(dom), flags)
            found = find_disk(d, disk)
            if found is None:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    f"disk '{disk}' was not found in the domain config")
            iotune.store(found, iotune.apply(iotune.read(found), params))

    def connect_get_sysinfo(self, flags: int) -> str:
        errors.check_flags(flags, 0, "testConnectGetSysinfo")
        return SYSINFO_XML

    def connect_baseline_cpu(self, xml_cpus: list[Optional[str]], flags: int) -> str:
        return baseline.baseline(xml_cpus, flags, "testConnectBaselineCPU")

    def connect_get_cpu_model_names(self, arch: str, flags: int) -> list[str]:
        return models.model_names(arch, flags, "testConnectGetCPUModelNames", T)
