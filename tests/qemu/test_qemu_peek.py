"""virDomainMemoryPeek and virDomainBlockPeek with real QEMU.  Expectations
are what real libvirt 9.0's embed driver gave for the same definitions, the
same guest kernels and the same arguments."""

from __future__ import annotations

import os
import struct

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
