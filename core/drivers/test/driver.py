"""The test driver: a simulated host kept in memory (libvirt's 'test' driver).

One TestDriver instance is one host.  test:///default connections in a
process share one instance, created with the first and dropped with the
last; each test:///PATH.xml connection gets its own, loaded from the file.
One RLock guards the whole host; events are queued under it (queueing only
appends) and delivered later from the event loop.
"""

from __future__ import annotations

import threading
import time
from typing import Any, Callable, Optional

from ... import errors, events
from ...conf import schema
from ...conf.domain import DomainDef, format_domain_xml, parse_domain_xml
from ..changes import ChangeCounter
from ..listing import DomainListing
from ...conf.interface import parse_interface_xml
from ...conf.network import parse_network_xml
from ...conf.nodedev import NodeDeviceDef, parse_nodedev_xml
from ...conf.storage_pool import parse_pool_xml
from ...domainobj import DomainObj, DomainObjList
from ...domainstate import (DomainRunningReason, DomainShutoffReason, DomainState,
                            Operation, transition_target)
from ...errors import ErrorDomain, ErrorNumber
from ...events import (DomainEventDefinedDetail, DomainEventStartedDetail,
                       DomainEventStoppedDetail, DomainEventType)
from ...objects import Connect, Domain
from ...structs import DomainInfo
from ..base import HypervisorDriver, host_name
from . import defaults
from .defaults import NodeInfo
from .auth import AuthUser
from .checkpoint import CheckpointMixin
from .domain_extra import DomainExtraMixin
from .domain_save import DomainSaveMixin
from .guestinfo import GuestInfoMixin
from .interface import InterfaceMixin, InterfaceObj
from .iothreads import IOThreadMixin
from .snapshot import SnapshotMixin
from .stats import StatsMixin
from .tuning import TuningMixin
from .network import NetworkMixin, NetworkObj
from .nodedev import NodeDeviceMixin
from .storage import PoolObj, StorageMixin
from .streams import StreamMixin

T = ErrorDomain.VIR_FROM_TEST
E = DomainEventType

VIR_DOMAIN_XML_SECURE = 1
VIR_DOMAIN_XML_INACTIVE = 2
VIR_DOMAIN_XML_MIGRATABLE = 8
VIR_DOMAIN_DEFINE_VALIDATE = 1
VIR_DOMAIN_START_VALIDATE = 16
VIR_DOMAIN_UNDEFINE_MANAGED_SAVE = 1
VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA = 2
VIR_DOMAIN_DESTROY_GRACEFUL = 1
VIR_DOMAIN_REBOOT_ALL = 0x1F


def _internal(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T, detail)


def _not_running() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, ErrorDomain.VIR_FROM_DOMAIN,
                         "domain is not running")


def _no_domain() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, T)


class TestDriver(NetworkMixin, StorageMixin, InterfaceMixin, NodeDeviceMixin,
                 DomainExtraMixin, DomainSaveMixin, SnapshotMixin, CheckpointMixin,
                 TuningMixin, StreamMixin, GuestInfoMixin, StatsMixin, IOThreadMixin,
                 DomainListing,
                 HypervisorDriver):
    """The simulated host and its entry points."""

    name = "Test"
    list_all_function = "testConnectListAllDomains"
    error_domain = errors.ErrorDomain.VIR_FROM_TEST

    def __init__(self, node_info: NodeInfo, capabilities: str) -> None:
        self.lock = threading.RLock()
        self.changes = ChangeCounter()
        # uuid -> (changes stamp, definition, inactive, document): GetXMLDesc's last
        self._xml_memo: dict[bytes, tuple[int, DomainDef, bool, str]] = {}
        self.node_info = node_info
        self.capabilities = capabilities
        self.domains = DomainObjList()
        self.next_dom_id = 1
        self.refs = 0
        self.networks: dict[bytes, NetworkObj] = {}
        self.pools: dict[bytes, PoolObj] = {}
        self.interfaces: list[InterfaceObj] = []
        self.interfaces_backup: Optional[list[InterfaceObj]] = None
        self.devices: list[NodeDeviceDef] = []
        self.auth_users: list[AuthUser] = []  # <auth> of a host file

    # -- helpers (lock held by the caller)
    def _obj(self, dom: Domain) -> DomainObj:
        obj = self.domains.find_by_uuid(dom.uuid)
        if obj is None:
            raise errors.report(ErrorNumber.VIR_ERR_NO_DOMAIN, T,
                                f"no domain with matching uuid '{dom.uuid_string}' ({dom.name})")
        return obj

    def _handle(self, conn: Connect, obj: DomainObj) -> Domain:
        return Domain(conn, obj.name, obj.uuid, obj.id)

    def _event(self, obj: DomainObj, event: int, detail: int) -> None:
        events.queue_lifecycle(self, obj.name, obj.uuid, obj.id, event, detail)

    def start_domain(self, obj: DomainObj, reason: int) -> None:
        obj.def_.id = self.next_dom_id
        obj.private.pop("no_start_copy", None)   # see stopped_event_id
        self.next_dom_id += 1
        obj.set_state(DomainState.VIR_DOMAIN_RUNNING, reason)

    def _stop_with_event(self, obj: DomainObj, dom: Optional[Domain], reason: int,
                         detail: int) -> None:
        """_stop, then STOPPED/`detail`, as libvirt's test driver orders them:
        the event's domain has no id any more, but a transient one's keeps
        it (libvirt puts back the definition copied at its start, id and all)."""
        dom_id = self.stopped_event_id(obj)
        self._stop(obj, dom, reason)
        events.queue_lifecycle(self, obj.name, obj.uuid, dom_id, E.VIR_DOMAIN_EVENT_STOPPED, detail)

    @staticmethod
    def stopped_event_id(obj: DomainObj) -> int:
        """The id the STOPPED event of a running domain about to stop
        carries, as in libvirt's test driver, whose domain gets back a
        definition: a transient one the copy its start made (with its id),
        a persistent one its config (no id); a start from a snapshot makes
        no copy."""
        no_copy = obj.private.pop("no_start_copy", False)
        return -1 if obj.persistent or no_copy else obj.id

    def _stop(self, obj: DomainObj, dom: Optional[Domain], reason: int) -> None:
        """Shut `obj` off; apply a pending config; forget it if transient."""
        obj.set_state(DomainState.VIR_DOMAIN_SHUTOFF, reason)
        obj.def_.id = -1
        if dom is not None:
            dom.id = -1
        if obj.new_def is not None:
            obj.def_, obj.new_def = obj.new_def, None
        if not obj.persistent:
            self.domains.remove(obj)

    # -- connection and node
    def connect_get_type(self) -> str:
        return "TEST"

    def connect_get_version(self) -> int:
        return defaults.HYPERVISOR_VERSION

    def connect_get_hostname(self) -> str:
        return host_name()

    def connect_get_max_vcpus(self, type: Optional[str]) -> int:
        return defaults.MAX_VCPUS

    def node_get_info(self) -> NodeInfo:
        with self.lock:
            info = self.node_info
            return NodeInfo(**vars(info))

    def connect_get_capabilities(self) -> str:
        return self.capabilities

    def connect_is_secure(self) -> int:
        return 1

    def connect_is_encrypted(self) -> int:
        return 0

    def connect_is_alive(self) -> int:
        return 1

    # -- lookups (listing: DomainListing)
    def domain_lookup_by_name(self, conn: Connect, name: str) -> Domain:
        with self.lock:
            obj = self.domains.find_by_name(name)
            if obj is None:
                raise _no_domain()
            return self._handle(conn, obj)

    def domain_lookup_by_id(self, conn: Connect, dom_id: int) -> Domain:
        with self.lock:
            obj = self.domains.find_by_id(dom_id)
            if obj is None:
                raise _no_domain()
            return self._handle(conn, obj)

    def domain_lookup_by_uuid(self, conn: Connect, uuid: bytes) -> Domain:
        with self.lock:
            obj = self.domains.find_by_uuid(uuid)
            if obj is None:
                raise _no_domain()
            return self._handle(conn, obj)

    # -- define / undefine
    def domain_define_xml_flags(self, conn: Connect, xml: str, flags: int) -> Domain:
        errors.check_flags(flags, VIR_DOMAIN_DEFINE_VALIDATE, "testDomainDefineXMLFlags")
        if flags & VIR_DOMAIN_DEFINE_VALIDATE:
            schema.validate(xml, "domain.rng")
        new = parse_domain_xml(xml, default_arch=self.node_info.model)
        with self.lock:
            result = self.domains.add_persistent(new)
            detail = (DomainEventDefinedDetail.VIR_DOMAIN_EVENT_DEFINED_UPDATED if result.replaced
                      else DomainEventDefinedDetail.VIR_DOMAIN_EVENT_DEFINED_ADDED)
            self._event(result.obj, E.VIR_DOMAIN_EVENT_DEFINED, detail)
            return self._handle(conn, result.obj)

    def domain_undefine_flags(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_UNDEFINE_MANAGED_SAVE
                           | VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA, "testDomainUndefineFlags")
        with self.lock:
            obj = self._obj(dom)
            if obj.has_managed_save and not flags & VIR_DOMAIN_UNDEFINE_MANAGED_SAVE:
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "Refusing to undefine while domain managed save "
                                    "image exists")
            if (obj.private.get("snapshots") and not obj.is_active()
                    and not flags & VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA):
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    f"cannot delete "
                                    f"inactive domain with {len(obj.private['snapshots'])} "
                                    f"snapshots")
            self._event(obj, E.VIR_DOMAIN_EVENT_UNDEFINED, 0)
            if obj.is_active():
                obj.persistent = False
                obj.new_def = None
            else:
                self.domains.remove(obj)

    # -- life cycle
    def domain_create_xml(self, conn: Connect, xml: str, flags: int) -> Domain:
        errors.check_flags(flags, VIR_DOMAIN_START_VALIDATE, "testDomainCreateXML")
        if flags & VIR_DOMAIN_START_VALIDATE:
            schema.validate(xml, "domain.rng")
        new = parse_domain_xml(xml, default_arch=self.node_info.model)
        with self.lock:
            obj = self.domains.add_live(new)
            self.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED)
            self._event(obj, E.VIR_DOMAIN_EVENT_STARTED,
                        DomainEventStartedDetail.VIR_DOMAIN_EVENT_STARTED_BOOTED)
            return self._handle(conn, obj)

    def domain_create_with_flags(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainCreateWithFlags")
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.START, obj.state)
            if target is None:
                raise _internal(f"Domain '{obj.name}' is already running")
            self.start_domain(obj, target[1])
            obj.has_managed_save = False
            dom.id = obj.id
            self._event(obj, E.VIR_DOMAIN_EVENT_STARTED,
                        DomainEventStartedDetail.VIR_DOMAIN_EVENT_STARTED_BOOTED)

    def domain_destroy_flags(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_DESTROY_GRACEFUL, "testDomainDestroyFlags")
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.DESTROY, obj.state)
            if target is None:
                raise _not_running()
            self._stop_with_event(obj, dom, target[1],
                                  DomainEventStoppedDetail.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)

    def domain_suspend(self, dom: Domain) -> None:
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.SUSPEND, obj.state)
            if target is None:
                raise _internal(f"domain '{obj.name}' not running")
            obj.set_state(*target)
            self._event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED, 0)

    def domain_resume(self, dom: Domain) -> None:
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.RESUME, obj.state)
            if target is None:
                raise _internal(f"domain '{obj.name}' not paused")
            obj.set_state(*target)
            self._event(obj, E.VIR_DOMAIN_EVENT_RESUMED, 0)

    def domain_shutdown_flags(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, 0, "testDomainShutdownFlags")
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.SHUTDOWN, obj.state)
            if target is None:
                raise _internal(f"domain '{obj.name}' not running")
            self._stop_with_event(obj, dom, target[1],
                                  DomainEventStoppedDetail.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)

    def domain_reboot(self, dom: Domain, flags: int) -> None:
        errors.check_flags(flags, VIR_DOMAIN_REBOOT_ALL, "testDomainReboot")
        with self.lock:
            obj = self._obj(dom)
            target = transition_target(Operation.REBOOT, obj.state)
            if target is None:
                raise _not_running()
            if obj.def_.on_reboot in ("destroy", "preserve"):
                # The guest powers off instead of coming back.
                self._stop_with_event(obj, dom, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SHUTDOWN,
                                      DomainEventStoppedDetail.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN)
            else:
                obj.set_state(*target)  # restarted in place: libvirt emits no event

    # -- queries
    def domain_get_info(self, dom: Domain) -> DomainInfo:
        with self.lock:
            obj = self._obj(dom)
            d = obj.def_
            # The simulated CPU time is the wall clock, at gettimeofday's resolution.
            return DomainInfo(state=int(obj.state), maxMem=d.memory, memory=d.current_memory,
                              nrVirtCpu=d.vcpus_current or d.vcpus,
                              cpuTime=time.time_ns() // 1000 * 1000)

    def domain_get_state(self, dom: Domain, flags: int) -> tuple[int, int]:
        errors.check_flags(flags, 0, "testDomainGetState")
        with self.lock:
            obj = self._obj(dom)
            return int(obj.state), obj.reason

    def domain_get_xml_desc(self, dom: Domain, flags: int) -> str:
        errors.check_flags(flags, VIR_DOMAIN_XML_SECURE | VIR_DOMAIN_XML_INACTIVE
                           | VIR_DOMAIN_XML_MIGRATABLE, "testDomainGetXMLDesc")
        inactive = bool(flags & VIR_DOMAIN_XML_INACTIVE)
        with self.lock:
            obj = self._obj(dom)
            d = obj.persistent_def() if inactive else obj.def_
            # nothing changed since the last call: the same document
            stamp = self.changes.version
            memo = self._xml_memo.get(obj.uuid)
            if (memo is not None and memo[0] == stamp and memo[1] is d
                    and memo[2] == inactive):
                return memo[3]
            xml = format_domain_xml(d, inactive=inactive)
            if len(self._xml_memo) >= 1024:
                self._xml_memo.clear()
            self._xml_memo[obj.uuid] = (stamp, d, inactive, xml)
            return xml

    def entry_point(self, c_name: str) -> Optional[Callable[..., Any]]:
        entry = self.changes.entries.get(c_name)    # found before: no call more
        return entry if entry is not None else self.changes.entry_point(self, c_name)

    def domain_get_os_type(self, dom: Domain) -> str:
        with self.lock:
            self._obj(dom)
            return "linux"

    def domain_get_max_memory(self, dom: Domain) -> int:
        with self.lock:
            return self._obj(dom).def_.memory

    def domain_get_max_vcpus(self, dom: Domain) -> int:
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            return obj.def_.vcpus

    def domain_is_active(self, dom: Domain) -> int:
        with self.lock:
            return int(self._obj(dom).is_active())

    def domain_is_persistent(self, dom: Domain) -> int:
        with self.lock:
            return int(self._obj(dom).persistent)

    def domain_is_updated(self, dom: Domain) -> int:
        with self.lock:
            return int(self._obj(dom).updated)

    def domain_get_autostart(self, dom: Domain) -> int:
        with self.lock:
            return int(self._obj(dom).autostart)

    def domain_set_autostart(self, dom: Domain, autostart: int) -> None:
        with self.lock:
            self._obj(dom).autostart = bool(autostart)

    def domain_set_memory(self, dom: Domain, memory: int) -> None:
        with self.lock:
            obj = self._obj(dom)
            if not obj.is_active():
                raise _not_running()
            if memory > obj.def_.memory:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                    "cannot set memory higher than max memory")
            obj.def_.current_memory = memory

    def domain_set_max_memory(self, dom: Domain, memory: int) -> None:
        with self.lock:
            obj = self._obj(dom)
            if obj.is_active():
                raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, T,
                                    "cannot resize the maximum memory on an active domain")
            obj.def_.memory = memory
            obj.def_.current_memory = min(obj.def_.current_memory, memory)


def load_default() -> TestDriver:
    """The host of test:///default, with its running domain 'test'."""
    driver = TestDriver(NodeInfo(**vars(defaults.DEFAULT_NODE_INFO)),
                        defaults.capabilities_xml())
    obj = driver.domains.add_persistent(parse_domain_xml(defaults.DEFAULT_DOMAIN_XML)).obj
    driver.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_UNKNOWN)  # as libvirt: reason 0
    driver.add_network(parse_network_xml(defaults.DEFAULT_NETWORK_XML), active=True,
                       persistent=True)
    driver.add_interface(parse_interface_xml(defaults.DEFAULT_INTERFACE_XML), active=True)
    driver.add_pool(parse_pool_xml(defaults.DEFAULT_POOL_XML), active=True, persistent=True)
    driver.devices.extend(parse_nodedev_xml(x) for x in defaults.DEFAULT_DEVICE_XMLS)
    return driver

