"""A disk's sizes and I/O throttling on the QEMU driver, as libvirt 9.0's
embed driver gives them (qemuDomainGetBlockInfo, qemuDomainGet/SetBlockIoTune).

Sizes: a running disk's from QEMU (query-block's image, query-blockstats'
highest write offset) completed from the file as libvirt completes them;
a shut-off disk's from the file itself.  Throttling: a running disk's is
QEMU's (query-block), set with block_set_io_throttle on the device's QOM
name; the definition's <iotune> (drivers/iotune.py) keeps what was set,
in the status file for a running domain."""

from __future__ import annotations

import os
import threading
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...structs import DomainBlockInfo
from .. import iotune
from ..metadata import find_disk
from ..typedparams import check_params
from . import affect, disknodes
from .blockstats import qcow2_virtual_size
from .command import DiskNode, disk_nodes
if TYPE_CHECKING:
    from contextlib import AbstractContextManager
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
AFFECT_LIVE, AFFECT_CONFIG, STRING_OKAY = 1, 2, 4
RESIZE_BYTES = 1   # VIR_DOMAIN_BLOCK_RESIZE_BYTES
Params = list[tuple[str, int, Any]]
# the typed parameter each of query-block's throttle fields gives
_QEMU_NAMES = {
    "total_bytes_sec": "bps", "read_bytes_sec": "bps_rd", "write_bytes_sec": "bps_wr",
    "total_iops_sec": "iops", "read_iops_sec": "iops_rd", "write_iops_sec": "iops_wr",
    "size_iops_sec": "iops_size", "group_name": "group"}
for _name in list(_QEMU_NAMES)[:6]:
    _QEMU_NAMES[_name + "_max"] = _QEMU_NAMES[_name] + "_max"
    _QEMU_NAMES[_name + "_max_length"] = _QEMU_NAMES[_name] + "_max_length"
_TOTAL_VS_RW = ("bytes_sec", "iops_sec", "bytes_sec_max", "iops_sec_max")
_BASE_VS_MAX = tuple(f"{w}_{k}" for k in ("bytes_sec", "iops_sec")
                     for w in ("total", "read", "write"))


def _category(name: str) -> str:
    """Which values libvirt sets together: giving one of them clears the others
    (read_bytes_sec clears total_bytes_sec); the rest keep what they were."""
    if name in ("size_iops_sec", "group_name"):
        return name
    kind = "bytes" if "_bytes_" in name else "iops"
    return kind + name[name.index("_sec") + 4:]


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q, detail)


def _no_inserted() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                         "block_io_throttle inserted entry was not in expected format")


def qom_name(disk: etree._Element, node: DiskNode) -> str:
    """The id QEMU knows the disk's device by (query-block's qdev)."""
    target = disk.find("target")
    if target is not None and target.get("bus") == "virtio":
        return f"/machine/peripheral/{node.alias}/virtio-backend"
    return node.alias


def _node_of(d: DomainDef, disk: etree._Element) -> DiskNode:
    return disk_nodes(d)[disknodes.disks_of(d).index(disk)]


def _file_sizes(path: str) -> DomainBlockInfo:
    """A shut-off disk's sizes: capacity from a qcow2 header (else the file's
    size), allocation the blocks in use, physical the file's size."""
    try:
        st = os.stat(path)
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q, f"Failed to open file "
                            f"'{path}': {os.strerror(exc.errno or 0)}") from None
    capacity = qcow2_virtual_size(path)
    return DomainBlockInfo(capacity=st.st_size if capacity is None else capacity,
                           allocation=st.st_blocks * 512, physical=st.st_size)


def _running_sizes(node: DiskNode, stats: Optional[dict[str, Any]],
                   inserted: dict[str, Any]) -> DomainBlockInfo:
    """libvirt's reading of QEMU's numbers: allocation is the highest offset
    written (a qcow2 file's: its disk usage), physical QEMU's disk usage;
    when either is 0 or they are equal, physical is the file's size instead."""
    image = inserted.get("image") or {}
    used = int(image.get("actual-size", 0))
    parent = ((stats or {}).get("parent") or {}).get("stats") or {}
    if "wr_highest_offset" in parent and node.fmt != "qcow2":
        allocation = int(parent["wr_highest_offset"])
    else:
        allocation = used
    physical = used
    if used == 0 or allocation == 0 or allocation == used:
        allocation = allocation or used
        try:
            physical = os.stat(node.path or "").st_size
        except OSError:
            pass
    return DomainBlockInfo(capacity=int(image.get("virtual-size", 0)),
                           allocation=allocation, physical=physical)


class BlockInfo:
    """Mixed into QemuDriver (lock, job, _obj, runtime, _monitor_call, ...)."""

    lock: threading.RLock
    if TYPE_CHECKING:
        runtime: dict[bytes, Runtime]
        def _obj(self, dom: Domain) -> DomainObj: ...
        def _save_config(self, d: DomainDef) -> None: ...
        def save_status(self, obj: DomainObj, text: Optional[str] = None) -> None: ...
        def job(self, uuid: bytes) -> AbstractContextManager[None]: ...
        def _monitor_call(self, rt: Runtime, cmd: str, args: Any = None) -> Any: ...
        def _running(self, dom: Domain) -> tuple[DomainObj, Runtime]: ...

    # -- sizes
    def domain_get_block_info(self, dom: Domain, disk: str, flags: int) -> DomainBlockInfo:
        errors.check_flags(flags, 0, "qemuDomainGetBlockInfo", Q)
        with self.job(dom.uuid):
            with self.lock:
                obj = self._obj(dom)
                found = find_disk(obj.def_, disk)
                if found is None:
                    raise _invalid(f"invalid path {disk} not assigned to domain")
                if found.get("type") == "network":
                    source = found.find("source")
                    protocol = source.get("protocol", "") if source is not None else ""
                    raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                        ErrorDomain.VIR_FROM_STORAGE, "missing storage backend "
                                        f"for network files using {protocol} protocol")
                node = _node_of(obj.def_, found)
                if node.path is None:
                    raise _invalid(f"disk '{disk}' does not currently have a source assigned")
                rt = self.runtime.get(obj.uuid)
                if not obj.is_active() or rt is None:
                    return _file_sizes(node.path)
            # QEMU is asked without the driver's lock (its events may want it)
            stats = {e.get("node-name"): e for e in self._monitor_call(rt, "query-blockstats")}
            inserted = {dev.get("inserted", {}).get("node-name"): dev.get("inserted", {})
                        for dev in self._monitor_call(rt, "query-block")}
            if node.node not in inserted:
                raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                    f"failed to gather stats for disk '{node.target}'")
            return _running_sizes(node, stats.get(node.node), inserted[node.node])

    def domain_block_resize(self, dom: Domain, disk: str, size: int, flags: int) -> None:
        errors.check_flags(flags, RESIZE_BYTES, "qemuDomainBlockResize", Q)
        if not flags & RESIZE_BYTES:
            if size > (1 << 64) - 1 >> 10:
                raise errors.report(ErrorNumber.VIR_ERR_OVERFLOW, Q,
                                    f"size must be less than {((1 << 64) - 1) >> 10}")
            size <<= 10
        with self.job(dom.uuid):
            obj, rt = self._running(dom)
            with self.lock:
                found = find_disk(obj.def_, disk)
                if found is None:
                    raise _invalid(f"disk '{disk}' was not found in the domain config")
                node = _node_of(obj.def_, found)
            if node.fmt == "qcow2":   # QEMU wants whole sectors of a qcow2 image
                size = (size + 511) // 512 * 512
            self._monitor_call(rt, "block_resize", {"node-name": node.node, "size": size})

    # -- throttling
    def setup_throttling(self, obj: DomainObj, rt: Runtime) -> None:
        """At start, as libvirt: QEMU throttles each disk with media as its <iotune> says."""
        d = obj.def_
        for disk, node in zip(disknodes.disks_of(d), disk_nodes(d)):
            info = iotune.read(disk)
            if node.path is not None and (info["group_name"] is not None
                                          or any(info[n] for n in iotune.NUMBERS)):
                self._monitor_call(rt, "block_set_io_throttle",
                                   _throttle_args(qom_name(disk, node), info))

    def _throttle_of(self, rt: Runtime, qom: str) -> dict[str, Any]:
        """The disk's throttling as QEMU has it (query-block)."""
        for dev in self._monitor_call(rt, "query-block"):
            if dev.get("qdev") == qom:
                inserted = dev.get("inserted")
                if not isinstance(inserted, dict):
                    break
                info: dict[str, Any] = {name: int(inserted.get(key, 0))
                                        for name, key in _QEMU_NAMES.items()
                                        if name != "group_name"}
                info["group_name"] = inserted.get("group")
                return info
        raise _no_inserted()

    def domain_get_block_io_tune(self, dom: Domain, disk: str, flags: int) -> Params:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG | STRING_OKAY,
                           "qemuDomainGetBlockIoTune", Q)
        with self.job(dom.uuid):
            with self.lock:
                obj = self._obj(dom)
                d, live = affect.one_def(obj, flags & (AFFECT_LIVE | AFFECT_CONFIG))
                found = find_disk(d, disk)
                if found is None:
                    raise _invalid(f"disk '{disk}' not found in domain" if live else
                                   f"disk '{disk}' was not found in the domain config")
                if not live:
                    return iotune.typed(iotune.read(found))
                rt, qom = self.runtime[obj.uuid], qom_name(found, _node_of(d, found))
            return iotune.typed(self._throttle_of(rt, qom))

    def domain_set_block_io_tune(self, dom: Domain, disk: str, params: Params,
                                 flags: int) -> None:
        errors.check_flags(flags, AFFECT_LIVE | AFFECT_CONFIG, "qemuDomainSetBlockIoTune", Q)
        check_params(params, iotune.TYPES)
        given = _given(params)
        # the job keeps the definition as it is while QEMU, asked without
        # the driver's lock (its events may want it), changes the throttle
        with self.job(dom.uuid):
            with self.lock:
                obj = self._obj(dom)
                _, live = affect.one_def(obj, flags)
                d = obj.def_ if live else affect.keep_apart(obj)
                found = find_disk(d, disk)
                if found is None:
                    raise _invalid(f"disk '{disk}' not found in domain" if live else
                                   f"disk '{disk}' was not found in the domain config")
                info = _merged(d, found, given, live)
                if live:
                    node = _node_of(d, found)
                    if node.path is None:
                        raise _no_inserted()
                    rt, qom = self.runtime[obj.uuid], qom_name(found, node)
            if live:
                self._monitor_call(rt, "block_set_io_throttle", _throttle_args(qom, info))
            with self.lock:
                if live and self.runtime.get(obj.uuid) is not rt:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                        ErrorDomain.VIR_FROM_DOMAIN, "domain is not running")
                if live:
                    affect.keep_apart(obj)   # the config keeps its own <iotune>
                iotune.store(found, info)
                for other in disknodes.disks_of(d):   # a group's disks share its values
                    if info["group_name"] is not None and other is not found \
                            and iotune.read(other)["group_name"] == info["group_name"]:
                        iotune.store(other, info)
                if not live:
                    self._save_config(d)
                    return
                self.save_status(obj)
                events.queue_domain_event(
                    self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_TUNABLE, obj.name, obj.uuid,
                    obj.id, [("blkdeviotune.disk", iotune.P_STRING, disk)]
                    + [(f"blkdeviotune.{n}", t, v) for n, t, v in params])


def _given(params: Params) -> dict[str, Any]:
    """The new values, checked as libvirt checks them before it looks at the domain."""
    given: dict[str, Any] = {}
    for name, ptype, value in params:
        if ptype != iotune.P_STRING:
            iotune.check_limit(int(value), Q)
        given[name] = value
    for kind in _TOTAL_VS_RW:
        if given.get("total_" + kind) and (given.get("read_" + kind)
                                           or given.get("write_" + kind)):
            raise _invalid(f"total and read/write of {kind} cannot be set at the same time")
    return given


def _merged(d: DomainDef, disk: etree._Element, given: dict[str, Any],
            live: bool) -> dict[str, Any]:
    """The disk's new settings: `given`, and for the kinds of values not
    given the old ones (of the group's, when `given` names an existing group)."""
    old = iotune.read(disk)
    group = given.get("group_name")
    if group is not None:
        for other in disknodes.disks_of(d):
            if iotune.read(other)["group_name"] == group:
                old = iotune.read(other)
                break
    changed = {_category(name) for name in given}
    info = {name: (given.get(name, None if name == "group_name" else 0)
                   if _category(name) in changed else old[name]) for name in iotune.FIELDS}
    if live:
        for name in _BASE_VS_MAX:
            top = info[name + "_max"]
            if top and not info[name]:
                raise _unsupported(f"cannot reset '{name}' when '{name}_max' is set")
            if top and top < info[name]:
                raise _unsupported(f"value '{name}_max' cannot be smaller than '{name}'")
    if not any(info[name] for name in iotune.NUMBERS):
        if "group_name" in given:
            raise _unsupported("creating a new group/updating existing with all tune "
                               "parameters zero is not supported")
        info["group_name"] = None
    return info


def _throttle_args(qom: str, info: dict[str, Any]) -> dict[str, Any]:
    """block_set_io_throttle's arguments: the six rates always, the rest
    when set (QEMU refuses a burst length of 0)."""
    args: dict[str, Any] = {"id": qom}
    for i, (name, key) in enumerate(_QEMU_NAMES.items()):
        if i < 6 or info[name]:
            args[key] = info[name] if name == "group_name" else int(info[name])
    return args
