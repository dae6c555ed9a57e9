"""Loading a test:///PATH.xml host: a <node> document with optional <cpu>
and <memory> facts and <domain> elements (inline or file='...').  Every
domain of the file is persistent and starts running, as in libvirt."""

from __future__ import annotations

import os

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.domain import parse_domain_xml
from ...domainstate import DomainRunningReason
from ...errors import ErrorDomain, ErrorNumber
from . import defaults
from .defaults import NodeInfo
from .driver import TestDriver

_CPU_FIELDS = ("mhz", "nodes", "sockets", "cores", "threads")


def load_file(path: str) -> TestDriver:
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError):
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_TEST,
                            f"failed to parse xml document '{path}'") from None
    root = xmlutil.parse_document(text, path, "node", domain=ErrorDomain.VIR_FROM_TEST)
    info = NodeInfo(**vars(defaults.DEFAULT_NODE_INFO))
    cpu = root.find("cpu")
    if cpu is not None:
        for field in _CPU_FIELDS:
            value = cpu.findtext(field)
            if value is not None and value.strip().isdigit():
                setattr(info, field, int(value))
        active = cpu.findtext("active")
        info.cpus = int(active) if active and active.strip().isdigit() else (
            info.nodes * info.sockets * info.cores * info.threads)
        model = cpu.findtext("model")
        if model:
            info.model = model.strip()
    memory = root.findtext("memory")
    if memory is not None and memory.strip().isdigit():
        info.memory = int(memory)
    driver = TestDriver(info, defaults.capabilities_xml())
    base = os.path.dirname(path)
    for elem in root.findall("domain"):
        source = elem.get("file")
        if source is not None:
            with open(os.path.join(base, source), encoding="utf-8") as f:
                xml = f.read()
        else:
            xml = etree.tostring(elem, encoding="unicode")
        obj = driver.domains.add_persistent(parse_domain_xml(xml)).obj
        driver.start_domain(obj, DomainRunningReason.VIR_DOMAIN_RUNNING_UNKNOWN)
    return driver
