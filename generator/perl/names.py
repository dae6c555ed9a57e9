"""Perl's naming rules for the generated module, in one place; the generator and the
Perl tests' checks (tests/bindings/test_perl.py) both use :class:`Conventions`.

The module is called ``PyVirt`` (not ``Sys::Virt``) so that it never clashes with
Debian's installed Sys::Virt (libsys-virt-perl), which the tests also load.

virDomainPtr -> PyVirt::Domain; virDomainGetName -> $dom->get_name;
virDomainLookupByName -> $conn->domain_lookup_by_name; virConnectOpen ->
PyVirt::connect_open; VIR_DOMAIN_RUNNING -> PyVirt::DOMAIN_RUNNING; struct fields
keep their C names (maxMem).
"""

from __future__ import annotations

import re

PACKAGE = "PyVirt"
# Method names Perl gives a meaning of its own (DESTROY, AUTOLOAD) or that the
# hand-written parts define.
RESERVED = {"DESTROY", "AUTOLOAD", "import", "can", "isa", "new"}
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+|[A-Z]+")

# C scalar -> (SV reader, SV constructor)
SCALARS: dict[str, tuple[str, str]] = {
    "int": ("SvIV", "newSViv"), "unsigned int": ("SvUV", "newSVuv"),
    "long": ("SvIV", "newSViv"), "unsigned long": ("SvUV", "newSVuv"),
    "long long": ("SvIV", "newSViv"), "unsigned long long": ("SvUV", "newSVuv"),
    "double": ("SvNV", "newSVnv"), "size_t": ("SvUV", "newSVuv"),
    "unsigned char": ("SvUV", "newSVuv"), "char": ("SvIV", "newSViv"),
    "short": ("SvIV", "newSViv"), "unsigned short": ("SvUV", "newSVuv"),
}


class Conventions:
    """The Perl spelling of every C name the module exposes."""

    package = PACKAGE

    def object(self, ctype: str) -> str:
        """virDomainPtr -> PyVirt::Domain"""
        return f"{PACKAGE}::{ctype[3:-3]}"

    def function(self, stem: str) -> str:
        """GetName -> get_name, DomainLookupByName -> domain_lookup_by_name,
        GetXMLDesc -> get_xml_desc, GetUUIDString -> get_uuid_string,
        MigrateToURI3 -> migrate_to_uri3."""
        name = re.sub(r"_(?=[0-9])", "", "_".join(w.lower() for w in _WORD.findall(stem)))
        return name + "_" if name in RESERVED else name

    def constant(self, cname: str) -> str:
        """VIR_DOMAIN_RUNNING -> DOMAIN_RUNNING (PyVirt::DOMAIN_RUNNING)"""
        return cname[4:] if cname.startswith("VIR_") else cname

    def cvar(self, cname: str) -> str:
        """The C local holding an argument's value."""
        return "c_" + cname
