"""Migration shared by every driver (libvirt's libvirt-domain.c migration
helpers and the driver-independent half of qemu_migration.c).

* :class:`MigrationParams`: the typed parameters (``VIR_MIGRATE_PARAM_*``)
  parsed once and checked against their libvirt types.
* :class:`Cookie`: what the two sides tell each other between phases.
* :class:`MigrationJob`: one side's migration job, with an explicit phase
  state machine (``TRANSITIONS``), its start time and statistics.
* the event rules: how QEMU's STOP/RESUME/MIGRATION events on either side
  turn into domain states and lifecycle events during a migration, as
  libvirt 9.0 does (shared/reference/libvirt-qemu section 4), including
  post-copy's switchover, pause (POSTCOPY_FAILED) and recovery, and
  VIR_MIGRATE_ABORT_ON_ERROR's: a guest paused by a disk I/O error aborts
  the outgoing migration.
* :func:`migrate_managed`: the v3 protocol that the public API runs
  between a source and a destination connection (begin, prepare, perform,
  finish, confirm), with its abort rules: whatever fails, the guest ends up
  running on exactly one side.

A driver supplies the five phase entry points
(``domain_migrate_begin3_params`` ... ``domain_migrate_confirm3_params``).
"""

from __future__ import annotations

import dataclasses
import enum
import threading
import time
from typing import Any, Optional

from lxml import etree

from . import errors, viruuid
from .domainstate import DomainPausedReason as Paused, DomainRunningReason as Running
from .errors import ErrorDomain, ErrorNumber
from .events import DomainEventResumedDetail as Resumed, DomainEventSuspendedDetail as Suspended

D = ErrorDomain.VIR_FROM_DOMAIN

# -- flags (virDomainMigrateFlags)
VIR_MIGRATE_LIVE = 1 << 0
VIR_MIGRATE_PEER2PEER = 1 << 1
VIR_MIGRATE_TUNNELLED = 1 << 2
VIR_MIGRATE_PERSIST_DEST = 1 << 3
VIR_MIGRATE_UNDEFINE_SOURCE = 1 << 4
VIR_MIGRATE_PAUSED = 1 << 5
VIR_MIGRATE_NON_SHARED_DISK = 1 << 6
VIR_MIGRATE_NON_SHARED_INC = 1 << 7
VIR_MIGRATE_CHANGE_PROTECTION = 1 << 8
VIR_MIGRATE_UNSAFE = 1 << 9
VIR_MIGRATE_OFFLINE = 1 << 10
VIR_MIGRATE_COMPRESSED = 1 << 11
VIR_MIGRATE_ABORT_ON_ERROR = 1 << 12
VIR_MIGRATE_AUTO_CONVERGE = 1 << 13
VIR_MIGRATE_RDMA_PIN_ALL = 1 << 14
VIR_MIGRATE_POSTCOPY = 1 << 15
VIR_MIGRATE_TLS = 1 << 16
VIR_MIGRATE_PARALLEL = 1 << 17
VIR_MIGRATE_NON_SHARED_SYNCHRONOUS_WRITES = 1 << 18
VIR_MIGRATE_POSTCOPY_RESUME = 1 << 19
VIR_MIGRATE_ZEROCOPY = 1 << 20

# What this slice implements; the others fail with VIR_ERR_ARGUMENT_UNSUPPORTED.
SUPPORTED_FLAGS = (VIR_MIGRATE_LIVE | VIR_MIGRATE_PEER2PEER | VIR_MIGRATE_PERSIST_DEST
                   | VIR_MIGRATE_UNDEFINE_SOURCE | VIR_MIGRATE_PAUSED
                   | VIR_MIGRATE_CHANGE_PROTECTION | VIR_MIGRATE_UNSAFE
                   | VIR_MIGRATE_ABORT_ON_ERROR | VIR_MIGRATE_POSTCOPY
                   | VIR_MIGRATE_POSTCOPY_RESUME | VIR_MIGRATE_NON_SHARED_DISK
                   | VIR_MIGRATE_NON_SHARED_INC | VIR_MIGRATE_AUTO_CONVERGE
                   | VIR_MIGRATE_COMPRESSED | VIR_MIGRATE_TLS | VIR_MIGRATE_PARALLEL)
NON_SHARED = VIR_MIGRATE_NON_SHARED_DISK | VIR_MIGRATE_NON_SHARED_INC

# virDomainAbortJobFlagsValues, virDomainMigrateMaxSpeedFlags
VIR_DOMAIN_ABORT_JOB_POSTCOPY = 1 << 0
VIR_DOMAIN_MIGRATE_MAX_SPEED_POSTCOPY = 1 << 0
# QEMU_DOMAIN_MIG_BANDWIDTH_MAX: the largest MiB/s QEMU's byte counter holds
BANDWIDTH_MAX = (2 ** 63 - 1) >> 20

# -- typed parameters (VIR_MIGRATE_PARAM_*) and their libvirt types
P_INT, P_UINT, P_LLONG, P_ULLONG, P_DOUBLE, P_BOOLEAN, P_STRING = 1, 2, 3, 4, 5, 6, 7
PARAM_TYPES: dict[str, int] = {
    "migrate_uri": P_STRING, "destination_name": P_STRING, "destination_xml": P_STRING,
    "persistent_xml": P_STRING, "bandwidth": P_ULLONG, "bandwidth.postcopy": P_ULLONG,
    "graphics_uri": P_STRING, "listen_address": P_STRING, "migrate_disks": P_STRING,
    "disks_port": P_INT, "disks_uri": P_STRING, "compression": P_STRING,
    "compression.mt.level": P_INT, "compression.mt.threads": P_INT,
    "compression.mt.dthreads": P_INT, "compression.xbzrle.cache": P_ULLONG,
    "auto_converge.initial": P_INT, "auto_converge.increment": P_INT,
    "parallel.connections": P_INT, "tls.destination": P_STRING,
}
_INT_TYPES = (P_INT, P_UINT, P_LLONG, P_ULLONG)
_TYPE_NAMES = {P_INT: "int", P_UINT: "uint", P_LLONG: "llong", P_ULLONG: "ullong",
               P_DOUBLE: "double", P_BOOLEAN: "boolean", P_STRING: "string"}
TypedParams = list[tuple[str, int, Any]]


@dataclasses.dataclass
class MigrationParams:
    """The parameters of one migration (virTypedParameter list, parsed)."""
    uri: Optional[str] = None
    dname: Optional[str] = None
    dxml: Optional[str] = None
    persistent_xml: Optional[str] = None
    bandwidth: int = 0             # MiB/s, 0: unlimited
    bandwidth_postcopy: int = 0
    listen_address: Optional[str] = None
    migrate_disks: Optional[list[str]] = None   # targets; None: every writable disk
    disks_port: int = 0
    disks_uri: Optional[str] = None
    compression: list[str] = dataclasses.field(default_factory=list)
    tuning: dict[str, int] = dataclasses.field(default_factory=dict)  # compression.*, auto_converge.*
    parallel_connections: Optional[int] = None
    dom_xml: Optional[str] = None  # what Begin produced, handed to Prepare
    tls_destination: Optional[str] = None   # the name the destination's certificate carries

    @classmethod
    def parse(cls, params: TypedParams, fn: str) -> "MigrationParams":
        out = cls()
        for name, ptype, value in params or []:
            want = PARAM_TYPES.get(name)
            if want is None:
                raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED,
                                    ErrorDomain.VIR_FROM_NONE,   # virTypedParamsValidate's
                                    f"parameter '{name}' not supported")
            # python3-libvirt passes unsigned ints as ullong: any integer type will do
            # for an integer parameter (libvirt's virTypedParamsValidate is stricter).
            ok = (ptype == want or (want in _INT_TYPES and ptype in _INT_TYPES
                                    and isinstance(value, int)))
            if not ok:
                raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, D,
                                    f"invalid type '{_TYPE_NAMES.get(ptype, ptype)}' for "
                                    f"parameter '{name}', expected '{_TYPE_NAMES[want]}'")
            if name == "migrate_uri":
                out.uri = value
            elif name == "destination_name":
                out.dname = value
            elif name == "destination_xml":
                out.dxml = value
            elif name == "persistent_xml":
                out.persistent_xml = value
            elif name == "bandwidth":
                out.bandwidth = int(value)
            elif name == "bandwidth.postcopy":
                out.bandwidth_postcopy = int(value)
            elif name == "listen_address":
                out.listen_address = value
            elif name == "migrate_disks":    # may be given once per disk
                out.migrate_disks = (out.migrate_disks or []) + [value]
            elif name == "disks_port":
                out.disks_port = int(value)
            elif name == "disks_uri":
                out.disks_uri = value
            elif name == "compression":      # may be given once per method
                out.compression.append(value)
            elif name == "parallel.connections":
                out.parallel_connections = int(value)
            elif name == "tls.destination":
                out.tls_destination = value
            elif name.startswith(("compression.", "auto_converge.")):
                out.tuning[name] = int(value)
            else:
                raise errors.report(ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED, D,
                                    f"migration parameter '{name}' is not supported yet")
        return out


# -- the cookie
@dataclasses.dataclass
class Cookie:
    """<qemu-migration> as libvirt's qemuMigrationCookie carries it (the parts we use)."""
    name: str
    uuid: bytes
    hostname: str
    hostuuid: bytes
    stats: dict[str, int] = dataclasses.field(default_factory=dict)
    # storage copied over NBD: the source's disks (target -> capacity in
    # bytes), the destination's NBD server port in return
    nbd_disks: dict[str, int] = dataclasses.field(default_factory=dict)
    nbd_port: Optional[int] = None

    def format(self) -> bytes:
        root = etree.Element("qemu-migration")
        etree.SubElement(root, "name").text = self.name
        etree.SubElement(root, "uuid").text = viruuid.format(self.uuid)
        etree.SubElement(root, "hostname").text = self.hostname
        etree.SubElement(root, "hostuuid").text = viruuid.format(self.hostuuid)
        if self.stats:
            st = etree.SubElement(root, "statistics")
            for key, value in sorted(self.stats.items()):
                etree.SubElement(st, key).text = str(value)
        if self.nbd_disks or self.nbd_port is not None:
            nbd = etree.SubElement(root, "nbd")
            if self.nbd_port is not None:
                nbd.set("port", str(self.nbd_port))
            for target, capacity in self.nbd_disks.items():
                etree.SubElement(nbd, "disk", target=target, capacity=str(capacity))
        return etree.tostring(root) + b"\0"

    @classmethod
    def parse(cls, data: Optional[bytes]) -> Optional["Cookie"]:
        if not data:
            return None
        try:
            root = etree.fromstring(data.rstrip(b"\0"))
            stats = {e.tag: int(e.text or 0) for e in root.findall("statistics/*")}
            nbd = root.find("nbd")
            disks = {e.get("target", ""): int(e.get("capacity", "0"))
                     for e in (nbd.findall("disk") if nbd is not None else [])}
            port = nbd.get("port") if nbd is not None else None
            return cls(root.findtext("name") or "", viruuid.parse(root.findtext("uuid") or "") or b"",
                       root.findtext("hostname") or "",
                       viruuid.parse(root.findtext("hostuuid") or "") or b"", stats,
                       disks, int(port) if port is not None else None)
        except (etree.XMLSyntaxError, ValueError, TypeError):
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, D,
                                "Unable to parse migration cookie") from None


# -- the job and its phases
class Direction(enum.Enum):
    OUT = "out"
    IN = "in"


class Phase(enum.Enum):
    """qemuMigrationJobPhase (the v3 subset, with post-copy failure and recovery)."""
    NONE = "none"
    BEGIN3 = "begin3"
    PERFORM3 = "perform3"
    PERFORM3_DONE = "perform3_done"
    CONFIRM3_CANCELLED = "confirm3_cancelled"
    CONFIRM3 = "confirm3"
    PREPARE = "prepare"
    FINISH3 = "finish3"
    FINISH3_CANCELLED = "finish3_cancelled"
    POSTCOPY_FAILED = "postcopy_failed"     # paused post-copy: the job waits for a resume
    BEGIN_RESUME = "begin_resume"
    PERFORM_RESUME = "perform_resume"
    PREPARE_RESUME = "prepare_resume"


TRANSITIONS: dict[Phase, tuple[Phase, ...]] = {
    Phase.NONE: (Phase.BEGIN3, Phase.PREPARE),
    Phase.BEGIN3: (Phase.PERFORM3, Phase.CONFIRM3_CANCELLED),
    Phase.PERFORM3: (Phase.PERFORM3_DONE, Phase.CONFIRM3_CANCELLED, Phase.POSTCOPY_FAILED),
    Phase.PERFORM3_DONE: (Phase.CONFIRM3, Phase.CONFIRM3_CANCELLED, Phase.POSTCOPY_FAILED),
    Phase.PREPARE: (Phase.FINISH3, Phase.FINISH3_CANCELLED, Phase.POSTCOPY_FAILED),
    Phase.POSTCOPY_FAILED: (Phase.BEGIN_RESUME, Phase.PREPARE_RESUME),
    Phase.BEGIN_RESUME: (Phase.PERFORM_RESUME, Phase.POSTCOPY_FAILED),
    Phase.PERFORM_RESUME: (Phase.PERFORM3_DONE, Phase.POSTCOPY_FAILED),
    Phase.PREPARE_RESUME: (Phase.FINISH3, Phase.POSTCOPY_FAILED),
    Phase.CONFIRM3: (), Phase.CONFIRM3_CANCELLED: (), Phase.FINISH3: (),
    Phase.FINISH3_CANCELLED: (),
}

# QEMU MIGRATION statuses of a migration that has switched over to post-copy
POSTCOPY_STATUSES = ("postcopy-active", "postcopy-paused", "postcopy-recover")

# virDomainJobType / virDomainJobOperation
VIR_DOMAIN_JOB_NONE, VIR_DOMAIN_JOB_BOUNDED, VIR_DOMAIN_JOB_UNBOUNDED = 0, 1, 2
VIR_DOMAIN_JOB_COMPLETED, VIR_DOMAIN_JOB_FAILED, VIR_DOMAIN_JOB_CANCELLED = 3, 4, 5
VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN, VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT = 4, 5
VIR_DOMAIN_JOB_STATS_COMPLETED, VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED = 1, 2


@dataclasses.dataclass
class DomainJobInfo:
    """virDomainJobInfo; times in ms, sizes in bytes."""
    type: int = VIR_DOMAIN_JOB_NONE
    timeElapsed: int = 0
    timeRemaining: int = 0
    dataTotal: int = 0
    dataProcessed: int = 0
    dataRemaining: int = 0
    memTotal: int = 0
    memProcessed: int = 0
    memRemaining: int = 0
    fileTotal: int = 0
    fileProcessed: int = 0
    fileRemaining: int = 0


# query-migrate "ram" keys -> VIR_DOMAIN_JOB_* stats fields
_RAM_FIELDS = {"total": "memory_total", "transferred": "memory_processed",
               "remaining": "memory_remaining", "duplicate": "memory_constant",
               "normal": "memory_normal", "normal-bytes": "memory_normal_bytes",
               "dirty-pages-rate": "memory_dirty_rate",
               "dirty-sync-count": "memory_iteration", "page-size": "memory_page_size",
               "postcopy-requests": "memory_postcopy_requests"}


class MigrationJob:
    """One side's migration job.  The phase moves only along TRANSITIONS."""

    def __init__(self, direction: Direction, flags: int, params: MigrationParams) -> None:
        self.direction = direction
        self.flags = flags
        self.params = params
        self.phase = Phase.NONE
        self.started_wall_ms = int(time.time() * 1000)
        self._t0 = time.monotonic()
        self.stats: dict[str, int] = {}     # the latest query-migrate, as job stats
        self.disk_stats: dict[str, int] = {}   # storage copy: disk_total/processed/remaining
        self.mirrors: dict[str, str] = {}      # storage copy: block job id -> QEMU status
        self.mirror_errors: dict[str, str] = {}
        self.nbd_nodes: list[str] = []         # the source's NBD client nodes
        self.copy_disks: list[Any] = []        # the disks copied (the driver's own type)
        self.nbd_port: Optional[int] = None    # the destination's NBD server
        self.downtime_ms: Optional[int] = None
        self.status: Optional[str] = None   # QEMU's last MIGRATION status
        self.iteration = 0
        self.abort_requested = False
        self.continued = False                 # migrate-continue sent at pre-switchover
        self.continue_error: Optional[str] = None
        self.pre_state: Optional[int] = None   # the domain's state at Begin
        self.saved_params: dict[str, Any] = {}   # QEMU's before we set them, put back at the end
        self.cond = threading.Condition()

    def advance(self, phase: Phase) -> None:
        if phase not in TRANSITIONS[self.phase]:
            raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, D,
                                f"migration phase {phase.value} cannot follow "
                                f"{self.phase.value}")
        self.phase = phase

    def elapsed_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)

    def set_status(self, status: str) -> None:
        with self.cond:
            self.status = status
            self.cond.notify_all()

    def wake(self) -> None:
        """Make whoever waits for the migration look at the domain again
        (its state changed: an I/O error may abort the job)."""
        with self.cond:
            self.cond.notify_all()

    def update_from_qemu(self, info: dict[str, Any]) -> None:
        ram = info.get("ram") or {}
        stats = {field: int(ram[key]) for key, field in _RAM_FIELDS.items() if key in ram}
        if "mbps" in ram:   # QEMU's Mbit/s; the job stat is bytes/s, as libvirt's
            stats["memory_bps"] = int(ram["mbps"] * 125_000)
        if "downtime" in info:
            self.downtime_ms = int(info["downtime"])
        if "setup-time" in info:
            stats["setup_time"] = int(info["setup-time"])
        self.stats = stats

    @property
    def in_postcopy(self) -> bool:
        """Switched over: the guest's memory is split between the two sides,
        so the migration can no longer be cancelled, only paused and resumed."""
        return self.status in POSTCOPY_STATUSES or self.phase in (
            Phase.POSTCOPY_FAILED, Phase.BEGIN_RESUME, Phase.PERFORM_RESUME,
            Phase.PREPARE_RESUME)

    @property
    def operation(self) -> int:
        return (VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT if self.direction is Direction.OUT
                else VIR_DOMAIN_JOB_OPERATION_MIGRATION_IN)

    def typed_stats(self) -> TypedParams:
        """virDomainGetJobStats' parameters for this job while it runs."""
        return self.freeze().typed_stats()

    def job_info(self, job_type: int) -> DomainJobInfo:
        s, d = self.stats, self.disk_stats
        return DomainJobInfo(type=job_type, timeElapsed=self.elapsed_ms(),
                             dataTotal=s.get("memory_total", 0) + d.get("disk_total", 0),
                             dataProcessed=(s.get("memory_processed", 0)
                                            + d.get("disk_processed", 0)),
                             dataRemaining=(s.get("memory_remaining", 0)
                                            + d.get("disk_remaining", 0)),
                             fileTotal=d.get("disk_total", 0),
                             fileProcessed=d.get("disk_processed", 0),
                             fileRemaining=d.get("disk_remaining", 0),
                             memTotal=s.get("memory_total", 0),
                             memProcessed=s.get("memory_processed", 0),
                             memRemaining=s.get("memory_remaining", 0))

    def freeze(self) -> "CompletedJob":
        return CompletedJob(self.operation, self.elapsed_ms(), self.downtime_ms,
                            {**self.stats, **self.disk_stats})


@dataclasses.dataclass
class CompletedJob:
    """A finished migration's statistics (VIR_DOMAIN_JOB_STATS_COMPLETED)."""
    operation: int
    time_elapsed: int
    downtime: Optional[int]
    stats: dict[str, int]

    def typed_stats(self) -> TypedParams:
        out: TypedParams = [("operation", P_INT, self.operation),
                            ("time_elapsed", P_ULLONG, self.time_elapsed)]
        if self.downtime is not None:
            out.append(("downtime", P_ULLONG, self.downtime))
        out += [(k, P_ULLONG, v) for k, v in sorted(self.stats.items())]
        return out

    def job_info(self) -> DomainJobInfo:
        s = self.stats
        return DomainJobInfo(type=VIR_DOMAIN_JOB_COMPLETED, timeElapsed=self.time_elapsed,
                             dataTotal=s.get("memory_total", 0),
                             dataProcessed=s.get("memory_processed", 0),
                             memTotal=s.get("memory_total", 0),
                             memProcessed=s.get("memory_processed", 0))


# -- the event rules (libvirt 9.0, reference section 4)
def paused_reason_on_stop(job: Optional[MigrationJob]) -> Optional[int]:
    """Why QEMU's STOP paused the guest: an outgoing migration's convergence
    (or pause-before-switchover) is PAUSED_MIGRATION -> SUSPENDED_MIGRATED."""
    if job is not None and job.direction is Direction.OUT and job.phase is Phase.PERFORM3:
        return Paused.VIR_DOMAIN_PAUSED_MIGRATION
    return None


def continues_at_once(job: MigrationJob) -> bool:
    """An outgoing migration's switchover that the driver continues as soon
    as QEMU pauses before it (storage mirrors must end in sync first)."""
    return (job.direction is Direction.OUT and job.phase is Phase.PERFORM3
            and not job.mirrors and not job.continued)


def stop_waits_for_switchover(job: Optional[MigrationJob], reason: Optional[int]) -> bool:
    """QEMU's STOP is the switchover's (nobody asked for it, the migration is
    active) and QEMU will wait at pre-switchover for the driver: handling
    the STOP can wait until migrate-continue is sent."""
    return (reason is None and job is not None and job.status == "active"
            and continues_at_once(job))


@dataclasses.dataclass(frozen=True)
class StateChange:
    """A new state and reason and the lifecycle event that announces it."""
    state: int
    reason: int
    event: int
    detail: int


_SUSPENDED, _RESUMED = 3, 4   # virDomainEventType SUSPENDED, RESUMED
_RUNNING, _PAUSED = 1, 3      # virDomainState RUNNING, PAUSED


def correction_on_status(job: Optional[MigrationJob], status: str, state_paused: bool,
                         reason: int) -> Optional[StateChange]:
    """A MIGRATION status that changes a domain's reason without a STOP or
    RESUME from QEMU (libvirt 9.0, reference 4.2 and 4.5):

    * source, paused: postcopy-active moves PAUSED_MIGRATION (the switchover's
      STOP) or PAUSED_POSTCOPY_FAILED (a recovery) to PAUSED_POSTCOPY with
      SUSPENDED_POSTCOPY; postcopy-paused moves it to PAUSED_POSTCOPY_FAILED
      with SUSPENDED_POSTCOPY_FAILED.
    * destination, running (its CPUs started in post-copy): postcopy-paused
      gives RUNNING_POSTCOPY_FAILED with RESUMED_POSTCOPY_FAILED, and
      postcopy-active after it RUNNING_POSTCOPY with RESUMED_POSTCOPY.

    The switchover's correction is for an outgoing migration only, never on
    the destination (whose own STOP-less pause stays PAUSED_MIGRATION)."""
    if job is None:
        return None
    if job.direction is Direction.OUT:
        if not state_paused:
            return None
        if status == "postcopy-active" and reason in (Paused.VIR_DOMAIN_PAUSED_MIGRATION,
                                                      Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED):
            return StateChange(_PAUSED, Paused.VIR_DOMAIN_PAUSED_POSTCOPY, _SUSPENDED,
                               Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY)
        if status == "postcopy-paused" and reason != Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
            return StateChange(_PAUSED, Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED, _SUSPENDED,
                               Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED)
        return None
    if state_paused:
        return None
    if status == "postcopy-paused" and reason == Running.VIR_DOMAIN_RUNNING_POSTCOPY:
        return StateChange(_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED, _RESUMED,
                           Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED)
    if status == "postcopy-active" and reason == Running.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED:
        return StateChange(_RUNNING, Running.VIR_DOMAIN_RUNNING_POSTCOPY, _RESUMED,
                           Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY)
    return None


def failed_in_postcopy(job: MigrationJob, state_paused: bool,
                       reason: int) -> Optional[StateChange]:
    """A post-copy migration that failed (its other side gone or paused):
    the source stays PAUSED_POSTCOPY_FAILED, the destination
    RUNNING_POSTCOPY_FAILED (libvirt's qemuMigration{Src,Dst}PostcopyFailed)."""
    return correction_on_status(job, "postcopy-paused", state_paused, reason)


def running_reason_on_resume(job: Optional[MigrationJob]) -> Optional[int]:
    """Why QEMU's RESUME happened: on the destination, the end of an incoming
    migration (RESUMED_MIGRATED, or RESUMED_POSTCOPY while pages are still
    on the source); on the source, a cancelled migration (RESUMED_MIGRATED)."""
    if job is None:
        return None
    if job.direction is Direction.IN:
        return (Running.VIR_DOMAIN_RUNNING_POSTCOPY if job.status == "postcopy-active"
                else Running.VIR_DOMAIN_RUNNING_MIGRATED)
    return Running.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED


# -- disk I/O errors and VIR_MIGRATE_ABORT_ON_ERROR (qemuMigrationSrcIsAllowed,
# qemuMigrationAnyCompleted in libvirt 9.0's qemu_migration.c)
def paused_on_io_error(state: int, reason: int) -> bool:
    return state == _PAUSED and reason == Paused.VIR_DOMAIN_PAUSED_IOERROR


def check_begin_io_error(flags: int, state: int, reason: int, error_domain: int) -> None:
    """Begin refuses, with ABORT_ON_ERROR, a guest that an I/O error has
    paused already (an offline migration excepted)."""
    if (flags & VIR_MIGRATE_ABORT_ON_ERROR and not flags & VIR_MIGRATE_OFFLINE
            and paused_on_io_error(state, reason)):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, error_domain,
                            "cannot migrate domain with I/O error")


def aborts_on_io_error(job: Optional[MigrationJob], state: int, reason: int) -> bool:
    """An outgoing migration started with ABORT_ON_ERROR is cancelled once
    the guest is paused by an I/O error, while it can still be cancelled
    (not after the switchover to post-copy); without the flag it goes on."""
    return (job is not None and job.direction is Direction.OUT
            and bool(job.flags & VIR_MIGRATE_ABORT_ON_ERROR)
            and job.phase in (Phase.BEGIN3, Phase.PERFORM3) and not job.in_postcopy
            and paused_on_io_error(state, reason))


def resumes_after_failure(job: MigrationJob, state: int, reason: int) -> bool:
    """A failed Perform runs the source again if it ran when Begin came and
    is paused now, whatever paused it (an I/O error too: libvirt 9.0's
    qemuMigrationSrcRestoreDomainState; a still-full disk then pauses it
    again), but not a failed post-copy."""
    return (job.direction is Direction.OUT and job.pre_state == _RUNNING
            and state == _PAUSED and reason != Paused.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED)


def io_error_abort(error_domain: int) -> errors.VirtError:
    """The error of a migration that aborts_on_io_error."""
    return errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, error_domain,
                         "job 'migration out' failed due to I/O error")


RESUMED_DETAIL = {Running.VIR_DOMAIN_RUNNING_MIGRATED: Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
                  Running.VIR_DOMAIN_RUNNING_POSTCOPY: Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY}


# -- the v3 protocol, managed by the caller (libvirt's virDomainMigrateVersion3Full)
def migrate_managed(dom: Any, dconn: Any, params: TypedParams, flags: int,
                    fn: str = "virDomainMigrate3") -> Any:
    """Run begin, prepare, perform, finish, confirm between `dom`'s connection
    and `dconn`; returns the destination's domain handle.  `fn` is the public
    function named when a side cannot migrate at all.

    Abort rules: a failed Begin or Prepare changes nothing; a failed Perform
    makes Finish kill the destination (cancelled) and Confirm resume the
    source; a Finish that fails (no domain) makes Confirm resume the source.
    """
    src = dom.conn.driver
    dst = dconn.driver
    for drv in (src, dst):
        if drv.entry_point("virDomainMigrateBegin3Params") is None:
            raise errors.no_support(fn, D)
    parsed = MigrationParams.parse(params, "virDomainMigrate3")
    cookie, xml = src.domain_migrate_begin3_params(dom, parsed, flags)
    parsed.dom_xml = parsed.dxml or xml
    try:
        cookie, uri_out = dst.domain_migrate_prepare3_params(dconn, parsed, cookie, flags)
    except errors.VirtError:
        _confirm_quietly(src, dom, parsed, None, flags, cancelled=True)
        raise
    perform_params = dataclasses.replace(parsed, uri=uri_out or parsed.uri)
    perform_error: Optional[errors.VirtError] = None
    try:
        cookie = src.domain_migrate_perform3_params(dom, None, perform_params, cookie, flags)
    except errors.VirtError as exc:
        perform_error = exc
    # Finish runs even after a failed Perform: it kills the destination's QEMU.
    ddom = None
    finish_error: Optional[errors.VirtError] = None
    try:
        ddom, cookie = dst.domain_migrate_finish3_params(
            dconn, parsed, cookie, flags, perform_error is not None)
    except errors.VirtError as exc:
        finish_error = exc
    cancelled = ddom is None
    try:
        src.domain_migrate_confirm3_params(dom, parsed, cookie, flags, cancelled)
    except errors.VirtError:
        if not cancelled:
            pass   # the guest runs on the destination: the migration succeeded
        elif perform_error is None and finish_error is None:
            raise
    if perform_error is not None:
        raise perform_error
    if finish_error is not None:
        raise finish_error
    return ddom


def _confirm_quietly(src: Any, dom: Any, params: MigrationParams, cookie: Optional[bytes],
                     flags: int, cancelled: bool) -> None:
    try:
        src.domain_migrate_confirm3_params(dom, params, cookie, flags, cancelled)
    except errors.VirtError:
        pass
