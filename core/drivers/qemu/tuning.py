"""Migration tuning flags and parameters -> QEMU capabilities and
parameters, with libvirt 9.0's checks (qemu_migration_params.c):

* VIR_MIGRATE_AUTO_CONVERGE: capability auto-converge (source), with
  auto_converge.initial/increment as cpu-throttle-initial/increment.
* VIR_MIGRATE_COMPRESSED: the methods of the `compression` parameters,
  xbzrle by default; xbzrle is capability xbzrle (+ xbzrle-cache-size),
  mt is capability compress (+ compress-level/threads, and
  decompress-threads on the destination).  libvirt 9.0 knows no zlib or
  zstd (multifd-compression came in 9.4): it calls them unsupported methods.
* VIR_MIGRATE_PARALLEL: capability multifd on both sides, with
  parallel.connections as multifd-channels on both (QEMU's default, 2,
  when not given; QEMU itself refuses a count outside 1..255).  The source
  then hands QEMU the URI (tcp: or unix:), as QEMU 7.2 opens every channel
  itself.

What a migration changed is put back afterwards (qemuMigrationParamsReset):
the capabilities off, the parameters to what query-migrate-parameters said.
"""

from __future__ import annotations

from typing import Any, Callable, Optional

from ... import errors, migration as mig
from ...errors import ErrorDomain, ErrorNumber

Q = ErrorDomain.VIR_FROM_QEMU
METHODS = ("xbzrle", "mt")
# typed parameter -> (QEMU parameter, the method it tunes, which side sets it)
_TUNABLES = {
    "compression.xbzrle.cache": ("xbzrle-cache-size", "xbzrle", "src"),
    "compression.mt.level": ("compress-level", "mt", "src"),
    "compression.mt.threads": ("compress-threads", "mt", "src"),
    "compression.mt.dthreads": ("decompress-threads", "mt", "dst"),
    "auto_converge.initial": ("cpu-throttle-initial", "", "src"),
    "auto_converge.increment": ("cpu-throttle-increment", "", "src"),
}
_TURN_ON = {"xbzrle": "xbzrle", "mt": "multithread"}


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
    if params.parallel_connections is not None and not flags & mig.VIR_MIGRATE_PARALLEL:
        raise _invalid("Turn parallel migration on to tune it")
    methods(flags, params)


def _side(flags: int, params: mig.MigrationParams,
          side: str) -> tuple[dict[str, bool], dict[str, Any]]:
    chosen = methods(flags, params)
    caps = {"xbzrle": "xbzrle" in chosen, "compress": "mt" in chosen,
            "multifd": bool(flags & mig.VIR_MIGRATE_PARALLEL)}
    if side == "src":
        caps["auto-converge"] = bool(flags & mig.VIR_MIGRATE_AUTO_CONVERGE)
    qparams = {_TUNABLES[name][0]: value for name, value in params.tuning.items()
               if _TUNABLES[name][2] == side}
    if params.parallel_connections is not None:
        qparams["multifd-channels"] = params.parallel_connections
    return caps, qparams


def source(flags: int, params: mig.MigrationParams) -> tuple[dict[str, bool], dict[str, Any]]:
    """migrate-set-capabilities and migrate-set-parameters for the source."""
    return _side(flags, params, "src")


def destination(flags: int,
                params: mig.MigrationParams) -> tuple[dict[str, bool], dict[str, Any]]:
    return _side(flags, params, "dst")

Call = Callable[[str, Optional[dict[str, Any]]], Any]   # a QMP command on one QEMU


def _caps(call: Call, caps: dict[str, bool]) -> None:
    call("migrate-set-capabilities",
         {"capabilities": [{"capability": k, "state": v} for k, v in caps.items()]})


def apply(call: Call, job: mig.MigrationJob, caps: dict[str, bool],
          qparams: dict[str, Any]) -> None:
    """Set one side's capabilities and parameters, keeping the parameters'
    old values for reset (libvirt queries them first, as here)."""
    _caps(call, caps)
    if qparams:
        current = call("query-migrate-parameters", None) or {}
        job.saved_params = {name: current[name] for name in qparams if name in current}
        call("migrate-set-parameters", qparams)


def reset(call: Call, job: mig.MigrationJob, caps: dict[str, bool]) -> None:
    """Turn the migration's capabilities off and put its parameters back."""
    _caps(call, {**caps, "multifd": False})
    if job.saved_params:
        call("migrate-set-parameters", job.saved_params)
