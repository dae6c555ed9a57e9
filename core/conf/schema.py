"""The VALIDATE flags (virDomainDefineXMLFlags, virDomainCreateXML,
virNetworkDefineXMLFlags...): a document checked against libvirt's RELAX NG
schema, the published form of its XML formats, where libvirt installs it.
libxml2 does the checking for libvirt and, through lxml, for us: the
problems come out in the same words, one per line."""

from __future__ import annotations

import functools
import os

from lxml import etree

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

SCHEMA_DIR = "/usr/share/libvirt/schemas"   # libvirt's pkgdatadir, installed with libvirt0


@functools.lru_cache(maxsize=None)
def _schema(name: str) -> etree.RelaxNG:
    path = os.path.join(SCHEMA_DIR, name)
    try:
        return etree.RelaxNG(file=path)
    except (OSError, etree.RelaxNGParseError):
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_XML,
                            f"Unable to create RNG parser for {path}") from None


def validate(xml: str, schema: str) -> None:
    """Raise libvirt's VIR_ERR_XML_INVALID_SCHEMA unless `xml` (well formed:
    the caller parsed it) is valid against `schema`, e.g. "domain.rng"."""
    rng = _schema(schema)
    try:
        doc = etree.fromstring(xml.encode())
    except etree.XMLSyntaxError:
        return   # the caller's parse reports it, as libvirt's parser does first
    if rng.validate(doc):
        return
    problems = "".join(f"{entry.message}\n" for entry in rng.error_log)
    raise errors.report(ErrorNumber.VIR_ERR_XML_INVALID_SCHEMA, ErrorDomain.VIR_FROM_XML,
                        f"Unable to validate doc against {os.path.join(SCHEMA_DIR, schema)}\n"
                        f"{problems}")
