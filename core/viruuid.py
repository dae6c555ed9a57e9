"""UUIDs as libvirt handles them: 16 raw bytes (VIR_UUID_BUFLEN) inside,
the 36-character dashed form (VIR_UUID_STRING_BUFLEN - 1) outside."""

from __future__ import annotations

import os
import re
from typing import Optional

VIR_UUID_BUFLEN = 16
VIR_UUID_STRING_BUFLEN = 37

_HEX = re.compile(r"[0-9a-fA-F]")


def generate() -> bytes:
    """A random (version 4) UUID."""
    raw = bytearray(os.urandom(VIR_UUID_BUFLEN))
    raw[6] = (raw[6] & 0x0F) | 0x40
    raw[8] = (raw[8] & 0x3F) | 0x80
    return bytes(raw)


def parse(text: str) -> Optional[bytes]:
    """Accept 32 hex digits with dashes anywhere between pairs, as libvirt
    does; leading and trailing spaces are allowed.  None when malformed."""
    digits = []
    body = text.strip()
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "-":
            i += 1
            continue
        if not _HEX.match(ch) or i + 1 >= len(body) or not _HEX.match(body[i + 1]):
            return None
        digits.append(body[i:i + 2])
        i += 2
    if len(digits) != VIR_UUID_BUFLEN:
        return None
    return bytes(int(d, 16) for d in digits)


def format(raw: bytes) -> str:
    h = raw.hex()
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"
