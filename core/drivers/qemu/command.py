"""Domain definition -> QEMU command line.

Covered: machine type and accelerator (kvm -> KVM, qemu -> TCG), memory,
vCPUs and their model (guestcpu.py), ACPI (only with <features><acpi/>),
<os><kernel>/<initrd>/<cmdline>, file disks (raw, qcow2) on virtio/sata/ide
buses with their error policies, user-mode and tap NICs
(the taps opened by netdev.py, passed as fds, as libvirt 9.0 does),
serial/console (pty, file, unix, null), VNC graphics, the memory balloon
(balloon.py).  The monitor is a listening socket the driver creates and
passes as an fd, so QEMU needs no polling to be reached.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import random
import shlex
import time
from typing import Any, Optional

from lxml import etree

from ... import errors, viruuid
from ...conf.domain import DomainDef, topology
from ...conf import domain_net, domain_vcpus
from ..base import LIBVIR_VERSION_NUMBER, host_name
from . import (balloon, capabilities, channels, disknodes, guestcpu, iothreads, pciaddr,
               postparse)
from ...errors import ErrorDomain, ErrorNumber

Q = ErrorDomain.VIR_FROM_QEMU
DEFAULT_NIC_MODEL = "rtl8139"
# what libvirt writes after an interface's <model>
_AFTER_MODEL = ("driver", "backend", "filterref", "tune", "teaming", "link", "mtu",
                "coalesce", "rom", "boot", "alias", "address", "acpi")
NIC_DEVICES = {"virtio": "virtio-net-pci", "e1000": "e1000", "e1000e": "e1000e",
                "rtl8139": "rtl8139"}


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q, detail)


@dataclasses.dataclass(frozen=True)
class LaunchPaths:
    """Per-run paths the command line names."""
    pidfile: str
    monitor_fd: int
    tap_fds: dict[int, int] = dataclasses.field(default_factory=dict)     # NIC index -> fd
    vhost_fds: dict[int, int] = dataclasses.field(default_factory=dict)
    channel_fds: list[int] = dataclasses.field(default_factory=list)   # channels.py


def emulator_of(d: DomainDef) -> Optional[str]:
    for dev in d.devices:
        if dev.tag == "emulator":
            return (dev.text or "").strip() or None
    return None


def fill_defaults(d: DomainDef, emulator: str, machine: str, new_domain: bool = True) -> None:
    """What libvirt's parse and post-parse do: canonical machine, <emulator>,
    NIC MACs and models (a NIC's generated tap name and alias are dropped),
    the memory balloon."""
    d.os.machine = machine
    if emulator_of(d) is None:
        elem = etree.Element("emulator")
        elem.text = emulator
        d.devices.insert(0, elem)
    for dev in d.devices:
        if dev.tag == "interface":
            domain_net.strip_runtime(dev)
            fill_nic(dev)
    disknodes.forget(d)   # a source index or chain in the input is not kept, as libvirt
    balloon.fill_default(d)
    postparse.fill(d, new_domain)


def fill_nic(dev: etree._Element) -> None:
    """An <interface> without a MAC or model gets libvirt's."""
    if dev.find("mac") is None:
        mac = "52:54:00:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(3))
        dev.insert(0, etree.Element("mac", address=mac))
    if dev.find("model") is None:
        children = list(dev)
        pos = next((i for i, c in enumerate(children) if c.tag in _AFTER_MODEL),
                   len(children))
        dev.insert(pos, etree.Element("model", type=DEFAULT_NIC_MODEL))


def _os_text(d: DomainDef, tag: str) -> Optional[str]:
    for elem in d.os.extra:
        if elem.tag == tag:
            return (elem.text or "").strip() or None
    return None


def _blockdev(**props: Any) -> list[str]:
    return ["-blockdev", json.dumps(props, separators=(",", ":"))]


def _image_args(index: int, path: str, fmt: str, readonly: bool,
                backing: Optional[str]) -> list[str]:
    """One image's storage and format nodes; a qcow2 names its backing node
    (null: none, QEMU must not open one on its own)."""
    fmt_props: dict[str, Any] = {"node-name": disknodes.node_name(index), "read-only": readonly,
                                 "driver": fmt, "file": disknodes.node_name(index, "storage")}
    if fmt == "qcow2":
        fmt_props["backing"] = backing
    return (_blockdev(driver="file", filename=path,
                      **{"node-name": disknodes.node_name(index, "storage"),
                         "auto-read-only": True, "discard": "unmap"})
            + _blockdev(**fmt_props))


def _disk_args(d: DomainDef, disk: etree._Element, node: DiskNode, index: int,
               boot: list[int]) -> list[str]:
    dtype = disk.get("type", "file")
    device = disk.get("device", "disk")
    target = disk.find("target")
    driver = disk.find("driver")
    if dtype != "file":
        raise _unsupported(f"disk type '{dtype}' is not supported yet")
    bus = target.get("bus") if target is not None else None
    dev = target.get("dev", f"disk{index}") if target is not None else f"disk{index}"
    if bus is None:
        bus = "virtio" if dev.startswith("vd") else "sata"
    if node.fmt not in disknodes.FORMATS:
        raise _unsupported(f"unsupported disk format '{node.fmt}'")
    out: list[str] = []
    if node.path is not None:
        # the chain from its deepest image up, each read-only below the top
        below: Optional[str] = None
        for layer in reversed(node.backing):
            out += _image_args(layer.index, layer.path, layer.fmt, True, below)
            below = layer.node
        out += _image_args(node.index, node.path, node.fmt, node.readonly, below)
    elif device != "cdrom":
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_DOMAIN,
                            "missing source for disk")
    props = [f"id={node.alias}"]
    if node.path is not None:
        props.append(f"drive={node.node}")
    if not boot:
        boot.append(1)
        props.append("bootindex=1")
    if bus == "virtio":
        model = "virtio-blk-pci"
        props[1:1] = pciaddr.props(d, disk)
    elif bus == "ide":
        model = "ide-cd" if device == "cdrom" else "ide-hd"
        ide_bus, unit = _ide_address(dev, index)
        props[1:1] = [f"bus=ide.{ide_bus}", f"unit={unit}"]
    elif bus == "sata":
        model = "ide-cd" if device == "cdrom" else "ide-hd"
        # q35's built-in AHCI is 'ide'; a pc's added one is sata0
        ahci = "ide" if pciaddr.is_q35(d) else "sata0"
        props.insert(1, f"bus={ahci}.{_drive_unit(disk, index)}")
    else:
        raise _unsupported(f"disk bus '{bus}' is not supported yet")
    werror, rerror = error_policies(driver)
    props += [f"werror={werror}"] if werror else []
    props += [f"rerror={rerror}"] if rerror else []
    return out + ["-device", ",".join([model] + props)]


def _drive_unit(disk: etree._Element, index: int) -> int:
    address = disk.find("address")
    if address is not None and address.get("type") == "drive":
        return int(address.get("unit", "0"))
    return index


def _ide_address(dev: str, index: int) -> tuple[int, int]:
    """(bus, unit) of an IDE disk from its target name: hda 0,0 ... hdd 1,1,
    two units on each of the PIIX controller's two buses."""
    n = ord(dev[2]) - ord("a") if dev.startswith("hd") and len(dev) == 3 else index
    return (n % 4) // 2, n % 2


def _alias(bus: str, dev: str, index: int) -> str:
    """The device id libvirt gives the disk (the devAlias of its events)."""
    if bus == "virtio":
        return f"virtio-disk{index}"
    if bus == "ide":
        ide_bus, unit = _ide_address(dev, index)
        return f"ide0-{ide_bus}-{unit}"
    return f"sata0-0-{index}"


def _disk_alias(disk: etree._Element, index: int) -> str:
    target = disk.find("target")
    dev = target.get("dev", f"disk{index}") if target is not None else f"disk{index}"
    bus = (target.get("bus") if target is not None else None) or (
        "virtio" if dev.startswith("vd") else "sata")
    if bus == "sata":
        return f"sata0-0-{_drive_unit(disk, index)}"
    if bus == "virtio":   # libvirt counts virtio disks by their target name
        return f"virtio-disk{_virtio_index(dev, index)}"
    return _alias(bus, dev, index)


def _virtio_index(dev: str, index: int) -> int:
    letters = dev[2:]
    if dev.startswith("vd") and letters.isalpha() and letters.islower():
        n = 0
        for ch in letters:
            n = n * 26 + ord(ch) - ord("a") + 1
        return n - 1
    return index


# <driver error_policy|rerror_policy> -> QEMU's werror/rerror (libvirt's spelling
# 'enospace' is QEMU's 'enospc', which only werror accepts)
_POLICIES = ("stop", "report", "ignore", "enospace")


def error_policies(driver: Optional[etree._Element]) -> tuple[Optional[str], Optional[str]]:
    """(werror, rerror) for a disk's <driver>, None where QEMU's default stays:
    without rerror_policy the read policy follows error_policy, except
    enospace, which leaves reads at QEMU's default."""
    wpolicy = driver.get("error_policy") if driver is not None else None
    rpolicy = driver.get("rerror_policy") if driver is not None else None
    for attr, value in (("error_policy", wpolicy), ("rerror_policy", rpolicy)):
        if value is not None and value not in _POLICIES:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                                ErrorDomain.VIR_FROM_DOMAIN,
                                f"unknown disk {attr.replace('_', ' ')} '{value}'")
    if rpolicy == "enospace":   # as libvirt's validation: QEMU has no such read policy
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
                            "Invalid disk read error policy: 'enospace'")
    if wpolicy == "enospace":
        return "enospc", rpolicy
    return wpolicy, rpolicy or wpolicy


@dataclasses.dataclass(frozen=True)
class DiskNode:
    """How a <disk> appears in QEMU: its images' nodes and its device id."""
    target: str
    index: int             # its own image's number (disknodes.py)
    alias: str             # the device id (virtio-disk0, sata0-0-1)
    path: Optional[str]
    fmt: str
    readonly: bool
    backing: tuple[disknodes.Layer, ...] = ()   # top down

    @property
    def node(self) -> str:
        """The format node of its own image (the device's drive)."""
        return disknodes.node_name(self.index)

    def node_names(self) -> list[str]:
        indexes = [self.index] + [b.index for b in self.backing]
        return [disknodes.node_name(i, layer) for i in indexes for layer in ("format", "storage")]


def disk_nodes(d: DomainDef) -> list[DiskNode]:
    """The disks of `d` with the names _disk_args gives them."""
    out = []
    disks = disknodes.disks_of(d)
    for (index, disk), (number, backing) in zip(enumerate(disks), disknodes.numbers(d)):
        source, target, driver = disk.find("source"), disk.find("target"), disk.find("driver")
        dev = target.get("dev", f"disk{index}") if target is not None else f"disk{index}"
        out.append(DiskNode(
            dev, number, _disk_alias(disk, index),
            source.get("file") if source is not None else None,
            driver.get("type", "raw") if driver is not None else "raw",
            disk.find("readonly") is not None or disk.get("device", "disk") == "cdrom",
            backing))
    return out


def _nic_args(d: DomainDef, nic: etree._Element, index: int, paths: LaunchPaths) -> list[str]:
    ntype = nic.get("type")
    netdev_props: dict[str, Any] = {"type": "user"}
    if ntype in ("ethernet", "bridge") and index in paths.tap_fds:
        netdev_props = {"type": "tap", "fd": str(paths.tap_fds[index])}
        if index in paths.vhost_fds:
            netdev_props.update(vhost=True, vhostfd=str(paths.vhost_fds[index]))
    elif ntype != "user":
        raise _unsupported(f"interface type '{ntype}' is not supported yet")
    model_elem = nic.find("model")
    model = model_elem.get("type", DEFAULT_NIC_MODEL) if model_elem is not None \
        else DEFAULT_NIC_MODEL
    device = NIC_DEVICES.get(model)
    if device is None:
        raise _unsupported(f"interface model '{model}' is not supported yet")
    mac_elem = nic.find("mac")
    mac = mac_elem.get("address") if mac_elem is not None else None
    netdev = json.dumps({**netdev_props, "id": f"hostnet{index}"}, separators=(",", ":"))
    props = [device, f"netdev=hostnet{index}", f"id=net{index}"]
    if mac:
        props.append(f"mac={mac}")
    props += pciaddr.props(d, nic)
    mtu = nic.find("mtu")
    if mtu is not None and model == "virtio":   # the guest learns it (virtio only)
        props.append(f"host_mtu={mtu.get('size')}")
    return ["-netdev", netdev, "-device", ",".join(props)]


def _chardev(dev: etree._Element, chr_id: str) -> str:
    ctype = dev.get("type", "pty")
    source = dev.find("source")
    if ctype == "pty":
        return f"pty,id={chr_id}"
    if ctype == "null":
        return f"null,id={chr_id}"
    if ctype == "file" and source is not None and source.get("path"):
        return f"file,id={chr_id},path={source.get('path')}"
    if ctype == "unix" and source is not None and source.get("path"):
        server = "on" if source.get("mode", "bind") == "bind" else "off"
        return f"socket,id={chr_id},path={source.get('path')},server={server},wait=off"
    raise _unsupported(f"serial type '{ctype}' is not supported yet")


_USB_INPUTS = {"tablet": "usb-tablet", "mouse": "usb-mouse", "keyboard": "usb-kbd"}


def _usb_input_args(d: DomainDef) -> list[str]:
    """-device for each USB input, on the port its address names (postparse);
    its id counts every input, as the live XML's alias does."""
    out = []
    for index, dev in enumerate(dev for dev in d.devices if dev.tag == "input"):
        address = dev.find("address")
        if dev.get("bus") != "usb" or dev.get("type") not in _USB_INPUTS or address is None:
            continue
        out += ["-device", f"{_USB_INPUTS[dev.get('type', '')]},id=input{index},"
                           f"bus=usb.{address.get('bus', '0')},port={address.get('port', '1')}"]
    return out


def _serial_args(d: DomainDef) -> list[str]:
    serials = [dev for dev in d.devices if dev.tag == "serial"]
    if not serials:
        # A lone <console> of the serial kind implies serial0, as in libvirt.
        serials = [dev for dev in d.devices if dev.tag == "console"
                   and (dev.find("target") is None
                        or dev.find("target").get("type", "serial") == "serial")][:1]
    out: list[str] = []
    for index, dev in enumerate(serials):
        out += ["-chardev", _chardev(dev, f"charserial{index}"),
                "-device", f"isa-serial,chardev=charserial{index},id=serial{index},index={index}"]
    return out


def _audio_args(d: DomainDef) -> list[str]:
    """-audiodev for each <audio> (postparse gives every domain one of type
    'none', as libvirt does): QEMU then never picks a host sound system."""
    out: list[str] = []
    for a in (dev for dev in d.devices if dev.tag == "audio"):
        if a.get("type", "none") != "none":
            raise _unsupported(f"audio type '{a.get('type')}' is not supported yet")
        out += ["-audiodev", json.dumps({"id": f"audio{a.get('id', '1')}", "driver": "none"},
                                        separators=(",", ":"))]
    return out


def _graphics_args(d: DomainDef) -> list[str]:
    graphics = [dev for dev in d.devices if dev.tag == "graphics"]
    if not graphics:
        return ["-display", "none"]
    out: list[str] = []
    for g in graphics:
        if g.get("type") != "vnc":
            raise _unsupported(f"graphics type '{g.get('type')}' is not supported yet")
        listen = g.get("listen") or "127.0.0.1"
        port = int(g.get("port", "-1"))
        # VNC's audio goes to the first <audio> (libvirt 9.0)
        audio = "".join(f",audiodev=audio{a.get('id', '1')}"
                        for a in [dev for dev in d.devices if dev.tag == "audio"][:1])
        if port < 0 or g.get("autoport") == "yes":
            # QEMU picks the first free display from 5900 on (libvirt's range).
            out += ["-vnc", f"{listen}:0,to=99{audio}"]
        else:
            out += ["-vnc", f"{listen}:{port - 5900}{audio}"]
    video = next((dev for dev in d.devices if dev.tag == "video"), None)
    model = video.find("model") if video is not None else None
    kind = model.get("type", "cirrus") if model is not None else "cirrus"
    device = {"cirrus": "cirrus-vga", "vga": "VGA", "virtio": "virtio-vga"}.get(kind, "VGA")
    return out + ["-device", ",".join([device, "id=video0"]
                                      + (pciaddr.props(d, video) if video is not None else []))]


def has_acpi(d: DomainDef) -> bool:
    """<features><acpi/>: without it an x86 guest gets no ACPI tables (and
    no power button), as libvirt starts it."""
    features = d.verbatim.get("features")
    return features is not None and features.find("acpi") is not None


# libvirt 9.0's seccomp filter (qemu.conf seccomp_sandbox, on unless 0): QEMU may
# not use obsolete calls, raise its privileges, spawn processes or set its own
# scheduling and affinity (pyvirt pins its threads from outside)
SANDBOX_ON = "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny"


def build(d: DomainDef, emulator: str, accel: str, paths: LaunchPaths,
          sandbox: bool = True) -> list[str]:
    """The argv that starts `d` paused (-S); the driver sends 'cont'."""
    # the hotpluggable vCPUs online at boot are device_add'ed before the
    # guest runs (vcpuhotplug.py), as libvirt does
    vcpus = sum(s.online and not s.hotpluggable for s in domain_vcpus.slots(d))
    counts = topology(d)   # libvirt names dies only when the definition has a topology
    shape = (f"sockets={d.vcpus},cores=1,threads=1" if counts is None else
             "sockets={},dies={},cores={},threads={}".format(*counts))
    smp = f"{vcpus},{shape}" if vcpus == d.vcpus else f"{vcpus},maxcpus={d.vcpus},{shape}"
    argv = [emulator,
            "-name", f"guest={d.name},debug-threads=on",
            "-S",
            "-machine", f"{d.os.machine},usb=off,dump-guest-core=off",
            "-accel", accel,
            *guestcpu.command_args(d, emulator),
            "-m", f"size={d.memory}k",
            "-overcommit", "mem-lock=off",
            "-smp", smp,
            *iothreads.command_args(d),
            "-uuid", viruuid.format(d.uuid),
            "-no-user-config", "-nodefaults",
            "-chardev", f"socket,id=charmonitor,fd={paths.monitor_fd},server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control",
            "-pidfile", paths.pidfile,
            "-rtc", "base=utc",
            "-no-shutdown"]
    if not has_acpi(d):
        argv.append("-no-acpi")
    argv += ["-boot", "strict=on"]
    kernel = _os_text(d, "kernel")
    if kernel is not None:
        argv += ["-kernel", kernel]
        initrd = _os_text(d, "initrd")
        if initrd is not None:
            argv += ["-initrd", initrd]
        cmdline = _os_text(d, "cmdline")
        if cmdline is not None:
            argv += ["-append", cmdline]
    argv += pciaddr.controller_args(d)
    boot: list[int] = []
    for index, (disk, node) in enumerate(zip(disknodes.disks_of(d), disk_nodes(d))):
        argv += _disk_args(d, disk, node, index, boot)
    nics = [dev for dev in d.devices if dev.tag == "interface"]
    for index, nic in enumerate(nics):
        argv += _nic_args(d, nic, index, paths)
    argv += _serial_args(d)
    argv += channels.command_args(d, paths.channel_fds)
    argv += _usb_input_args(d)
    argv += _audio_args(d)      # before -vnc, which names one (as libvirt's order)
    argv += _graphics_args(d)
    argv += balloon.command_args(d)
    argv += ["-sandbox", SANDBOX_ON if sandbox else "off"]
    argv += ["-msg", "timestamp=on"]   # QEMU's own lines in the log get a time, as libvirt asks
    return argv


# what QEMU gets of the caller's environment, as libvirt 9.0 passes it
_PASSED_ENV = ("LD_PRELOAD", "LD_LIBRARY_PATH", "PATH", "HOME", "USER", "LOGNAME", "TMPDIR")


def environment(domain_dir: str) -> dict[str, str]:
    """QEMU's environment, as libvirt 9.0 makes it rather than the
    caller's own: C locale, a few variables passed on, and HOME and the XDG
    folders in the domain's private folder (which QEMU may write to)."""
    env = {"LC_ALL": "C"}
    for name in _PASSED_ENV:
        if name == "HOME":
            env[name] = domain_dir
        elif name in os.environ:
            env[name] = os.environ[name]
    env.update(XDG_DATA_HOME=f"{domain_dir}/.local/share",
               XDG_CACHE_HOME=f"{domain_dir}/.cache", XDG_CONFIG_HOME=f"{domain_dir}/.config")
    return env


def log_stamp() -> str:
    """The time as libvirt writes it to a domain's log: UTC, to the millisecond."""
    now = time.time()
    return (time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(now))
            + f".{int(now * 1000) % 1000:03d}+0000")


@functools.lru_cache(maxsize=None)
def log_startup(emulator: str) -> str:
    """What follows the time on a start's first line in the domain's log, as
    libvirt 9.0 (built without a packager's name) writes it.  Kept per
    emulator: the host's name may take a DNS lookup, no thing for every start."""
    n = LIBVIR_VERSION_NUMBER
    return (f"starting up libvirt version: {n // 1000000}.{n // 1000 % 1000}.{n % 1000}, "
            f"qemu version: "
            f"{capabilities.probe(emulator).version_text}, kernel: {os.uname().release}, "
            f"hostname: {host_name()}")


def log_append(path: "str | os.PathLike[str]", text: str) -> None:
    """A line for the domain's log (it is for people: a failure is no matter)."""
    try:
        with open(path, "a") as f:
            f.write(text)
    except OSError:
        pass


def log_text(env: dict[str, str], argv: list[str]) -> str:
    """The command as libvirt writes it to the domain's log: one variable,
    then one option with its values, per line, shell-quoted, continued
    with a backslash."""
    lines = [f"{name}={shlex.quote(value)}" for name, value in env.items()]
    for arg in argv:
        if arg.startswith("-") or len(lines) == len(env):
            lines.append(shlex.quote(arg))
        else:
            lines[-1] += " " + shlex.quote(arg)
    return " \\\n".join(lines) + "\n"
