"""Block copy (virDomainBlockCopy, virDomainBlockRebase with COPY) on the
QEMU driver, as libvirt 9.0's qemuDomainBlockCopyCommon does it with
-blockdev:

    the destination file is made here (empty) unless REUSE_EXT says it
    exists; QEMU formats it (blockdev-add of its file node, blockdev-create
    job create-libvirt-N-format with the disk's size and cluster size, and,
    for a shallow copy, the disk's backing file), then opens it
    (blockdev-add of its format node over the disk's backing node, or none);
    blockdev-mirror copies the disk into it (job copy-vda-libvirt-1-format,
    sync full, or top when shallow), the disk's <mirror> shows it;
    at READY the job waits: BlockJobAbort with PIVOT (job-complete) makes
    the copy the disk's image, without (block-job-cancel) drops it.

Only a transient domain, or the TRANSIENT_JOB flag, may copy (libvirt:
the copy would not survive a managed save)."""

from __future__ import annotations

import contextlib
import os
from typing import TYPE_CHECKING, Any, Optional

from lxml import etree

from ... import errors
from ...domainobj import DomainObj
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ..typedparams import check_params
from . import blockjob, disknodes
from .blockjob import BlockJob
from .blockjobs import (LLONG_MAX, BlockJobs, REBASE_BANDWIDTH_BYTES, REBASE_COPY_DEV, REBASE_COPY_RAW,
                        REBASE_RELATIVE, REBASE_REUSE_EXT, REBASE_SHALLOW, chain_of,
                        speed_bytes, wait_created)
from .disknodes import Layer
from .hotplug_live import _format_props, _images, _storage_props
if TYPE_CHECKING:
    from .runtime import Runtime

Q = ErrorDomain.VIR_FROM_QEMU
COPY_SHALLOW, COPY_REUSE_EXT, COPY_TRANSIENT_JOB, COPY_SYNCHRONOUS_WRITES = 1, 2, 4, 8
_PARAMS = {"bandwidth": 4, "granularity": 2, "buf-size": 4}   # ullong, uint, ullong


class _Dest:
    """The copy's destination as the caller gave it (virStorageSource)."""

    def __init__(self, path: str, fmt: Optional[str], block: bool = False,
                 backing: Optional[etree._Element] = None) -> None:
        self.path, self.fmt, self.block, self.backing = path, fmt, block, backing


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def _parse_dest(xml: str) -> _Dest:
    """virDomainDiskDefParseSource, for the file and block disks we copy to."""
    try:
        root = etree.fromstring(xml)
    except etree.XMLSyntaxError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_XML_DETAIL, ErrorDomain.VIR_FROM_XML,
                            f"(disk_definition):1: {exc.msg}") from None
    kind = root.get("type", "file")
    source, driver = root.find("source"), root.find("driver")
    if kind not in ("file", "block"):
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                            f"block copy to a '{kind}' disk is not supported yet")
    path = (source.get("file" if kind == "file" else "dev") if source is not None else None) or ""
    return _Dest(path, driver.get("type") if driver is not None else None, kind == "block",
                 root.find("backingStore"))


def _probe(path: str) -> str:
    with open(path, "rb") as f:
        return "qcow2" if f.read(4) == b"QFI\xfb" else "raw"


class BlockCopy(BlockJobs):
    """Mixed into QemuDriver: the copy on top of BlockJobs' shared steps."""

    # -- entry points
    def domain_block_copy(self, dom: Domain, disk: str, destxml: str,
                          params: list[tuple[str, int, Any]], flags: int) -> None:
        errors.check_flags(flags, COPY_SHALLOW | COPY_REUSE_EXT | COPY_TRANSIENT_JOB
                           | COPY_SYNCHRONOUS_WRITES, "qemuDomainBlockCopy", Q)
        check_params(params, _PARAMS)
        with self.lock:
            self._obj(dom)
        values = {name: value for name, _, value in params}
        granularity = int(values.get("granularity", 0))
        if granularity & (granularity - 1):
            raise _invalid("granularity must be power of 2")
        dest = _parse_dest(destxml)
        self._copy(dom, disk, dest, int(values.get("bandwidth", 0)), granularity,
                   int(values.get("buf-size", 0)), flags)

    def rebase_copy(self, dom: Domain, disk: str, base: str, bandwidth: int,
                    flags: int) -> None:
        """qemuDomainBlockRebase's copy (flags already checked)."""
        dest = _Dest(base, "raw" if flags & REBASE_COPY_RAW else None,
                     bool(flags & REBASE_COPY_DEV))
        speed = speed_bytes(bandwidth, bool(flags & REBASE_BANDWIDTH_BYTES))
        if flags & REBASE_RELATIVE:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, Q,
                                "Relative backing during copy not supported yet")
        self._copy(dom, disk, dest, speed, 0, 0, flags & (REBASE_SHALLOW | REBASE_REUSE_EXT))

    # -- qemuDomainBlockCopyCommon
    def _copy(self, dom: Domain, disk: str, dest: _Dest, bandwidth: int, granularity: int,
              buf_size: int, flags: int) -> None:
        if not dest.path.startswith("/"):
            raise _invalid("absolute path must be used as block copy target")
        if bandwidth > LLONG_MAX:
            raise _invalid(f"bandwidth must be less than '{LLONG_MAX}' bytes/s "
                           f"({LLONG_MAX >> 20} MiB/s)")
        reuse = bool(flags & COPY_REUSE_EXT)
        shallow = bool(flags & COPY_SHALLOW)
        with self.job(dom.uuid):
            with self.lock:
                obj, rt, found = self._active_disk(dom, disk)
                self.check_no_job(rt, found)
                dst = blockjob.target_of(found)
                if dest.block:
                    raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                        "block copy to a block device is not supported yet")
                if not flags & COPY_TRANSIENT_JOB and obj.persistent:
                    raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                                        "domain is not transient")
                chain = chain_of(found)
                if len(chain) == 1:
                    flags &= ~COPY_SHALLOW
                    shallow = False
                if dest.backing is not None and dest.backing.get("type") is not None \
                        and not shallow:
                    raise _invalid("backingStore of mirror without VIR_DOMAIN_BLOCK_COPY_SHALLOW"
                                   " doesn't make sense")
                if dest.backing is not None and dest.backing.get("type") is not None:
                    raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                        "block copy to an image with a backing chain of its "
                                        "own in the XML is not supported yet")
                if shallow and not reuse and dest.fmt == "raw":
                    raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                        f"shallow copy of disk '{dst}' into a raw file is not "
                                        "possible")
                existing = self._check_dest(dst, dest, reuse)
                fmt = dest.fmt or (chain[0].fmt if not reuse else None)
                if fmt is None:
                    try:
                        fmt = _probe(dest.path)
                    except OSError:
                        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                            "reused mirror destination format must be "
                                            "specified") from None
                if fmt not in disknodes.FORMATS:
                    raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                        f"unsupported disk format '{fmt}'")
                # a reused image of a shallow copy brings its own backing chain,
                # opened only at the pivot (blockdev-snapshot puts it under the copy)
                own: list[tuple[str, str]] = []
                if reuse and shallow and fmt == "qcow2" and dest.backing is None:
                    disk_elem = etree.Element("disk", type="file")
                    etree.SubElement(disk_elem, "driver", type=fmt)
                    etree.SubElement(disk_elem, "source", file=dest.path)
                    own = disknodes.backing_chain(disk_elem)
            created = False
            if not existing:
                try:
                    with open(dest.path, "wb"):
                        created = True
                except OSError as exc:
                    raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                        "failed to create copy target: "
                                        f"{os.strerror(exc.errno or 0)}") from None
            with self.lock:
                first = self._next_node(obj, rt, 1 + len(own))
                mirror = Layer(first, dest.path, fmt)
                mirror_chain = tuple(Layer(first + 1 + k, p, f) for k, (p, f) in enumerate(own))
            added: list[str] = []
            try:
                self._open_dest(rt, chain, mirror, reuse, shallow, added)
                job = BlockJob(blockjob.job_name("copy", dst, chain[0].index), "copy", dst,
                               flags, shallownew=shallow and not reuse, mirror=mirror)
                args: dict[str, Any] = {"job-id": job.name, "device": chain[0].node,
                                        "target": mirror.node}
                if bandwidth:
                    args["speed"] = bandwidth
                if granularity:
                    args["granularity"] = granularity
                if buf_size:
                    args["buf-size"] = buf_size
                args["sync"] = "top" if shallow else "full"
                if flags & COPY_SYNCHRONOUS_WRITES:
                    args["copy-mode"] = "write-blocking"
                args.update({"auto-finalize": True, "auto-dismiss": False})
                self.start_block_job(
                    obj, rt, job, "blockdev-mirror", args,
                    lambda: blockjob.set_mirror(found, mirror, "copy", not shallow or reuse, copy=True,
                                        chain=mirror_chain))
            except errors.VirtError:
                for node in reversed(added):
                    with contextlib.suppress(errors.VirtError):
                        self._monitor_call(rt, "blockdev-del",
                                           {"node-name": node})
                if created:
                    with contextlib.suppress(OSError):
                        os.unlink(dest.path)
                raise

    @staticmethod
    def _check_dest(dst: str, dest: _Dest, reuse: bool) -> bool:
        """qemuDomainBlockCopyValidateMirror: whether the file is there to use."""
        try:
            st = os.stat(dest.path)
        except FileNotFoundError as exc:
            if reuse:
                raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                    f"missing destination file for disk {dst}: {dest.path}: "
                                    f"{os.strerror(exc.errno or 0)}") from None
            return False
        except OSError as exc:
            raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                "unable to verify existence of block copy target: "
                                f"{os.strerror(exc.errno or 0)}") from None
        if st.st_size and not reuse:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, Q,
                                f"external destination file for disk {dst} already exists and "
                                f"is not a block device: {dest.path}")
        return reuse

    def _open_dest(self, rt: Runtime, chain: list[Layer], mirror: Layer, reuse: bool,
                   shallow: bool, added: list[str]) -> None:
        """The destination's nodes: formatted by QEMU first unless reused."""
        call = self._monitor_call
        storage = disknodes.node_name(mirror.index, "storage")
        backing = chain[1] if shallow and not reuse and len(chain) > 1 else None
        if not reuse and mirror.fmt == "raw":
            size = self._capacity(rt, chain[0])
            job_id = f"create-{storage}"
            call(rt, "blockdev-create", {"job-id": job_id, "options": {
                "driver": "file", "filename": mirror.path, "size": size}})
            wait_created(lambda c, a: call(rt, c, a), job_id)
        call(rt, "blockdev-add", _storage_props(mirror.index, mirror.path))
        added.append(storage)
        if not reuse and mirror.fmt == "qcow2":
            size, cluster = self._capacity(rt, chain[0]), self._cluster(rt, chain[0])
            options: dict[str, Any] = {"driver": "qcow2", "file": storage, "size": size}
            if cluster:
                options["cluster-size"] = cluster
            if backing is not None:
                options.update({"backing-file": backing.path, "backing-fmt": backing.fmt})
            job_id = f"create-{mirror.node}"
            call(rt, "blockdev-create", {"job-id": job_id, "options": options})
            wait_created(lambda c, a: call(rt, c, a), job_id)
        call(rt, "blockdev-add", _format_props(
            mirror.index, mirror.fmt, False, backing.node if backing is not None else None,
            mirror.fmt == "qcow2"))
        added.append(mirror.node)

    def _named_node(self, rt: Runtime, layer: Layer) -> dict[str, Any]:
        nodes = self._monitor_call(rt, "query-named-block-nodes",
                                   {"flat": True})
        entry = next((n for n in nodes if n.get("node-name") == layer.node), None)
        if entry is None:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, Q,
                                f"failed to update capacity data for block node '{layer.node}'")
        return dict(entry.get("image") or {})

    def _capacity(self, rt: Runtime, layer: Layer) -> int:
        return int(self._named_node(rt, layer).get("virtual-size", 0))

    def _cluster(self, rt: Runtime, layer: Layer) -> int:
        if layer.fmt != "qcow2":
            return 0
        return int(self._named_node(rt, layer).get("cluster-size", 0))

    def before_pivot(self, rt: Runtime, job: BlockJob, disk: etree._Element) -> None:
        """A reused image of a shallow copy gets its backing chain now."""
        mirror = disk.find("mirror")
        chain = disknodes.backing_layers(mirror) if mirror is not None else ()
        if job.kind != "copy" or job.mirror is None or not chain \
                or not job.flags & COPY_REUSE_EXT or not job.flags & COPY_SHALLOW:
            return
        for cmd, args in _images(chain[0].index, chain[0].path, chain[0].fmt, True,
                                 [(layer.path, layer.fmt) for layer in chain[1:]]):
            self._monitor_call(rt, cmd, args)
        self._monitor_call(rt, "transaction", {"actions": [{
            "type": "blockdev-snapshot",
            "data": {"node": chain[0].node, "overlay": job.mirror.node}}]})

    # -- the end of a copy (blockjobs.py's _conclude, lock held)
    def copy_concluded(self, obj: DomainObj, job: BlockJob, disk: etree._Element,
                       chain: list[Layer], success: bool) -> tuple[list[Layer], list[Layer]]:
        """Pivoted: the copy is the disk's image (a shallow new one over the
        old backing chain); otherwise the copy's nodes go."""
        mirror_elem = disk.find("mirror")
        own: list[Layer] = []
        if mirror_elem is not None:
            own = list(disknodes.backing_layers(mirror_elem))
            disk.remove(mirror_elem)
        mirror = job.mirror
        if mirror is None or not chain:
            return [], []
        if job.state == "pivoting" and success:
            keep = [mirror] + (chain[1:] if job.shallownew else own)
            gone = [chain[0]] if job.shallownew else chain
            self._rewrite(obj, disk, keep)
            self.rewrite_config_source(obj, disk, chain[0], mirror,
                                       not job.shallownew and not own)
            return gone, []
        return [mirror], []
