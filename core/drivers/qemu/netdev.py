"""Host side of a domain's tap NICs (libvirt's qemu_interface.c and
virnetdevtap.c): <interface type='ethernet'> and type='bridge'.

The driver opens each tap itself (TUNSETIFF on /dev/net/tun) and hands the
fd to QEMU, as libvirt 9.0 does.  A tap it creates is not persistent: it
lives as long as an fd on it is open, so it goes with QEMU even when no
driver is there to delete it; the driver still deletes it on stop.  A tap
given as <target dev='X' managed='no'/> must exist, is only opened, and is
left as it was.  Plain ioctls, no netlink library: name, MAC, MTU, up and
bridge port are a single ioctl each (the qdisc alone needs tc).
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import os
import shutil
import socket
import struct
import subprocess
import threading
from typing import Optional

from lxml import etree

from ... import errors
from ...conf import domain_net
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber

TUN_PATH = "/dev/net/tun"
VHOST_NET_PATH = "/dev/vhost-net"
TAP_TYPES = ("ethernet", "bridge")
SUPPORTED_TYPES = ("user",) + TAP_TYPES
_TUNSETIFF, _TUNSETPERSIST = 0x400454CA, 0x400454CB
_IFF_TAP, _IFF_NO_PI, _IFF_VNET_HDR, _IFF_UP = 0x0002, 0x1000, 0x4000, 0x1
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _SIOCGIFMTU, _SIOCSIFMTU = 0x8913, 0x8914, 0x8921, 0x8922
_SIOCSIFHWADDR, _SIOCGIFINDEX, _SIOCBRADDIF = 0x8924, 0x8933, 0x89A2
_ARPHRD_ETHER = 1
_IFNAMSIZ = 16
# the elements libvirt writes after an interface's <target> / <alias>
_AFTER_TARGET = ("guest", "model", "driver", "backend", "filterref", "tune", "teaming",
                 "link", "mtu", "coalesce", "rom", "boot", "alias", "address", "acpi")
_AFTER_ALIAS = ("address", "acpi")


class _VnetNames:
    """vnetN names, from a counter of the process that only goes up (a name
    is not reused at once), skipping names in use, as libvirt 9.0 does."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._last = -1

    def next(self) -> str:
        with self._lock:
            while True:
                self._last += 1
                name = f"vnet{self._last}"
                if not exists(name):
                    return name

    def reserve(self, name: str) -> None:
        """A name a domain found again holds: the counter goes past it."""
        if name.startswith("vnet") and name[4:].isdigit():
            with self._lock:
                self._last = max(self._last, int(name[4:]))


VNET_NAMES = _VnetNames()


def exists(name: str) -> bool:
    return os.path.exists(f"/sys/class/net/{name}")


def _system_error(detail: str, exc: OSError) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, ErrorDomain.VIR_FROM_NONE,
                         f"{detail}: {os.strerror(exc.errno or 0)}")


def _ifreq(name: str, data: bytes = b"") -> bytes:
    return struct.pack(f"{_IFNAMSIZ}s", name.encode()) + data.ljust(24, b"\0")


def _ioctl(request: int, name: str, data: bytes = b"") -> bytes:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        return fcntl.ioctl(sock.fileno(), request, _ifreq(name, data))


def get_mtu(name: str) -> int:
    try:
        return int(struct.unpack_from("i", _ioctl(_SIOCGIFMTU, name), _IFNAMSIZ)[0])
    except OSError as exc:
        raise _system_error(f"Cannot get interface MTU on '{name}'", exc) from None


def _open_tap(name: str, vnet_hdr: bool) -> int:
    """An fd on tap `name`, created unless it exists."""
    fd = os.open(TUN_PATH, os.O_RDWR | os.O_CLOEXEC)
    flags = _IFF_TAP | _IFF_NO_PI | (_IFF_VNET_HDR if vnet_hdr else 0)
    try:
        fcntl.ioctl(fd, _TUNSETIFF, _ifreq(name, struct.pack("H", flags)))
    except OSError:
        os.close(fd)
        raise
    return fd


def _configure(name: str, mac: str, mtu: Optional[int], bridge: Optional[str]) -> None:
    """What libvirt does to a tap it made: host MAC fe:..., MTU, bridge port, up."""
    host_mac = bytes([0xFE]) + bytes(int(b, 16) for b in mac.split(":")[1:])
    try:
        _ioctl(_SIOCSIFHWADDR, name, struct.pack("H", _ARPHRD_ETHER) + host_mac)
    except OSError as exc:
        raise _system_error(f"Cannot set interface MAC on '{name}'", exc) from None
    if mtu:
        try:
            _ioctl(_SIOCSIFMTU, name, struct.pack("i", mtu))
        except OSError as exc:
            raise _system_error(f"Cannot set interface MTU on '{name}'", exc) from None
    if bridge is not None:
        try:
            index = struct.unpack_from("i", _ioctl(_SIOCGIFINDEX, name), _IFNAMSIZ)[0]
            _ioctl(_SIOCBRADDIF, bridge, struct.pack("i", index))
        except OSError as exc:
            raise _system_error(f"Unable to add bridge {bridge} port {name}", exc) from None
    _no_qdisc(name)
    try:
        flags = struct.unpack_from("H", _ioctl(_SIOCGIFFLAGS, name), _IFNAMSIZ)[0]
        _ioctl(_SIOCSIFFLAGS, name, struct.pack("H", flags | _IFF_UP))
    except OSError as exc:
        raise _system_error(f"Cannot set interface flags on '{name}'", exc) from None


def _no_qdisc(name: str) -> None:
    """A tap needs no queue of its own (QEMU reads it at once): libvirt sets
    'noqueue' as root qdisc, with tc, and goes on if it cannot."""
    tc = shutil.which("tc") or ("/usr/sbin/tc" if os.path.exists("/usr/sbin/tc") else None)
    if tc is not None:
        subprocess.run([tc, "qdisc", "add", "dev", name, "root", "handle", "0:", "noqueue"],
                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=False)


def delete_tap(name: str) -> None:
    """Delete a tap this driver made, if it is still there (QEMU gone, its
    fd closed, it is gone already, unless made persistent meanwhile)."""
    if not exists(name):
        return
    try:
        fd = _open_tap(name, False)
    except OSError:
        return   # not a tap, or still in use: not ours to take
    try:
        fcntl.ioctl(fd, _TUNSETPERSIST, 0)
    except OSError:
        pass
    finally:
        os.close(fd)


def _vhost_fd() -> Optional[int]:
    """/dev/vhost-net for a virtio NIC when the host has it; libvirt goes on
    without it (a warning in its log) when it cannot be opened."""
    try:
        return os.open(VHOST_NET_PATH, os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return None


@dataclasses.dataclass
class TapSetup:
    """The fds a QEMU command line names, per NIC index, and the taps made."""
    tap_fds: dict[int, int] = dataclasses.field(default_factory=dict)
    vhost_fds: dict[int, int] = dataclasses.field(default_factory=dict)
    created: list[str] = dataclasses.field(default_factory=list)

    def pass_fds(self) -> tuple[int, ...]:
        return tuple(self.tap_fds.values()) + tuple(self.vhost_fds.values())

    def close(self) -> None:
        """Our copies of the fds, once QEMU has its own (or will never run)."""
        for fd in self.pass_fds():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.tap_fds.clear()
        self.vhost_fds.clear()


def _set_child(nic: etree._Element, tag: str, before: tuple[str, ...],
               **attrs: str) -> None:
    elem = nic.find(tag)
    if elem is None:
        elem = etree.Element(tag)
        children = list(nic)
        pos = next((i for i, c in enumerate(children) if c.tag in before), len(children))
        nic.insert(pos, elem)
    for key, value in attrs.items():
        elem.set(key, value)


def interfaces(d: DomainDef) -> list[etree._Element]:
    return [dev for dev in d.devices if dev.tag == "interface"]


def check_types(d: DomainDef) -> None:
    for nic in interfaces(d):
        ntype = nic.get("type")
        if ntype not in SUPPORTED_TYPES:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                                f"interface type '{ntype}' is not supported yet")


def _model(nic: etree._Element) -> str:
    model = nic.find("model")
    return (model.get("type") or "") if model is not None else ""


def _open_nic(nic: etree._Element, setup: TapSetup, index: int) -> None:
    target = nic.find("target")
    name = target.get("dev") if target is not None else None
    virtio = _model(nic) == "virtio"
    if target is not None and target.get("managed") == "no":
        if not name or not exists(name):
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_QEMU,
                                "target managed='no' but specified dev doesn't exist")
        try:
            setup.tap_fds[index] = _open_tap(name, virtio)
        except OSError as exc:
            raise _system_error(f"Unable to create tap device {name}", exc) from None
    else:
        bridge = None
        mtu_elem = nic.find("mtu")
        mtu = int(mtu_elem.get("size", "0")) if mtu_elem is not None else None
        if nic.get("type") == "bridge":
            source = nic.find("source")
            bridge = source.get("bridge", "") if source is not None else ""
            mtu = mtu or get_mtu(bridge)   # the tap follows its bridge
        while True:
            chosen = name or VNET_NAMES.next()
            try:
                fd = _open_tap(chosen, virtio)
            except OSError as exc:
                if name is None and exc.errno == errno.EBUSY:   # another's, just taken
                    continue
                raise _system_error(f"Unable to create tap device {chosen}", exc) from None
            break
        setup.tap_fds[index] = fd
        setup.created.append(chosen)
        mac = nic.find("mac")
        _configure(chosen, mac.get("address", "") if mac is not None else "52:54:00:00:00:00",
                   mtu, bridge)
        _set_child(nic, "target", _AFTER_TARGET, dev=chosen)
    if virtio:
        vhost = _vhost_fd()
        if vhost is not None:
            setup.vhost_fds[index] = vhost


def prepare(d: DomainDef) -> TapSetup:
    """Open (and make) the taps of `d` and name them in its live definition,
    with each NIC's alias; on failure nothing made is left behind."""
    check_types(d)
    setup = TapSetup()
    try:
        for index, nic in enumerate(interfaces(d)):
            if nic.get("type") in TAP_TYPES:
                _open_nic(nic, setup, index)
            if nic.find("alias") is None:   # a user's alias (ua-...) stays
                _set_child(nic, "alias", _AFTER_ALIAS, name=f"net{index}")
    except BaseException:
        setup.close()
        for name in setup.created:
            delete_tap(name)
        raise
    return setup


def managed_taps(d: DomainDef) -> list[str]:
    """The taps a running `d` holds that the driver made (found again after
    a restart: what its status names, but an unmanaged one)."""
    out = []
    for nic in interfaces(d):
        target = nic.find("target")
        if (nic.get("type") in TAP_TYPES and target is not None
                and target.get("managed") != "no" and target.get("dev")):
            out.append(target.get("dev", ""))
    return out


def forget_live(d: DomainDef) -> None:
    """A stopped domain's NICs: no generated tap name, no alias."""
    for nic in interfaces(d):
        domain_net.strip_runtime(nic)
