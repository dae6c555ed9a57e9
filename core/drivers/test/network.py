"""The test driver's networks: define/create/start/stop in memory, with
network lifecycle events.  Mixed into TestDriver; uses its lock."""

from __future__ import annotations

import dataclasses
import threading
from typing import Optional

from ... import errors, events, viruuid
from ...conf import schema
from ...conf.network import NetworkDef, format_network_xml, parse_network_xml
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, Network

T = ErrorDomain.VIR_FROM_TEST
NET = ErrorDomain.VIR_FROM_NETWORK

VIR_NETWORK_EVENT_DEFINED, VIR_NETWORK_EVENT_UNDEFINED = 0, 1
VIR_NETWORK_EVENT_STARTED, VIR_NETWORK_EVENT_STOPPED = 2, 3
VIR_NETWORK_DEFINE_VALIDATE = 1
VIR_NETWORK_CREATE_VALIDATE = 1

# virConnectListAllNetworks flag groups: (bit for "yes", bit for "no").
_LIST_GROUPS = ((2, 1), (4, 8), (16, 32))   # active/inactive, persistent/transient, autostart
_LIST_ALL = 0x3F


@dataclasses.dataclass(eq=False)
class NetworkObj:
    """One network; `new_def` is a persistent config changed while running."""
    def_: NetworkDef
    active: bool = False
    persistent: bool = False
    autostart: bool = False
    new_def: Optional[NetworkDef] = None

    @property
    def name(self) -> str:
        return self.def_.name

    @property
    def uuid(self) -> bytes:
        return self.def_.uuid

    def list_bits(self) -> int:
        return ((2 if self.active else 1) | (4 if self.persistent else 8)
                | (16 if self.autostart else 32))


def _operation_invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T, detail)


class NetworkMixin:
    """Network entry points of the test driver."""

    lock: threading.RLock
    networks: dict[bytes, NetworkObj]

    # -- helpers (lock held)
    def _net_event(self, obj: NetworkObj, event: int) -> None:
        events.queue_object_event(self, events.KIND_NETWORK, 0, obj.name, obj.uuid, event, 0)

    def _net_by_name(self, name: str) -> NetworkObj:
        for obj in self.networks.values():
            if obj.name == name:
                return obj
        raise errors.report(ErrorNumber.VIR_ERR_NO_NETWORK, T,
                            f"no network with matching name '{name}'")

    def _net_obj(self, net: Network) -> NetworkObj:
        """The record behind a handle: found by name, as libvirt's test driver does."""
        return self._net_by_name(net.name)

    def _net_clash(self, new: NetworkDef) -> Optional[NetworkObj]:
        same = self.networks.get(new.uuid)
        if same is not None:
            if same.name != new.name:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, NET,
                                    f"network '{same.name}' is already defined with uuid "
                                    f"{viruuid.format(new.uuid)}")
            return same
        for obj in self.networks.values():
            if obj.name == new.name:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, NET,
                                    f"network '{obj.name}' already exists with uuid "
                                    f"{viruuid.format(obj.uuid)}")
        return None

    def add_network(self, new: NetworkDef, active: bool, persistent: bool) -> NetworkObj:
        """Define (persistent) or create (active) `new`; the lock is held."""
        old = self._net_clash(new)
        if old is None:
            obj = NetworkObj(def_=new, active=active, persistent=persistent)
            self.networks[new.uuid] = obj
            return obj
        if active:
            if old.active:
                raise _operation_invalid(f"network '{old.name}' is already active")
            if old.persistent:
                old.new_def = old.def_
            old.def_, old.active = new, True
        elif old.active:
            old.new_def, old.persistent = new, True
        else:
            old.def_, old.persistent = new, True
        return old

    # -- listing
    def connect_num_of_networks(self) -> int:
        with self.lock:
            return sum(1 for o in self.networks.values() if o.active)

    def connect_list_networks(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.networks.values() if o.active]

    def connect_num_of_defined_networks(self) -> int:
        with self.lock:
            return sum(1 for o in self.networks.values() if not o.active)

    def connect_list_defined_networks(self) -> list[str]:
        with self.lock:
            return [o.name for o in self.networks.values() if not o.active]

    def connect_list_all_networks(self, conn: Connect, flags: int) -> list[Network]:
        errors.check_flags(flags, _LIST_ALL, "testConnectListAllNetworks")
        with self.lock:
            out = []
            for obj in self.networks.values():
                bits = obj.list_bits()
                if all(not (flags & (yes | no)) or (flags & (yes | no) & bits)
                       for yes, no in _LIST_GROUPS):
                    out.append(Network(conn, obj.name, obj.uuid))
            return out

    # -- lookups
    def network_lookup_by_name(self, conn: Connect, name: str) -> Network:
        with self.lock:
            obj = self._net_by_name(name)
            return Network(conn, obj.name, obj.uuid)

    def network_lookup_by_uuid(self, conn: Connect, uuid: bytes) -> Network:
        with self.lock:
            obj = self.networks.get(uuid)
            if obj is None:
                raise errors.report(ErrorNumber.VIR_ERR_NO_NETWORK, T,
                                    f"no network with matching uuid "
                                    f"'{viruuid.format(uuid)}'")
            return Network(conn, obj.name, obj.uuid)

    # -- changes
    def network_define_xml_flags(self, conn: Connect, xml: str, flags: int) -> Network:
        errors.check_flags(flags, VIR_NETWORK_DEFINE_VALIDATE, "testNetworkDefineXMLFlags")
        if flags & VIR_NETWORK_DEFINE_VALIDATE:
            schema.validate(xml, "network.rng")
        new = parse_network_xml(xml)
        with self.lock:
            obj = self.add_network(new, active=False, persistent=True)
            self._net_event(obj, VIR_NETWORK_EVENT_DEFINED)
            return Network(conn, obj.name, obj.uuid)

    def network_create_xml_flags(self, conn: Connect, xml: str, flags: int) -> Network:
        errors.check_flags(flags, VIR_NETWORK_CREATE_VALIDATE, "testNetworkCreateXMLFlags")
        if flags & VIR_NETWORK_CREATE_VALIDATE:
            schema.validate(xml, "network.rng")
        new = parse_network_xml(xml)
        with self.lock:
            obj = self.add_network(new, active=True, persistent=False)
            self._net_event(obj, VIR_NETWORK_EVENT_STARTED)
            return Network(conn, obj.name, obj.uuid)

    def network_undefine(self, net: Network) -> None:
        with self.lock:
            obj = self._net_obj(net)
            if obj.active:
                raise _operation_invalid(f"Network '{obj.name}' is still running")
            self._net_event(obj, VIR_NETWORK_EVENT_UNDEFINED)
            del self.networks[obj.uuid]

    def network_create(self, net: Network) -> None:
        with self.lock:
            obj = self._net_obj(net)
            if obj.active:
                raise _operation_invalid(f"Network '{obj.name}' is already running")
            obj.active = True
            self._net_event(obj, VIR_NETWORK_EVENT_STARTED)

    def network_destroy(self, net: Network) -> None:
        with self.lock:
            obj = self._net_obj(net)
            obj.active = False
            self._net_event(obj, VIR_NETWORK_EVENT_STOPPED)
            if obj.new_def is not None:
                obj.def_, obj.new_def = obj.new_def, None
            if not obj.persistent:
                del self.networks[obj.uuid]

    def network_update(self, net: Network, command: int, section: int, parent_index: int,
                       xml: str, flags: int) -> None:
        from .netupdate import update_network
        with self.lock:
            update_network(self._net_obj(net), command, section, parent_index, xml, flags)

    # -- queries
    def network_get_xml_desc(self, net: Network, flags: int) -> str:
        errors.check_flags(flags, 0, "testNetworkGetXMLDesc")
        with self.lock:
            return format_network_xml(self._net_obj(net).def_)

    def network_get_bridge_name(self, net: Network) -> str:
        with self.lock:
            obj = self._net_obj(net)
            if obj.def_.bridge_name is None:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                                    f"network '{obj.name}' does not have a bridge name.")
            return obj.def_.bridge_name

    def network_get_autostart(self, net: Network) -> int:
        with self.lock:
            return int(self._net_obj(net).autostart)

    def network_set_autostart(self, net: Network, autostart: int) -> None:
        with self.lock:
            self._net_obj(net).autostart = bool(autostart)

    def network_is_active(self, net: Network) -> int:
        with self.lock:
            return int(self._net_obj(net).active)

    def network_is_persistent(self, net: Network) -> int:
        with self.lock:
            return int(self._net_obj(net).persistent)

    def connect_network_event_register_any(self) -> None:
        """Present so that registration is allowed: the driver emits network events."""
