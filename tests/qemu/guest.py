"""Tiny flat guest kernels, built by the tests themselves (no disk image).

Each is a multiboot v1 image (a.out kludge) loaded at 1 MiB and booted with
<os><kernel>; QEMU's multiboot loader enters it in 32-bit protected mode.

* ``idle``: cli; hlt forever (the vCPU sleeps, costs nothing).
* ``acpi``: enables the ACPI power button, polls PM1 status until it is
  pressed (virDomainShutdown -> QMP system_powerdown), then powers off
  through PM1a_CNT (SLP_TYP 0 | SLP_EN): QEMU reports a guest SHUTDOWN.
  PMBASE is read from PCI config space: q35's ICH9 LPC (00:1f.0) or the
  i440fx PIIX4 PM function (00:01.3), register 0x40.
* ``dirty``: forever writes an incrementing pass counter into the first
  dword of every 4 KiB page from 2 MiB to DIRTY_END (as the reference's
  mkguest.py), so migration moves real, changing pages; after a pass the
  pages hold n, ..., n (or n+1 up to where the next pass has got): a page
  lost or stale in a migration breaks that (see :func:`check_dirty`).
  The counter starts from the EAX that multiboot hands over (0x2BADB002), so
  the first pass writes FIRST_PASS; until that pass is over, the pages ahead
  of it still hold what was there at boot (zeros, firmware data), which
  proves nothing: wait for :func:`past_first_pass` before migrating.
* ``reboot``: resets the machine once through the reset control register
  (port 0xCF9, on q35's ICH9 and the pc's PIIX), then sleeps as ``idle``.
  "Once" is a mark at REBOOT_MARK in guest RAM, which a reset keeps.
* ``cpuhp``: switches QEMU's ACPI CPU hotplug to its modern interface (a
  0 written to the legacy bitmap's first byte: port CPUHP_PORTS[0] on q35's
  ICH9, [1] on the pc's PIIX4), then, as a guest OS's ACPI handler, ejects
  each vCPU that QEMU asks to remove (selector, flags: remove event 4,
  cleared, then eject 8), polling both interfaces (an absent one reads all ones): a
  device_del of a vCPU then completes with DEVICE_DELETED.  Until the guest
  runs (after the firmware) QEMU is in legacy mode and refuses any
  device_del of a vCPU: CPUHP_READY at CPUHP_MARK says it switched.
* ``cpuhp_deaf``: switches to the modern interface, then only sleeps: a
  device_del of a vCPU is accepted and never completes.
* ``ioerr``: fills guest RAM from 2 MiB to IOERR_FILL_END with a non-zero
  pattern (so a migration has real pages to send and a bandwidth limit
  makes it last), then writes sectors 0..IOERR_SECTORS-1 of the primary
  IDE disk (legacy PIIX ports 0x1F0-0x1F7, machine 'pc') forever with LBA28
  WRITE SECTORS, one sector per command.  A write QEMU cannot complete
  (the host file's filesystem full) makes QEMU act on the disk's error
  policy: the guest only sees its status, so it just goes on.
"""

from __future__ import annotations

import struct
from pathlib import Path

LOAD = 0x100000
_MAGIC, _FLAGS = 0x1BADB002, 0x00010000


def _header(entry_offset: int = 32) -> bytes:
    return struct.pack("<8I", _MAGIC, _FLAGS, (-(_MAGIC + _FLAGS)) & 0xFFFFFFFF,
                       LOAD, LOAD, 0, 0, LOAD + entry_offset)


def _pci_read(address: int) -> bytes:
    return (b"\x66\xba\xf8\x0c"                          # mov dx, 0xcf8
            + b"\xb8" + struct.pack("<I", address)       # mov eax, address
            + b"\xef"                                    # out dx, eax
            + b"\x66\xba\xfc\x0c"                        # mov dx, 0xcfc
            + b"\xed")                                   # in eax, dx


def _acpi_code() -> bytes:
    q35 = _pci_read(0x8000F840)
    piix = _pci_read(0x80000B40)
    code = b"\xfa" + q35                                 # cli; read ICH9 PMBASE
    code += b"\x83\xf8\xff"                              # cmp eax, -1
    code += b"\x75" + bytes([len(piix)])                 # jne have
    code += piix                                         # read PIIX4 PMBASE
    code += b"\x25\xc0\xff\x00\x00"                      # have: and eax, 0xffc0
    code += b"\x89\xc3"                                  # mov ebx, eax
    code += b"\x8d\x53\x02"                              # lea edx, [ebx+2]  (PM1_EN)
    code += b"\x66\xb8\x00\x01\x66\xef"                  # mov ax, 0x100; out dx, ax
    poll = (b"\xb9\x00\x10\x00\x00"                      # poll: mov ecx, 4096
            + b"\xf3\x90\xe2\xfc"                        # d: pause; loop d
            + b"\x89\xda"                                # mov edx, ebx     (PM1_STS)
            + b"\x66\xed"                                # in ax, dx
            + b"\x66\xa9\x00\x01")                       # test ax, 0x100 (PWRBTN_STS)
    code += poll + b"\x74" + bytes([(-(len(poll) + 2)) & 0xFF])  # jz poll
    code += b"\x8d\x53\x04"                              # lea edx, [ebx+4]  (PM1_CNT)
    code += b"\x66\xb8\x00\x20\x66\xef"                  # mov ax, 0x2000; out dx, ax
    code += b"\xf4\xeb\xfd"                              # hang: hlt; jmp hang
    return code


DIRTY_START, DIRTY_END = 2 << 20, 48 << 20


def _dirty_code(end: int = DIRTY_END) -> bytes:
    code = b"\xfa"                                       # 0: cli
    code += b"\x40"                                      # 1: outer: inc eax
    code += b"\xbf" + struct.pack("<I", DIRTY_START)     # 2: mov edi, START
    code += b"\x89\x07"                                  # 7: inner: mov [edi], eax
    code += b"\x81\xc7" + struct.pack("<I", 0x1000)      # 9: add edi, 4096
    code += b"\x81\xff" + struct.pack("<I", end)         # 15: cmp edi, END
    code += b"\x72" + bytes([(7 - 23) & 0xFF])           # 21: jb inner
    code += b"\xeb" + bytes([(1 - 25) & 0xFF])           # 23: jmp outer
    return code


FIRST_PASS = 0x2BADB002 + 1


def past_first_pass(first_word: int) -> bool:
    """The first dword of the first dirtied page shows a second pass: every
    dirtied page holds a counter."""
    return first_word > FIRST_PASS


def check_dirty(words: list[int]) -> bool:
    """The first dwords of the dirtied pages, in order, as a paused dirty guest
    leaves them: a non-zero counter n on a prefix and n-1 on the rest (never
    true during the first pass, whose rest was not written yet)."""
    if not words or words[0] == 0:
        return False
    n = words[0]
    i = 0
    while i < len(words) and words[i] == n:
        i += 1
    return all(w == n - 1 for w in words[i:])


IOERR_FILL_END = 10 << 20
IOERR_SECTORS = 2048          # the guest's disk: 1 MiB


def _ioerr_code() -> bytes:
    wait_idle = b"\xec\xa8\x80\x75\xfb"               # w: in al, dx; test al, 0x80; jnz w

    def port(p: int) -> bytes:
        return b"\x66\xba" + struct.pack("<H", p)      # mov dx, p
    code = b"\xfa\xfc"                                  # cli; cld
    code += b"\xbf" + struct.pack("<I", 2 << 20)        # mov edi, 2 MiB
    code += b"\xb9" + struct.pack("<I", (IOERR_FILL_END - (2 << 20)) // 4)  # mov ecx, dwords
    code += b"\xb8" + struct.pack("<I", 0xA5A5A5A5)     # mov eax, pattern
    code += b"\xf3\xab"                                  # rep stosd
    code += b"\x31\xdb"                                  # xor ebx, ebx  (LBA)
    loop = len(code)
    code += port(0x1F7) + wait_idle
    code += port(0x1F6) + b"\x89\xd8\xc1\xe8\x18\x24\x0f\x0c\xe0\xee"  # LBA 27:24 | 0xE0
    code += port(0x1F2) + b"\xb0\x01\xee"               # one sector
    code += port(0x1F3) + b"\x88\xd8\xee"               # LBA 7:0 (bl)
    code += port(0x1F4) + b"\x88\xf8\xee"               # LBA 15:8 (bh)
    code += port(0x1F5) + b"\x89\xd8\xc1\xe8\x10\xee"   # LBA 23:16
    code += port(0x1F7) + b"\xb0\x30\xee"               # WRITE SECTORS
    code += wait_idle
    data = (b"\xbe" + struct.pack("<I", LOAD)           # mov esi, LOAD (any bytes)
            + b"\xb9\x00\x01\x00\x00"                   # mov ecx, 256 words
            + port(0x1F0) + b"\xf3\x66\x6f"             # rep outsw
            + port(0x1F7) + wait_idle)                   # until the write is done
    code += b"\xa8\x08\x74" + bytes([len(data)])        # test al, DRQ; jz next
    code += data
    code += b"\x43\x81\xe3" + struct.pack("<I", IOERR_SECTORS - 1)  # next: inc ebx; and
    rel = loop - (len(code) + 5)
    code += b"\xe9" + struct.pack("<i", rel)            # jmp loop
    return code


REBOOT_MARK, _REBOOTED = 3 << 20, 0x52425421


def _reboot_code() -> bytes:
    reset = (b"\xc7\x05" + struct.pack("<II", REBOOT_MARK, _REBOOTED)  # mov [mark], REBOOTED
             + b"\x66\xba\xf9\x0c"                   # mov dx, 0xcf9
             + b"\xb0\x06\xee")                       # mov al, 6 (hard reset); out dx, al
    return (b"\xfa\xa1" + struct.pack("<I", REBOOT_MARK)  # cli; mov eax, [mark]
            + b"\x3d" + struct.pack("<I", _REBOOTED)    # cmp eax, REBOOTED
            + b"\x74" + bytes([len(reset)])             # je idle
            + reset
            + b"\xf4\xeb\xfd")                        # idle: hlt; jmp idle


CPUHP_PORTS = (0x0CD8, 0xAF00)
CPUHP_MARK, CPUHP_READY = 2 << 20, 0x48505543   # "CUPH": switched (firmware takes seconds)


def _cpuhp_code(eject: bool) -> bytes:
    def port(p: int) -> bytes:
        return b"\x66\xba" + struct.pack("<H", p)      # mov dx, p
    code = b"\xfa\x31\xc0"                             # cli; xor eax, eax
    for p in CPUHP_PORTS:
        code += port(p) + b"\xee"                       # out dx, al: modern interface
    code += b"\xc7\x05" + struct.pack("<II", CPUHP_MARK, CPUHP_READY)  # mov [mark], READY
    if not eject:
        return code + b"\xf4\xeb\xfd"                  # hlt; jmp hlt
    poll = b""
    for p in CPUHP_PORTS:
        sel = (port(p) + b"\x89\xd8\xef"               # sel: mov eax, ebx; out dx, eax
               + b"\x66\x83\xc2\x04\xec")              # add dx, 4; in al, dx (flags)
        eject_it = (b"\xb0\x04\xee"                    # mov al, 4; out dx, al (event seen)
                    + b"\xb0\x08\xee")                 # mov al, 8; out dx, al (eject)
        tests = (b"\x3c\xff\x74" + bytes([4 + len(eject_it)])   # cmp al, -1; je next
                 + b"\xa8\x04\x74" + bytes([len(eject_it)]))    # test al, 4; jz next
        body = sel + tests + eject_it
        step = b"\x43\x83\xfb\x10"                    # next: inc ebx; cmp ebx, 16
        poll += (b"\x31\xdb" + body + step             # xor ebx, ebx
                 + b"\x72" + bytes([(-(len(body) + len(step) + 2)) & 0xFF]))  # jb sel
    # a busy poll (the vCPU has no IDT, so no timer tick to sleep until):
    # the test keeps such a guest for seconds only
    poll += b"\xb9\x00\x00\x01\x00\xf3\x90\xe2\xfc"   # mov ecx, 65536; d: pause; loop d
    return code + poll + b"\xeb" + bytes([(-(len(poll) + 2)) & 0xFF])   # jmp poll


# COM1 echo: each byte the serial port receives is sent back (polling its
# line status: data ready, then transmitter empty)
_ECHO = (b"\xfa"                                        # cli
         b"\x66\xba\xfd\x03\xec\xa8\x01\x74\xfb"         # loop: dx=LSR; in; test DR; jz in
         b"\x66\xba\xf8\x03\xec\x88\xc3"                 # dx=RBR; in al; mov bl, al
         b"\x66\xba\xfd\x03\xec\xa8\x20\x74\xfb"         # dx=LSR; in; test THRE; jz in
         b"\x66\xba\xf8\x03\x88\xd8\xee\xeb\xde")        # dx=THR; mov al, bl; out; jmp loop

KINDS = {
    "idle": b"\xfa\xf4\xeb\xfd",                         # cli; hlt; jmp hlt
    "echo": _ECHO,
    "acpi": _acpi_code(),
    "dirty": _dirty_code(),
    "ioerr": _ioerr_code(),
    "reboot": _reboot_code(),
    "cpuhp": _cpuhp_code(eject=True),
    "cpuhp_deaf": _cpuhp_code(eject=False),
}


def build(kind: str, path: Path, dirty_end: int = DIRTY_END) -> Path:
    """The kernel `kind` as a file; a dirty one may write up to another end
    (the bench's reference guest dirties 2 to 240 MiB)."""
    image = _header() + (_dirty_code(dirty_end) if kind == "dirty" else KINDS[kind])
    path.write_bytes(image + b"\0" * (4096 - len(image)))
    return path
