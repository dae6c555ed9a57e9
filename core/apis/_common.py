"""Argument checks shared by the pyvirt.apis modules, worded as libvirt's
virCheck* macros word them, and the call into a connection's driver."""

from __future__ import annotations

from typing import Any, Callable, Optional

from .. import errors
from ..errors import ErrorDomain, ErrorNumber
from ..objects import Connect

N = ErrorDomain.VIR_FROM_NONE


def conn(c: Any, fn: str, domain: int = N) -> Connect:
    if not isinstance(c, Connect) or c.closed:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_CONN, domain, fn)
    return c


def handle(obj: Any, cls: type, code: int, domain: int, fn: str) -> Any:
    """`obj` if it is a live handle of `cls`, else libvirt's invalid-pointer error."""
    if not isinstance(obj, cls) or obj.conn.closed:
        raise errors.report(code, domain, fn)
    return obj


def non_null(value: Any, arg: str, fn: str, domain: int) -> None:
    if value is None:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must not be NULL")


def non_empty(value: Optional[str], arg: str, fn: str, domain: int) -> None:
    """virCheckNonEmptyStringArg: not NULL, then not ""."""
    non_null(value, arg, fn, domain)
    if value == "":
        raise errors.invalid_arg(domain, fn, arg, f"string {arg} in {fn} must not be empty")


def non_negative(value: int, arg: str, fn: str, domain: int) -> None:
    if value < 0:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must be zero or greater")


def positive(value: int, arg: str, fn: str, domain: int) -> None:
    if value <= 0:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must be greater than zero")


def writable(c: Connect, fn: str, domain: int) -> None:
    if c.readonly:
        raise errors.operation_denied(fn, domain)


def entry(c: Connect, c_name: str, public: str, domain: int) -> Callable[..., Any]:
    """The driver's entry point for `c_name`; NO_SUPPORT names `public`."""
    found = c.driver.entry_point(c_name)
    if found is None:
        raise errors.no_support(public, domain)
    return found


def call(c: Connect, fn: str, domain: int, *args: Any, write: bool = False,
         entry_name: Optional[str] = None) -> Any:
    """Run the driver's entry point for public function `fn`."""
    if write:
        writable(c, fn, domain)
    return entry(c, entry_name or fn, fn, domain)(*args)


def non_zero(value: int, arg: str, fn: str, domain: int) -> None:
    if value == 0:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must not be zero")


def uuid_string(text: Any, arg: str, fn: str, domain: int) -> bytes:
    """The raw UUID `text` spells; libvirt's invalid-argument errors otherwise."""
    from .. import viruuid
    non_null(text, arg, fn, domain)
    raw = viruuid.parse(text)
    if raw is None:
        raise errors.invalid_arg(domain, fn, arg, f"{arg} in {fn} must be a valid UUID")
    return raw


def typed_in(params: Any, fn: str, domain: int, nonempty: bool) -> list:
    """A typed-parameter list a setter was given: libvirt refuses a NULL array,
    and, for `nonempty` setters, an empty one (nparams must be positive)."""
    non_null(params, "params", fn, domain)
    if nonempty:
        positive(len(params), "nparams", fn, domain)
    return list(params)
