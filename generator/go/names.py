"""Go's naming rules for the generated package, in one place; the generator and the
Go tests' checks (tests/bindings) both use :class:`Conventions`.

virDomainPtr -> Domain; virDomainGetName -> (*Domain).GetName; virDomainLookupByName
-> (*Connect).DomainLookupByName; virConnectOpen -> ConnectOpen; virDomainState ->
DomainState; VIR_DOMAIN_RUNNING -> DOMAIN_RUNNING; maxMem -> MaxMem.
"""

from __future__ import annotations

GO_KEYWORDS = {
    "break", "case", "chan", "const", "continue", "default", "defer", "else", "fallthrough",
    "for", "func", "go", "goto", "if", "import", "interface", "map", "package", "range",
    "return", "select", "struct", "switch", "type", "var",
}
# Names the generated method bodies use for themselves.
RESERVED = {"o", "err", "cErr", "cRet", "C", "unsafe", "string", "int", "uint", "bool", "len",
            "cap", "copy", "new", "make", "nil", "error", "byte", "id"}

# C scalar -> (Go type, cgo type)
SCALARS: dict[str, tuple[str, str]] = {
    "int": ("int", "C.int"), "unsigned int": ("uint", "C.uint"),
    "long": ("int64", "C.long"), "unsigned long": ("uint64", "C.ulong"),
    "long long": ("int64", "C.longlong"), "unsigned long long": ("uint64", "C.ulonglong"),
    "double": ("float64", "C.double"), "size_t": ("uint64", "C.size_t"),
    "unsigned char": ("uint8", "C.uchar"), "char": ("int8", "C.char"),
    "short": ("int16", "C.short"), "unsigned short": ("uint16", "C.ushort"),
}


class Conventions:
    """The Go spelling of every C name the package exposes."""

    def object(self, ctype: str) -> str:
        """virDomainPtr -> Domain"""
        return ctype[3:-3]

    def type_name(self, cname: str) -> str:
        """virDomainState -> DomainState, _virDomainInfo -> DomainInfo,
        virConnectDomainEventCallback -> ConnectDomainEventCallback"""
        return cname.lstrip("_")[3:]

    def constant(self, cname: str) -> str:
        """VIR_DOMAIN_RUNNING -> DOMAIN_RUNNING"""
        return cname[4:] if cname.startswith("VIR_") else cname

    def function(self, stem: str) -> str:
        """A package-level function or a method: the binding's stem as is."""
        return stem

    def field(self, cname: str) -> str:
        """maxMem -> MaxMem, nrVirtCpu -> NrVirtCpu"""
        return cname[:1].upper() + cname[1:]

    def cfield(self, cname: str) -> str:
        """How cgo spells a C struct field: Go keywords get a leading underscore."""
        return "_" + cname if cname in GO_KEYWORDS else cname

    def param(self, cname: str) -> str:
        """A Go parameter or local name for a C argument."""
        return cname + "_" if cname in GO_KEYWORDS or cname in RESERVED else cname

    def cvar(self, cname: str) -> str:
        """The local holding an argument's C value."""
        return "c_" + cname
