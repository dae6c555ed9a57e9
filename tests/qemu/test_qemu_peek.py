"""virDomainMemoryPeek and virDomainBlockPeek with real QEMU.  Expectations
are what real libvirt 9.0's embed driver gave for the same definitions, the
same guest kernels and the same arguments."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess

import pytest

import guest
from qemutest import conn, domxml, kernels, root, until  # noqa: F401 (fixtures)
from pyvirt import api
from pyvirt.errors import VirtError

VIRTUAL, PHYSICAL = 1, 2
NOT_RUNNING = (55, 20, "Requested operation is not valid: domain is not running")
NEITHER = (8, 10, "invalid argument: flags parameter must be VIR_MEMORY_VIRTUAL or "
                  "VIR_MEMORY_PHYSICAL")
BOTH = (8, 20, "Flags 'VIR_MEMORY_VIRTUAL' and 'VIR_MEMORY_PHYSICAL' are mutually exclusive")


def err(fn) -> tuple[int, int, str]:
    with pytest.raises(VirtError) as info:
        fn()
    e = info.value
    return e.code, e.domain, e.message


def unknown_flags(bits: int, fn: str) -> tuple[int, int, str]:
    return 8, 10, f"unsupported flags ({bits:#x}) in function {fn}"


def bad_address(cmd: str, addr: int) -> tuple[int, int, str]:
    """QEMU's refusal, as libvirt passes it on."""
    return 1, 10, (f"internal error: unable to execute QEMU command '{cmd}': "
                   f"Invalid addr {addr:#018x}/size 4 specified")


def word(d, addr: int, flags: int) -> int:
    return int(struct.unpack("<I", api.virDomainMemoryPeek(d, addr, 4, flags))[0])


def test_memory_peek_flags_and_state(conn, kernels):
    d = api.virDomainDefineXML(conn, domxml("mp", kernels["idle"]))
    # the flags are checked before the state
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 0)) == NEITHER
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 3)) == BOTH
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 4)) == \
        unknown_flags(4, "qemuDomainMemoryPeek")
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 5)) == \
        unknown_flags(4, "qemuDomainMemoryPeek")
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, PHYSICAL)) == NOT_RUNNING
    api.virDomainCreate(d)
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 0)) == NEITHER
    assert err(lambda: api.virDomainMemoryPeek(d, 0, 4, 6)) == \
        unknown_flags(4, "qemuDomainMemoryPeek")
    # size 0 is an access test: QEMU is asked all the same
    assert api.virDomainMemoryPeek(d, 0, 0, PHYSICAL) == b""
    assert api.virDomainMemoryPeek(d, 0, 0, VIRTUAL) == b""
    ro = api.virConnectOpenReadOnly(f"qemu:///embed?root={conn.driver.layout.root}")
    try:
        rd = api.virDomainLookupByName(ro, "mp")
        assert err(lambda: api.virDomainMemoryPeek(rd, 0, 4, PHYSICAL)) == (
            29, 20, "operation forbidden: read only access prevents virDomainMemoryPeek")
    finally:
        api.virConnectClose(ro)


def test_memory_peek_reads_the_guest(conn, kernels):
    """The dirty guest's counters, physical and virtual (no paging: the same
    bytes), its multiboot header at 1 MiB, and what QEMU makes of addresses
    past RAM; the temporary files are gone afterwards."""
    d = api.virDomainCreateXML(conn, domxml("mp", kernels["dirty"]), 0)
    start = guest.DIRTY_START
    assert until(lambda: guest.past_first_pass(word(d, start, PHYSICAL)), 60, 0.05)
    assert guest.past_first_pass(word(d, start, VIRTUAL))
    header = kernels["dirty"].read_bytes()[:16]
    assert api.virDomainMemoryPeek(d, guest.LOAD, 16, PHYSICAL) == header
    assert api.virDomainMemoryPeek(d, guest.LOAD, 16, VIRTUAL) == header
    pages = api.virDomainMemoryPeek(d, start, 64 << 12, PHYSICAL)
    assert all(struct.unpack_from("<I", pages, off)[0] >= guest.FIRST_PASS
               for off in range(0, len(pages), 4096))
    ram = 64 << 20
    for addr in (ram - 2, ram, 1 << 32, 1 << 40, 1 << 63):
        assert api.virDomainMemoryPeek(d, addr, 4, PHYSICAL) == b"\0" * 4
    for addr in (ram, 1 << 32, 1 << 40, (1 << 64) - 2):
        assert err(lambda: api.virDomainMemoryPeek(d, addr, 4, VIRTUAL)) == \
            bad_address("memsave", addr)
    # QEMU takes addresses as int64: 2**63 is sent as -2**63, which the
    # 32-bit guest's vCPU truncates to 0, where the real-mode IVT lies
    assert api.virDomainMemoryPeek(d, 1 << 63, 4, VIRTUAL) == \
        api.virDomainMemoryPeek(d, 0, 4, PHYSICAL)
    api.virDomainSuspend(d)
    assert guest.past_first_pass(word(d, start, PHYSICAL))
    ddir = conn.driver.layout.domain_dir(api.virDomainGetID(d), "mp")
    assert not [f for f in os.listdir(ddir) if f.startswith("qemu.mem.")]


MIB = 1 << 20
PATTERN = bytes(range(256)) * 4096          # 1 MiB


def unknown_disk(name: str) -> tuple[int, int, str]:
    return 8, 10, f"invalid argument: disk '{name}' not found in domain"


def short(name: str, offset: int, available: int) -> tuple[int, int, str]:
    return 8, 10, (f"invalid argument: '{name}' starting from {offset} has only "
                   f"{available} bytes available")


def not_raw(fmt: str) -> tuple[int, int, str]:
    return 84, 10, ("Operation not supported: peeking is only supported for disk with "
                    f"'raw' format not '{fmt}'")


def storage_error(text: str) -> tuple[int, int, str]:
    return 38, 18, text


@pytest.fixture
def images(tmp_path):
    """A raw image, the same bytes as a qcow2 image, and a raw image whose
    definition names no format (libvirt's default: raw)."""
    folder = tmp_path / "img"
    folder.mkdir()
    raw, qcow2, plain = folder / "raw.img", folder / "q.qcow2", folder / "plain.img"
    raw.write_bytes(PATTERN)
    plain.write_bytes(PATTERN[::-1])
    qemu_img = shutil.which("qemu-img")
    if qemu_img is None:
        pytest.skip("qemu-img is not installed (Debian: qemu-utils)")
    subprocess.run([qemu_img, "convert", "-O", "qcow2", str(raw), str(qcow2)], check=True)
    return raw, qcow2, plain


def disks_xml(raw, qcow2, plain) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{raw}'/><target dev='vda' bus='virtio'/></disk>"
            f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{qcow2}'/><target dev='vdb' bus='virtio'/></disk>"
            f"<disk type='file' device='disk'><source file='{plain}'/>"
            f"<target dev='vdc' bus='virtio'/></disk>"
            "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
            "<target dev='sda' bus='sata'/><readonly/></disk>")


def peek(d, disk: str, offset: int, size: int, flags: int = 0) -> bytes:
    return bytes(api.virDomainBlockPeek(d, disk, offset, size, flags))


def _common_block_cases(d, raw, qcow2) -> None:
    """What libvirt answers alike for a shut-off and a running domain."""
    assert peek(d, "vda", 0, 8) == PATTERN[:8]
    assert peek(d, "vda", 1000, 4) == PATTERN[1000:1004]
    assert peek(d, "vda", 0, MIB) == PATTERN
    assert peek(d, str(raw), 16, 4) == PATTERN[16:20]           # by its exact source path
    assert peek(d, "vdc", 0, 4) == PATTERN[::-1][:4]            # no format named: raw
    twice = str(raw).replace("/raw.img", "//raw.img")
    assert err(lambda: peek(d, twice, 0, 4)) == unknown_disk(twice)
    assert err(lambda: peek(d, "raw.img", 0, 4)) == unknown_disk("raw.img")
    assert err(lambda: peek(d, "vdz", 0, 4)) == unknown_disk("vdz")
    # a qcow2 disk is refused, by target or by path: neither its file nor the guest's view
    assert err(lambda: peek(d, "vdb", 0, 4)) == not_raw("qcow2")
    assert err(lambda: peek(d, str(qcow2), 0, 4)) == not_raw("qcow2")
    assert err(lambda: peek(d, "", 0, 4)) == (
        8, 20, "string disk in virDomainBlockPeek must not be empty")
    assert err(lambda: peek(d, "vda", 0, 4, 1)) == unknown_flags(1, "qemuDomainBlockPeek")
    assert err(lambda: peek(d, "vdz", 0, 4, 1)) == unknown_flags(1, "qemuDomainBlockPeek")
    # past the end: what was read is too short; the message names the disk as asked
    assert err(lambda: peek(d, "vda", MIB - 2, 4)) == short("vda", MIB - 2, 2)
    assert err(lambda: peek(d, str(raw), MIB - 2, 4)) == short(str(raw), MIB - 2, 2)
    assert err(lambda: peek(d, "vda", MIB, 4)) == short("vda", MIB, 0)
    assert err(lambda: peek(d, "vda", 1 << 30, 4)) == short("vda", 1 << 30, 0)
    assert err(lambda: peek(d, "vda", 0, 2 * MIB)) == short("vda", 0, MIB)
    # libvirt's storage backend: an offset lseek takes as negative, a size of 0
    for offset in (1 << 63, (1 << 64) - 1):
        assert err(lambda: peek(d, "vda", offset, 4)) == storage_error(
            f"cannot seek into '{raw}': Invalid argument")
    for offset in (0, 1 << 30):
        assert err(lambda: peek(d, "vda", offset, 0)) == storage_error(
            f"cannot read header '{raw}': Invalid argument")


def test_block_peek(conn, kernels, images):
    raw, qcow2, plain = images
    d = api.virDomainDefineXML(conn, domxml("bp", kernels["idle"], disks_xml(*images)))
    _common_block_cases(d, raw, qcow2)
    # the empty CD-ROM of the persistent definition is raw with no path
    assert err(lambda: peek(d, "sda", 0, 4)) == storage_error(
        "Failed to open file '(null)': Bad address")
    ro = api.virConnectOpenReadOnly(f"qemu:///embed?root={conn.driver.layout.root}")
    try:
        rd = api.virDomainLookupByName(ro, "bp")
        assert err(lambda: peek(rd, "vda", 0, 4)) == (
            29, 20, "operation forbidden: read only access prevents virDomainBlockPeek")
    finally:
        api.virConnectClose(ro)
    api.virDomainCreate(d)
    _common_block_cases(d, raw, qcow2)
    # a running domain's empty drive has no format
    assert err(lambda: peek(d, "sda", 0, 4)) == not_raw("none")
    api.virDomainDestroy(d)
    raw.unlink()
    assert err(lambda: peek(d, "vda", 0, 4)) == storage_error(
        f"Failed to open file '{raw}': No such file or directory")


def test_block_peek_network_disk(conn):
    """Defined only (the driver does not run network disks yet): libvirt has
    no backend to read one."""
    nbd = ("<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
           "<source protocol='nbd' name='x'><host name='127.0.0.1' port='10809'/></source>"
           "<target dev='vdd' bus='virtio'/></disk>")
    d = api.virDomainDefineXML(conn, domxml("bn", None, nbd))
    assert err(lambda: peek(d, "vdd", 0, 4)) == (
        1, 18, "internal error: missing storage backend for network files using nbd protocol")
