"""Save, restore and managed save (libvirt's qemu_saveimage.c and the save
paths of qemu_driver.c): QEMU migrates its state into a file descriptor
behind a libvirt-format header (saveimage.py), and a new QEMU started with
``-incoming defer`` reads it back.  Events, states and error wording follow
libvirt 9.0's embed driver (probed with python3-libvirt on this machine):

    save running   SUSPENDED/PAUSED, STOPPED/SAVED     -> SHUTOFF/SAVED (transient: gone)
    restore        STARTED/RESTORED, RESUMED/FROM_SNAPSHOT -> RUNNING/RESTORED
    restore paused STARTED/RESTORED, SUSPENDED/RESTORED (SUSPENDED/PAUSED for a
                   managed save started paused)  -> PAUSED/MIGRATION
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Optional

from ... import errors
from ...conf import domain_abi
from ...conf.domain import format_domain_xml, parse_domain_xml
from ...domainobj import DomainObj
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutoffReason,
                            DomainState as S)
from ...errors import ErrorDomain, ErrorNumber
from ...events import (DomainEventStoppedDetail as Stopped,
                       DomainEventSuspendedDetail as Suspended, DomainEventType as E)
from ...objects import Connect, Domain
from . import blockjobs, livexml, saveimage
from .runtime import Runtime, qemu_error

Q = ErrorDomain.VIR_FROM_QEMU
D = ErrorDomain.VIR_FROM_DOMAIN
VIR_DOMAIN_SAVE_BYPASS_CACHE = 1
VIR_DOMAIN_SAVE_RUNNING = 2
VIR_DOMAIN_SAVE_PAUSED = 4
VIR_DOMAIN_SAVE_RESET_NVRAM = 8
SAVE_FLAGS = VIR_DOMAIN_SAVE_BYPASS_CACHE | VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED
RESTORE_FLAGS = SAVE_FLAGS | VIR_DOMAIN_SAVE_RESET_NVRAM
STREAM_WAIT = 600.0
UNLIMITED_BANDWIDTH = 9223372036853727232   # what libvirt sets: QEMU's "unlimited"
_FD_NAME = "libvirt-save"


def _check_running_paused(flags: int, fn: str) -> None:
    if flags & VIR_DOMAIN_SAVE_RUNNING and flags & VIR_DOMAIN_SAVE_PAUSED:
        raise errors.invalid_arg(D, fn, "flags",
                                 "Flags 'VIR_DOMAIN_SAVE_RUNNING' and "
                                 "'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive")


class SaveRestore:
    """Mixed into QemuDriver (which supplies job, lock, _running, start, ...)."""

    # -- save
    def domain_save_flags(self, dom: Domain, to: str, dxml: Optional[str], flags: int) -> None:
        errors.check_flags(flags, SAVE_FLAGS, "qemuDomainSaveFlags", Q)
        _check_running_paused(flags, "qemuDomainSaveFlags")
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            xml = self._save_xml(obj, dxml)
            self._save(obj, rt, to, xml, flags)

    def domain_managed_save(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, SAVE_FLAGS, "qemuDomainManagedSave", Q)
        _check_running_paused(flags, "qemuDomainManagedSave")
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            if not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                    "cannot do managed save for transient domain")
            self.layout.save_dir.mkdir(parents=True, exist_ok=True)  # type: ignore[attr-defined]
            path = self.layout.managed_save_file(obj.name)  # type: ignore[attr-defined]
            self._save(obj, rt, str(path), self._save_xml(obj, None), flags)

    def _save_xml(self, obj: DomainObj, dxml: Optional[str]) -> str:
        if dxml is None:
            return format_domain_xml(obj.def_, inactive=True)
        new = self._parse(dxml)  # type: ignore[attr-defined]
        if new.uuid != obj.uuid or new.name != obj.name:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                "cannot change name or uuid of a saved domain")
        return format_domain_xml(new, inactive=True)

    def _save(self, obj: DomainObj, rt: Runtime, path: str, xml: str, flags: int) -> None:
        """Pause, stream QEMU's state into `path`, then stop QEMU (job held)."""
        with self.lock:  # type: ignore[attr-defined]
            blockjobs.check_no_block_job(rt)
            was_running = obj.state == S.VIR_DOMAIN_RUNNING
            if was_running:
                rt.paused_reason = DomainPausedReason.VIR_DOMAIN_PAUSED_SAVE
        if was_running:
            self._monitor_call(rt, "stop")  # type: ignore[attr-defined]
        resume = (was_running if not flags & (VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED)
                  else bool(flags & VIR_DOMAIN_SAVE_RUNNING))
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            self._undo_pause(rt, was_running)
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                f"Failed to create file '{path}': "
                                f"{os.strerror(exc.errno or 0)}") from None
        try:
            os.lseek(fd, saveimage.write_header(fd, xml, resume), os.SEEK_SET)
            self._stream_out(rt, fd)
            saveimage.mark_complete(fd)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                os.unlink(path)
            self._undo_pause(rt, was_running)
            raise
        os.close(fd)
        self.stop_process(obj, rt, Stopped.VIR_DOMAIN_EVENT_STOPPED_SAVED,  # type: ignore[attr-defined]
                          DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SAVED)

    def _stream_out(self, rt: Runtime, fd: int) -> None:
        call = self._monitor_call  # type: ignore[attr-defined]
        call(rt, "migrate-set-capabilities",
             {"capabilities": [{"capability": "events", "state": True}]})
        call(rt, "migrate-set-parameters", {"max-bandwidth": UNLIMITED_BANDWIDTH})
        self._send_fd(rt, fd)
        with rt.migration_cond:
            rt.migration_status = None
        call(rt, "migrate", {"uri": f"fd:{_FD_NAME}"})
        status = self.wait_migration(rt, STREAM_WAIT)  # type: ignore[attr-defined]
        if status != "completed":
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                             f"job 'domain save' failed ({status})")

    def _send_fd(self, rt: Runtime, fd: int, name: str = _FD_NAME) -> None:
        """Hand QEMU `fd` under `name` (getfd), for a stream to write to."""
        from .monitor import MonitorError
        if rt.monitor is None or rt.stopped:
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED, "domain is no longer running")
        try:
            rt.monitor.send_fd(fd, name)
        except MonitorError as exc:
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             f"unable to execute QEMU command 'getfd': {exc}") from None

    def _undo_pause(self, rt: Runtime, was_running: bool) -> None:
        if not was_running or rt.stopped:
            return
        with contextlib.suppress(errors.VirtError):
            with self.lock:  # type: ignore[attr-defined]
                rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_SAVE_CANCELED
            self._monitor_call(rt, "cont")  # type: ignore[attr-defined]

    # -- restore
    def domain_restore_flags(self, conn: Connect, frm: str, dxml: Optional[str],
                             flags: int) -> None:
        errors.check_flags(flags, RESTORE_FLAGS, "qemuDomainRestoreFlags", Q)
        _check_running_paused(flags, "qemuDomainRestoreFlags")
        fd, image = saveimage.read(frm)
        try:
            new = self._parse(dxml if dxml is not None else image.xml)  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                obj = self.domains.add_live(new)  # type: ignore[attr-defined]
            with self.job(obj.uuid):  # type: ignore[attr-defined]
                self.restore_image(obj, fd, image, flags)
        finally:
            os.close(fd)

    def restore_image(self, obj: DomainObj, fd: int, image: saveimage.SaveImage,
                      flags: int, start_paused: bool = False) -> None:
        """Start `obj` from an open image (job held); `flags` (RUNNING,
        PAUSED) stand for the image's own word on it, as libvirt's reading
        of them does; `start_paused`, a managed save started paused."""
        os.lseek(fd, image.stream_offset, os.SEEK_SET)
        self.start(obj, paused=True,  # type: ignore[attr-defined]
                   incoming=lambda rt: self._stream_in(rt, fd))
        rt = self.runtime[obj.uuid]  # type: ignore[attr-defined]
        run = (image.was_running if not flags & (VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED)
               else bool(flags & VIR_DOMAIN_SAVE_RUNNING))
        if run and not start_paused:
            with self.lock:  # type: ignore[attr-defined]
                rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_RESTORED
            self._monitor_call(rt, "cont")  # type: ignore[attr-defined]
            return
        detail = (Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED if start_paused
                  else Suspended.VIR_DOMAIN_EVENT_SUSPENDED_RESTORED)
        with self.lock:  # type: ignore[attr-defined]
            self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED, detail)  # type: ignore[attr-defined]

    def _stream_in(self, rt: Runtime, fd: int) -> None:
        call = self._monitor_call  # type: ignore[attr-defined]
        call(rt, "migrate-set-capabilities",
             {"capabilities": [{"capability": "events", "state": True}]})
        self._send_fd(rt, fd)
        with rt.migration_cond:
            rt.migration_status = None
        call(rt, "migrate-incoming", {"uri": f"fd:{_FD_NAME}"})
        status = self.wait_migration(rt, STREAM_WAIT)  # type: ignore[attr-defined]
        if status != "completed":
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                             f"job 'domain restore' failed ({status})")

    def domain_save_image_get_xml_desc(self, conn: Connect, file: str, flags: int) -> str:
        errors.check_flags(flags, 1, "qemuDomainSaveImageGetXMLDesc", Q)  # XML_SECURE
        fd, image = saveimage.read(file)
        os.close(fd)
        return image.xml

    def domain_save_image_define_xml(self, conn: Connect, file: str, dxml: str,
                                     flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED,
                           "qemuDomainSaveImageDefineXML", Q)
        self._define_in_image(file, dxml, flags)

    def domain_managed_save_get_xml_desc(self, dom: Domain, flags: int) -> str:
        errors.check_flags(flags, 1, "qemuDomainManagedSaveGetXMLDesc", Q)  # XML_SECURE
        fd, image = saveimage.read(str(self._managed_image(dom)))
        os.close(fd)
        return image.xml

    def domain_managed_save_define_xml(self, dom: Domain, dxml: str, flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED,
                           "qemuDomainManagedSaveDefineXML", Q)
        self._define_in_image(str(self._managed_image(dom)), dxml, flags)

    def _managed_image(self, dom: Domain) -> Path:
        with self.lock:  # type: ignore[attr-defined]
            path: Path = self.layout.managed_save_file(  # type: ignore[attr-defined]
                self._obj(dom).name)  # type: ignore[attr-defined]
        if not path.exists():
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                "domain does not have managed save image")
        return path

    def _define_in_image(self, file: str, dxml: str, flags: int) -> None:
        """A save image's definition replaced (and its running flag, if asked)."""
        fd, image = saveimage.read(file)
        os.close(fd)
        old = parse_domain_xml(image.xml, keep_interfaces=True)
        new = parse_domain_xml(dxml, default_arch=old.os.arch, keep_interfaces=True)
        domain_abi.check(old, new)
        xml = format_domain_xml(livexml.migratable_view(new, False), inactive=True)
        run = (None if not flags & (VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED)
               else bool(flags & VIR_DOMAIN_SAVE_RUNNING))
        saveimage.rewrite(file, xml, run)

    # -- managed save
    def domain_has_managed_save_image(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "qemuDomainHasManagedSaveImage", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            return int(self.layout.managed_save_file(obj.name).exists())  # type: ignore[attr-defined]

    def domain_managed_save_remove(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "qemuDomainManagedSaveRemove", Q)
        with self.lock:  # type: ignore[attr-defined]
            obj = self._obj(dom)  # type: ignore[attr-defined]
            self.remove_managed_save(obj)

    def remove_managed_save(self, obj: DomainObj) -> None:
        path = self.layout.managed_save_file(obj.name)  # type: ignore[attr-defined]
        try:
            os.unlink(path)
        except OSError as exc:
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                f"Failed to remove managed save file '{path}': "
                                f"{os.strerror(exc.errno or 0)}") from None
        if obj.state == S.VIR_DOMAIN_SHUTOFF and \
                obj.reason == DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SAVED:
            obj.set_state(S.VIR_DOMAIN_SHUTOFF, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_UNKNOWN)

    def start_managed_save(self, obj: DomainObj, paused: bool) -> bool:
        """Start `obj` from its managed save image, if it has one (job held)."""
        path = self.layout.managed_save_file(obj.name)  # type: ignore[attr-defined]
        if not path.exists():
            return False
        fd, image = saveimage.read(str(path))
        try:
            new = self._parse(image.xml)  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                if new.uuid != obj.uuid:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                     "managed save image is of another domain")
                obj.new_def = obj.def_
                obj.def_ = new
            try:
                self.restore_image(obj, fd, image, 0, start_paused=paused)
            except BaseException:
                with self.lock:  # type: ignore[attr-defined]
                    if not obj.is_active() and obj.new_def is not None:
                        obj.def_, obj.new_def = obj.new_def, None
                raise
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            os.unlink(path)
        return True


