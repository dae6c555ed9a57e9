"""The test driver's host interfaces and their change transactions
(virInterfaceChangeBegin/Commit/Rollback).  Mixed into TestDriver."""

from __future__ import annotations

import copy
import dataclasses
import threading
from typing import Optional

from ... import errors
from ...conf import schema
from ...conf.interface import InterfaceDef, format_interface_xml, parse_interface_xml
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, Interface

T = ErrorDomain.VIR_FROM_TEST
VIR_CONNECT_LIST_INTERFACES_INACTIVE, VIR_CONNECT_LIST_INTERFACES_ACTIVE = 1, 2


@dataclasses.dataclass(eq=False)
class InterfaceObj:
    def_: InterfaceDef
    active: bool = False

    @property
    def name(self) -> str:
        return self.def_.name


def _invalid(detail: Optional[str] = None) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T, detail)


class InterfaceMixin:
    """Interface entry points of the test driver."""

    lock: threading.RLock
    interfaces: list[InterfaceObj]
    interfaces_backup: Optional[list[InterfaceObj]]

    def _iface_by_name(self, name: str) -> InterfaceObj:
        for obj in self.interfaces:
            if obj.name == name:
                return obj
        raise errors.report(ErrorNumber.VIR_ERR_NO_INTERFACE, T,
                            f"no interface with matching name '{name}'")

    def _iface_handle(self, conn: Connect, obj: InterfaceObj) -> Interface:
        return Interface(conn, obj.name, obj.def_.mac or "")

    def add_interface(self, new: InterfaceDef, active: bool = False) -> InterfaceObj:
        for obj in self.interfaces:
            if obj.name == new.name:
                obj.def_ = new
                return obj
        obj = InterfaceObj(def_=new, active=active)
        self.interfaces.append(obj)
        return obj

    # -- listing
    def connect_num_of_interfaces(self) -> int:
        with self.lock:
            return sum(1 for o in self.interfaces if o.active)

    def connect_list_interfaces(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.interfaces if o.active]

    def connect_num_of_defined_interfaces(self) -> int:
        with self.lock:
            return sum(1 for o in self.interfaces if not o.active)

    def connect_list_defined_interfaces(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.interfaces if not o.active]

    def connect_list_all_interfaces(self, conn: Connect, flags: int) -> list[Interface]:
        errors.check_flags(flags, VIR_CONNECT_LIST_INTERFACES_INACTIVE
                           | VIR_CONNECT_LIST_INTERFACES_ACTIVE, "testConnectListAllInterfaces")
        with self.lock:
            out = []
            for obj in self.interfaces:
                bit = (VIR_CONNECT_LIST_INTERFACES_ACTIVE if obj.active
                       else VIR_CONNECT_LIST_INTERFACES_INACTIVE)
                if not flags & 3 or flags & bit:
                    out.append(self._iface_handle(conn, obj))
            return out

    # -- lookups
    def interface_lookup_by_name(self, conn: Connect, name: str) -> Interface:
        with self.lock:
            return self._iface_handle(conn, self._iface_by_name(name))

    def interface_lookup_by_mac_string(self, conn: Connect, mac: str) -> Interface:
        with self.lock:
            found = [o for o in self.interfaces
                     if o.def_.mac is not None and o.def_.mac.lower() == mac.lower()]
            if not found:
                raise errors.report(ErrorNumber.VIR_ERR_NO_INTERFACE, T,
                                    f"no interface with matching mac '{mac}'")
            if len(found) > 1:
                raise errors.report(ErrorNumber.VIR_ERR_MULTIPLE_INTERFACES, T)
            return self._iface_handle(conn, found[0])

    # -- changes
    def interface_define_xml(self, conn: Connect, xml: str, flags: int) -> Interface:
        errors.check_flags(flags, 1, "testInterfaceDefineXML")
        if flags & 1:   # VIR_INTERFACE_DEFINE_VALIDATE
            schema.validate(xml, "interface.rng")
        new = parse_interface_xml(xml)
        with self.lock:
            return self._iface_handle(conn, self.add_interface(new))

    def interface_undefine(self, iface: Interface) -> None:
        with self.lock:
            self.interfaces.remove(self._iface_by_name(iface.name))

    def interface_create(self, iface: Interface, flags: int) -> None:
        errors.check_flags(flags, 0, "testInterfaceCreate")
        with self.lock:
            obj = self._iface_by_name(iface.name)
            if obj.active:
                raise _invalid()
            obj.active = True

    def interface_destroy(self, iface: Interface, flags: int) -> None:
        errors.check_flags(flags, 0, "testInterfaceDestroy")
        with self.lock:
            obj = self._iface_by_name(iface.name)
            if not obj.active:
                raise _invalid()
            obj.active = False

    # -- queries
    def interface_get_xml_desc(self, iface: Interface, flags: int) -> str:
        errors.check_flags(flags, 0, "testInterfaceGetXMLDesc")
        with self.lock:
            return format_interface_xml(self._iface_by_name(iface.name).def_)

    def interface_is_active(self, iface: Interface) -> int:
        with self.lock:
            return int(self._iface_by_name(iface.name).active)

    # -- transactions: a snapshot of the whole list, restored on rollback
    def interface_change_begin(self, flags: int) -> None:
        errors.check_flags(flags, 0, "testInterfaceChangeBegin")
        with self.lock:
            if self.interfaces_backup is not None:
                raise _invalid("there is another transaction running.")
            self.interfaces_backup = copy.deepcopy(self.interfaces)

    def interface_change_commit(self, flags: int) -> None:
        errors.check_flags(flags, 0, "testInterfaceChangeCommit")
        with self.lock:
            if self.interfaces_backup is None:
                raise _invalid("no transaction running, nothing to be committed.")
            self.interfaces_backup = None

    def interface_change_rollback(self, flags: int) -> None:
        errors.check_flags(flags, 0, "testInterfaceChangeRollback")
        with self.lock:
            if self.interfaces_backup is None:
                raise _invalid("no transaction running, nothing to rollback.")
            self.interfaces, self.interfaces_backup = self.interfaces_backup, None
