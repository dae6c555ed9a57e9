"""Reading a domain's memory and disks as libvirt 9.0's QEMU driver does
(qemuDomainMemoryPeek, qemuDomainBlockPeek).

Memory: QEMU writes the bytes (memsave: vCPU 0's virtual addresses; pmemsave:
guest-physical ones) into a fresh file in the domain's own directory
(lib/qemu/domain-ID-NAME, where libvirt 9.0 puts it), which is read back and
removed: one QMP round trip per call.  QEMU's own checks stand: a physical
address past RAM reads as zeros, a virtual one fails with QEMU's text.

Disks: the source of a raw disk is read directly, running or not (from the
live definition while the domain runs, else from the persistent one), with
the errors of libvirt's storage file backend; any other format is refused
(a qcow2 disk is read neither as a file nor as the guest sees it).
"""

from __future__ import annotations

import errno
import os
import tempfile
from typing import Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
S = ErrorDomain.VIR_FROM_STORAGE
VIR_MEMORY_VIRTUAL = 1
VIR_MEMORY_PHYSICAL = 2
_OFF_MAX = (1 << 63) - 1      # lseek's off_t
# a disk's source path, by disk type (a network disk's is its export name)
_SOURCE_ATTRS = {"file": "file", "block": "dev", "dir": "dir", "network": "name"}
_LOCAL = ("file", "block", "dir")


def _system_error(domain: int, text: str, err: int) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, domain,
                         f"{text}: {os.strerror(err)}")


def _read_up_to(fd: int, size: int) -> bytes:
    """`size` bytes of `fd`, fewer only at its end."""
    chunks = []
    while size > 0:
        chunk = os.read(fd, size)
        if not chunk:
            break
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _disk_by_name(d: DomainDef, name: str) -> Optional[etree._Element]:
    """libvirt's rule: a name with a leading '/' is a source path (the first
    disk with exactly that path), anything else a target."""
    for disk in d.devices:
        if disk.tag != "disk":
            continue
        if not name.startswith("/"):
            target = disk.find("target")
            if target is not None and target.get("dev") == name:
                return disk
        elif _source_path(disk) == name:
            return disk
    return None


def _source_path(disk: etree._Element) -> Optional[str]:
    source = disk.find("source")
    attr = _SOURCE_ATTRS.get(disk.get("type", "file"))
    return source.get(attr) if source is not None and attr else None


def _format(disk: etree._Element, empty_is_none: bool) -> str:
    """The disk's format as libvirt's definition holds it: raw when the XML
    names none (its post-parse default, which our XML does not show yet);
    none for an empty drive of a running domain (libvirt clears it at start)."""
    if empty_is_none and disk.get("type", "file") in _LOCAL and _source_path(disk) is None:
        return "none"
    driver = disk.find("driver")
    return (driver.get("type") if driver is not None else None) or "raw"


def _read_file(path: Optional[str], offset: int, size: int) -> bytes:
    """What libvirt's storage file backend reads, with its errors."""
    if path is None:   # an empty drive: libvirt opens a NULL path
        raise _system_error(S, "Failed to open file '(null)'", errno.EFAULT)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError as exc:
        raise _system_error(S, f"Failed to open file '{path}'", exc.errno or 0) from None
    try:
        if offset > _OFF_MAX:   # a negative off_t
            raise _system_error(S, f"cannot seek into '{path}'", errno.EINVAL)
        if offset > 0:
            try:
                os.lseek(fd, offset, os.SEEK_SET)
            except OSError as exc:
                raise _system_error(S, f"cannot seek into '{path}'", exc.errno or 0) from None
        if size == 0:   # libvirt's header read wants at least a byte
            raise _system_error(S, f"cannot read header '{path}'", errno.EINVAL)
        try:
            return _read_up_to(fd, size)
        except OSError as exc:
            raise _system_error(S, f"cannot read header '{path}'", exc.errno or 0) from None
    finally:
        os.close(fd)


class Peek:
    """Mixed into QemuDriver (which supplies lock, _obj, runtime, layout, _monitor_call)."""

    def domain_memory_peek(self, dom: Domain, start: int, size: int, flags: int) -> bytes:
        errors.check_flags(flags, VIR_MEMORY_VIRTUAL | VIR_MEMORY_PHYSICAL,
                           "qemuDomainMemoryPeek", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            if flags not in (VIR_MEMORY_VIRTUAL, VIR_MEMORY_PHYSICAL):
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                    "flags parameter must be VIR_MEMORY_VIRTUAL or "
                                    "VIR_MEMORY_PHYSICAL")
            rt = self.runtime.get(obj.uuid)  # type: ignore[attr-defined]
            if not obj.is_active() or rt is None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            folder = str(self.layout.domain_dir(obj.id, obj.name))  # type: ignore[attr-defined]
        # No job lock: a read that may run beside a migration, as libvirt's
        # query job may; QMP orders it with the other commands.
        try:
            fd, tmp = tempfile.mkstemp(prefix="qemu.mem.", dir=folder)
        except OSError as exc:
            raise _system_error(Q, f'g_mkstemp("{folder}/qemu.mem.XXXXXX") failed',
                                exc.errno or 0) from None
        try:
            cmd = "memsave" if flags == VIR_MEMORY_VIRTUAL else "pmemsave"
            # libvirt sends the address as QEMU's int64: 2**64-2 is -2
            val = start - (1 << 64) if start >= 1 << 63 else start
            self._monitor_call(rt, cmd, {"val": val, "size": size,  # type: ignore[attr-defined]
                                         "filename": tmp})
            try:
                data = _read_up_to(fd, size)
            except OSError as exc:
                raise _system_error(Q, "failed to read temporary file created with "
                                    f"template {tmp}", exc.errno or 0) from None
        finally:
            os.close(fd)
            os.unlink(tmp)
        return data.ljust(size, b"\0")

    def domain_block_peek(self, dom: Domain, path: str, offset: int, size: int,
                          flags: int) -> bytes:
        errors.check_flags(flags, 0, "qemuDomainBlockPeek", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            disk = _disk_by_name(obj.def_, path)
            if disk is None:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                    f"disk '{path}' not found in domain")
            source, source_path = disk.find("source"), _source_path(disk)
            fmt = _format(disk, empty_is_none=obj.is_active())
            network = disk.get("type") == "network"
            protocol = source.get("protocol") if source is not None else None
        if fmt != "raw":
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, Q,
                                "peeking is only supported for disk with 'raw' format "
                                f"not '{fmt}'")
        if network:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S,
                                f"missing storage backend for network files using "
                                f"{protocol} protocol")
        data = _read_file(source_path, offset, size)
        if len(data) < size:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                f"'{path}' starting from {offset} has only {len(data)} "
                                "bytes available")
        return data
