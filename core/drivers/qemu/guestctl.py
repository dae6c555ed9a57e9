"""Acting on a running guest's machine as libvirt 9.0's QEMU driver does:
virDomainReset (system_reset), virDomainInjectNMI (inject-nmi) and
virDomainSendKey (send-key).

A reset is QEMU's: a paused guest stays paused, and QEMU's RESET event
gives the REBOOT event (runtime.py), with no lifecycle event.  Keys are
translated to QEMU's key numbers (keycode.QNUM) before the domain is even
looked up, as libvirt does, and sent as numbers; QNUM codes go as given,
bounded only by QMP's 16 bits.
"""

from __future__ import annotations

from ... import errors, keycode
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from .runtime import qemu_error

Q = ErrorDomain.VIR_FROM_QEMU
QMP_KEY_MAX = 0xFFFF


def qnum_keys(codeset: int, keycodes: list[int]) -> list[int]:
    """`keycodes` as QEMU's key numbers, with libvirt's error for one it cannot translate."""
    if codeset == keycode.QNUM:
        return list(keycodes)
    out = []
    for code in keycodes:
        value = keycode.translate(codeset, keycode.QNUM, code)
        if value is None:
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             f"cannot translate keycode {code} of {keycode.NAMES[codeset]} "
                             "codeset to qnum keycode")
        out.append(value)
    return out


class GuestControl:
    """Mixed into QemuDriver (which supplies job, lock, _running, _monitor_call)."""

    def domain_reset(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainReset", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            _, rt = self._running(dom)  # type: ignore[attr-defined]
            self._monitor_call(rt, "system_reset")  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                rt.fake_reboot = False   # a reboot asked for before is over

    def domain_inject_nmi(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainInjectNMI", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            _, rt = self._running(dom)  # type: ignore[attr-defined]
            self._monitor_call(rt, "inject-nmi")  # type: ignore[attr-defined]

    def domain_send_key(self, dom: Domain, codeset: int, holdtime: int, keycodes: list[int],
                        flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainSendKey", Q)
        keys = qnum_keys(codeset, keycodes)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            _, rt = self._running(dom)  # type: ignore[attr-defined]
            for index, key in enumerate(keys):
                if key > QMP_KEY_MAX:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                     f"keycode {index} is invalid: 0x{key:X}")
            args: dict[str, object] = {"keys": [{"type": "number", "data": k} for k in keys]}
            if holdtime:
                args["hold-time"] = holdtime
            self._monitor_call(rt, "send-key", args)  # type: ignore[attr-defined]
