"""A domain's resource tuning: <memtune>, <blkiotune>, <numatune> and <perf>
as parsed and written back by libvirt 9.0, and an interface's <bandwidth>
(kept in the <interface> element, put in libvirt's shape here).

Memory limits are KiB; a limit at or above UNLIMITED is not set.  A NUMA
nodeset is a set of node numbers; the memory mode is libvirt's name for it.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from .domain_iothreads import format_cpuset, parse_cpuset

UNLIMITED = 9007199254740991   # VIR_DOMAIN_MEMORY_PARAM_UNLIMITED (KiB)
MEMTUNE_FIELDS = ("hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit")
BLKIO_FIELDS = ("weight", "read_iops_sec", "write_iops_sec", "read_bytes_sec",
                "write_bytes_sec")
NUMA_MODES = ("strict", "preferred", "interleave", "restrictive")
PERF_EVENTS = ("cmt", "mbmt", "mbml", "cpu_cycles", "instructions", "cache_references",
               "cache_misses", "branch_instructions", "branch_misses", "bus_cycles",
               "stalled_cycles_frontend", "stalled_cycles_backend", "ref_cpu_cycles",
               "cpu_clock", "task_clock", "page_faults", "context_switches",
               "cpu_migrations", "page_faults_min", "page_faults_maj", "alignment_faults",
               "emulation_faults")
BANDWIDTH_ATTRS = ("average", "peak", "floor", "burst")

_UNITS = {"b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024, "mb": 1000**2,
          "m": 1024**2, "mib": 1024**2, "gb": 1000**3, "g": 1024**3, "gib": 1024**3,
          "tb": 1000**4, "t": 1024**4, "tib": 1024**4, "pb": 1000**5, "p": 1024**5,
          "pib": 1024**5, "eb": 1000**6, "e": 1024**6, "eib": 1024**6}


@dataclasses.dataclass
class BlkioDevice:
    """<blkiotune><device>; ex) path='/dev/sda' values={'weight': 500}"""
    path: str
    values: dict[str, int] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass
class Tuning:
    memtune: dict[str, int] = dataclasses.field(default_factory=dict)
    blkio_weight: int = 0
    blkio_devices: list[BlkioDevice] = dataclasses.field(default_factory=list)
    numa_mode: Optional[str] = None          # None: no <memory> element
    numa_placement: Optional[str] = None     # 'static' or 'auto'
    numa_nodeset: Optional[frozenset[int]] = None
    numa_extra: list[etree._Element] = dataclasses.field(default_factory=list)  # memnodes
    perf: dict[str, bool] = dataclasses.field(default_factory=dict)


def _xml_error(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_DOMAIN, detail)


def numa_static_without_nodeset() -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
                         "nodeset for NUMA memory tuning must be set if 'placement' is "
                         "'static'")


def _number(elem: etree._Element, what: str) -> int:
    text = (elem.text or "").strip()
    if not text.isdigit():
        raise _xml_error(f"invalid value '{text}' for {what}")
    return int(text)


def _limit(elem: etree._Element) -> int:
    """A memtune limit in KiB (bytes rounded up), capped at UNLIMITED."""
    value = _number(elem, f"<memtune><{elem.tag}>")
    unit = elem.get("unit", "KiB")
    scale = _UNITS.get(unit.lower())
    if scale is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                            f"unknown suffix '{unit}'")
    return min((value * scale + 1023) // 1024, UNLIMITED)


# The tuning of every definition that has none, shared to keep a definition small
# (100,000 domains): never changed in place, a setter first gets its own (owned()).
EMPTY = Tuning()
_TAGS = ("memtune", "blkiotune", "numatune", "perf")


def owned(tune: Tuning) -> Tuning:
    """`tune` if it may be changed in place, else a new empty Tuning."""
    return Tuning() if tune is EMPTY else tune


def parse(root: etree._Element) -> Tuning:
    if all(root.find(tag) is None for tag in _TAGS):
        return EMPTY
    tune = Tuning()
    memtune = root.find("memtune")
    if memtune is not None:
        for name in MEMTUNE_FIELDS:
            elem = memtune.find(name)
            if elem is not None:
                tune.memtune[name] = _limit(elem)
    blkio = root.find("blkiotune")
    if blkio is not None:
        weight = blkio.find("weight")
        if weight is not None:
            tune.blkio_weight = _number(weight, "blkio weight")
        for dev in blkio.findall("device"):
            path = (dev.findtext("path") or "").strip()
            values = {name: _number(e, f"blkio device {name}") for name in BLKIO_FIELDS
                      if (e := dev.find(name)) is not None}
            tune.blkio_devices.append(BlkioDevice(path, values))
    numa = root.find("numatune")
    if numa is not None:
        memory = numa.find("memory")
        if memory is not None:
            mode = memory.get("mode", "strict")
            if mode not in NUMA_MODES:
                raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                                    ErrorDomain.VIR_FROM_DOMAIN,
                                    f"Unsupported NUMA memory tuning mode '{mode}'")
            nodeset_text = memory.get("nodeset")
            nodeset = None
            if nodeset_text is not None:
                nodeset = parse_cpuset(nodeset_text)
                if not nodeset:
                    raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG,
                                        ErrorDomain.VIR_FROM_NONE,
                                        f"Failed to parse bitmap '{nodeset_text}'")
            placement = memory.get("placement", "static" if nodeset else None)
            if placement is None:
                placement = "static"
            if placement == "static" and not nodeset:
                raise numa_static_without_nodeset()
            tune.numa_mode, tune.numa_placement, tune.numa_nodeset = mode, placement, nodeset
        tune.numa_extra = [etree.fromstring(etree.tostring(e)) for e in numa.findall("memnode")]
    perf = root.find("perf")
    if perf is not None:
        for event in perf.findall("event"):
            name = event.get("name", "")
            if name in PERF_EVENTS:
                tune.perf[name] = event.get("enabled") == "yes"
    return tune


def write_blkiotune(t: Tuning, out: list[str]) -> None:
    lines: list[str] = []
    if t.blkio_weight:
        lines.append(f"    <weight>{t.blkio_weight}</weight>")
    for dev in t.blkio_devices:
        values = [(n, dev.values.get(n, 0)) for n in BLKIO_FIELDS if dev.values.get(n, 0)]
        if not values:
            continue
        lines.append("    <device>")
        lines.append(f"      <path>{dev.path}</path>")
        lines.extend(f"      <{n}>{v}</{n}>" for n, v in values)
        lines.append("    </device>")
    if lines:
        out.append("  <blkiotune>")
        out.extend(lines)
        out.append("  </blkiotune>")


def write_memtune(t: Tuning, out: list[str]) -> None:
    lines = [f"    <{n} unit='KiB'>{t.memtune[n]}</{n}>" for n in MEMTUNE_FIELDS
             if t.memtune.get(n, UNLIMITED) < UNLIMITED]
    if lines:
        out.append("  <memtune>")
        out.extend(lines)
        out.append("  </memtune>")


def write_numatune(t: Tuning, out: list[str]) -> None:
    from . import xmlutil
    if t.numa_mode is None and not t.numa_extra:
        return
    out.append("  <numatune>")
    if t.numa_mode is not None:
        if t.numa_placement == "auto":
            out.append(f"    <memory mode='{t.numa_mode}' placement='auto'/>")
        else:
            nodeset = format_cpuset(t.numa_nodeset or frozenset())
            out.append(f"    <memory mode='{t.numa_mode}' nodeset='{nodeset}'/>")
    for extra in t.numa_extra:
        xmlutil.write_element(extra, 4, out)
    out.append("  </numatune>")


def write_perf(t: Tuning, out: list[str]) -> None:
    if not t.perf:
        return
    out.append("  <perf>")
    out.extend(f"    <event name='{n}' enabled='{'yes' if t.perf[n] else 'no'}'/>"
               for n in PERF_EVENTS if n in t.perf)
    out.append("  </perf>")


# -- an interface's <bandwidth>

def bandwidth_values(iface: etree._Element) -> dict[str, dict[str, int]]:
    """{'inbound': {'average': 10, ...}, 'outbound': {...}} of an interface."""
    out: dict[str, dict[str, int]] = {}
    bw = iface.find("bandwidth")
    for direction in ("inbound", "outbound"):
        elem = bw.find(direction) if bw is not None else None
        if elem is not None:
            out[direction] = {a: int(elem.get(a, "0")) for a in BANDWIDTH_ATTRS
                              if elem.get(a, "0").isdigit() and int(elem.get(a, "0"))}
    return out


_AFTER_BANDWIDTH = frozenset((
    "target", "guest", "model", "driver", "backend", "filterref", "tune", "teaming", "link",
    "mtu", "coalesce", "rom", "alias", "address", "boot", "acpi"))


def set_bandwidth(iface: etree._Element, values: dict[str, dict[str, int]]) -> None:
    """Write `values` as the interface's <bandwidth>, in libvirt's shape and place."""
    old = iface.find("bandwidth")
    children = list(iface)
    if old is not None:
        pos = children.index(old)
        iface.remove(old)
    else:
        pos = next((i for i, c in enumerate(children) if c.tag in _AFTER_BANDWIDTH),
                   len(children))
    directions = [d for d in ("inbound", "outbound") if values.get(d)]
    if not directions:
        return
    bw = etree.Element("bandwidth")
    for direction in directions:
        rate = etree.SubElement(bw, direction)
        for attr in BANDWIDTH_ATTRS:
            if values[direction].get(attr):
                rate.set(attr, str(values[direction][attr]))
    iface.insert(pos, bw)


def normalise_bandwidth(devices: list[etree._Element]) -> None:
    for dev in devices:
        if dev.tag == "interface" and dev.find("bandwidth") is not None:
            set_bandwidth(dev, bandwidth_values(dev))
