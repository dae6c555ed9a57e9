"""Disk node names and indexes on real QEMU, pinned to what libvirt 9.0's
embed driver gave for the same domain on this machine (python3-libvirt,
qemu:///embed): a raw disk, a qcow2 on a qcow2 on a raw base, a qcow2 on
that same base, an empty cdrom.  libvirt numbered the disks' own images
from the last disk back (the empty cdrom's number unused), then the
backing chains, again from the last disk back, each from the top down:

    vda a.img 4 | vdb top.qcow2 3 -> mid.qcow2 6 -> base.img 7
    vdc over.qcow2 2 -> base.img 5 | sda (no media) 1

The numbers are libvirt-N-storage/-format on QEMU's command line, the
live XML's index attributes and the bulk statistics' backingIndex; they
survive a driver opened again and come back the same after a restore."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest

from qemutest import domxml, ensure_event_loop, kernels, root  # noqa: F401
from pyvirt import api
from pyvirt.errors import VirtError

BLOCK, BACKING, INACTIVE_XML = 1 << 5, 1 << 30, 2
IDS = f"uid:{os.getuid()}, gid:{os.getgid()}"   # libvirt's were its QEMU user's: root here
COUNTERS = ("rd.reqs", "rd.bytes", "rd.times", "wr.reqs", "wr.bytes", "wr.times",
            "fl.reqs", "fl.times")


def _disk(path: str, fmt: str, dev: str) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='{fmt}'/>"
            f"<source file='{path}'/><target dev='{dev}' bus='virtio'/></disk>")


@pytest.fixture
def images(tmp_path: Path) -> Path:
    for args in (["-f", "raw", "a.img", "16M"], ["-f", "raw", "base.img", "16M"],
                 ["-f", "qcow2", "-b", "base.img", "-F", "raw", "mid.qcow2"],
                 ["-f", "qcow2", "-b", "mid.qcow2", "-F", "qcow2", "top.qcow2"],
                 ["-f", "qcow2", "-b", "base.img", "-F", "raw", "over.qcow2"]):
        subprocess.run(["qemu-img", "create", "-q", *args], check=True, cwd=tmp_path)
    return tmp_path


def four_disks(d: Path) -> str:
    return (_disk(f"{d}/a.img", "raw", "vda") + _disk(f"{d}/top.qcow2", "qcow2", "vdb")
            + _disk(f"{d}/over.qcow2", "qcow2", "vdc")
            + "<disk type='file' device='cdrom'><driver name='qemu'/>"
              "<target dev='sda' bus='sata'/></disk>")


# libvirt's -blockdev node names, in its order, with each format node's backing
LIBVIRT_BLOCKDEVS = [
    ("libvirt-4-storage", None), ("libvirt-4-format", None),
    ("libvirt-7-storage", None), ("libvirt-7-format", None),
    ("libvirt-6-storage", None), ("libvirt-6-format", "libvirt-7-format"),
    ("libvirt-3-storage", None), ("libvirt-3-format", "libvirt-6-format"),
    ("libvirt-5-storage", None), ("libvirt-5-format", None),
    ("libvirt-2-storage", None), ("libvirt-2-format", "libvirt-5-format")]
# and its live XML's disks (@D@: the images' folder)
LIBVIRT_LIVE_DISKS = """\
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw'/>
      <source file='@D@/a.img' index='4'/>
      <backingStore/>
      <target dev='vda' bus='virtio'/>
      <alias name='virtio-disk0'/>
      <address type='pci' domain='0x0000' bus='0x02' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='@D@/top.qcow2' index='3'/>
      <backingStore type='file' index='6'>
        <format type='qcow2'/>
        <source file='@D@/mid.qcow2'/>
        <backingStore type='file' index='7'>
          <format type='raw'/>
          <source file='@D@/base.img'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vdb' bus='virtio'/>
      <alias name='virtio-disk1'/>
      <address type='pci' domain='0x0000' bus='0x03' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2'/>
      <source file='@D@/over.qcow2' index='2'/>
      <backingStore type='file' index='5'>
        <format type='raw'/>
        <source file='@D@/base.img'/>
        <backingStore/>
      </backingStore>
      <target dev='vdc' bus='virtio'/>
      <alias name='virtio-disk2'/>
      <address type='pci' domain='0x0000' bus='0x04' slot='0x00' function='0x0'/>
    </disk>
    <disk type='file' device='cdrom'>
      <driver name='qemu'/>
      <target dev='sda' bus='sata'/>
      <readonly/>
      <alias name='sata0-0-0'/>
      <address type='drive' controller='0' bus='0' target='0' unit='0'/>
    </disk>"""
# the bulk statistics' (name, path, backingIndex) with and without BACKING
LIBVIRT_BACKING = [("vda", "a.img", 4), ("vdb", "top.qcow2", 3), ("vdb", "mid.qcow2", 6),
                   ("vdb", "base.img", 7), ("vdc", "over.qcow2", 2), ("vdc", "base.img", 5),
                   ("sda", None, None)]
LIBVIRT_TOPS = [e for i, e in enumerate(LIBVIRT_BACKING) if i in (0, 1, 4, 6)]


def open_root(root: Path) -> Any:
    ensure_event_loop()
    return api.virConnectOpen(f"qemu:///embed?root={root}")


def blockdevs(root: Path, name: str) -> list[tuple[str, Any]]:
    pid = (root / "run" / "qemu" / f"{name}.pid").read_text().strip()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        argv = [a.decode() for a in f.read().split(b"\0")[:-1]]
    nodes = [json.loads(argv[i + 1]) for i, a in enumerate(argv[:-1]) if a == "-blockdev"]
    return [(n["node-name"], n.get("backing")) for n in nodes]


def live_disks(dom: Any, images: Path, flags: int = 0) -> str:
    xml = api.virDomainGetXMLDesc(dom, flags).replace(str(images), "@D@")
    return "\n".join(re.findall(r"    <disk .*?</disk>", xml, re.S))


def block_stats(dom: Any, images: Path, flags: int) -> list[tuple[Any, ...]]:
    v = {n: x for n, _, x in api.virDomainListGetStats([dom], BLOCK, flags)[0].params}
    out = []
    for i in range(v["block.count"]):
        path = v.get(f"block.{i}.path")
        out.append((v[f"block.{i}.name"], path and path[len(str(images)) + 1:],
                    v.get(f"block.{i}.backingIndex")))
    return out


def test_numbers_as_libvirt_and_after_a_takeover(root, kernels, images):
    c = open_root(root)
    dom = api.virDomainCreateXML(c, domxml("nodes", kernels["idle"], four_disks(images)), 0)
    assert blockdevs(root, "nodes") == LIBVIRT_BLOCKDEVS
    assert live_disks(dom, images) == LIBVIRT_LIVE_DISKS
    assert block_stats(dom, images, BACKING) == LIBVIRT_BACKING
    assert block_stats(dom, images, 0) == LIBVIRT_TOPS
    # the empty drive: its name and counters alone, as libvirt
    fields = [n for n, _, _ in api.virDomainListGetStats([dom], BLOCK, 0)[0].params]
    assert [f for f in fields if f.startswith("block.3.")] == \
        ["block.3.name"] + [f"block.3.{n}" for n in COUNTERS]
    # the inactive view of a running domain created transient is its live
    # one without chains, as libvirt 9.0's (the numbers stay; compared in
    # test_qemu_corners); a persistent one's has neither
    inactive = live_disks(dom, images, INACTIVE_XML)
    assert "index='4'" in inactive and "backingStore" not in inactive
    api.virConnectClose(c)

    c = open_root(root)                       # a new driver takes the guest over
    dom = api.virDomainLookupByName(c, "nodes")
    assert live_disks(dom, images) == LIBVIRT_LIVE_DISKS
    assert block_stats(dom, images, BACKING) == LIBVIRT_BACKING
    api.virDomainDestroy(dom)
    api.virConnectClose(c)


def test_restore_numbers_again_and_define_keeps_no_index(root, kernels, images, tmp_path):
    c = open_root(root)
    try:
        dom = api.virDomainDefineXML(c, domxml("nodes", kernels["idle"], four_disks(images)
                                               .replace("a.img'/>", "a.img' index='9'/>")))
        assert "index=" not in live_disks(dom, images)        # as libvirt: dropped
        api.virDomainCreate(dom)
        api.virDomainSave(dom, str(tmp_path / "nodes.save"))
        assert "index=" not in live_disks(dom, images)        # stopped: forgotten
        api.virDomainRestore(c, str(tmp_path / "nodes.save"))
        assert live_disks(dom, images) == LIBVIRT_LIVE_DISKS
        assert blockdevs(root, "nodes") == LIBVIRT_BLOCKDEVS
        api.virDomainDestroy(dom)
    finally:
        api.virConnectClose(c)


def _start_error(c: Any, kernel: Path, disk: str) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as err:
        api.virDomainCreateXML(c, domxml("bad", kernel, disk), 0)
    return int(err.value.code), int(err.value.domain), err.value.message


def _hide_backing_format(path: Path) -> None:
    """Rename the qcow2 header's backing-format extension (QEMU and libvirt
    skip an unknown one): the image names its backing file alone."""
    data = bytearray(path.read_bytes()[:4096])
    at = data.find(bytes.fromhex("E2792ACA"))
    assert 0 < at
    data[at:at + 4] = bytes.fromhex("12345678")
    with open(path, "r+b") as f:
        f.write(data)


def test_chains_libvirt_refuses(root, kernels, images):
    """(code, domain, message) as libvirt 9.0 gave them."""
    d = images
    qimg = ["qemu-img", "create", "-q", "-f", "qcow2"]
    subprocess.run(qimg + ["-u", "-b", f"{d}/gone.img", "-F", "raw", "missing.qcow2", "16M"],
                   check=True, cwd=d)
    subprocess.run(qimg + ["-b", "base.img", "-F", "raw", "nofmt-raw.qcow2"], check=True, cwd=d)
    subprocess.run(qimg + ["-b", "mid.qcow2", "-F", "qcow2", "nofmt.qcow2"], check=True, cwd=d)
    _hide_backing_format(d / "nofmt-raw.qcow2")
    _hide_backing_format(d / "nofmt.qcow2")
    subprocess.run(qimg + ["loopb.qcow2", "16M"], check=True, cwd=d)
    subprocess.run(qimg + ["-b", "loopb.qcow2", "-F", "qcow2", "loopa.qcow2"], check=True, cwd=d)
    subprocess.run(["qemu-img", "rebase", "-u", "-b", "loopa.qcow2", "-F", "qcow2",
                    "loopb.qcow2"], check=True, cwd=d)
    subprocess.run(qimg + ["-u", "-b", "loopa.qcow2", "-F", "qcow2", "looptop.qcow2", "16M"],
                   check=True, cwd=d)
    c = open_root(root)
    try:
        k = kernels["idle"]
        assert _start_error(c, k, _disk(f"{d}/none.img", "raw", "vda")) == (
            38, 18, f"Cannot access storage file '{d}/none.img': No such file or directory")
        assert _start_error(c, k, _disk(f"{d}/missing.qcow2", "qcow2", "vda")) == (
            38, 18, f"Cannot access backing file '{d}/gone.img' of storage file "
                    f"'{d}/missing.qcow2' (as {IDS}): No such file or directory")
        assert _start_error(c, k, _disk(f"{d}/nofmt.qcow2", "qcow2", "vda")) == (
            55, 18, "Requested operation is not valid: format of backing image 'mid.qcow2' of "
                    f"image '{d}/nofmt.qcow2' was not specified in the image metadata (See "
                    "https://libvirt.org/kbase/backing_chains.html for troubleshooting)")
        assert _start_error(c, k, _disk(f"{d}/loopa.qcow2", "qcow2", "vda")) == (
            1, 18, f"internal error: backing store for {d}/loopa.qcow2 is self-referential "
                   "or too deeply nested")
        assert _start_error(c, k, _disk(f"{d}/looptop.qcow2", "qcow2", "vda")) == (
            1, 18, f"internal error: backing store for {d}/loopb.qcow2 is self-referential "
                   "or too deeply nested")
        assert api.virConnectListAllDomains(c, 0) == []
        # a raw backing file without a format is taken as raw
        dom = api.virDomainCreateXML(c, domxml("raw-base", k, _disk(
            f"{d}/nofmt-raw.qcow2", "qcow2", "vda")), 0)
        assert "<format type='raw'/>" in live_disks(dom, images)
        api.virDomainDestroy(dom)
    finally:
        api.virConnectClose(c)
