"""The parts of a <disk> that exist only while its domain runs, as libvirt
9.0 treats them: the index of its source (<source ... index='N'>) and the
backing chain the driver found in the image (<backingStore type=... index='M'>
and what it holds).  Define drops them, the inactive XML leaves them out, a
domain that stops forgets them.  A <backingStore/> of the user's (no index)
is part of the definition and stays.  A drive emptied while running has a
source with its index alone (<source index='N'/>), which goes with it.
A block job's <mirror> (its target while it runs) is output only, as in
libvirt: never part of a definition."""

from __future__ import annotations

import copy

from lxml import etree


def empty_source(source: etree._Element) -> bool:
    """A <source> that names no medium: an ejected drive's, while it runs."""
    return set(source.attrib) <= {"index"} and len(source) == 0


def _has_runtime(disk: etree._Element) -> bool:
    source = disk.find("source")
    if source is not None and source.get("index") is not None:
        return True
    backing = disk.find("backingStore")
    return (backing is not None and backing.get("index") is not None) \
        or disk.find("mirror") is not None


def strip_runtime(disk: etree._Element) -> None:
    """Remove the run-time parts of `disk` in place."""
    source = disk.find("source")
    if source is not None and source.get("index") is not None:
        del source.attrib["index"]
        if empty_source(source):
            disk.remove(source)
    backing = disk.find("backingStore")
    if backing is not None and backing.get("index") is not None:
        disk.remove(backing)
    for mirror in disk.findall("mirror"):
        disk.remove(mirror)


def inactive_view(dev: etree._Element) -> etree._Element:
    """`dev` as the inactive XML shows it (a copy, only when a disk has
    something to leave out)."""
    if dev.tag != "disk" or not _has_runtime(dev):
        return dev
    out = copy.deepcopy(dev)
    strip_runtime(out)
    return out
