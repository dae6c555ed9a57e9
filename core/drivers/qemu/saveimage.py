"""Save image files, in libvirt's format (virQEMUSaveHeader), so that an
image written here is one libvirt reads, and the other way round::

    char     magic[16]       "LibvirtQemudSave" ("LibvirtQemudPart" while written)
    uint32   version         2
    uint32   data_len        bytes of XML (NUL-terminated, padded) after the header
    uint32   was_running     resume the CPUs on restore
    uint32   compressed      0: raw QEMU migration stream
    uint32   cookieOffset    where a migration cookie starts in the data (0: none)
    uint32   unused[14]
    data_len bytes           the domain XML, then NULs
    ...                      QEMU's migration stream, to the end of the file
"""

from __future__ import annotations

import dataclasses
import os
import struct
from typing import Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber

MAGIC = b"LibvirtQemudSave"
PARTIAL = b"LibvirtQemudPart"
VERSION = 2
_HEADER = struct.Struct("<16s5I14I")
HEADER_SIZE = _HEADER.size          # 92
_PAD = 1024                         # room for a later virDomainSaveImageDefineXML

Q = ErrorDomain.VIR_FROM_QEMU


@dataclasses.dataclass
class SaveImage:
    """A save image's header and XML; `stream_offset` is where QEMU's data begins."""
    xml: str
    was_running: bool
    stream_offset: int


def write_header(fd: int, xml: str, was_running: bool) -> int:
    """Write a partial header and the XML at the start of `fd`; the offset of the stream."""
    data = xml.encode() + b"\0"
    data += b"\0" * (_PAD + (-(HEADER_SIZE + len(data) + _PAD) % 4096))
    header = _HEADER.pack(PARTIAL, VERSION, len(data), int(was_running), 0, 0, *([0] * 14))
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, header + data)
    return HEADER_SIZE + len(data)


def mark_complete(fd: int) -> None:
    """Flush the image, then turn the magic into the final one (a crash leaves 'Part')."""
    os.fsync(fd)
    os.pwrite(fd, MAGIC, 0)
    os.fsync(fd)


def read(path: str) -> tuple[int, SaveImage]:
    """Open `path` for restore: the fd (positioned at the stream) and its header."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                            f"Failed to open file '{path}': {os.strerror(exc.errno or 0)}") from None
    try:
        raw = os.read(fd, HEADER_SIZE)
        if len(raw) < HEADER_SIZE:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "failed to read qemu header")
        magic, version, data_len, was_running, compressed, cookie, *_ = _HEADER.unpack(raw)
        if magic == PARTIAL:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "save image is incomplete")
        if magic != MAGIC:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "image magic is incorrect")
        if version > VERSION:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                f"image version is not supported ({version} > {VERSION})")
        if compressed:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "compressed save images are not supported yet")
        data = os.read(fd, data_len)
        end = cookie if cookie else len(data)
        xml = data[:end].split(b"\0", 1)[0].decode()
        return fd, SaveImage(xml, bool(was_running), HEADER_SIZE + data_len)
    except BaseException:
        os.close(fd)
        raise


def rewrite(path: str, xml: str, was_running: Optional[bool]) -> None:
    """Put `xml` (and `was_running`, unless None) in the header of the image
    at `path`, in the room its XML has (write_header leaves some spare)."""
    fd, image = read(path)
    os.close(fd)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CLOEXEC)
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                            f"Failed to open file '{path}': {os.strerror(exc.errno or 0)}") from None
    try:
        raw = os.pread(fd, HEADER_SIZE, 0)
        fields = list(_HEADER.unpack(raw))
        data_len = fields[2]
        data = xml.encode() + b"\0"
        if len(data) > data_len:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, Q,
                                "new xml too large to fit in file")
        if was_running is not None:
            fields[3] = int(was_running)
        os.pwrite(fd, _HEADER.pack(*fields) + data + b"\0" * (data_len - len(data)), 0)
        os.fsync(fd)
    finally:
        os.close(fd)
