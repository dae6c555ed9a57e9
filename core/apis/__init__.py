"""Public entry points beyond pyvirt.api's own, one module per object kind.

Each module lists its functions in ``__all__``; :func:`exported` gathers
them and pyvirt.api adds them to its namespace (its own definitions win),
so front ends still find every function as ``pyvirt.api.<C name>``.
"""

from __future__ import annotations

from typing import Any, Callable


def exported() -> dict[str, Callable[..., Any]]:
    from . import (checkpoint, domain_devices, domain_extra, domain_misc, guestagent, guestinfo,
                   host_extra, interface, migration, network, nodedev, nwfilter, qemu, secret,
                   snapshot, stats, storage, stream)
    table: dict[str, Callable[..., Any]] = {}
    for module in (network, storage, interface, nodedev, domain_extra, snapshot,
                   checkpoint, stream, guestinfo, migration, domain_misc, stats, host_extra,
                   domain_devices, secret, nwfilter, qemu, guestagent):
        for name in module.__all__:
            table[name] = getattr(module, name)
    return table
