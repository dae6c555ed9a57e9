"""The "block" group of the bulk domain statistics, as libvirt 9.0 gives it:
a running disk's counters from query-blockstats and its sizes from
query-block (allocation: the highest offset written; physical: the file's
disk usage), a shut-off disk's sizes from the image file itself.  With
VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING a running disk's backing images
follow it, each with its own index and sizes but no counters.  A drive
without media has its name and counters alone."""

from __future__ import annotations

import os
import struct
from typing import Any, Optional

from ...conf.domain import DomainDef
from .command import DiskNode, disk_nodes

UINT, ULLONG, STRING = 2, 4, 7
Params = list[tuple[str, int, Any]]
_COUNTERS = (("rd.reqs", "rd_operations"), ("rd.bytes", "rd_bytes"),
             ("rd.times", "rd_total_time_ns"), ("wr.reqs", "wr_operations"),
             ("wr.bytes", "wr_bytes"), ("wr.times", "wr_total_time_ns"),
             ("fl.reqs", "flush_operations"), ("fl.times", "flush_total_time_ns"))


def block_params(d: DomainDef, q: Any, backing: bool) -> Params:
    """block.count and block.N.* of `d`; q answers QMP queries when it runs."""
    entries: list[Params] = []
    if q is None:
        for node in disk_nodes(d):
            entries.append(_offline(node.target, node.path))
    else:
        stats, by_device = {}, {}
        for e in q.get("query-blockstats") or []:
            stats[e.get("node-name")] = e
            by_device[_device_id(e.get("qdev") or "")] = e
        images = {dev.get("inserted", {}).get("node-name"): dev.get("inserted", {})
                  for dev in q.get("query-block") or []}
        for node in disk_nodes(d):
            if node.path is None:   # no media: the drive's counters alone, as libvirt
                entries.append([("name", STRING, node.target)]
                               + _counters(by_device.get(node.alias)))
                continue
            entries += _running(node, stats.get(node.node), images.get(node.node), backing)
    out: Params = [("block.count", UINT, len(entries))]
    for i, params in enumerate(entries):
        out += [(f"block.{i}.{name}", kind, value) for name, kind, value in params]
    return out


def _device_id(qdev: str) -> str:
    """A drive's device id from its QOM path (/machine/peripheral/ID/...) or id."""
    parts = qdev.split("/")
    return parts[3] if qdev.startswith("/machine/peripheral/") and len(parts) > 3 else qdev


def _counters(stats: Optional[dict[str, Any]]) -> Params:
    st = (stats or {}).get("stats") or {}
    return [(name, ULLONG, int(st.get(key, 0))) for name, key in _COUNTERS]


def _offline(target: str, path: Optional[str]) -> Params:
    out: Params = [("name", STRING, target)]
    if path is None:
        return out
    out.append(("path", STRING, path))
    try:
        st = os.stat(path)
    except OSError:
        return out
    capacity = qcow2_virtual_size(path)
    return out + [("allocation", ULLONG, st.st_blocks * 512),
                  ("capacity", ULLONG, st.st_size if capacity is None else capacity),
                  ("physical", ULLONG, st.st_size)]


def _running(node: DiskNode, stats: Optional[dict[str, Any]],
             inserted: Optional[dict[str, Any]], backing: bool) -> list[Params]:
    """The disk's entry, then (with `backing`) one per backing image: paths
    and indexes as start numbered them (disknodes.py), sizes from QEMU."""
    image = (inserted or {}).get("image") or {}
    layers = [(node.path or "", node.index)] + [(b.path, b.index) for b in node.backing]
    out: list[Params] = []
    for level, (path, index) in enumerate(layers if backing else layers[:1]):
        params: Params = [("name", STRING, node.target), ("path", STRING, path),
                          ("backingIndex", UINT, index)]
        if level == 0:
            params += _counters(stats)
        st = (stats or {}).get("stats") or {}
        written = ((stats or {}).get("parent") or {}).get("stats") or st
        params += [("allocation", ULLONG, int(written.get("wr_highest_offset", 0))),
                   ("capacity", ULLONG, int(image.get("virtual-size", 0))),
                   ("physical", ULLONG, int(image.get("actual-size", 0)))]
        out.append(params)
        image = image.get("backing-image") or {}
        stats = (stats or {}).get("backing")
    return out


def qcow2_virtual_size(path: str) -> Optional[int]:
    """The guest-visible size in a qcow2 header, None if `path` is not qcow2."""
    try:
        with open(path, "rb") as f:
            head = f.read(32)
    except OSError:
        return None
    if len(head) < 32 or head[:4] != b"QFI\xfb":
        return None
    return int(struct.unpack(">Q", head[24:32])[0])
