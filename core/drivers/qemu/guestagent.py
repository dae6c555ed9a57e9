"""The guest-agent APIs of libvirt 9.0's QEMU driver, and what it answers
from the host instead (interface addresses from the ARP table, leases
from the network driver), plus virDomainPMWakeup.

pyvirt has no client of qemu-guest-agent: each API checks its arguments
and the domain's state in libvirt's order and gives libvirt's error
('QEMU guest agent is not configured' without the agent's channel, 'not
connected' while the guest has not opened it).  Were the guest ever to
open it (VSERPORT_CHANGE, channels.py), the APIs say 'not supported'
rather than pretend.  Mixed into QemuDriver; uses its lock."""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING, Optional

from ... import errors
from ...conf.domain_iothreads import parse_cpuset
from ...domainobj import DomainObj
from ...domainstate import DomainState
from ...errors import ErrorDomain, ErrorNumber
from ...host import arptable
from ...objects import Domain
from ...structs import DomainFSInfo, DomainInterface, DomainIPAddress
from . import channels

if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from typing import Any
    from .runtime import Runtime

Q, D = ErrorDomain.VIR_FROM_QEMU, ErrorDomain.VIR_FROM_DOMAIN
GET_HOSTNAME_LEASE, GET_HOSTNAME_AGENT = 1, 2
PASSWORD_ENCRYPTED = 1
SET_TIME_SYNC = 1
SSH_KEYS_SET_APPEND, SSH_KEYS_SET_REMOVE = 1, 2
IFADDR_LEASE, IFADDR_AGENT, IFADDR_ARP = 0, 1, 2
SUSPEND_TARGET_HYBRID = 2
AGENT_COMMAND_MIN = -2
GUEST_VCPU_MAX_ID = 4096
# VIR_DOMAIN_GUEST_INFO_USERS .. _INTERFACES
GUEST_INFO_TYPES = 0x7f
NETWORK_SOCKET = "/var/run/libvirt/virtnetworkd-sock"


def _not_running(domain: int) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, domain, "domain is not running")


def _invalid(detail: str, domain: int = Q) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, domain, detail)


def _network_driver(fn: str) -> errors.VirtError:
    """virGetConnectNetwork: the network daemon's socket, whose error an
    embedded driver without one gives; pyvirt has no client for a daemon
    that does listen there."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        try:
            s.connect(NETWORK_SOCKET)
        except OSError as exc:
            return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, ErrorDomain.VIR_FROM_RPC,
                                 f"Failed to connect socket to '{NETWORK_SOCKET}': "
                                 f"{os.strerror(exc.errno or 0)}")
    return errors.no_support(fn, D)


class GuestAgent:
    """virDomainFS*, Get/SetTime, GetHostname, InterfaceAddresses, the
    guest's vCPUs, users' passwords and SSH keys, GetGuestInfo, PM suspend
    and wake-up, QemuAgentCommand."""

    lock: threading.RLock
    runtime: dict[bytes, Runtime]

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def job(self, uuid: bytes) -> AbstractContextManager[None]: ...
        def _running(self, dom: Domain, domain: int = D) -> tuple[DomainObj, Runtime]: ...
        def _monitor_call(self, rt: Runtime, cmd: str,
                          args: Optional[dict[str, Any]] = None) -> Any: ...

    # -- libvirt's checks
    def agent_available(self, obj: DomainObj, report: bool = True) -> bool:
        """qemuDomainAgentAvailable (lock held): raises its error, or
        with `report` False returns False where it would report none."""
        if obj.state != DomainState.VIR_DOMAIN_RUNNING:
            raise _not_running(Q)
        rt = self.runtime.get(obj.uuid)
        index = next((i for i, ch in enumerate(channels.virtio_channels(obj.def_))
                      if ch is channels.agent_channel(obj.def_)), None)
        if index is None:
            if not report:
                return False
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "QEMU guest agent is not configured")
        states = rt.channels.states if rt is not None and rt.channels is not None else []
        if index >= len(states) or states[index] != channels.CONNECTED:
            if not report:
                return False
            raise errors.report(ErrorNumber.VIR_ERR_AGENT_UNRESPONSIVE, Q,
                                "QEMU guest agent is not connected")
        return True

    def _agent(self, dom: Domain, fn: str, active_first: bool) -> None:
        """The agent's checks, after virDomainObjCheckActive where libvirt
        makes that first; an agent that is there we cannot talk to."""
        with self.lock:
            obj = self._obj(dom)
            if active_first and not obj.is_active():
                raise _not_running(D)
            self.agent_available(obj)
        raise errors.no_support(fn, D)

    # -- filesystems
    def domain_fs_freeze(self, dom: Domain, mountpoints: list[str], flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainFSFreeze", Q)
        self._agent(dom, "virDomainFSFreeze", True)
        return 0

    def domain_fs_thaw(self, dom: Domain, mountpoints: list[str], flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainFSThaw", Q)
        self._agent(dom, "virDomainFSThaw", True)
        return 0

    def domain_fs_trim(self, dom: Domain, mountpoint: Optional[str], minimum: int,
                       flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainFSTrim", Q)
        if mountpoint:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "Specifying mount point is not supported for now")
        self._agent(dom, "virDomainFSTrim", False)

    def domain_get_fs_info(self, dom: Domain, flags: int) -> list[DomainFSInfo]:
        errors.check_flags(flags, 0, "qemuDomainGetFSInfo", Q)
        self._agent(dom, "virDomainGetFSInfo", True)
        return []

    # -- host name, time, users
    def domain_get_hostname(self, dom: Domain, flags: int) -> str:
        fn = "qemuDomainGetHostname"
        errors.check_flags(flags, GET_HOSTNAME_LEASE | GET_HOSTNAME_AGENT, fn, Q)
        if flags & GET_HOSTNAME_LEASE and flags & GET_HOSTNAME_AGENT:
            raise errors.invalid_arg(Q, fn, "flags",
                                     "Flags 'VIR_DOMAIN_GET_HOSTNAME_LEASE' and "
                                     "'VIR_DOMAIN_GET_HOSTNAME_AGENT' are mutually exclusive")
        if flags & GET_HOSTNAME_LEASE:
            with self.lock:
                if not self._obj(dom).is_active():
                    raise _not_running(D)
            raise _network_driver("virDomainGetHostname")
        self._agent(dom, "virDomainGetHostname", True)
        return ""

    def domain_get_time(self, dom: Domain, flags: int) -> tuple[int, int]:
        errors.check_flags(flags, 0, "qemuDomainGetTime", Q)
        self._agent(dom, "virDomainGetTime", True)
        return 0, 0

    def domain_set_time(self, dom: Domain, seconds: int, nseconds: int, flags: int) -> None:
        errors.check_flags(flags, SET_TIME_SYNC, "qemuDomainSetTime", Q)
        with self.lock:
            # libvirt asks the running QEMU's capabilities for
            # rtc-reset-reinjection (QEMU has it): a domain that is not
            # running has none
            if not self._obj(dom).is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                    "cannot set time: qemu doesn't support "
                                    "rtc-reset-reinjection command")
        self._agent(dom, "virDomainSetTime", True)

    def domain_set_user_password(self, dom: Domain, user: str, password: str,
                                 flags: int) -> None:
        errors.check_flags(flags, PASSWORD_ENCRYPTED, "qemuDomainSetUserPassword", Q)
        self._agent(dom, "virDomainSetUserPassword", True)

    def domain_authorized_ssh_keys_get(self, dom: Domain, user: str,
                                       flags: int) -> list[str]:
        errors.check_flags(flags, 0, "qemuDomainAuthorizedSSHKeysGet", Q)
        self._agent(dom, "virDomainAuthorizedSSHKeysGet", False)
        return []

    def domain_authorized_ssh_keys_set(self, dom: Domain, user: str,
                                       keys: Optional[list[str]], flags: int) -> None:
        errors.check_flags(flags, SSH_KEYS_SET_APPEND | SSH_KEYS_SET_REMOVE,
                           "qemuDomainAuthorizedSSHKeysSet", Q)
        self._agent(dom, "virDomainAuthorizedSSHKeysSet", False)

    # -- the guest as a whole
    def domain_get_guest_info(self, dom: Domain, types: int, flags: int) -> list[Any]:
        errors.check_flags(flags, 0, "qemuDomainGetGuestInfo", Q)
        if types & ~GUEST_INFO_TYPES:
            raise _invalid(f"unsupported guest information types '{types & ~GUEST_INFO_TYPES:#x}'")
        self._agent(dom, "virDomainGetGuestInfo", False)
        return []

    def domain_get_guest_vcpus(self, dom: Domain, flags: int) -> list[Any]:
        errors.check_flags(flags, 0, "qemuDomainGetGuestVcpus", Q)
        self._agent(dom, "virDomainGetGuestVcpus", False)
        return []

    def domain_set_guest_vcpus(self, dom: Domain, cpumap: str, state: int, flags: int) -> None:
        fn = "qemuDomainSetGuestVcpus"
        errors.check_flags(flags, 0, fn, Q)
        if state not in (0, 1):
            raise errors.invalid_arg(Q, fn, "state", "unsupported state value")
        cpus = parse_cpuset(cpumap)
        if cpus is None or any(c >= GUEST_VCPU_MAX_ID for c in cpus):
            raise _invalid(f"Failed to parse bitmap '{cpumap}'", ErrorDomain.VIR_FROM_NONE)
        self._agent(dom, "virDomainSetGuestVcpus", False)

    def domain_agent_set_response_timeout(self, dom: Domain, timeout: int, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainAgentSetResponseTimeout", Q)
        if timeout < AGENT_COMMAND_MIN:
            raise _invalid(f"guest agent timeout '{timeout}' is less than the minimum "
                           f"'{AGENT_COMMAND_MIN}'")
        with self.lock:
            # kept for the agent that may appear (libvirt: its status XML)
            self._obj(dom).private["agent_timeout"] = timeout

    def domain_qemu_agent_command(self, dom: Domain, cmd: str, timeout: int,
                                  flags: int) -> str:
        errors.check_flags(flags, 0, "qemuDomainQemuAgentCommand", Q)
        self._agent(dom, "virDomainQemuAgentCommand", True)
        return ""

    # -- power management
    def domain_pm_suspend_for_duration(self, dom: Domain, target: int, duration: int,
                                       flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainPMSuspendForDuration", Q)
        if duration:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "Duration not supported. Use 0 for now")
        if not 0 <= target <= SUSPEND_TARGET_HYBRID:
            raise _invalid(f"Unknown suspend target: {target}")
        self._agent(dom, "virDomainPMSuspendForDuration", False)

    def domain_pm_wakeup(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainPMWakeup", Q)
        with self.job(dom.uuid):
            _, rt = self._running(dom)
            self._monitor_call(rt, "system_wakeup")

    def agent_power(self, dom: Domain, flags: int, agent_flag: int, acpi_flag: int) -> bool:
        """The agent's part of virDomainShutdownFlags/Reboot: whether the
        monitor's part follows.  Only the agent asked for alone reports
        its absence; with ACPI too, ACPI is tried instead."""
        if not flags & agent_flag:
            return True
        forced = not flags & acpi_flag
        try:
            with self.lock:
                if not self.agent_available(self._obj(dom), forced):
                    return True
        except errors.VirtError:
            if forced:
                raise
            return True
        raise errors.no_support("virDomainShutdownFlags" if agent_flag == 1 else
                                "virDomainReboot", D)

    # -- addresses
    def domain_interface_addresses(self, dom: Domain, source: int,
                                   flags: int) -> list[DomainInterface]:
        errors.check_flags(flags, 0, "qemuDomainInterfaceAddresses", Q)
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running(D)
            nics = [(n.find("target"), n.find("mac")) for n in obj.def_.devices
                    if n.tag == "interface"]
        if source == IFADDR_LEASE:
            raise _network_driver("virDomainInterfaceAddresses")
        if source == IFADDR_AGENT:
            self._agent(dom, "virDomainInterfaceAddresses", False)
        if source != IFADDR_ARP:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                f"Unknown IP address data source {source}")
        table = arptable.read()
        out = []
        for target, mac in nics:   # qemuARPGetInterfaces: one per matching entry
            address = "" if mac is None else (mac.get("address") or "").lower()
            name = None if target is None else target.get("dev")
            out += [DomainInterface(name=name, hwaddr=address,   # type: ignore[arg-type]
                                    addrs=[DomainIPAddress(0, entry.ipaddr, 0)])
                    for entry in table if entry.mac == address]
        return out
