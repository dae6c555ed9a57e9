"""The spec model: what apispec/*.xml says, as frozen dataclasses.

Loaded once by ``generator.spec.load``; emitters and templates read only this.
Facts that templates need (an error value, whether an argument is an output) are
properties here, never recomputed in a template.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

OBJECT_TYPES = (
    "virConnectPtr", "virDomainPtr", "virNetworkPtr", "virNetworkPortPtr",
    "virInterfacePtr", "virStoragePoolPtr", "virStorageVolPtr", "virNodeDevicePtr",
    "virSecretPtr", "virNWFilterPtr", "virNWFilterBindingPtr", "virStreamPtr",
    "virDomainSnapshotPtr", "virDomainCheckpointPtr",
)


@dataclass(frozen=True)
class Arg:
    """<function/arg>; ex) name='flags' type='unsigned int'

    dir: in, out or inout. length: the argument (or 'return') that gives the length
    of an array this argument points to, an expression of arguments
    ('maxinfo*maplen'), or 'null' for a NULL-terminated array. alloc: 'callee' when the function allocates
    what the argument receives and the caller frees it. nullable: NULL is accepted.
    opaque/free: for a callback argument, the arguments carrying its user data and
    the function that frees that data.
    """
    name: str
    type: str
    dir: str = "in"
    length: str | None = None
    alloc: str | None = None
    nullable: bool = False
    opaque: str | None = None
    free: str | None = None

    @property
    def is_object(self) -> bool:
        return self.type in OBJECT_TYPES

    def decl(self) -> str:
        sep = "" if self.type.endswith("*") else " "
        return f"{self.type}{sep}{self.name}"


@dataclass(frozen=True)
class Return:
    """<function/return>; ex) type='char *' owner='caller'

    owner: 'caller' (free() it), 'ref' (a new reference, released with virXxxFree),
    'library' (borrowed; valid as long as its object) or None for plain values.
    """
    type: str
    owner: str | None = None

    @property
    def is_void(self) -> bool:
        return self.type == "void"

    @property
    def is_pointer(self) -> bool:
        return self.type.endswith("*") or self.type in OBJECT_TYPES or self.type.endswith("Ptr")

    @property
    def error_value(self) -> str | None:
        """What the C function returns on failure: NULL, -1, 0 for unsigned results
        (virNodeGetFreeMemory, virDomainGetMaxMemory), or None for void."""
        if self.is_void:
            return None
        if self.is_pointer:
            return "NULL"
        return "0" if self.type.startswith("unsigned") else "-1"


@dataclass(frozen=True)
class Function:
    """<function>; ex) name='virConnectOpen' file='libvirt-host' version='LIBVIRT_0.0.3'"""
    name: str
    file: str
    version: str
    ret: Return
    args: tuple[Arg, ...]
    info: str = ""

    def prototype(self) -> str:
        args = ", ".join(a.decl() for a in self.args) or "void"
        sep = "" if self.ret.type.endswith("*") else " "
        return f"{self.ret.type}{sep}{self.name}({args})"


@dataclass(frozen=True)
class FuncType:
    """<functype>: a callback typedef; ex) name='virFreeCallback' file='libvirt-common'"""
    name: str
    file: str
    ret: Return
    args: tuple[Arg, ...]
    info: str = ""


@dataclass(frozen=True)
class Enum:
    """<enum>: one enumerator; ex) name='VIR_DOMAIN_RUNNING' type='virDomainState' value='1'

    sentinel: the _LAST value, only declared under VIR_ENUM_SENTINELS.
    """
    name: str
    file: str
    type: str
    value: int
    sentinel: bool = False
    info: str = ""


@dataclass(frozen=True)
class Typedef:
    """<typedef>; ex) name='virDomainPtr' type='virDomain *'; type='enum' for enum types"""
    name: str
    file: str
    type: str
    info: str = ""


@dataclass(frozen=True)
class Field:
    """<struct/field>; ex) name='state' type='unsigned char'; array: element count;
    type 'union' or 'struct' with nested fields for an inline aggregate.
    length: the field counting a pointer field's elements; ex) identities ->
    'nidentity'."""
    name: str
    type: str
    array: int | None = None
    fields: tuple[Field, ...] = ()
    deprecated: bool = False
    length: str | None = None


@dataclass(frozen=True)
class Struct:
    """<struct>; ex) name='_virDomainInfo' file='libvirt-domain'"""
    name: str
    file: str
    fields: tuple[Field, ...]
    info: str = ""


@dataclass(frozen=True)
class Variable:
    """<variable>: exported data; ex) name='virConnectAuthPtrDefault' type='virConnectAuthPtr'"""
    name: str
    file: str
    type: str
    version: str
    info: str = ""


@dataclass(frozen=True)
class Macro:
    """<macro>; ex) name='VIR_UUID_BUFLEN' value='(16)'; params for a function-like macro;
    param: for a typed parameter's name, the kind of its value as libvirt documents
    it (VIR_TYPED_PARAM_<param>), ex) name='VIR_DOMAIN_SCHEDULER_CPU_SHARES' param='ullong'"""
    name: str
    file: str
    value: str
    params: tuple[str, ...] | None = None
    info: str = ""
    param: str | None = None


@dataclass(frozen=True)
class Version:
    """<version>: a symbol version node; ex) name='LIBVIRT_0.0.5' parent='LIBVIRT_0.0.3'"""
    name: str
    parent: str | None = None


Decl = Function | FuncType | Enum | Typedef | Struct | Variable | Macro


@dataclass(frozen=True)
class Api:
    """<api>: one library; ex) name='libvirt' soname='libvirt.so.0'

    decls keeps the headers' declaration order, which the C headers need.
    """
    name: str
    soname: str
    files: tuple[str, ...]
    versions: tuple[Version, ...]
    decls: tuple[Decl, ...] = field(default=())

    def of(self, kind: type) -> list:
        return [d for d in self.decls if isinstance(d, kind)]

    @cached_property
    def functions(self) -> list[Function]:
        return self.of(Function)

    @cached_property
    def enums(self) -> list[Enum]:
        return self.of(Enum)

    @cached_property
    def by_name(self) -> dict[str, Decl]:
        return {d.name: d for d in self.decls}

    def in_file(self, file: str) -> list[Decl]:
        return [d for d in self.decls if d.file == file]

    @property
    def exports(self) -> list[Function | Variable]:
        return [d for d in self.decls if isinstance(d, (Function, Variable))]
