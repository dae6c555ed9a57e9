"""The host's IPv4 neighbour (ARP) table as libvirt 9.0's virArpTableGet
reads it: one RTM_GETNEIGH dump over rtnetlink, one datagram of answer,
only STALE and REACHABLE entries (or those with no state) kept.

libvirt 9.0 checks each message's length against the netlink header's
size twice over (32 bytes), so the 20-byte NLMSG_DONE that the kernel
puts after a table small enough for one datagram fails the read with
"wrong nlmsg len"; we do the same, since callers see libvirt's answer."""

from __future__ import annotations

import dataclasses
import os
import socket
import struct
from typing import Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

RTM_NEWNEIGH, RTM_GETNEIGH = 28, 30
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NUD_REACHABLE, NUD_STALE = 0x02, 0x04
NDA_DST, NDA_LLADDR = 1, 2
_HDR = struct.Struct("=IHHII")        # struct nlmsghdr
_NDMSG = struct.Struct("=BBHiHBB")    # struct ndmsg
_RTA = struct.Struct("=HH")           # struct rtattr
_TWICE_HDR = 2 * _HDR.size            # NLMSG_LENGTH(sizeof(struct nlmsghdr))


@dataclasses.dataclass(frozen=True)
class ArpEntry:
    ipaddr: str
    mac: str


def _align(n: int) -> int:
    return (n + 3) & ~3


def _dump() -> bytes:
    """The first datagram of the kernel's answer to a neighbour dump."""
    try:
        with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as s:
            s.bind((0, 0))
            body = _NDMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0, 0, 0)
            s.send(_HDR.pack(_HDR.size + len(body), RTM_GETNEIGH,
                             NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + body)
            # the datagram's whole size first, as libnl's nl_recv asks
            size = s.recv_into(bytearray(1), 1, socket.MSG_PEEK | socket.MSG_TRUNC)
            return s.recv(max(size, 1))
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, ErrorDomain.VIR_FROM_NET,
                            f"error dumping neighbor table: {os.strerror(exc.errno or 0)}"
                            ) from None


def _malformed() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NET,
                         "malformed netlink response message")


def _attrs(data: bytes, start: int, length: int) -> dict[int, bytes]:
    """The first of each attribute type (as libvirt's parse_rtattr keeps)."""
    out: dict[int, bytes] = {}
    while length >= _RTA.size:
        rta_len, rta_type = _RTA.unpack_from(data, start)
        if rta_len < _RTA.size or rta_len > length:
            break
        out.setdefault(rta_type, data[start + _RTA.size:start + rta_len])
        step = _align(rta_len)
        start, length = start + step, length - step
    return out


def parse(data: bytes) -> list[ArpEntry]:
    """libvirt's walk over one datagram of neighbour messages."""
    if len(data) < _HDR.size:
        raise _malformed()
    first_type = _HDR.unpack_from(data)[1]
    if first_type == NLMSG_ERROR:
        error = struct.unpack_from("=i", data, _HDR.size)[0] if len(data) >= 20 else 0
        if error:
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, ErrorDomain.VIR_FROM_NET,
                                f"error dumping neighbor table: {os.strerror(-error)}")
    elif first_type != RTM_NEWNEIGH:
        raise _malformed()
    table: list[ArpEntry] = []
    off, left = 0, len(data)
    while left >= _HDR.size:
        nlmsg_len, nlmsg_type = _HDR.unpack_from(data, off)[:2]
        if nlmsg_len < _HDR.size or nlmsg_len > left:
            break
        step = _align(nlmsg_len)
        if nlmsg_len < _TWICE_HDR:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_NONE,
                                "wrong nlmsg len")
        family, _, _, _, state, _, _ = _NDMSG.unpack_from(data, off + _HDR.size)
        skip = (family and family != socket.AF_INET) or \
            (state and state not in (NUD_STALE, NUD_REACHABLE))
        if not skip:
            if nlmsg_type == NLMSG_DONE:
                return table
            start = off + _HDR.size + _NDMSG.size
            attrs = _attrs(data, start, nlmsg_len - _HDR.size - _NDMSG.size)
            dst, lladdr = attrs.get(NDA_DST), attrs.get(NDA_LLADDR)
            if dst is not None and lladdr is not None:
                table.append(ArpEntry(socket.inet_ntoa(dst[:4].ljust(4, b"\0")),
                                      ":".join(f"{b:02x}" for b in lladdr[:6].ljust(6, b"\0"))))
        off, left = off + step, left - step
    return table


def read(data: Optional[bytes] = None) -> list[ArpEntry]:
    """The table now (or as `data`, a captured dump, says)."""
    return parse(_dump() if data is None else data)
