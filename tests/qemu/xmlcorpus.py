"""The domain XML corpus libvirt 9.0's QEMU driver was run on (see
xmlref_capture.py); @KERNEL@ and @DIR@ stand for the guest kernel and the
folder of the disk images, @TYPE@ for the domain type."""

from __future__ import annotations

import re

# file -> (format, backing file or None), in the order they are made; a
# backing file is named relative to its overlay, as the folder changes
DISK_FILES: dict[str, tuple[str, str | None]] = {
    "a.img": ("raw", None), "b.qcow2": ("qcow2", None), "c.img": ("raw", None),
    "ro.img": ("raw", None), "base.img": ("raw", None), "mid.qcow2": ("qcow2", "base.img"),
    "top.qcow2": ("qcow2", "mid.qcow2"), "over.qcow2": ("qcow2", "base.img")}


def image_commands(folder: str) -> list[list[str]]:
    """The qemu-img commands that make the corpus's images in `folder`."""
    out = []
    for fname, (fmt, backing) in DISK_FILES.items():
        args = ["qemu-img", "create", "-q", "-f", fmt]
        if backing is not None:
            args += ["-b", backing, "-F", DISK_FILES[backing][0]]
        out.append(args + [f"{folder}/{fname}", "16M"])
    return out


def _disk(fname: str, dev: str, bus: str, extra: str = "") -> str:
    fmt = DISK_FILES[fname][0]
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
            f"<source file='@DIR@/{fname}'/><target dev='{dev}' bus='{bus}'/>{extra}</disk>")


def _cdrom(dev: str, bus: str) -> str:
    return (f"<disk type='file' device='cdrom'><driver name='qemu'/>"
            f"<target dev='{dev}' bus='{bus}'/></disk>")


def _nic(mac: str, model: str = "", extra: str = "") -> str:
    m = f"<model type='{model}'/>" if model else ""
    return f"<interface type='user'><mac address='52:54:00:00:00:{mac}'/>{m}{extra}</interface>"


SERIAL = "<serial type='pty'/>"
VNC = "<graphics type='vnc' port='-1'/>"
NOBALLOON = "<memballoon model='none'/>"

# name -> (machine, devices)
CORPUS: dict[str, tuple[str, str]] = {
    "q35-bare": ("q35", ""),
    "q35-virtio-nic-serial-vnc": ("q35", _disk("a.img", "vda", "virtio") + _nic("01", "virtio")
                                  + SERIAL + VNC),
    "q35-sata2-nic2": ("q35", _disk("a.img", "sda", "sata") + _disk("b.qcow2", "sdb", "sata")
                       + _nic("02", "virtio") + _nic("03")),
    "q35-three-disks-noballoon": ("q35", _disk("a.img", "vda", "virtio")
                                  + _disk("b.qcow2", "sda", "sata")
                                  + _disk("c.img", "vdb", "virtio") + SERIAL + NOBALLOON),
    "q35-console-vnc": ("q35", "<console type='pty'/>" + VNC + _nic("04", "e1000e")),
    "q35-user-address": ("q35", _disk("a.img", "vda", "virtio",
                                      "<address type='pci' domain='0x0000' bus='0x00' "
                                      "slot='0x05' function='0x0'/>")
                         + _nic("05", "virtio") + SERIAL),
    "pc-bare": ("pc", ""),
    "pc-ide-nic-serial-vnc": ("pc", _disk("a.img", "hda", "ide") + _disk("b.qcow2", "hdb", "ide")
                              + _nic("06") + SERIAL + VNC),
    "pc-virtio3-nic": ("pc", _disk("a.img", "vda", "virtio") + _disk("b.qcow2", "vdb", "virtio")
                       + _disk("c.img", "vdc", "virtio") + _nic("07", "virtio")),
    "pc-sata-vnc": ("pc", _disk("a.img", "sda", "sata") + VNC + SERIAL),
    "pc-user-address-noballoon": ("pc", _nic("08", "virtio",
                                             "<address type='pci' domain='0x0000' bus='0x00' "
                                             "slot='0x07' function='0x0'/>")
                                  + _disk("a.img", "vda", "virtio") + NOBALLOON),
    "pc-two-nics-file-serial": ("pc", _nic("09", "e1000") + _nic("0a", "virtio")
                                + "<serial type='file'><source path='@DIR@/serial.log'/></serial>"),
    "q35-two-nics-ide-free": ("q35", _nic("0b", "virtio") + _nic("0c", "virtio")
                              + _disk("c.img", "vdc", "virtio") + VNC + SERIAL),
}
# node numbering: the last disk first, then the backing chains
DISK_CORPUS: dict[str, tuple[str, str]] = {
    "q35-chain-raw": ("q35", _disk("top.qcow2", "vda", "virtio") + _disk("c.img", "vdb", "virtio")
                      + SERIAL),
    "pc-chains-readonly": ("pc", _disk("a.img", "vda", "virtio")
                           + _disk("top.qcow2", "vdb", "virtio")
                           + _disk("over.qcow2", "vdc", "virtio")
                           + _disk("ro.img", "vdd", "virtio", "<readonly/>")),
    "q35-cdrom-empty-chain": ("q35", _disk("over.qcow2", "vda", "virtio") + _cdrom("sda", "sata")
                              + _disk("b.qcow2", "sdb", "sata")),
}

# name -> what goes between </os> and <devices> (ACPI, a CPU of its own);
# the features asked for are ones this host's KVM has (vme) or filters (svm)
HEAD: dict[str, str] = {
    "pc-acpi-cpu-features": ("<features><acpi/></features>"
                             "<cpu mode='custom' match='exact' check='none'>"
                             "<model fallback='forbid'>qemu64</model>"
                             "<feature policy='require' name='vme'/>"
                             "<feature policy='disable' name='svm'/></cpu>"),
}
CORPUS["pc-acpi-cpu-features"] = ("pc", NOBALLOON)
CORPUS.update(DISK_CORPUS)

# those with a HEAD came later, the disk cases later still: numbered after
# the others, whose UUIDs stay
UUIDS = {name: f"6a1f0c2e-0000-4000-8000-{i:012x}"
         for i, name in enumerate(sorted(CORPUS, key=lambda n: (n in DISK_CORPUS, n in HEAD, n)))}


def domain(name: str) -> str:
    machine, devices = CORPUS[name]
    return (f"<domain type='@TYPE@'><name>{name}</name><uuid>{UUIDS[name]}</uuid>"
            f"<memory unit='MiB'>64</memory><vcpu>1</vcpu>"
            f"<os><type arch='x86_64' machine='{machine}'>hvm</type>"
            f"<kernel>@KERNEL@</kernel></os>{HEAD.get(name, '')}"
            f"<devices>{devices}</devices></domain>")


def fill(xml: str, kernel: str, folder: str, vtype: str) -> str:
    return xml.replace("@KERNEL@", kernel).replace("@DIR@", folder).replace("@TYPE@", vtype)


def mask(xml: str, kernel: str, folder: str, live: bool) -> str:
    """Back to placeholders; in a live document also the per-run values
    (domain id, VNC port, pty paths)."""
    xml = xml.replace(kernel, "@KERNEL@").replace(folder, "@DIR@")
    xml = re.sub(r"<domain type='(kvm|qemu)'", "<domain type='@TYPE@'", xml)
    if live:
        xml = re.sub(r"(<domain type='@TYPE@') id='\d+'", r"\1 id='@ID@'", xml)
        xml = re.sub(r"port='59\d\d'", "port='@PORT@'", xml)
        xml = re.sub(r"/dev/pts/\d+", "@PTY@", xml)
    return xml


def machine_lines(argv: list[str]) -> list[str]:
    """The options of a command line that shape the machine beyond its
    devices: -cpu with its value, -no-acpi."""
    out = []
    for i, arg in enumerate(argv):
        if arg == "-cpu" and i + 1 < len(argv):
            out.append(f"-cpu {argv[i + 1]}")
        elif arg == "-no-acpi":
            out.append(arg)
    return out


def device_lines(argv: list[str]) -> list[str]:
    """The -device values of a command line, as sorted key=value strings
    (JSON or key=value alike) without the properties that name host fds."""
    import json
    out = []
    for i, arg in enumerate(argv[:-1]):
        if arg != "-device":
            continue
        val = argv[i + 1]
        if val.startswith("{"):
            props = {k: {True: "on", False: "off"}.get(v, str(v)) if isinstance(v, bool)
                     else str(v) for k, v in json.loads(val).items()}
            kind = props.pop("driver")
        else:
            kind, *rest = val.split(",")
            props = dict(p.split("=", 1) for p in rest)
        out.append(kind + "," + ",".join(f"{k}={v}" for k, v in sorted(props.items())))
    return out
