"""Migration tuning flags and parameters -> QEMU capabilities and
parameters, with libvirt 9.0's checks (qemu_migration_params.c):

* VIR_MIGRATE_AUTO_CONVERGE: capability auto-converge (source), with
  auto_converge.initial/increment as cpu-throttle-initial/increment.
* VIR_MIGRATE_COMPRESSED: the methods of the `compression` parameters,
  xbzrle by default; xbzrle is capability xbzrle (+ xbzrle-cache-size),
  mt is capability compress (+ compress-level/threads, and
  decompress-threads on the destination).  zlib and zstd need parallel
  (multifd) migration, which this driver does not do.
"""

from __future__ import annotations

from typing import Any

from ... import errors, migration as mig
from ...errors import ErrorDomain, ErrorNumber

Q = ErrorDomain.VIR_FROM_QEMU
METHODS = ("xbzrle", "mt", "zlib", "zstd")
# typed parameter -> (QEMU parameter, the method it tunes, which side sets it)
_TUNABLES = {
    "compression.xbzrle.cache": ("xbzrle-cache-size", "xbzrle", "src"),
    "compression.mt.level": ("compress-level", "mt", "src"),
    "compression.mt.threads": ("compress-threads", "mt", "src"),
    "compression.mt.dthreads": ("decompress-threads", "mt", "dst"),
    "compression.zlib.level": ("multifd-zlib-level", "zlib", "src"),
    "compression.zstd.level": ("multifd-zstd-level", "zstd", "src"),
    "auto_converge.initial": ("cpu-throttle-initial", "", "src"),
    "auto_converge.increment": ("cpu-throttle-increment", "", "src"),
}
_TURN_ON = {"xbzrle": "xbzrle", "mt": "multithread", "zlib": "zlib", "zstd": "zstd"}


def _invalid(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q, detail)


def methods(flags: int, params: mig.MigrationParams) -> list[str]:
    """The compression methods in use, after libvirt's checks."""
    chosen: list[str] = []
    for method in params.compression:
        if method not in METHODS:
            raise _invalid(f"Unsupported compression method '{method}'")
        if method in chosen:
            raise _invalid(f"Compression method '{method}' is specified twice")
        if method in ("zlib", "zstd") and not flags & mig.VIR_MIGRATE_PARALLEL:
            raise _invalid(f"Compression method '{method}' is only supported with "
                           "parallel migration")
        chosen.append(method)
    for name in params.tuning:
        method = _TUNABLES[name][1]
        if method and method not in chosen:
            raise _invalid(f"Turn {_TURN_ON[method]} compression on to tune it")
    if not chosen and flags & mig.VIR_MIGRATE_COMPRESSED:
        chosen = ["xbzrle"]
    return chosen


def check(flags: int, params: mig.MigrationParams) -> None:
    if (any(name.startswith("auto_converge.") for name in params.tuning)
            and not flags & mig.VIR_MIGRATE_AUTO_CONVERGE):
        raise _invalid("Turn auto convergence on to tune it")
    methods(flags, params)


def _side(flags: int, params: mig.MigrationParams,
          side: str) -> tuple[dict[str, bool], dict[str, Any]]:
    chosen = methods(flags, params)
    caps = {"xbzrle": "xbzrle" in chosen, "compress": "mt" in chosen}
    if side == "src":
        caps["auto-converge"] = bool(flags & mig.VIR_MIGRATE_AUTO_CONVERGE)
    qparams = {_TUNABLES[name][0]: value for name, value in params.tuning.items()
               if _TUNABLES[name][2] == side}
    return caps, qparams


def source(flags: int, params: mig.MigrationParams) -> tuple[dict[str, bool], dict[str, Any]]:
    """migrate-set-capabilities and migrate-set-parameters for the source."""
    return _side(flags, params, "src")


def destination(flags: int,
                params: mig.MigrationParams) -> tuple[dict[str, bool], dict[str, Any]]:
    return _side(flags, params, "dst")
