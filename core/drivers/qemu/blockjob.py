"""A disk's block job as libvirt 9.0 keeps it (qemu_blockjob.c): its QEMU
job id, its kind, its state, what it works on, and how the status file
records it (<blockjobs> of libvirt's status XML).  blockjobs.py drives it.

States (qemuBlockjobState), the transitions written once:

    new -> running                  QEMU took the command
    running -> ready                QEMU's job is READY (mirror, active commit)
    running|ready -> aborting       virDomainBlockJobAbort without PIVOT
    ready -> pivoting               virDomainBlockJobAbort with PIVOT
    any of them -> completed | failed | cancelled   QEMU's job concluded

QEMU's statuses that matter (qemuBlockjobConvertMonitorStatus): ready,
concluded (the end: its error, from query-jobs, tells completed from
failed; an aborting job that ends is cancelled) and pending (unused: every
job here finalizes itself).

The disk's <mirror> (a copy's target, an active commit's base) is part of
the live XML, and so of the status file, as in libvirt: set_mirror writes
it, mirror_of reads it back."""

from __future__ import annotations

import dataclasses
import os
import threading
from typing import Any, Optional

from lxml import etree

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...structs import DomainBlockJobInfo
from . import disknodes
from .disknodes import Layer

Q = ErrorDomain.VIR_FROM_QEMU
STORAGE = ErrorDomain.VIR_FROM_STORAGE

# virDomainBlockJobType, by libvirt's job kind
TYPES = {"pull": 1, "copy": 2, "commit": 3, "active-commit": 4}
# virConnectDomainEventBlockJobStatus, by final or ready state
EVENT_STATUS = {"completed": 0, "failed": 1, "cancelled": 2, "ready": 3}
RUNNING = ("running", "ready", "aborting", "pivoting")
ENDED = ("completed", "failed", "cancelled")
_QEMU_STATUS = {"ready": "ready", "concluded": "concluded", "pending": "pending"}
MIRROR_STATE = {"ready": "yes", "aborting": "abort", "pivoting": "pivot"}


@dataclasses.dataclass(eq=False)
class BlockJob:
    """One job (qemuBlockJobData); node numbers name images of the disk's chain."""
    name: str                       # QEMU's job id: pull-vda-libvirt-1-format
    kind: str                       # pull, commit, active-commit, copy
    disk: str                       # the disk's target
    flags: int = 0                  # the API's flags (jobflags)
    state: str = "new"
    newstate: Optional[str] = None  # QEMU's last word, not acted on yet
    base: Optional[int] = None      # pull, commit
    top: Optional[int] = None       # commit
    topparent: Optional[int] = None  # commit (non-active)
    delete: bool = False            # commit: delete the committed images
    shallownew: bool = False        # copy: shallow into a new image
    mirror: Optional[Layer] = None  # copy, active commit: the image pivoted to
    errmsg: Optional[str] = None
    synchronous: bool = False       # an API call waits for it: no worker acts
    cond: threading.Condition = dataclasses.field(default_factory=threading.Condition,
                                                  repr=False)

    @property
    def type_code(self) -> int:
        return TYPES[self.kind]

    def running(self) -> bool:
        """qemuBlockJobIsRunning."""
        return self.state in RUNNING


def job_name(kind: str, target: str, top_index: int) -> str:
    """libvirt's job ids: pull-vda-libvirt-1-format, commit-..., copy-..."""
    prefix = "commit" if kind == "active-commit" else kind
    return f"{prefix}-{target}-{disknodes.node_name(top_index)}"


def qemu_state(status: str) -> Optional[str]:
    """The state a JOB_STATUS_CHANGE status asks for, None when none."""
    return _QEMU_STATUS.get(status)


def info(job: BlockJob, raw: Optional[dict[str, Any]], in_bytes: bool) -> DomainBlockJobInfo:
    """qemuBlockJobInfoTranslate: query-block-jobs' entry of `job` (None:
    gone from QEMU already) as virDomainBlockJobInfo."""
    if raw is None:
        return DomainBlockJobInfo(job.type_code, 0, 0, 1)
    cur, end = int(raw.get("offset", 0)), int(raw.get("len", 0))
    ready = raw.get("ready")
    if cur == 0 and end == 0 and ready is not None:
        end = 1
        if ready:
            cur = 1
    if ready is False and cur == end and cur > 0:
        cur -= 1   # not ready yet: not done, for those who poll instead of waiting
    bandwidth = int(raw.get("speed", 0))
    if bandwidth and not in_bytes:
        bandwidth = -(-bandwidth // (1 << 20))
    return DomainBlockJobInfo(job.type_code, bandwidth, cur, end)


# -- the chain names an API takes (virStorageSourceChainLookup)

def _parse_index(name: Optional[str]) -> tuple[Optional[str], int]:
    """"vda[4]" -> ("vda", 4); a plain name -> (name, 0)."""
    if name is None:
        return None, 0
    target, sep, rest = name.partition("[")
    if sep and rest.endswith("]") and rest[:-1].isdigit():
        return target, int(rest[:-1])
    return name, 0


def _same_file(name: str, parent: Optional[Layer], layer: Layer) -> bool:
    """A name that points to `layer`'s file (a relative one from its parent's
    folder), as virFileRelLinkPointsTo checks."""
    folder = os.path.dirname(parent.path) if parent is not None else "."
    try:
        return os.path.samefile(os.path.join(folder, name), layer.path)
    except OSError:
        return False


def lookup(chain: list[Layer], start_below: Optional[int], name: Optional[str],
           target: str) -> tuple[int, Optional[int]]:
    """The position in `chain` (top down) of the image `name` names (a path,
    "vda[N]", or None: the bottom image), searched below position
    `start_below` (None: from the top); with the position of its parent
    (None for the top).  libvirt's errors otherwise."""
    wanted, idx = _parse_index(name)
    if name is not None and idx and wanted != target:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, STORAGE,
                            f"requested target '{wanted}' does not match target '{target}'")
    pos, parent = 0, None
    if start_below is not None:
        pos, parent = start_below + 1, start_below
    while pos < len(chain):
        layer = chain[pos]
        if name is None and not idx:
            if pos == len(chain) - 1:
                return pos, parent
        elif idx:
            if layer.index == idx:
                return pos, parent
        elif name is not None and (name == layer.path or _same_file(
                name, chain[parent] if parent is not None else None, layer)):
            return pos, parent
        parent, pos = pos, pos + 1
    if idx:
        detail = f"could not find backing store index '{idx}' in chain for '{target}'"
    elif name is not None and start_below is not None:
        detail = (f"could not find image '{name}' beneath '{chain[start_below].path}' "
                  f"in chain for '{target}'")
    elif name is not None:
        detail = f"could not find image '{name}' in chain for '{target}'"
    else:
        detail = f"could not find base image in chain for '{target}'"
    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, STORAGE, detail)


# -- the status file's <blockjobs>

def format_jobs(jobs: list[BlockJob]) -> etree._Element:
    """<blockjobs active='yes|no'> with a <blockjob> per job, as libvirt's status."""
    root = etree.Element("blockjobs", active="yes" if jobs else "no")
    for job in sorted(jobs, key=lambda j: j.name):
        elem = etree.SubElement(root, "blockjob", name=job.name, type=job.kind, state=job.state)
        if job.newstate is not None:
            elem.set("newstate", job.newstate)
        elem.set("jobflags", hex(job.flags))
        if job.shallownew:
            elem.set("shallownew", "yes")
        if job.errmsg:
            etree.SubElement(elem, "errmsg").text = job.errmsg
        disk = etree.SubElement(elem, "disk", dst=job.disk)
        if job.kind == "copy":
            disk.set("mirror", "yes")
        for what in ("base", "top", "topparent"):
            index = getattr(job, what)
            if index is not None:
                etree.SubElement(elem, what, node=disknodes.node_name(index))
        if job.delete:
            etree.SubElement(elem, "deleteCommittedImages")
    return root


def _node_index(elem: Optional[etree._Element]) -> Optional[int]:
    if elem is None:
        return None
    parts = elem.get("node", "").split("-")
    return int(parts[1]) if len(parts) == 3 and parts[1].isdigit() else None


def parse_jobs(root: Optional[etree._Element]) -> list[BlockJob]:
    """format_jobs' inverse (what a status file kept); jobs it cannot read are left out."""
    out: list[BlockJob] = []
    if root is None:
        return out
    for elem in root.findall("blockjob"):
        disk, kind = elem.find("disk"), elem.get("type", "")
        if disk is None or kind not in TYPES:
            continue
        errmsg = elem.find("errmsg")
        out.append(BlockJob(
            elem.get("name", ""), kind, disk.get("dst", ""), int(elem.get("jobflags", "0"), 16),
            elem.get("state", "running"), elem.get("newstate"),
            _node_index(elem.find("base")), _node_index(elem.find("top")),
            _node_index(elem.find("topparent")), elem.find("deleteCommittedImages") is not None,
            elem.get("shallownew") == "yes", None, errmsg.text if errmsg is not None else None))
    return out


def target_of(disk: etree._Element) -> str:
    """The disk's target dev (vda)."""
    target = disk.find("target")
    return target.get("dev", "") if target is not None else ""


# -- the disk's <mirror> (its part of the live XML and of the status)

def set_mirror(disk: etree._Element, layer: Layer, job: str, backing: Optional[bool],
                copy: bool = False, chain: tuple[Layer, ...] = ()) -> None:
    """The disk's <mirror> while a copy or an active commit runs, as
    virDomainDiskDefFormatMirror writes it (`backing`: a closed chain;
    `chain`: the backing images the target brings)."""
    for old in disk.findall("mirror"):
        disk.remove(old)
    mirror = etree.Element("mirror", type="file")
    if copy:
        mirror.set("file", layer.path)
        mirror.set("format", layer.fmt)
    mirror.set("job", job)
    etree.SubElement(mirror, "format", type=layer.fmt)
    etree.SubElement(mirror, "source", file=layer.path, index=str(layer.index))
    if chain:
        mirror.append(disknodes.backing_element(list(chain)))
    elif backing:
        etree.SubElement(mirror, "backingStore")
    after = disk.find("backingStore")
    if after is None:
        after = disk.find("source")
    place = list(disk).index(after) + 1 if after is not None else 0
    disk.insert(place, mirror)


def mirror_state(disk: etree._Element, state: Optional[str]) -> None:
    """The <mirror>'s ready='yes|abort|pivot' (None: none)."""
    mirror = disk.find("mirror")
    if mirror is not None and state is None:
        mirror.attrib.pop("ready", None)
    elif mirror is not None and state is not None:
        mirror.set("ready", state)


def mirror_of(disk: etree._Element) -> Optional[Layer]:
    """The image a disk's <mirror> names (the status keeps it there, as libvirt's)."""
    mirror = disk.find("mirror")
    source = mirror.find("source") if mirror is not None else None
    fmt = mirror.find("format") if mirror is not None else None
    if source is None or not source.get("index", "").isdigit():
        return None
    return Layer(int(source.get("index", "0")), source.get("file", ""),
                 fmt.get("type", "raw") if fmt is not None else "raw")
