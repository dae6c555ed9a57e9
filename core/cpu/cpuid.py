"""The host CPU's CPUID answers, asked of the CPU itself as libvirt does.

Python cannot execute CPUID, so a dozen bytes of x86-64 machine code are
placed in an executable page and called through ctypes:
cpuid(leaf, subleaf, out) stores eax, ebx, ecx, edx at out.  Where a
hardened kernel refuses executable memory, /dev/cpu/0/cpuid (the cpuid
module) answers instead; with neither, there is no answer (None)."""

from __future__ import annotations

import ctypes
import functools
import mmap
import os
import platform
import struct
from typing import Callable, Optional

Regs = tuple[int, int, int, int]   # eax, ebx, ecx, edx

_CODE = bytes.fromhex(
    "53"          # push rbx            (callee-saved)
    "89f8"        # mov eax, edi        leaf
    "89f1"        # mov ecx, esi        subleaf
    "4989d0"      # mov r8, rdx         out
    "31db"        # xor ebx, ebx
    "31d2"        # xor edx, edx
    "0fa2"        # cpuid
    "418900"      # mov [r8], eax
    "41895804"    # mov [r8+4], ebx
    "41894808"    # mov [r8+8], ecx
    "4189500c"    # mov [r8+12], edx
    "5b"          # pop rbx
    "c3")         # ret


@functools.lru_cache(maxsize=None)
def _instruction() -> Optional[Callable[[int, int], Regs]]:
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    try:
        page = mmap.mmap(-1, mmap.PAGESIZE,
                         prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    except (OSError, ValueError):
        return None
    page.write(_CODE)
    address = ctypes.addressof(ctypes.c_char.from_buffer(page))
    call = ctypes.CFUNCTYPE(None, ctypes.c_uint32, ctypes.c_uint32,
                            ctypes.POINTER(ctypes.c_uint32))(address)
    out = (ctypes.c_uint32 * 4)()

    def cpuid(leaf: int, subleaf: int) -> Regs:
        call(leaf, subleaf, out)
        return out[0], out[1], out[2], out[3]
    cpuid.page = page   # type: ignore[attr-defined]  # keeps the code mapped
    return cpuid


def _device(leaf: int, subleaf: int) -> Optional[Regs]:
    """The cpuid module's answer: a 16-byte read at offset leaf | subleaf << 32."""
    try:
        fd = os.open("/dev/cpu/0/cpuid", os.O_RDONLY)
    except OSError:
        return None
    try:
        data = os.pread(fd, 16, leaf | subleaf << 32)
    except OSError:
        return None
    finally:
        os.close(fd)
    return struct.unpack("<4I", data) if len(data) == 16 else None


def cpuid(leaf: int, subleaf: int = 0) -> Optional[Regs]:
    """CPUID(leaf, subleaf) on this host, or None when it cannot be asked."""
    call = _instruction()
    return call(leaf, subleaf) if call is not None else _device(leaf, subleaf)
