"""The test driver's node devices: the simulated host's device tree and
vHBA creation under a vport-capable SCSI host, with node device events.
Mixed into TestDriver; uses its lock."""

from __future__ import annotations

import copy
import threading
from typing import Optional

from ... import errors, events
from ...conf import schema
from ...conf.nodedev import CAP_NAMES, NodeDeviceDef, format_nodedev_xml, parse_nodedev_xml
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Connect, NodeDevice

T = ErrorDomain.VIR_FROM_TEST
ND = ErrorDomain.VIR_FROM_NODEDEV
EV_CREATED, EV_DELETED = 0, 1
_LIST_ALL = (1 << len(CAP_NAMES)) - 1
# The vHBA every new one is modelled on, as libvirt's test driver does.
_VHBA_TEMPLATE = "scsi_host11"


class NodeDeviceMixin:
    """Node device entry points of the test driver."""

    lock: threading.RLock
    devices: list[NodeDeviceDef]

    def _dev_event(self, dev: NodeDeviceDef, event: int) -> None:
        events.queue_object_event(self, events.KIND_NODEDEV, 0, dev.name,
                                  dev.name.encode(), event, 0)

    def _dev(self, name: str) -> NodeDeviceDef:
        for dev in self.devices:
            if dev.name == name:
                return dev
        raise errors.report(ErrorNumber.VIR_ERR_NO_NODE_DEVICE, T,
                            f"no node device with matching name '{name}'")

    def _devs_with(self, cap: Optional[str]) -> list[NodeDeviceDef]:
        return [d for d in self.devices if cap is None or cap in d.all_cap_names()]

    def node_num_of_devices(self, cap: Optional[str], flags: int) -> int:
        errors.check_flags(flags, 0, "testNodeNumOfDevices")
        with self.lock:
            return len(self._devs_with(cap))

    def node_list_devices(self, cap: Optional[str], flags: int) -> list[str]:
        errors.check_flags(flags, 0, "testNodeListDevices")
        with self.lock:
            return [d.name for d in self._devs_with(cap)]

    def connect_list_all_node_devices(self, conn: Connect, flags: int) -> list[NodeDevice]:
        errors.check_flags(flags, _LIST_ALL, "testConnectListAllNodeDevices")
        with self.lock:
            out = []
            for dev in self.devices:
                names = dev.all_cap_names()
                if not flags or any(flags & (1 << i) for i, cap in enumerate(CAP_NAMES)
                                    if cap in names):
                    out.append(NodeDevice(conn, dev.name))
            return out

    def node_device_lookup_by_name(self, conn: Connect, name: str) -> NodeDevice:
        with self.lock:
            return NodeDevice(conn, self._dev(name).name)

    def node_device_get_xml_desc(self, dev: NodeDevice, flags: int) -> str:
        errors.check_flags(flags, 0, "testNodeDeviceGetXMLDesc")
        with self.lock:
            return format_nodedev_xml(self._dev(dev.name))

    def node_device_get_parent(self, dev: NodeDevice) -> Optional[str]:
        with self.lock:
            found = self._dev(dev.name)
            if found.parent is None:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                                    "no parent for this device")
            return found.parent

    def node_device_num_of_caps(self, dev: NodeDevice) -> int:
        with self.lock:
            return len(self._dev(dev.name).cap_names())

    def node_device_list_caps(self, dev: NodeDevice) -> list[str]:
        with self.lock:
            return self._dev(dev.name).cap_names()

    def node_device_create_xml(self, conn: Connect, xml: str, flags: int) -> NodeDevice:
        errors.check_flags(flags, 1, "testNodeDeviceCreateXML")
        if flags & 1:   # VIR_NODE_DEVICE_CREATE_XML_VALIDATE
            schema.validate(xml, "nodedev.rng")
        new = parse_nodedev_xml(xml, name_required=False)
        fc = new.sub_cap("fc_host")
        wwnn = fc.findtext("wwnn") if fc is not None else None
        wwpn = fc.findtext("wwpn") if fc is not None else None
        if not wwnn or not wwpn:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ND,
                                f"no system UUID supplied for '{new.name}'")
        with self.lock:
            parent = self._dev(new.parent) if new.parent else None
            if parent is None or parent.sub_cap("vport_ops") is None:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ND,
                                    f"Parent device {new.parent} is not capable of "
                                    f"vport operations")
            dev = copy.deepcopy(self._dev(_VHBA_TEMPLATE))
            dev.name = self._next_scsi_host_name()
            dev.parent = parent.name
            tfc = dev.sub_cap("fc_host")
            if tfc is not None:
                for tag, value in (("wwnn", wwnn), ("wwpn", wwpn)):
                    elem = tfc.find(tag)
                    if elem is not None:
                        elem.text = value.strip()
            self.devices.append(dev)
            self._dev_event(dev, EV_CREATED)
            return NodeDevice(conn, dev.name)

    def _next_scsi_host_name(self) -> str:
        taken = {d.name for d in self.devices}
        n = 0
        while f"scsi_host{n}" in taken or n <= max(
                (int(d.name[9:]) for d in self.devices
                 if d.name.startswith("scsi_host") and d.name[9:].isdigit()), default=-1):
            n += 1
        return f"scsi_host{n}"

    def node_device_destroy(self, dev: NodeDevice) -> None:
        with self.lock:
            found = self._dev(dev.name)
            if found.sub_cap("fc_host") is None or found.parent is None:
                return  # not a vHBA: libvirt's test driver leaves it be
            self.devices.remove(found)
            self._dev_event(found, EV_DELETED)

    def connect_node_device_event_register_any(self) -> None:
        """Present so that registration is allowed: the driver emits device events."""
