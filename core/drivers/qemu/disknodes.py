"""Disk images as QEMU nodes, numbered as libvirt 9.0 numbers them.

Each image of a disk is two -blockdev nodes, libvirt-N-storage (the file)
and libvirt-N-format (raw or qcow2 over it).  N is also the index the live
XML shows (<source ... index='N'>, <backingStore type='file' index='N'>)
and the bulk statistics' backingIndex.  libvirt 9.0 numbers at start (seen
with 1-3 disks, raw, qcow2, backing chains, an empty cdrom, read-only
disks):

  - first the disks' own images, from the last disk back to the first:
    of n disks, disk i (from 0) is n - i; an empty drive uses its number
    up, though no node has it;
  - then the backing images, again from the last disk back, each chain
    from the top down: n + 1, n + 2, ...

A qcow2 image's chain is read from its header (backing file and format;
a relative name is relative to the image's folder; with no format given a
raw backing file is taken as raw and a qcow2 one refused), unless the
definition ends it itself with <backingStore/>.  assign() records the
numbers and chains in the running definition (conf/domain_disk's run-time
parts), so that the status file keeps them for a driver opened later;
every other user reads them back through numbers().

A block job that changes a running disk's chain (blockjobs.py) records
the result the same way: images() reads a disk's images top down,
rewrite() records new ones (numbers kept, as libvirt keeps them).
"""

from __future__ import annotations

import dataclasses
import os
import struct
from typing import Optional

from lxml import etree

from ... import errors
from ...conf import domain_disk
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber

S = ErrorDomain.VIR_FROM_STORAGE
FORMATS = ("raw", "qcow2")
MAX_DEPTH = 200   # libvirt's limit on a chain's length (loops end on it too)
_QCOW2_MAGIC = b"QFI\xfb"
_EXT_BACKING_FORMAT = 0xE2792ACA


@dataclasses.dataclass(frozen=True)
class Layer:
    """One backing image of a disk: its number, file and format."""
    index: int
    path: str
    fmt: str

    @property
    def node(self) -> str:
        return node_name(self.index)


def node_name(index: int, layer: str = "format") -> str:
    return f"libvirt-{index}-{layer}"


def disks_of(d: DomainDef) -> list[etree._Element]:
    return [dev for dev in d.devices if dev.tag == "disk"]


def numbers(d: DomainDef) -> list[tuple[int, tuple[Layer, ...]]]:
    """Per disk of `d`, in order: its own image's number and its backing
    images (top down), as start recorded them; a definition that has not
    run yet gets the numbers of its own images (which the chains do not
    change) and no chains."""
    disks = disks_of(d)
    out = []
    for i, disk in enumerate(disks):
        source = disk.find("source")
        recorded = source.get("index", "") if source is not None else ""
        index = int(recorded) if recorded.isdigit() else len(disks) - i
        out.append((index, backing_layers(disk)))
    return out


def backing_layers(disk: etree._Element) -> tuple[Layer, ...]:
    """The numbered <backingStore> chain of `disk` (or of a block job's
    <mirror>), top down."""
    layers = []
    elem = disk.find("backingStore")
    while elem is not None and elem.get("index", "").isdigit():
        src, fmt = elem.find("source"), elem.find("format")
        layers.append(Layer(int(elem.get("index", "0")),
                            src.get("file", "") if src is not None else "",
                            fmt.get("type", "raw") if fmt is not None else "raw"))
        elem = elem.find("backingStore")
    return tuple(layers)


def assign(d: DomainDef) -> None:
    """Number the images of `d` (about to start) and record their chains;
    an image that cannot be read fails the start, as in libvirt."""
    disks = disks_of(d)
    for disk in disks:
        domain_disk.strip_runtime(disk)
    # the last disk's image is checked first, as libvirt's start does
    chains = [_chain(disk) for disk in reversed(disks)][::-1]
    following = len(disks) + 1
    for i in reversed(range(len(disks))):
        source = disks[i].find("source")
        if source is None or not source.get("file"):
            continue   # no media: its number stays unused
        source.set("index", str(len(disks) - i))
        if not chains[i]:
            continue
        layers = [Layer(following + k, path, fmt) for k, (path, fmt) in enumerate(chains[i])]
        following += len(layers)
        disks[i].insert(list(disks[i]).index(source) + 1, backing_element(layers))


def forget(d: DomainDef) -> None:
    """A stopped domain's disks: no numbers, no chains found."""
    for disk in disks_of(d):
        domain_disk.strip_runtime(disk)


def backing_element(layers: list[Layer]) -> etree._Element:
    top = parent = None
    for layer in layers:
        elem = etree.Element("backingStore", type="file", index=str(layer.index))
        etree.SubElement(elem, "format", type=layer.fmt)
        etree.SubElement(elem, "source", file=layer.path)
        if parent is None:
            top = elem
        else:
            parent.append(elem)
        parent = elem
    assert top is not None and parent is not None
    parent.append(etree.Element("backingStore"))
    return top


def images(disk: etree._Element) -> list[Layer]:
    """A running disk's images, top down: its own (its <source>, numbered,
    and <driver type>) then its backing ones; [] without a numbered source."""
    source, driver = disk.find("source"), disk.find("driver")
    if source is None or not source.get("index", "").isdigit() or not source.get("file"):
        return []
    top = Layer(int(source.get("index", "0")), source.get("file", ""),
                driver.get("type", "raw") if driver is not None else "raw")
    return [top, *backing_layers(disk)]


def rewrite(disk: etree._Element, layers: list[Layer]) -> None:
    """Record `layers` (top down, non-empty) as the running disk's images:
    the first becomes its <source> and <driver type>, the others its
    numbered <backingStore> chain, closed by <backingStore/> as libvirt
    shows a chain a block job has ended."""
    source = disk.find("source")
    assert source is not None and layers
    source.set("file", layers[0].path)
    source.set("index", str(layers[0].index))
    driver = disk.find("driver")
    if driver is not None:
        driver.set("type", layers[0].fmt)
    for old in disk.findall("backingStore"):
        disk.remove(old)
    chain = backing_element(list(layers[1:])) if len(layers) > 1 \
        else etree.Element("backingStore")
    disk.insert(list(disk).index(source) + 1, chain)


def backing_chain(disk: etree._Element) -> list[tuple[str, str]]:
    """(path, format) of each backing image of a file disk, top down (the
    errors of a start if one cannot be read)."""
    return _chain(disk)


def _access_error(what: str, exc: OSError) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, S,
                         f"Cannot access {what} (as uid:{os.getuid()}, gid:{os.getgid()}): "
                         f"{os.strerror(exc.errno or 0)}")


def check_source(path: str) -> None:
    """libvirt's check that a disk's own image is there (the errors of the
    images it reads a header of name the user and group, this one does not)."""
    try:
        os.stat(path)
    except OSError as exc:
        raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, S,
                            f"Cannot access storage file '{path}': "
                            f"{os.strerror(exc.errno or 0)}") from None


def _chain(disk: etree._Element) -> list[tuple[str, str]]:
    """(path, format) of each backing image of a file disk, top down."""
    source, driver = disk.find("source"), disk.find("driver")
    path = source.get("file") if source is not None else None
    if disk.get("type", "file") != "file" or not path:
        return []
    fmt = driver.get("type", "raw") if driver is not None else "raw"
    if fmt == "qcow2":   # libvirt reads its header for the chain: that error names the ids
        try:
            os.stat(path)
        except OSError as exc:
            raise _access_error(f"storage file '{path}'", exc) from None
    else:
        check_source(path)
    if disk.find("backingStore") is not None:   # the definition's own end of the chain
        return []
    out: list[tuple[str, str]] = []
    depth = 1
    while fmt == "qcow2":
        backing = _qcow2_backing(path)
        if backing is None:
            break
        name, named_fmt = backing
        child = name if os.path.isabs(name) else os.path.join(os.path.dirname(path), name)
        depth += 1
        if depth > MAX_DEPTH:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, S,
                                f"backing store for {child} is self-referential or too "
                                "deeply nested")
        try:
            os.stat(child)
        except OSError as exc:
            raise _access_error(f"backing file '{child}' of storage file '{path}'",
                                exc) from None
        if named_fmt is None:
            if _is_qcow2(child):
                raise errors.report(
                    ErrorNumber.VIR_ERR_OPERATION_INVALID, S,
                    f"format of backing image '{name}' of image '{path}' was not specified "
                    "in the image metadata (See https://libvirt.org/kbase/backing_chains.html "
                    "for troubleshooting)")
            named_fmt = "raw"
        if named_fmt not in FORMATS:
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                                f"unsupported disk format '{named_fmt}'")
        out.append((child, named_fmt))
        path, fmt = child, named_fmt
    return out


def qcow2_backing_name(path: str) -> Optional[str]:
    """The backing file name a qcow2 image's header gives, as written
    (relative or absolute); None without one."""
    found = _qcow2_backing(path)
    return found[0] if found is not None else None


def _is_qcow2(path: str) -> bool:
    try:
        with open(path, "rb") as f:
            return f.read(4) == _QCOW2_MAGIC
    except OSError:
        return False


def _qcow2_backing(path: str) -> Optional[tuple[str, Optional[str]]]:
    """(backing file name, its format or None) from a qcow2 header; None
    without a backing file."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
            offset, size = struct.unpack(">QI", head[8:20])
            if head[:4] != _QCOW2_MAGIC or offset == 0 or size == 0:
                return None
            f.seek(offset)
            name = f.read(size).decode("utf-8", "replace")
    except (OSError, struct.error):
        return None
    version = struct.unpack(">I", head[4:8])[0]
    pos = struct.unpack(">I", head[100:104])[0] if version >= 3 else 72
    fmt = None
    while pos + 8 <= len(head):   # header extensions: magic, length, data padded to 8
        magic, length = struct.unpack(">II", head[pos:pos + 8])
        if magic == 0:
            break
        if magic == _EXT_BACKING_FORMAT:
            fmt = head[pos + 8:pos + 8 + length].decode("ascii", "replace")
        pos += 8 + (length + 7) // 8 * 8
    return name, fmt
