"""virConnectFindStoragePoolSources on the simulated host: fixed answers
for logical and netfs pools, as libvirt's test driver gives."""

from __future__ import annotations

from typing import Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...errors import ErrorDomain, ErrorNumber

T = ErrorDomain.VIR_FROM_TEST

_LOGICAL = ("<sources>\n"
            + "".join(f"  <source>\n    <device path='/dev/sda2{i}'/>\n"
                      f"    <name>testvg{i + 1}</name>\n    <format type='lvm2'/>\n"
                      f"  </source>\n" for i in range(2))
            + "</sources>\n")


def _check_syntax(src_spec: str) -> None:
    """libvirt parses the source specification before it looks at the type."""
    try:
        xmlutil.parse_document(src_spec, "(storage_source_specification)", "source",
                               ErrorDomain.VIR_FROM_STORAGE)
    except errors.VirtError as exc:
        if exc.code == ErrorNumber.VIR_ERR_XML_DETAIL:
            raise


def find_sources(pool_type: str, src_spec: Optional[str]) -> str:
    if pool_type == "dir":
        # libvirt 9.0 mistakes the first pool type (dir, value 0) for an unknown name
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, T,
                            f"unknown storage pool type {pool_type}")
    if src_spec is not None:
        _check_syntax(src_spec)
    if pool_type == "logical":
        return _LOGICAL
    if pool_type == "netfs":
        host = None
        if src_spec:
            try:
                root = etree.fromstring(src_spec.encode())
                found = root.find("host")
                host = found.get("name") if found is not None else None
            except etree.XMLSyntaxError:
                host = None
        if not host:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, T,
                                "hostname must be specified for netfs sources")
        return (f"<sources>\n  <source>\n    <host name='{xmlutil.escape(host)}'/>\n"
                f"    <dir path='/testshare'/>\n    <format type='nfs'/>\n  </source>\n"
                f"</sources>\n")
    # unknown names too: libvirt 9.0 lets them through to here
    raise errors.report(ErrorNumber.VIR_ERR_NO_SUPPORT, T,
                        f"pool type '{pool_type}' does not support source discovery")
