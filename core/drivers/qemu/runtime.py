"""Running QEMU for a domain: start, stop, monitor events, reconnection
(libvirt's qemu_process.c).

Locks: `host.lock` guards the domain list, states and runtimes; it is held
only briefly and never across a monitor call or a wait, because the QMP
thread takes it to handle events and exits.  A per-domain job lock
serializes the API calls that act on one domain (held across monitor
calls).  State changes and lifecycle events follow libvirt 9.0's QEMU
driver, as recorded in shared/reference/libvirt-qemu:

    start          RESUMED/UNPAUSED (from QEMU's RESUME), then STARTED/BOOTED
    start paused   STARTED/BOOTED, SUSPENDED/PAUSED          -> PAUSED/USER
    restore        STARTED/RESTORED, RESUMED/FROM_SNAPSHOT    -> RUNNING/RESTORED
    restore paused STARTED/RESTORED, SUSPENDED/RESTORED       -> PAUSED/MIGRATION
    save           SUSPENDED/PAUSED, STOPPED/SAVED            -> SHUTOFF/SAVED
    reboot (ACPI)  REBOOT per QEMU RESET, no lifecycle event  -> RUNNING/BOOTED
    guest poweroff SHUTDOWN/GUEST, STOPPED/SHUTDOWN           -> SHUTOFF/SHUTDOWN
    destroy        SHUTDOWN/HOST (QEMU's SIGTERM), STOPPED/DESTROYED
    QEMU killed    STOPPED/FAILED                             -> SHUTOFF/CRASHED
    disk I/O error IO_ERROR, IO_ERROR_REASON, SUSPENDED/IOERROR -> PAUSED/IOERROR
                   (a stopping policy; see ioerror.py)
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import select
import shutil
import signal
import threading
import time
from pathlib import Path
from typing import Any, Callable, Iterator, Optional

from ... import errors, events, migration
from ...domainobj import DomainObj, DomainObjList
from ...domainstate import (DomainPausedReason, DomainRunningReason, DomainShutdownReason,
                            DomainShutoffReason, DomainState)
from ...errors import ErrorDomain, ErrorNumber
from ...events import (DomainEventResumedDetail as Resumed,
                       DomainEventShutdownDetail as Shutdown,
                       DomainEventStartedDetail as Started,
                       DomainEventStoppedDetail as Stopped,
                       DomainEventSuspendedDetail as Suspended, DomainEventType as E)
from . import (affect, capabilities, channels, command, consoles, disknodes, guestcpu,
               monitorevents, netdev, process, status, taint)
from .monitor import Monitor, MonitorError, unwatch_exit, watch_exit
from .paths import RootLayout
from .statusfiles import StatusFiles
from .statuswrite import PreparedStatus
from .unixsock import unix_connect, unix_listen

Q = ErrorDomain.VIR_FROM_QEMU
S = DomainState
JOB_WAIT = 30.0          # libvirt's job wait before "cannot acquire state change lock"
MONITOR_WAIT = 30.0      # QEMU's greeting after spawn
KILL_WAIT = 10.0         # SIGTERM grace before SIGKILL, as virProcessKillPainfully

BATCH_KEY = "migration_batch"   # obj.private: qmp_thread.batch()'s release

_SUSPENDED_DETAIL = {
    DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION: Suspended.VIR_DOMAIN_EVENT_SUSPENDED_MIGRATED,
    DomainPausedReason.VIR_DOMAIN_PAUSED_IOERROR: Suspended.VIR_DOMAIN_EVENT_SUSPENDED_IOERROR,
    DomainPausedReason.VIR_DOMAIN_PAUSED_WATCHDOG: Suspended.VIR_DOMAIN_EVENT_SUSPENDED_WATCHDOG,
    DomainPausedReason.VIR_DOMAIN_PAUSED_FROM_SNAPSHOT:
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_FROM_SNAPSHOT,
    DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY: Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY,
    DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED:
        Suspended.VIR_DOMAIN_EVENT_SUSPENDED_POSTCOPY_FAILED,
}
_RESUMED_DETAIL = {
    DomainRunningReason.VIR_DOMAIN_RUNNING_RESTORED: Resumed.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT,
    DomainRunningReason.VIR_DOMAIN_RUNNING_FROM_SNAPSHOT:
        Resumed.VIR_DOMAIN_EVENT_RESUMED_FROM_SNAPSHOT,
    DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATED: Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
    DomainRunningReason.VIR_DOMAIN_RUNNING_MIGRATION_CANCELED:
        Resumed.VIR_DOMAIN_EVENT_RESUMED_MIGRATED,
    DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY: Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY,
    DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED:
        Resumed.VIR_DOMAIN_EVENT_RESUMED_POSTCOPY_FAILED,
}


@dataclasses.dataclass(eq=False)
class Runtime:
    """What a running domain has beyond its record (qemuDomainObjPrivate)."""
    monitor_path: str
    process: Optional[process.QemuProcess] = None
    monitor: Optional[Monitor] = None
    starting: bool = True
    being_destroyed: bool = False
    exit_coming: bool = False      # a destroy's SIGTERM: after SHUTDOWN, QEMU only exits
    got_shutdown: bool = False
    stopped: bool = False
    paused_reason: Optional[int] = None    # why the next STOP happens
    stop_deferred: bool = False    # the switchover's STOP, handled after the continue
    running_reason: Optional[int] = None   # why the next RESUME happens
    fake_reboot: bool = False      # virDomainReboot: the guest's poweroff becomes a reset
    quiet: bool = False            # being stopped by the driver: QEMU's events don't count
    migration_status: Optional[str] = None   # last MIGRATION event (save, restore)
    migration_cond: threading.Condition = dataclasses.field(
        default_factory=threading.Condition)
    vcpu_tids: Optional[dict[int, int]] = None   # vCPU id -> thread (vcpuhotplug.py)
    balloon_actual: Optional[int] = None   # KiB, from QEMU (balloon.py)
    balloon_period: Optional[int] = None   # live guest-stats polling interval
    taps: list[str] = dataclasses.field(default_factory=list)   # made by us: deleted on stop
    consoles: Optional[consoles.Consoles] = None   # ptys and VNC port, for the live XML
    channels: Optional[channels.ChannelState] = None   # sockets and states, for the live XML
    # console and channel streams open on its devices (chardevs.py), by device path
    streams: dict[str, Any] = dataclasses.field(default_factory=dict)
    cpu: Optional[Any] = None      # the live <cpu> (guestcpu.py), kept in the status
    cpu_key: Optional[tuple[Any, ...]] = None   # what QEMU's answer about it depends on
    taints: set[str] = dataclasses.field(default_factory=set)   # taint.py, kept in the status
    node_index: Optional[int] = None   # last disk image number given by a hotplug (hotplug.py)
    blockjobs: dict[str, Any] = dataclasses.field(default_factory=dict)   # by QEMU's job id
    # (blockjob.BlockJob; blockjobs.py, blockjobevents.py), kept in the status
    status_text: str = ""          # what the status file holds now
    held_status: Optional[int] = None   # an fd on a start's first status (hold_first_status)
    ahead: list[PreparedStatus] = dataclasses.field(default_factory=list)   # statuses prepared


def end_batch(obj: DomainObj) -> None:
    """Release the QMP thread's batch hold of an outgoing migration (see
    Migration.domain_migrate_perform3_params), if `obj` has one."""
    release = obj.private.pop(BATCH_KEY, None)
    if release is not None:
        release()


def qemu_error(code: int, detail: str) -> errors.VirtError:
    return errors.report(code, Q, detail)


class QemuHost(StatusFiles):
    """The domains of one embed root and the QEMU processes behind them."""

    def __init__(self, layout: RootLayout) -> None:
        self.layout = layout
        self.lock = threading.RLock()
        self.domains = DomainObjList()
        self.runtime: dict[bytes, Runtime] = {}
        self._jobs: dict[bytes, threading.Lock] = {}
        self.next_dom_id = 1
        self.closed = False

    # -- helpers
    @contextlib.contextmanager
    def job(self, uuid: bytes) -> Iterator[None]:
        with self.lock:
            lock = self._jobs.setdefault(uuid, threading.Lock())
        if not lock.acquire(timeout=JOB_WAIT):
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_TIMEOUT,
                             "cannot acquire state change lock")
        try:
            yield
        finally:
            lock.release()

    def event(self, obj: DomainObj, event: int, detail: int) -> None:
        events.queue_lifecycle(self, obj.name, obj.uuid, obj.id, event, detail)

    def stop_locked(self, obj: DomainObj, reason: int, keep: bool = False) -> None:
        """The process is gone (or never came): shut `obj` off and clean up;
        a transient `obj` goes too unless `keep` (a revert starts it again)."""
        rt = self.runtime.pop(obj.uuid, None)
        if rt is not None:
            rt.stopped = True
            self.drop_prepared(rt, armed_too=True)
            self.release_first_status(rt)
            if rt.monitor is not None:
                rt.monitor.close()
        name, dom_id = obj.name, obj.id
        for fd in obj.private.pop("perf_fds", {}).values():   # tuneapi's counters on QEMU
            os.close(fd)
        if rt is not None:   # console and channel streams end with their devices
            for stream in list(rt.streams.values()):
                if stream.backend is not None:
                    stream.backend.end()
        # a migration job ends with its QEMU, also one paused in post-copy
        # (waiting for a resume that can no longer come)
        obj.private.pop("migration", None)
        job_lock = obj.private.pop("migration_lock", None)
        if job_lock is not None:
            job_lock.release()
        end_batch(obj)
        obj.set_state(S.VIR_DOMAIN_SHUTOFF, reason)
        why = status.reason_name(S.VIR_DOMAIN_SHUTOFF, reason)   # 'from snapshot', as libvirt
        command.log_append(self.layout.log_file(name),
                           f"{command.log_stamp()}: shutting down, reason={why}\n")
        obj.def_.id = -1
        if rt is not None:
            for tap in rt.taps:
                netdev.delete_tap(tap)
        netdev.forget_live(obj.def_)
        disknodes.forget(obj.def_)
        if rt is not None and rt.channels is not None and rt.channels.target_dir:
            shutil.rmtree(rt.channels.target_dir, ignore_errors=True)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.layout.status_file(name))
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self.layout.pid_file(name))
        if dom_id >= 0:
            ddir = self.layout.domain_dir(dom_id, name)
            try:
                os.rmdir(ddir)   # usually empty: QEMU removed its monitor socket
            except FileNotFoundError:
                pass
            except OSError:
                shutil.rmtree(ddir, ignore_errors=True)
        obj.def_, obj.new_def = affect.reparsed_at_stop(obj), None
        if not obj.persistent and not keep:
            self.discard_snapshots(obj)
            self.domains.remove(obj)
            self._jobs.pop(obj.uuid, None)

    def discard_snapshots(self, obj: DomainObj) -> None:
        """Forget the snapshots of a domain that goes away (lock held); see snapshot.py."""

    # -- start
    def start(self, obj: DomainObj, paused: bool,
              incoming: Optional[Callable[[Runtime], None]] = None,
              started_detail: int = Started.VIR_DOMAIN_EVENT_STARTED_RESTORED,
              boot_details: Optional[tuple[int, int]] = (
                  Started.VIR_DOMAIN_EVENT_STARTED_BOOTED,
                  Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED),
              loadvm: Optional[str] = None) -> None:
        """Boot `obj` (job held, lock not held); on failure it is shut off again.
        With `incoming` (restore), QEMU waits for a migration stream, which
        `incoming(rt)` feeds; `obj` is then left PAUSED/MIGRATION after
        STARTED/RESTORED (or `started_detail`: STARTED/MIGRATED for an incoming
        migration), for the caller to resume.  Otherwise STARTED and, when
        `paused`, SUSPENDED follow with `boot_details` (None: no event, the
        caller's); `loadvm`: the internal snapshot QEMU loads (-loadvm)."""
        d = obj.def_
        emulator = command.emulator_of(d) or capabilities.emulator_path(d.os.arch) or ""
        accel = "kvm" if d.virt_type == "kvm" else "tcg"
        guestcpu.check_host(d, emulator)
        with self.lock:
            d.id = self.next_dom_id
            self.next_dom_id += 1
            obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_STARTING_UP)
            ddir = self.layout.domain_dir(d.id, d.name)
            rt = Runtime(monitor_path=str(ddir / "monitor.sock"))
            self.runtime[obj.uuid] = rt
            # pid 0: a start in progress, found by a later driver; written by
            # the status thread while the launch is made ready, renamed into
            # place before QEMU runs
            first = self.write_ahead(obj, rt, obj.state, obj.reason)
        try:
            cpu_key = self._launch(obj, rt, emulator, accel, incoming is not None, paused, first,
                                   loadvm)
            mon = rt.monitor
            assert mon is not None   # _launch connected it, direct (qmpdirect)
            self.setup_balloon(obj, rt, incoming is not None)
            self.setup_vcpus(obj, rt)  # type: ignore[attr-defined]
            self.pin_threads(obj, rt)  # type: ignore[attr-defined]
            self.setup_throttling(obj, rt)  # type: ignore[attr-defined]
            rt.consoles = consoles.query(lambda c, a: self._monitor_call(rt, c, a), obj.def_)
            channels.refresh(self, obj, rt.channels, lambda c: self._monitor_call(rt, c),
                             channels.REASON_DOMAIN_STARTED)
            meanwhile = None
            if cpu_key is not None:   # the first start of its kind: QEMU tells
                rt.cpu = guestcpu.query(lambda cmds: self._monitor_calls(rt, cmds),
                                        obj.def_, cpu_key)
                with self.lock:   # the statuses prepared at launch lacked it
                    meanwhile = self._prepare_started(obj, rt, incoming is not None, paused)
            guestcpu.verify(obj.def_, rt.cpu_key)
            if obj.def_.on_reboot == "destroy":
                # a guest's reset becomes a shutdown: libvirt 9.0 says so here
                # rather than with -no-reboot (QEMU keeps it over a reset)
                self._monitor_call(rt, "set-action", {"reboot": "shutdown"})
            if incoming is not None:
                mon.hand_over()   # the stream's events are the QMP thread's
                incoming(rt)
            elif not paused:
                rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED
                self._monitor_call(rt, "cont", meanwhile=meanwhile)
                meanwhile = None
            if meanwhile is not None:
                meanwhile(lambda: False)
        except (errors.VirtError, OSError) as exc:
            self._abort_start(obj, rt)
            if isinstance(exc, OSError):
                raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                                 f"failed to start QEMU: {exc}") from None
            raise
        with self.lock:
            if not self._finish_starting(obj, rt):
                if incoming is not None:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                     "domain is no longer running")
                return
            if incoming is not None:
                obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION)
                self.event(obj, E.VIR_DOMAIN_EVENT_STARTED, started_detail)
                self.save_status(obj)
                self.release_first_status(rt)
                return
            if paused:
                obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_USER)
            if boot_details is not None:
                self.event(obj, E.VIR_DOMAIN_EVENT_STARTED, boot_details[0])
                if paused:
                    self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED, boot_details[1])
            if obj.state != S.VIR_DOMAIN_RUNNING:   # running: RESUME's handler saved it
                self.save_status(obj)
            self.drop_prepared(rt)
        # QEMU's later events are the QMP thread's, and the first status goes
        mon.hand_over_soon(then=lambda: self.release_first_status(rt))

    def _prepare_started(self, obj: DomainObj, rt: Runtime, incoming: bool, paused: bool
                         ) -> Optional[Callable[[Callable[[], bool]], None]]:
        """prepare_status for the transition that ends a start (and the
        likely next one's); for an incoming stream, start's end (paused for
        the stream)."""
        if incoming:
            return self.prepare_status(obj, rt, (
                S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_MIGRATION))
        running = (S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED)
        paused_by_user = (S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_USER)
        if paused:
            return self.prepare_status(obj, rt, paused_by_user, (
                S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED))
        return self.prepare_status(obj, rt, running, paused_by_user)

    def _launch(self, obj: DomainObj, rt: Runtime, emulator: str, accel: str,
                incoming: bool = False, paused: bool = False,
                first: Optional[PreparedStatus] = None,
                loadvm: Optional[str] = None) -> Optional[tuple[Any, ...]]:
        """Run QEMU and connect to its monitor, the status `first` (start
        in progress) saved before.  The answer key of the guest CPU still to
        ask QEMU about (guestcpu.query), or None when it is known (rt.cpu)
        or there is nothing to ask."""
        d = obj.def_
        Path(rt.monitor_path).parent.mkdir(parents=True, exist_ok=True)
        pidfile = self.layout.pid_file(d.name)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(pidfile)
        # QEMU keeps the mode of a pid file that is there (its own is 0600)
        os.close(os.open(pidfile, os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
        disknodes.assign(d)        # numbers the disks' images in the live definition
        taps = netdev.prepare(d)   # names the taps in the live definition
        with self.lock:
            rt.taps = list(taps.created)
        chan_dir = self.layout.channel_dir(d.id, d.name)
        rt.channels = channels.ChannelState(channels.socket_paths(d, chan_dir),
                                            target_dir=str(chan_dir))
        try:
            listener = unix_listen(rt.monitor_path)
            chan_socks = channels.listen(rt.channels.paths)
        except OSError:
            taps.close()
            raise
        chan_fds = [s.fileno() for s in chan_socks]
        try:
            argv = command.build(d, emulator, accel, command.LaunchPaths(
                str(pidfile), listener.fileno(), taps.tap_fds, taps.vhost_fds, chan_fds),
                self.config.seccomp_sandbox)  # type: ignore[attr-defined]
            if incoming:
                argv += ["-incoming", "defer"]
            cpu_key = rt.cpu_key = guestcpu.answer_key(d, argv)
            if loadvm is not None:   # where libvirt puts it: before -sandbox
                at = argv.index("-sandbox") if "-sandbox" in argv else len(argv)
                argv[at:at] = ["-loadvm", loadvm]
            rt.cpu = guestcpu.known(d, cpu_key)
            log_fd = os.open(self.layout.log_file(d.name),
                             os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o600)
            try:
                rt.taints = set(taint.at_start())
                taints = "".join(taint.line(d.id, flag) for flag in sorted(rt.taints))
                env = command.environment(str(Path(rt.monitor_path).parent))
                os.write(log_fd, f"{command.log_stamp()}: {command.log_startup(emulator)}\n"
                                 f"{command.log_text(env, argv)}{taints}".encode())
                log_start = os.lseek(log_fd, 0, os.SEEK_END)
                with self.lock:   # the status as the start began, before the
                    # launch named the disks' nodes and the taps (later saves have them)
                    self.save_status(obj, None if first is None else first.text)
                    self.hold_first_status(obj, rt)
                proc = process.spawn(argv, env, log_fd,
                                     (listener.fileno(), *chan_fds) + taps.pass_fds())
            finally:
                os.close(log_fd)
        finally:
            listener.close()  # QEMU holds its own copy: it alone listens now
            for sock in chan_socks:
                sock.close()
            taps.close()      # and of the taps: they go when QEMU goes
        with self.lock:
            # No status write for the pid: the status says "start in progress"
            # (pid 0) until the guest's first transition, and a later driver
            # finds a half-started QEMU by its pidfile marker and kills it,
            # pid or no pid; one fsync less on every start.
            rt.process = proc
            # that transition's status is written while QEMU boots (and the
            # one of a suspend, or of a resume when started paused)
            meanwhile = self._prepare_started(obj, rt, incoming, paused)
        watch_exit(proc, lambda: self._on_exit(obj.uuid, rt))
        mon = Monitor(d.name, lambda ev, data: self._on_event(obj.uuid, rt, ev, data),
                      lambda: self._on_eof(obj.uuid, rt), monitorevents.event_relay(self, obj))
        try:
            mon.connect_direct(unix_connect(rt.monitor_path), MONITOR_WAIT,
                               meanwhile=meanwhile)
        except (MonitorError, OSError):
            proc.wait(2.0)
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             "process exited while connecting to monitor: "
                             + self._log_tail(d.name, log_start)) from None
        rt.monitor = mon
        return cpu_key if rt.cpu is None else None

    def _log_tail(self, name: str, offset: int) -> str:
        try:
            with open(self.layout.log_file(name), "rb") as f:
                f.seek(offset)
                lines = f.read().decode(errors="replace").splitlines()
        except OSError:
            return ""
        # QEMU's warnings (CPU features and the like) are not why it failed.
        return "\n".join(line for line in lines if ": warning: " not in line).strip()

    def _abort_start(self, obj: DomainObj, rt: Runtime) -> None:
        if rt.process is not None:
            rt.process.kill(signal.SIGKILL)
            rt.process.wait(KILL_WAIT)
        with self.lock:
            if self.runtime.get(obj.uuid) is rt:
                self.stop_locked(obj, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_FAILED)

    def _monitor_call(self, rt: Runtime, cmd: str, args: Optional[dict[str, Any]] = None,
                      meanwhile: Optional[Callable[[Callable[[], bool]], None]] = None) -> Any:
        return self._monitor_run(rt, cmd, lambda mon: mon.execute(cmd, args, meanwhile=meanwhile))

    def _monitor_calls(self, rt: Runtime,
                       cmds: list[tuple[str, Optional[dict[str, Any]]]]) -> list[Any]:
        """Independent commands sent at once (Monitor.execute_all)."""
        return self._monitor_run(rt, cmds[0][0], lambda mon: mon.execute_all(cmds))

    @staticmethod
    def _monitor_run(rt: Runtime, cmd: str, run: Callable[[Monitor], Any]) -> Any:
        if rt.monitor is None or rt.stopped:
            raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED, "domain is no longer running")
        try:
            return run(rt.monitor)
        except MonitorError as exc:
            if exc.eof:
                raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                 "domain is no longer running") from None
            raise qemu_error(ErrorNumber.VIR_ERR_INTERNAL_ERROR,
                             f"unable to execute QEMU command '{cmd}': {exc}") from None

    # -- stop
    def destroy(self, obj: DomainObj, rt: Runtime, graceful: bool) -> bool:
        """Kill QEMU and wait for it (no fixed sleep: the pidfd says when).
        False when a graceful destroy found QEMU still alive."""
        with self.lock:
            rt.being_destroyed = True
            rt.fake_reboot = False
            job = obj.private.get("migration")
            # vCPUs waiting for pages of a post-copy migration never let QEMU
            # act on SIGTERM (libvirt waits out its 10 s before SIGKILL)
            stuck = (not graceful and job is not None
                     and job.direction is migration.Direction.IN and job.in_postcopy)
        proc = rt.process
        if proc is not None:
            if not graceful:
                rt.exit_coming = True
            proc.kill(signal.SIGKILL if stuck else signal.SIGTERM)
            if not graceful:   # no transition to come: their files go while QEMU exits
                with self.lock:
                    self.drop_prepared(rt, armed_too=True)
            if not proc.wait(KILL_WAIT):
                if graceful:
                    with self.lock:
                        rt.being_destroyed = False
                        self.save_status(obj)   # a SHUTDOWN seen meanwhile was not saved
                    return False
                proc.kill(signal.SIGKILL)
                proc.wait(KILL_WAIT)
        with self.lock:
            if self.runtime.get(obj.uuid) is rt and not rt.stopped:
                self.stop_locked(obj, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_DESTROYED)
                # after: as libvirt's, the event's domain has no id any more
                self.event(obj, E.VIR_DOMAIN_EVENT_STOPPED, Stopped.VIR_DOMAIN_EVENT_STOPPED_DESTROYED)
        return True

    # -- what QEMU tells us (QMP thread)
    def _live(self, uuid: bytes, rt: Runtime) -> Optional[DomainObj]:
        if self.closed or rt.stopped or self.runtime.get(uuid) is not rt:
            return None
        return self.domains.find_by_uuid(uuid)

    def _on_event(self, uuid: bytes, rt: Runtime, name: str, data: dict[str, Any]) -> None:
        with self.lock:
            obj = self._live(uuid, rt)
            if obj is None:
                return
            if rt.quiet:
                return
            if name == "STOP" and obj.state == S.VIR_DOMAIN_RUNNING and \
                    migration.stop_waits_for_switchover(obj.private.get("migration"),
                                                        rt.paused_reason):
                rt.stop_deferred = True   # handled once migrate-continue is out
                return
            continued = name == "MIGRATION" and self.continue_switchover(
                obj, rt, str(data.get("status")))
            if rt.stop_deferred and not continued:
                # past the switchover's continue: the work of the STOP comes
                # after QEMU's next event, off the guest's downtime
                rt.stop_deferred = False
                self._handle_stop(obj, rt)
            if name == "STOP":
                self._handle_stop(obj, rt)
            elif name == "RESET":
                events.queue_domain_event(self, events.DomainEventID.VIR_DOMAIN_EVENT_ID_REBOOT,
                                          obj.name, obj.uuid, obj.id)
                rt.fake_reboot = False
            elif name == "MIGRATION":
                with rt.migration_cond:
                    rt.migration_status = str(data.get("status"))
                    rt.migration_cond.notify_all()
                self.on_migration_event(obj, rt, name, data)
            elif name in ("MIGRATION_PASS", "JOB_STATUS_CHANGE", "BLOCK_JOB_COMPLETED"):
                self.on_migration_event(obj, rt, name, data)
                if name == "JOB_STATUS_CHANGE":
                    self.on_block_job_event(obj, rt, data)
            elif name == "RESUME":
                self._handle_resume(obj, rt)
            elif name == "SHUTDOWN":
                self._handle_shutdown(obj, rt, data)
            elif name == "BALLOON_CHANGE":
                self.on_balloon_change(obj, rt, data)
            elif name == "VSERPORT_CHANGE" and rt.channels is not None:
                channels.port_changed(self, obj, rt.channels, data)
            elif name == "BLOCK_IO_ERROR":
                self.on_io_error(obj, rt, data)
            elif name == "DUMP_COMPLETED":
                self.on_dump_completed(obj, rt, data)
            elif name == "DEVICE_DELETED":
                self.on_device_deleted(obj, rt, data)

    def _handle_stop(self, obj: DomainObj, rt: Runtime) -> None:
        reason = rt.paused_reason
        rt.paused_reason = None
        if rt.got_shutdown or obj.state != S.VIR_DOMAIN_RUNNING:
            return
        if reason is None:
            reason = (migration.paused_reason_on_stop(obj.private.get("migration"))
                      or DomainPausedReason.VIR_DOMAIN_PAUSED_UNKNOWN)
        obj.set_state(S.VIR_DOMAIN_PAUSED, reason)
        self.event(obj, E.VIR_DOMAIN_EVENT_SUSPENDED,
                   _SUSPENDED_DETAIL.get(reason, Suspended.VIR_DOMAIN_EVENT_SUSPENDED_PAUSED))
        self.save_status(obj)

    def _handle_resume(self, obj: DomainObj, rt: Runtime) -> None:
        reason = rt.running_reason
        rt.running_reason = None
        if reason is None:
            reason = (migration.running_reason_on_resume(obj.private.get("migration"))
                      or DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED)
        if obj.state == S.VIR_DOMAIN_RUNNING:
            return
        obj.set_state(S.VIR_DOMAIN_RUNNING, reason)
        self.event(obj, E.VIR_DOMAIN_EVENT_RESUMED,
                   _RESUMED_DETAIL.get(reason, Resumed.VIR_DOMAIN_EVENT_RESUMED_UNPAUSED))
        self.save_status(obj)

    def _handle_shutdown(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        if rt.got_shutdown:
            return
        rt.got_shutdown = True
        # libvirt: a fake reboot's shutdown is transient: no state change, no event
        # (unless <on_poweroff> is not 'destroy')
        if not rt.fake_reboot or obj.def_.on_poweroff != "destroy":
            obj.set_state(S.VIR_DOMAIN_SHUTDOWN,
                          DomainShutdownReason.VIR_DOMAIN_SHUTDOWN_UNKNOWN)
            guest = data.get("guest")
            detail = (Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_FINISHED if guest is None else
                      Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_GUEST if guest else
                      Shutdown.VIR_DOMAIN_EVENT_SHUTDOWN_HOST)
            self.event(obj, E.VIR_DOMAIN_EVENT_SHUTDOWN, detail)
            if not rt.being_destroyed:
                # a destroy's SIGTERM: the file goes away in a moment, and a
                # driver reopened in between finds the same either way (QEMU
                # gone: crashed; still exiting: query-status says shutdown)
                self.save_status(obj)
        if rt.exit_coming and rt.monitor is not None:
            # nothing more to hear: qemu.qmp lets go now, while QEMU exits,
            # rather than on the end of the stream when the destroy waits
            # for the exit (0.3-1 ms of its Python then)
            rt.monitor.close()
        if rt.fake_reboot and not rt.being_destroyed:
            threading.Thread(target=self._fake_reboot, args=(obj, rt),
                             name="pyvirt-qemu-reboot", daemon=True).start()
            return
        if not rt.being_destroyed and rt.process is not None:
            rt.process.kill(signal.SIGTERM)  # -no-shutdown kept it: finish it off

    def _fake_reboot(self, obj: DomainObj, rt: Runtime) -> None:
        """The guest powered off after virDomainReboot: reset it and run it again
        (qemuProcessFakeReboot); never on the QMP thread, which answers the calls."""
        try:
            with self.job(obj.uuid):
                if rt.stopped or rt.being_destroyed:
                    return
                self._monitor_call(rt, "system_reset")
                with self.lock:
                    rt.running_reason = DomainRunningReason.VIR_DOMAIN_RUNNING_BOOTED
                self._monitor_call(rt, "cont")
                with self.lock:
                    rt.got_shutdown = False
                    rt.fake_reboot = False
                    self.save_status(obj)
        except errors.VirtError:
            if rt.process is not None:   # as libvirt: a failed fake reboot kills the guest
                rt.process.kill(signal.SIGTERM)

    def continue_switchover(self, obj: DomainObj, rt: Runtime, status: str) -> bool:
        """See migration.py (lock held, QMP thread)."""
        return False

    def setup_balloon(self, obj: DomainObj, rt: Runtime, incoming: bool) -> None:
        """QEMU is up, the guest not running yet; see balloon.py."""

    def reconnect_balloon(self, obj: DomainObj, rt: Runtime) -> None:
        """A domain taken over: its balloon's live values; see balloon.py."""

    def on_balloon_change(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """QEMU's BALLOON_CHANGE (lock held); see balloon.py."""

    def on_migration_event(self, obj: DomainObj, rt: Runtime, name: str,
                           data: dict[str, Any]) -> None:
        """A MIGRATION or MIGRATION_PASS event (lock held); see migration.py."""

    def on_block_job_event(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """A JOB_STATUS_CHANGE (lock held); see blockjobevents.py."""

    def recover_block_jobs(self, obj: DomainObj, rt: Runtime, kept: Any) -> None:
        """The block jobs in the status of a domain taken over; see blockjobevents.py."""

    def on_io_error(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """A BLOCK_IO_ERROR event (lock held); see ioerror.py."""

    def on_dump_completed(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """A DUMP_COMPLETED event (lock held); see coredump.py."""

    def on_device_deleted(self, obj: DomainObj, rt: Runtime, data: dict[str, Any]) -> None:
        """A DEVICE_DELETED event (lock held); see hotplug.py."""

    def recover_migration(self, obj: DomainObj, rt: Runtime, job: dict[str, str]) -> None:
        """A migration job found in the status of a domain taken over; see migration.py."""

    def wait_migration(self, rt: Runtime, timeout: float) -> str:
        """Wait for a save or restore stream to end: QEMU's final MIGRATION status
        ('completed', 'failed', 'cancelled'), or 'exited' when QEMU went away."""
        end = time.monotonic() + timeout
        final = ("completed", "failed", "cancelled")
        polled = time.monotonic()
        while True:
            with rt.migration_cond:
                if rt.migration_status in final:
                    return rt.migration_status
                rt.migration_cond.wait(0.05)
                if rt.migration_status in final:
                    return rt.migration_status
            if rt.process is None or rt.process.exited.is_set() or rt.stopped:
                return "exited"
            if time.monotonic() > end:
                return "timeout"
            if time.monotonic() - polled > 0.5:   # events lost? ask
                polled = time.monotonic()
                try:
                    st = self._monitor_call(rt, "query-migrate").get("status")
                except errors.VirtError:
                    return "exited"
                if st in final:
                    return str(st)

    def stop_process(self, obj: DomainObj, rt: Runtime, detail: int, reason: int,
                     keep: bool = False) -> None:
        """End QEMU on the driver's behalf (save, snapshots): the monitor goes
        first, so QEMU's own SHUTDOWN on SIGTERM is not reported
        (qemuProcessStop); `keep`: see stop_locked."""
        with self.lock:
            rt.being_destroyed = True
            rt.quiet = True
            rt.fake_reboot = False
            job = obj.private.get("migration")
            stuck = (job is not None and job.direction is migration.Direction.IN
                     and job.in_postcopy)   # see destroy
        if rt.monitor is not None:
            rt.monitor.close()
        proc = rt.process
        if proc is not None:
            proc.kill(signal.SIGKILL if stuck else signal.SIGTERM)
            if not proc.wait(KILL_WAIT):
                proc.kill(signal.SIGKILL)
                proc.wait(KILL_WAIT)
        with self.lock:
            if self.runtime.get(obj.uuid) is rt and not rt.stopped:
                self.stop_locked(obj, reason, keep)
                self.event(obj, E.VIR_DOMAIN_EVENT_STOPPED, detail)   # without an id (destroy)

    def _on_eof(self, uuid: bytes, rt: Runtime) -> None:
        with self.lock:
            if self._live(uuid, rt) is None or rt.starting or rt.being_destroyed:
                return
        # The monitor is gone: QEMU is exiting, or is of no use any more.
        if rt.process is not None:
            rt.process.kill(signal.SIGKILL)

    def _on_exit(self, uuid: bytes, rt: Runtime) -> None:
        with self.lock:
            obj = self._live(uuid, rt)
            if obj is None or rt.starting or rt.being_destroyed:
                return  # the thread starting or destroying it finishes the job
            self._exited_locked(obj, rt)

    def _exited_locked(self, obj: DomainObj, rt: Runtime) -> None:
        """QEMU went away on its own: after a guest shutdown, or it died."""
        if rt.got_shutdown:
            reason = DomainShutoffReason.VIR_DOMAIN_SHUTOFF_SHUTDOWN
            detail = Stopped.VIR_DOMAIN_EVENT_STOPPED_SHUTDOWN
        else:
            reason = DomainShutoffReason.VIR_DOMAIN_SHUTOFF_CRASHED
            detail = Stopped.VIR_DOMAIN_EVENT_STOPPED_FAILED
        self.event(obj, E.VIR_DOMAIN_EVENT_STOPPED, detail)
        self.stop_locked(obj, reason)

    def _finish_starting(self, obj: DomainObj, rt: Runtime) -> bool:
        """End the startup window (lock held); False if QEMU died inside it."""
        rt.starting = False
        if rt.process is not None and rt.process.exited.is_set():
            self._exited_locked(obj, rt)
            return False
        return True

    # -- reconnection (a new driver on a root with running domains)
    def reconnect(self, obj: DomainObj, st: status.DomainStatus) -> None:
        """Take over the QEMU of `obj` recorded in `st`, or shut `obj` off."""
        marker = str(self.layout.pid_file(obj.name))
        rt = Runtime(monitor_path=st.monitor_path, taps=netdev.managed_taps(obj.def_),
                     cpu=st.live_cpu, taints=set(st.taints), node_index=st.node_index)
        for tap in rt.taps:
            netdev.VNET_NAMES.reserve(tap)
        with self.lock:
            obj.set_state(st.state, st.reason)
            self.runtime[obj.uuid] = rt
            self.next_dom_id = max(self.next_dom_id, obj.id + 1)
        half_started = (st.pid == 0 or (st.state == S.VIR_DOMAIN_PAUSED and st.reason
                        == DomainPausedReason.VIR_DOMAIN_PAUSED_STARTING_UP))
        pid = st.pid or process.find_by_marker(marker) or 0
        proc = process.attach(pid, marker)
        if proc is None:
            with self.lock:
                self.stop_locked(obj, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_UNKNOWN
                                 if half_started else DomainShutoffReason.VIR_DOMAIN_SHUTOFF_CRASHED)
            return
        if half_started:  # killed in the middle of a start: finish it off, as libvirt
            self._kill_now(proc)
            with self.lock:
                self.stop_locked(obj, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_DAEMON)
            return
        rt.process = proc
        watch_exit(proc, lambda: self._on_exit(obj.uuid, rt))
        mon = Monitor(obj.name, lambda ev, data: self._on_event(obj.uuid, rt, ev, data),
                      lambda: self._on_eof(obj.uuid, rt), monitorevents.event_relay(self, obj))
        try:
            mon.connect(unix_connect(st.monitor_path), MONITOR_WAIT)
            rt.monitor = mon
            qstatus = mon.execute("query-status")
        except (MonitorError, OSError):
            rt.being_destroyed = True
            self._kill_now(proc)
            with self.lock:
                self.stop_locked(obj, DomainShutoffReason.VIR_DOMAIN_SHUTOFF_DAEMON)
            return
        with self.lock:
            if not self._finish_starting(obj, rt):
                return
            self._sync_state(obj, rt, qstatus)
            self.save_status(obj)
        self.reconnect_balloon(obj, rt)
        with contextlib.suppress(errors.VirtError):
            rt.consoles = consoles.query(lambda c, a: self._monitor_call(rt, c, a), obj.def_)
        chan_dir = self.layout.channel_dir(obj.id, obj.name)
        with contextlib.suppress(errors.VirtError):
            rt.channels = channels.ChannelState(channels.socket_paths(obj.def_, chan_dir),
                                                target_dir=str(chan_dir))
            channels.refresh(self, obj, rt.channels, lambda c: self._monitor_call(rt, c),
                             channels.REASON_DOMAIN_STARTED)
        if st.job is not None:
            self.recover_migration(obj, rt, st.job)
        if st.blockjobs is not None:
            self.recover_block_jobs(obj, rt, st.blockjobs)

    def _sync_state(self, obj: DomainObj, rt: Runtime, qstatus: dict[str, Any]) -> None:
        """Bring the recorded state in line with QEMU's (qemuProcessUpdateState)."""
        if qstatus.get("status") == "shutdown" or obj.state == S.VIR_DOMAIN_SHUTDOWN:
            rt.got_shutdown = True
            obj.set_state(S.VIR_DOMAIN_SHUTDOWN, DomainShutdownReason.VIR_DOMAIN_SHUTDOWN_UNKNOWN)
            if rt.process is not None:
                rt.process.kill(signal.SIGTERM)
        elif qstatus.get("running") and obj.state != S.VIR_DOMAIN_RUNNING:
            obj.set_state(S.VIR_DOMAIN_RUNNING, DomainRunningReason.VIR_DOMAIN_RUNNING_UNPAUSED)
        elif not qstatus.get("running") and obj.state == S.VIR_DOMAIN_RUNNING:
            obj.set_state(S.VIR_DOMAIN_PAUSED, DomainPausedReason.VIR_DOMAIN_PAUSED_UNKNOWN)

    @staticmethod
    def _kill_now(proc: process.QemuProcess) -> None:
        proc.kill(signal.SIGKILL)
        fd = proc.pidfd
        if fd is not None:
            select.select([fd], [], [], KILL_WAIT)
        proc.mark_exited()

    def release(self) -> None:
        """Let go of every QEMU (they keep running) when the last connection closes."""
        with self.lock:
            self.closed = True
            runtimes = list(self.runtime.values())
            for rt in runtimes:   # no temp file outlives the driver that knew it
                self.drop_prepared(rt, armed_too=True)
            for obj in self.domains:   # a later driver takes a migration's hold anew
                end_batch(obj)
        for rt in runtimes:
            if rt.process is not None:
                unwatch_exit(rt.process)
            if rt.monitor is not None:
                rt.monitor.close()
