"""libvirt-qemu's raw QEMU monitor commands, as libvirt 9.0's QEMU driver runs
them (qemuDomainQemuMonitorCommandWithFiles).

A command is QMP text, sent as it parses (an object with "execute" gets the
id every command of libvirt's carries, "libvirt-N"), and the reply comes
back whole, QEMU's error included: {"return":...,"id":"libvirt-N"}.  With
VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP the text is a human monitor command
(human-monitor-command) and the reply its output.  At most one file
descriptor goes along with a command; none ever comes back.  The first
command of a run taints the domain "custom-monitor" (taint.py), as libvirt
does: a line in its log, and virDomainGetMessages says so while it runs.
"""

from __future__ import annotations

import itertools
from typing import Any, Optional

from ... import errors
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from . import qmptext, taint
from .monitor import MonitorError
from .runtime import Runtime, qemu_error

Q = ErrorDomain.VIR_FROM_QEMU
VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP = 1

_command_ids = itertools.count(1)


class MonitorCommands:
    """Mixed into QemuDriver (which supplies job, lock, _running, layout)."""

    def domain_qemu_monitor_command(self, dom: Domain, cmd: Optional[str], flags: int) -> str:
        return self._monitor_command(dom, cmd, [], flags)

    def domain_qemu_monitor_command_with_files(self, dom: Domain, cmd: Optional[str],
                                               infiles: list[int],
                                               flags: int) -> tuple[list[int], str]:
        return [], self._monitor_command(dom, cmd, infiles, flags)

    def _monitor_command(self, dom: Domain, cmd: Optional[str], infiles: list[int],
                         flags: int) -> str:
        errors.check_flags(flags, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP,
                           "qemuDomainQemuMonitorCommandWithFiles", Q)
        if len(infiles) > 1:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                "at most 1 fd can be passed to qemu along with a command")
        if cmd is None:   # libvirt 9.0's QEMU driver crashes on it
            raise errors.invalid_arg(Q, "qemuDomainQemuMonitorCommandWithFiles", "cmd",
                                     "cmd in qemuDomainQemuMonitorCommandWithFiles "
                                     "must not be NULL")
        fd = infiles[0] if infiles else None
        hmp = bool(flags & VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            self._taint(obj, rt)
            if hmp:
                sent: Any = {"execute": "human-monitor-command",
                             "arguments": {"command-line": cmd}}
            else:
                sent = qmptext.parse_command(cmd)
            msg_id = None
            if isinstance(sent, dict) and "execute" in sent:
                if "id" in sent:
                    raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                     "Unable to append command 'id' string")
                msg_id = sent["id"] = f"libvirt-{next(_command_ids)}"
            if rt.monitor is None or rt.stopped:
                raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                 "domain is no longer running")
            try:
                raw = rt.monitor.execute_text(qmptext.dumps(sent).encode(), msg_id, fd)
            except MonitorError as exc:
                raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED if exc.eof
                                 else ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                 "domain is no longer running" if exc.eof else str(exc)) from None
        reply = qmptext.loads(raw)
        if not hmp:
            return qmptext.dumps(reply)
        error = reply.get("error") if isinstance(reply, dict) else None
        if error is not None:
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             "unable to execute QEMU command 'human-monitor-command': "
                             f"{error.get('desc', '')}")
        text = reply.get("return")
        return text if isinstance(text, str) else ""

    def _taint(self, obj: DomainObj, rt: Runtime) -> None:
        """libvirt's custom-monitor taint, the first time in a run: a line in
        the domain's log, kept in the status for a reopened driver."""
        with self.lock:  # type: ignore[attr-defined]
            if "custom-monitor" in rt.taints:
                return
            rt.taints.add("custom-monitor")
            self.save_status(obj)  # type: ignore[attr-defined]
        taint.log_line(self.layout.log_file(obj.name), obj.id,  # type: ignore[attr-defined]
                       "custom-monitor")
