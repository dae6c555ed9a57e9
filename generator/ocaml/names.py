"""OCaml's naming rules for the generated library, in one place; the generator and
the OCaml tests' checks (tests/bindings/test_ocaml.py) both use :class:`Conventions`.

The library is the findlib package ``pyvirt``, module ``Pyvirt`` (Debian's
libvirt-ocaml is ``Libvirt``; the names never clash).

virDomainPtr -> type Pyvirt.domain, functions in module Pyvirt.Domain;
virDomainGetName -> Pyvirt.Domain.get_name; virDomainLookupByName ->
Pyvirt.Connect.domain_lookup_by_name; virConnectOpen -> Pyvirt.connect_open;
VIR_DOMAIN_RUNNING -> Pyvirt.domain_running (an int); _virDomainInfo -> record type
Pyvirt.domain_info whose fields keep their C names (maxMem); the C stub of
virDomainGetName is pv_virDomainGetName.
"""

from __future__ import annotations

import re

PACKAGE = "pyvirt"
MODULE = "Pyvirt"
KEYWORDS = set("""and as assert asr begin class constraint do done downto else end exception
external false for fun function functor if in include inherit initializer land lazy let lor
lsl lsr lxor match method mod module mutable new nonrec object of open or private rec sig
struct then to true try type val virtual when while with""".split())
# Names the hand-written part of pyvirt.ml defines.
RESERVED = {"error", "typed_value", "typed_params", "raise_error"}
_WORD = re.compile(r"[A-Z]+(?=[A-Z][a-z]|[0-9]|$)|[A-Z]?[a-z]+|[0-9]+|[A-Z]+")

# C scalar -> (OCaml type, value -> C, C -> value)
INTS = ("int", "Long_val", "Val_long")
SCALARS: dict[str, tuple[str, str, str]] = {
    "int": INTS, "unsigned int": INTS, "long": INTS, "unsigned long": INTS,
    "long long": INTS, "unsigned long long": INTS, "size_t": INTS, "unsigned char": INTS,
    "char": INTS, "short": INTS, "unsigned short": INTS,
    "double": ("float", "Double_val", "caml_copy_double"),
}


def snake(name: str) -> str:
    """GetXMLDesc -> get_xml_desc, MigrateToURI3 -> migrate_to_uri3."""
    return re.sub(r"_(?=[0-9])", "", "_".join(w.lower() for w in _WORD.findall(name)))


class Conventions:
    """The OCaml spelling of every C name the library exposes."""

    package = PACKAGE
    module = MODULE

    def _safe(self, name: str) -> str:
        return name + "_" if name in KEYWORDS or name in RESERVED else name

    def object_type(self, ctype: str) -> str:
        """virDomainPtr -> domain, virNWFilterBindingPtr -> nw_filter_binding"""
        return self._safe(snake(ctype[3:-3]))

    def object_module(self, ctype: str) -> str:
        """virDomainPtr -> Domain, virNWFilterBindingPtr -> NWFilterBinding"""
        return ctype[3:-3]

    def function(self, stem: str) -> str:
        """GetName -> get_name, DomainLookupByName -> domain_lookup_by_name."""
        return self._safe(snake(stem))

    def constant(self, cname: str) -> str:
        """VIR_DOMAIN_RUNNING -> domain_running"""
        return self._safe((cname[4:] if cname.startswith("VIR_") else cname).lower())

    def struct(self, cname: str) -> str:
        """_virDomainInfo -> domain_info"""
        return self._safe(snake(cname.lstrip("_")[3:]))

    def callback_constructor(self, cname: str) -> str:
        """virConnectDomainEventCallback -> Domain_event,
        virConnectNetworkEventLifecycleCallback -> Network_event_lifecycle"""
        base = re.sub(r"Callback$", "", re.sub(r"^virConnect|^vir", "", cname))
        return snake(base).capitalize()

    def stub(self, cname: str) -> str:
        """The C stub of a function: virDomainGetName -> pv_virDomainGetName"""
        return "pv_" + cname

    def cvar(self, cname: str) -> str:
        return "c_" + cname
