"""The <memoryBacking> and <devices> parts of domain capabilities: each
enum lists, in the order of libvirt's own enum, the values this QEMU can
serve, judged as libvirt judges them (mostly by the QOM types compiled in,
the display types by the QAPI schema) plus a few facts of the host (VFIO,
swtpm)."""

from __future__ import annotations

import functools
import json
import os
import shutil
import subprocess

from lxml import etree

from .qmpprobe import Probe

SWTPM_TOOLS = ("swtpm", "swtpm_setup", "swtpm_ioctl")


def _enum(parent: etree._Element, name: str, values: list[str]) -> None:
    e = etree.SubElement(parent, "enum", name=name)
    for v in values:
        etree.SubElement(e, "value").text = v


def _pick(pairs: list[tuple[str, bool]]) -> list[str]:
    return [value for value, present in pairs if present]


def _supported(parent: etree._Element, tag: str, yes: bool = True) -> etree._Element:
    return etree.SubElement(parent, tag, supported="yes" if yes else "no")


def memory_backing(root: etree._Element, p: Probe) -> None:
    mb = _supported(root, "memoryBacking")
    _enum(mb, "sourceType", _pick([("file", "memory-backend-file" in p.types),
                                   ("anonymous", True),
                                   ("memfd", "memory-backend-memfd" in p.types)]))


def has_builtin_ide(machine: str) -> bool:
    """i440fx machines have an IDE controller on board (isapc, q35: no)."""
    return machine == "pc" or machine.startswith(("pc-0.", "pc-1.", "pc-i440fx-", "rhel"))


def _virtio_models(p: Probe, device: str) -> list[str]:
    # libvirt's transitional-model capability rests on the -transitional types
    return _pick([("virtio", True),
                  ("virtio-transitional", f"{device}-transitional" in p.types),
                  ("virtio-non-transitional", f"{device}-non-transitional" in p.types)])


def _disk(devs: etree._Element, p: Probe, machine: str) -> None:
    disk = _supported(devs, "disk")
    _enum(disk, "diskDevice", ["disk", "cdrom", "floppy", "lun"])
    _enum(disk, "bus", _pick([("ide", has_builtin_ide(machine)), ("fdc", True), ("scsi", True),
                              ("virtio", True), ("usb", "usb-storage" in p.types),
                              ("sata", "ich9-ahci" in p.types)]))
    _enum(disk, "model", _virtio_models(p, "virtio-blk-pci"))


def _graphics(devs: etree._Element, p: Probe) -> None:
    g = _supported(devs, "graphics")
    _enum(g, "type", _pick([("sdl", "sdl" in p.display_types),
                            ("vnc", "query-vnc" in p.commands),
                            ("spice", "query-spice" in p.commands),
                            ("egl-headless", "egl-headless" in p.display_types),
                            ("dbus", "dbus-display" in p.types)]))


def _video(devs: etree._Element, p: Probe) -> None:
    v = _supported(devs, "video")
    _enum(v, "modelType", _pick([("vga", "VGA" in p.types), ("cirrus", "cirrus-vga" in p.types),
                                 ("vmvga", "vmware-svga" in p.types), ("qxl", "qxl" in p.types),
                                 ("virtio", "virtio-gpu-device" in p.types), ("none", True),
                                 ("bochs", "bochs-display" in p.types),
                                 ("ramfb", "ramfb" in p.types)]))


def host_supports_vfio() -> bool:
    """An IOMMU with groups, and the VFIO container device."""
    try:
        groups = os.listdir("/sys/kernel/iommu_groups")
    except OSError:
        return False
    return bool(groups) and os.path.exists("/dev/vfio/vfio")


def _hostdev(devs: etree._Element, p: Probe) -> None:
    h = _supported(devs, "hostdev")
    _enum(h, "mode", ["subsystem"])
    _enum(h, "startupPolicy", ["default", "mandatory", "requisite", "optional"])
    _enum(h, "subsysType", _pick([("usb", "usb-host" in p.types), ("pci", True),
                                  ("scsi", "scsi-generic" in p.types)]))
    _enum(h, "capsType", [])
    vfio = host_supports_vfio() and "vfio-pci" in p.types
    _enum(h, "pciBackend", ["default", "vfio"] if vfio else [])


def _rng(devs: etree._Element, p: Probe) -> None:
    rng = _supported(devs, "rng")
    _enum(rng, "model", _virtio_models(p, "virtio-rng-pci"))
    _enum(rng, "backendModel", _pick([("random", "rng-random" in p.types),
                                      ("egd", "rng-egd" in p.types),
                                      ("builtin", "rng-builtin" in p.types)]))


def _filesystem(devs: etree._Element, p: Probe) -> None:
    fs = _supported(devs, "filesystem")
    _enum(fs, "driverType", _pick([("path", True), ("handle", True),
                                   ("virtiofs", "vhost-user-fs-device" in p.types)]))


@functools.lru_cache(maxsize=1)
def swtpm_versions() -> tuple[str, ...]:
    """The TPM versions swtpm_setup can create state for; () without swtpm."""
    if not all(shutil.which(tool) for tool in SWTPM_TOOLS):
        return ()
    try:
        out = subprocess.run([str(shutil.which("swtpm_setup")), "--print-capabilities"],
                             capture_output=True, text=True, timeout=30).stdout
        features = json.loads(out).get("features", [])
    except (OSError, ValueError, subprocess.SubprocessError):
        return ()
    return tuple(v for v in ("1.2", "2.0") if f"tpm-{v}" in features)


def _tpm(devs: etree._Element, p: Probe) -> None:
    passthrough, emulator = "tpm-passthrough" in p.types, "tpm-emulator" in p.types
    if not (passthrough or emulator):
        _supported(devs, "tpm", False)
        return
    tpm = _supported(devs, "tpm")
    _enum(tpm, "model", _pick([("tpm-tis", "tpm-tis" in p.types),
                               ("tpm-crb", "tpm-crb" in p.types),
                               ("tpm-spapr", "tpm-spapr" in p.types),
                               ("spapr-tpm-proxy", "spapr-tpm-proxy" in p.types)]))
    _enum(tpm, "backendModel", _pick([("passthrough", passthrough), ("emulator", emulator),
                                      ("external", emulator)]))
    if emulator and swtpm_versions():
        _enum(tpm, "backendVersion", list(swtpm_versions()))


def _redirdev(devs: etree._Element, p: Probe) -> None:
    if "usb-redir" not in p.types:
        _supported(devs, "redirdev", False)
        return
    _enum(_supported(devs, "redirdev"), "bus", ["usb"])


def _channel(devs: etree._Element, p: Probe) -> None:
    ch = _supported(devs, "channel")
    _enum(ch, "type", _pick([("pty", True), ("unix", True),
                             ("spicevmc", "chardev-spicevmc" in p.types)]))


def devices(root: etree._Element, p: Probe, machine: str) -> None:
    devs = etree.SubElement(root, "devices")
    _disk(devs, p, machine)
    _graphics(devs, p)
    _video(devs, p)
    _hostdev(devs, p)
    _rng(devs, p)
    _filesystem(devs, p)
    _tpm(devs, p)
    _redirdev(devs, p)
    _channel(devs, p)
