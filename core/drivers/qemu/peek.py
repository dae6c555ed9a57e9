"""Reading a domain's memory as libvirt 9.0's QEMU driver does
(qemuDomainMemoryPeek).

QEMU writes the bytes (memsave: vCPU 0's virtual addresses; pmemsave:
guest-physical ones) into a fresh file in the domain's own directory
(lib/qemu/domain-ID-NAME, where libvirt 9.0 puts it), which is read back and
removed: one QMP round trip per call.  QEMU's own checks stand: a physical
address past RAM reads as zeros, a virtual one fails with QEMU's text.
"""

from __future__ import annotations

import os
import tempfile

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
VIR_MEMORY_VIRTUAL = 1
VIR_MEMORY_PHYSICAL = 2


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
