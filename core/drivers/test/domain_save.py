"""The test driver's save/restore, managed save, core dumps and rename.

A save image is libvirt's test format: the magic 'TestGuestMagic' and its
NUL, the XML's length as a 32-bit little-endian int, then the domain XML,
so images written by libvirt's test driver restore here and the reverse.
"""

from __future__ import annotations

import os
import struct
import threading
from typing import TYPE_CHECKING, Optional

from ... import errors, viruuid
from ...conf.domain import format_domain_xml, parse_domain_xml
from ...domainobj import DomainObj
from ...domainstate import DomainRunningReason, DomainShutoffReason
from ...errors import ErrorDomain, ErrorNumber
from ...events import DomainEventStartedDetail, DomainEventStoppedDetail, DomainEventType
from ...objects import Connect, Domain

T = ErrorDomain.VIR_FROM_TEST
D = ErrorDomain.VIR_FROM_DOMAIN
MAGIC = b"TestGuestMagic\0"
VIR_DOMAIN_SAVE_BYPASS_CACHE, VIR_DOMAIN_SAVE_RUNNING, VIR_DOMAIN_SAVE_PAUSED = 1, 2, 4
_SAVE_FLAGS = VIR_DOMAIN_SAVE_BYPASS_CACHE | VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED
VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1
VIR_DUMP_CRASH = 1


def _system_error(message: str, exc: OSError) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, T,
                         f"{message}: {exc.strerror or exc}")


def write_image(path: str, xml: str) -> None:
    data = xml.encode()
    try:
        with open(path, "wb") as f:
            f.write(MAGIC + struct.pack("<i", len(data)) + data)
            f.flush()
            os.fsync(f.fileno())
    except OSError as exc:
        raise _system_error(f"saving domain failed to open '{path}'", exc) from None


def read_image(path: str) -> str:
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as exc:
        raise _system_error(f"cannot read domain image '{path}'", exc) from None
    if not raw.startswith(MAGIC) or len(raw) < len(MAGIC) + 4:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T, "mismatched header magic")
    (length,) = struct.unpack("<i", raw[len(MAGIC):len(MAGIC) + 4])
    if length < 1 or length > len(raw) - len(MAGIC) - 4:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                            "length of metadata out of range")
    return raw[len(MAGIC) + 4:len(MAGIC) + 4 + length].decode()


class DomainSaveMixin:
    """Save, restore, managed save, core dump and rename."""

    lock: threading.RLock
    node_info: object

    if TYPE_CHECKING:
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _event(self, obj: DomainObj, event: int, detail: int) -> None: ...
        def _stop(self, obj: DomainObj, dom: Optional[Domain], reason: int) -> None: ...
        def _stop_with_event(self, obj: DomainObj, dom: Optional[Domain], reason: int,
                             detail: int) -> None: ...
        def start_domain(self, obj: DomainObj, reason: int) -> None: ...
        domains: object

    def _save_stop(self, obj: DomainObj, dom: Domain) -> None:
        self._stop_with_event(obj, dom, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SAVED,
                              DomainEventStoppedDetail.VIR_DOMAIN_EVENT_STOPPED_SAVED)

    def domain_save_flags(self, dom: Domain, to: str, dxml: Optional[str], flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainSaveFlags")
        if dxml is not None:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, T,
                                "xml modification unsupported")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            write_image(to, format_domain_xml(obj.def_))
            self._save_stop(obj, dom)

    def domain_save(self, dom: Domain, to: str) -> None:
        self.domain_save_flags(dom, to, None, 0)

    def domain_restore_flags(self, conn: Connect, frm: str, dxml: Optional[str],
                             flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainRestoreFlags")
        if dxml is not None:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, T,
                                "xml modification unsupported")
        new = parse_domain_xml(read_image(frm), keep_interfaces=True)
        with self.lock:
            obj = self.domains.add_live(new)  # type: ignore[attr-defined]
            self.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_RESTORED)
            self._event(obj, DomainEventType.VIR_DOMAIN_EVENT_STARTED,
                        DomainEventStartedDetail.VIR_DOMAIN_EVENT_STARTED_RESTORED)

    def domain_restore(self, conn: Connect, frm: str) -> None:
        self.domain_restore_flags(conn, frm, None, 0)

    def domain_save_image_get_xml_desc(self, conn: Connect, file: str, flags: int) -> str:
        errors.check_flags(flags, 1, "testDomainSaveImageGetXMLDesc")
        return format_domain_xml(parse_domain_xml(read_image(file), keep_interfaces=True),
                                 inactive=True)

    def domain_save_image_define_xml(self, conn: Connect, file: str, dxml: str,
                                     flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_SAVE_RUNNING | VIR_DOMAIN_SAVE_PAUSED,
                           "testDomainSaveImageDefineXML")
        parse_domain_xml(read_image(file), keep_interfaces=True)
        new = parse_domain_xml(dxml, keep_interfaces=True)
        write_image(file, format_domain_xml(new))

    def domain_managed_save(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, _SAVE_FLAGS, "testDomainManagedSave")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            if not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot do managed save for transient domain")
            self._save_stop(obj, dom)
            obj.has_managed_save = True

    def domain_has_managed_save_image(self, dom: Domain, flags: int) -> int:
        errors.check_flags(flags, 0, "testDomainHasManagedSaveImage")
        with self.lock:
            return int(self._obj(dom).has_managed_save)

    def domain_managed_save_remove(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainManagedSaveRemove")
        with self.lock:
            self._obj(dom).has_managed_save = False

    def domain_core_dump_with_format(self, dom: Domain, to: str, dumpformat: int,
                                     flags: int) -> None:
        errors.check_flags(flags, 0x1F, "testDomainCoreDumpWithFormat")
        if dumpformat != 0:
            raise errors.report(ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED, T,
                                "kdump-compressed format is not supported here")
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, D,
                                    "domain is not running")
            try:
                with open(to, "wb") as f:
                    f.write(MAGIC)
            except OSError as exc:
                raise _system_error(f"domain core dump failed to open '{to}'", exc) from None
            if flags & VIR_DUMP_CRASH:  # the guest is gone afterwards
                self._stop_with_event(obj, dom, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_CRASHED,
                                      DomainEventStoppedDetail.VIR_DOMAIN_EVENT_STOPPED_CRASHED)

    def domain_core_dump(self, dom: Domain, to: str, flags: int) -> None:
        self.domain_core_dump_with_format(dom, to, 0, flags)

    def domain_rename(self, dom: Domain, new_name: str, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainRename")
        with self.lock:
            obj = self._obj(dom)
            if obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot rename active domain")
            if not obj.persistent:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot rename a transient domain")
            if obj.has_managed_save:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "domain with a managed saved state can't be renamed")
            other = self.domains.find_by_name(new_name)  # type: ignore[attr-defined]
            if other is not None:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, D,
                                    f"domain '{new_name}' already exists with uuid "
                                    f"{viruuid.format(other.uuid)}")
            self._event(obj, DomainEventType.VIR_DOMAIN_EVENT_UNDEFINED, 1)
            self.domains.rename(obj, new_name)  # type: ignore[attr-defined]
            # the caller's handle keeps its old name, as in libvirt 9.0
            self._event(obj, DomainEventType.VIR_DOMAIN_EVENT_DEFINED, 2)
