"""How the host readers fail: as libvirt's util/ helpers report it, from
VIR_FROM_NONE (they are not any driver's)."""

from __future__ import annotations

import os

from .. import errors
from ..errors import ErrorDomain, ErrorNumber

N = ErrorDomain.VIR_FROM_NONE


def error(code: ErrorNumber, detail: str) -> errors.VirtError:
    """virReportError from a util/ helper."""
    return errors.report(code, N, detail)


def system_error(err: int, what: str) -> errors.VirtError:
    """virReportSystemError: 'what: strerror'."""
    return errors.VirtError(ErrorNumber.VIR_ERR_SYSTEM_ERROR, N, f"{what}: {os.strerror(err)}")


def unknown_error() -> errors.VirtError:
    """What libvirt reports when a helper failed without saying why."""
    return errors.VirtError(ErrorNumber.VIR_ERR_INTERNAL_ERROR, N,
                            "An error occurred, but the cause is unknown")
