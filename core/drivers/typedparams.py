"""Checks of typed parameters that drivers share: libvirt's
virTypedParamsValidate, as its drivers call it before they act."""

from __future__ import annotations

from typing import Any

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

TypedParams = list[tuple[str, int, Any]]
TYPE_NAMES = ("", "int", "uint", "llong", "ullong", "double", "boolean", "string")


def check_params(params: TypedParams, allowed: dict[str, int]) -> None:
    """Reject unknown names, wrong types and repeats, as virTypedParamsValidate does."""
    seen: set[str] = set()
    for name, ptype, _ in params:
        if name not in allowed:
            raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED,
                                ErrorDomain.VIR_FROM_NONE, f"parameter '{name}' not supported")
        if ptype != allowed[name]:
            bad = TYPE_NAMES[ptype] if 0 < ptype < len(TYPE_NAMES) else "int"
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                f"invalid type '{bad}' for parameter '{name}', "
                                f"expected '{TYPE_NAMES[allowed[name]]}'")
        if name in seen:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                                f"parameter '{name}' occurs multiple times")
        seen.add(name)
