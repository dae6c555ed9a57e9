"""A domain's IOThreads: <iothreads>, <iothreadids> and <cputune><iothreadpin>,
parsed and formatted as libvirt 9.0's domain_conf.c does.

The count is the larger of <iothreads> and the number of <iothreadids>;
missing ids are filled in from 1 upwards ("autofill") and, while every id
is autofilled and none has a thread pool or a pin set through the API,
<iothreadids> is not written.  Pins live on the IOThread and are written
back into <cputune> in IOThread order.
"""

from __future__ import annotations

import dataclasses
from typing import Optional

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

_POOL_ATTRS = ("thread_pool_min", "thread_pool_max")
# <cputune> children written after the iothreadpins (domain_conf.c's order).
_AFTER_PINS = ("vcpusched", "iothreadsched", "emulatorsched", "cachetune", "memorytune")


@dataclasses.dataclass
class IOThreadDef:
    """<iothreadids/iothread>; ex) id=5 autofill=False pool={'thread_pool_max': '4'}"""
    id: int
    autofill: bool = False
    pool: dict[str, str] = dataclasses.field(default_factory=dict)
    cpumask: Optional[frozenset[int]] = None
    # Added through virDomainAddIOThread (never written): libvirt 9.0's test
    # driver tunes only those, and fails with no error set on the others.
    added: bool = False


def _domain_xml_error(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_DOMAIN, detail)


def parse_cpuset(text: str) -> Optional[frozenset[int]]:
    """'0-2,^1,4' -> {0, 2, 4}; None when malformed."""
    cpus: set[int] = set()
    for part in text.replace(" ", "").split(","):
        if not part:
            return None
        negate = part.startswith("^")
        lo, _, hi = part.lstrip("^").partition("-")
        if not lo.isdigit() or (hi and not hi.isdigit()):
            return None
        span = set(range(int(lo), int(hi or lo) + 1))
        cpus = cpus - span if negate else cpus | span
    return frozenset(cpus)


def format_cpuset(cpus: frozenset[int]) -> str:
    """{0, 1, 2, 4} -> '0-2,4', as virBitmapFormat writes it."""
    out: list[str] = []
    ordered = sorted(cpus)
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        out.append(str(ordered[i]) if i == j else f"{ordered[i]}-{ordered[j]}")
        i = j + 1
    return ",".join(out)


def parse(root: etree._Element, cputune: Optional[etree._Element]) -> list[IOThreadDef]:
    """The IOThreads of <domain> `root`; removes the iothreadpins from `cputune`."""
    count = 0
    count_elem = root.find("iothreads")
    if count_elem is not None:
        text = (count_elem.text or "").strip()
        if not text.isdigit():
            raise _domain_xml_error(f"invalid iothreads count '{text}'")
        count = int(text)
    threads: list[IOThreadDef] = []
    ids_elem = root.find("iothreadids")
    for elem in ids_elem.findall("iothread") if ids_elem is not None else []:
        value = elem.get("id")
        if value is None:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                                "Missing required attribute 'id' in element 'iothread'")
        if not value.strip().isdigit() or int(value) == 0:
            why = "Zero is not permitted" if value.strip() == "0" else \
                "Expected non-negative integer value"
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                                f"Invalid value for attribute 'id' in element 'iothread': "
                                f"{why}")
        iothread_id = int(value)
        if any(t.id == iothread_id for t in threads):
            raise _domain_xml_error(f"duplicate iothread id '{iothread_id}' found")
        pool = {name: elem.get(name, "") for name in _POOL_ATTRS if elem.get(name) is not None}
        threads.append(IOThreadDef(iothread_id, pool=pool))
    next_id = 1
    while len(threads) < count:
        while any(t.id == next_id for t in threads):
            next_id += 1
        threads.append(IOThreadDef(next_id, autofill=True))
    if cputune is not None:
        for pin in cputune.findall("iothreadpin"):
            _parse_pin(pin, threads)
            cputune.remove(pin)
    return threads


def _parse_pin(pin: etree._Element, threads: list[IOThreadDef]) -> None:
    value = pin.get("iothread", "")
    target = next((t for t in threads if value.isdigit() and t.id == int(value)), None)
    if target is None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED,
                            ErrorDomain.VIR_FROM_DOMAIN, f"Cannot find 'iothread' : {value}")
    cpus = parse_cpuset(pin.get("cpuset", ""))
    if cpus is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                            f"Failed to parse bitmap '{pin.get('cpuset', '')}'")
    target.cpumask = cpus


def write(threads: list[IOThreadDef], out: list[str]) -> None:
    """<iothreads> and, when needed, <iothreadids>."""
    if not threads:
        return
    out.append(f"  <iothreads>{len(threads)}</iothreads>")
    if all(t.autofill and not t.pool for t in threads):
        return
    out.append("  <iothreadids>")
    for t in threads:
        pool = "".join(f" {name}='{value}'" for name, value in t.pool.items())
        out.append(f"    <iothread id='{t.id}'{pool}/>")
    out.append("  </iothreadids>")


def cputune_with_pins(cputune: Optional[etree._Element],
                      threads: list[IOThreadDef]) -> Optional[etree._Element]:
    """The <cputune> to write: the kept one with the iothreadpins put back."""
    pins = [t for t in threads if t.cpumask]
    if not pins:
        return cputune
    result = etree.Element("cputune") if cputune is None else etree.fromstring(
        etree.tostring(cputune))
    children = list(result)
    pos = next((i for i, c in enumerate(children) if c.tag in _AFTER_PINS), len(children))
    for offset, t in enumerate(pins):
        assert t.cpumask is not None
        result.insert(pos + offset, etree.Element(
            "iothreadpin", iothread=str(t.id), cpuset=format_cpuset(t.cpumask)))
    return result


def find(threads: list[IOThreadDef], iothread_id: int) -> Optional[IOThreadDef]:
    return next((t for t in threads if t.id == iothread_id), None)


def check_new(threads: list[IOThreadDef], iothread_id: int) -> None:
    """virDomainDriverAddIOThreadCheck."""
    if find(threads, iothread_id) is not None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_DOMAIN,
                            f"an IOThread is already using iothread_id '{iothread_id}'")


def check_known(threads: list[IOThreadDef], iothread_id: int) -> IOThreadDef:
    """virDomainDriverDelIOThreadCheck (this model has no disk on an IOThread)."""
    found = find(threads, iothread_id)
    if found is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_DOMAIN,
                            f"cannot find IOThread '{iothread_id}' in iothreadids list")
    return found
