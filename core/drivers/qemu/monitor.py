"""QMP monitors through the qemu.qmp library, on one asyncio thread.

qemu.qmp is asyncio-based; every monitor of the process (all roots) lives
on one daemon thread running an event loop ("pyvirt-qmp").  API threads
call :meth:`Monitor.execute`, which blocks on the thread's answer.  QMP
events are handed to the driver's callback synchronously, in the order
QEMU sent them and before the reply that follows them is delivered: after
``stop`` returns, the STOP event has been handled (as in libvirt).  The
callbacks run on the QMP thread: they must only take locks that no one
holds across a monitor call (the driver's list lock), and they queue
domain events, which the application's event loop delivers.

A new QEMU's monitor starts direct (qmpdirect.py): the starting thread
speaks to it itself, events and all, until the monitor is handed to the
QMP thread at the end of the start.

The same thread watches QEMU processes' pidfds (see process.py).

The library is optional at import time: Debian 12 has no package for it,
so the interpreter inside libvirt.so.0 may lack it.  ``IMPORT_ERROR`` then
says why, and the driver refuses to open.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import os
import socket
import threading
from typing import Any, Callable, Optional

from .process import QemuProcess
from .qmpdirect import DirectSession, MonitorError

try:
    from qemu.qmp import ExecuteError, Message, QMPClient
    from qemu.qmp.protocol import Runstate
    IMPORT_ERROR: Optional[ImportError] = None
except ImportError as exc:  # pragma: no cover - depends on the interpreter
    QMPClient = Message = object  # type: ignore[assignment,misc]
    # without its traceback: that would pin the frames of whoever imported this
    # first (lazily, inside the first virConnectOpen) and every object they held
    IMPORT_ERROR = exc.with_traceback(None)

logging.getLogger("qemu.qmp").addHandler(logging.NullHandler())

EventCallback = Callable[[str, dict[str, Any]], None]
RawEventCallback = Callable[[Any], None]   # the event's Message, as QEMU sent it
HAND_OVER_DELAY = 0.001   # seconds: Monitor.hand_over_soon


class QmpThread:
    """The process-wide asyncio loop in its daemon thread, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loop: Optional[asyncio.AbstractEventLoop] = None
        self._tid = 0
        self._batch = 0   # migrations that asked for batch()

    def loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                ready = threading.Event()

                def run() -> None:
                    self._tid = threading.get_native_id()
                    asyncio.set_event_loop(loop)
                    loop.call_soon(ready.set)
                    loop.run_forever()

                threading.Thread(target=run, name="pyvirt-qmp", daemon=True).start()
                ready.wait()
                self._loop = loop
            return self._loop

    def is_current(self) -> bool:
        """Whether the caller runs on this thread."""
        return self._tid != 0 and threading.get_native_id() == self._tid

    def run(self, coro: Any, timeout: Optional[float]) -> Any:
        """Run `coro` on the loop and wait for its result."""
        future = asyncio.run_coroutine_threadsafe(coro, self.loop())
        try:
            return future.result(timeout)
        except TimeoutError:
            future.cancel()
            raise

    def batch(self) -> Callable[[], None]:
        """The thread as SCHED_BATCH until the returned release() (once per
        call), for a migration going out.  QEMU's migration thread writes
        its events (STOP, MIGRATION) to the monitor socket while the guest
        is down; the kernel wakes this thread on that CPU, and a normal
        thread preempts the writer until its Python is done (0.3-0.4 ms,
        seen with strace: the STOP's sendmsg returned late), adding to the
        downtime (post-copy: 4 ms against raw QEMU's 3).  A batch thread
        does not preempt on wakeup: it runs on the other CPU, or once QEMU's
        thread sleeps.  Only around migrations: a batch thread also waits
        longer when nothing makes room, e.g. for a destroyed QEMU's exit
        (+2 ms)."""
        self.loop()
        with self._lock:
            self._batch += 1
            if self._batch == 1:
                self._policy(os.SCHED_BATCH)
        released = threading.Event()

        def release() -> None:
            with self._lock:
                if released.is_set():
                    return
                released.set()
                self._batch -= 1
                if self._batch == 0:
                    self._policy(os.SCHED_OTHER)
        return release

    def _policy(self, policy: int) -> None:
        with contextlib.suppress(OSError, AttributeError):   # not Linux, or refused: no matter
            os.sched_setscheduler(self._tid, policy, os.sched_param(0))

    def call_soon(self, fn: Callable[..., Any], *args: Any) -> None:
        self.loop().call_soon_threadsafe(fn, *args)

    def in_loop(self) -> bool:
        try:
            return asyncio.get_running_loop() is self._loop
        except RuntimeError:
            return False


qmp_thread = QmpThread()


def watch_exit(proc: QemuProcess, on_exit: Callable[[], None]) -> None:
    """Call `on_exit` on the QMP thread once `proc` has exited."""
    def arm() -> None:
        loop = asyncio.get_running_loop()
        fd = proc.pidfd
        if fd is None:
            on_exit()
            return

        def readable() -> None:
            loop.remove_reader(fd)
            proc.mark_exited()
            on_exit()

        loop.add_reader(fd, readable)

    qmp_thread.call_soon(arm)


def unwatch_exit(proc: QemuProcess) -> None:
    """Stop watching `proc` (the driver lets go of it; it keeps running)."""
    def disarm() -> None:
        fd = proc.pidfd
        if fd is not None:
            asyncio.get_running_loop().remove_reader(fd)
            proc.pidfd = None
            os.close(fd)

    qmp_thread.call_soon(disarm)


class _Client(QMPClient):  # type: ignore[misc,valid-type]
    """QMPClient handing each event to plain callbacks, in order: the raw
    message first (libvirt queues its pass-through before the event's own work)."""

    def __init__(self, name: str, on_event: EventCallback,
                 on_raw: Optional[RawEventCallback]) -> None:
        super().__init__(name)
        self._pyvirt_on_event = on_event
        self._pyvirt_on_raw = on_raw
        self._pyvirt_ids = 0

    def _get_exec_id(self) -> str:
        # QEMU's monitor reads a command one byte per main-loop turn (3-4 us
        # a byte here): "q12" rather than qemu.qmp's "__qmp#00012" saves
        # each command 30-40 us.  ("libvirt-N" is the pass-through's.)
        self._pyvirt_ids += 1
        return f"q{self._pyvirt_ids}"

    def _cb_outbound(self, msg: Any) -> Any:
        # qemu.qmp's hooks log every message, serializing it again even
        # when nobody listens
        return super()._cb_outbound(msg) if self.logger.isEnabledFor(logging.DEBUG) else msg

    def _cb_inbound(self, msg: Any) -> Any:
        return super()._cb_inbound(msg) if self.logger.isEnabledFor(logging.DEBUG) else msg

    def deliver(self, msg: Any) -> None:
        """The event `msg` to the callbacks (QMP thread, or a direct caller's)."""
        try:
            if self._pyvirt_on_raw is not None:
                self._pyvirt_on_raw(msg)
            self._pyvirt_on_event(str(msg["event"]), dict(msg.get("data", {})))
        except Exception:  # a driver bug must not kill the monitor's reader
            logging.getLogger("pyvirt.qemu").exception("QMP event handler failed")

    async def _event_dispatch(self, msg: Any) -> None:
        self.deliver(msg)
        await super()._event_dispatch(msg)


class Monitor:
    """The QMP connection to one QEMU process."""

    def __init__(self, name: str, on_event: EventCallback,
                 on_eof: Callable[[], None], on_raw: Optional[RawEventCallback] = None) -> None:
        self._client = _Client(name, on_event, on_raw)
        self._on_eof = on_eof
        self._closing = False
        # direct (connect_direct) until hand_over: the socket in blocking use
        # by one caller at a time, under _direct_lock
        self._direct: Optional[DirectSession] = None
        self._direct_lock = threading.Lock()
        self._connecting: Optional[concurrent.futures.Future[None]] = None

    def connect_direct(self, sock: socket.socket, timeout: float,
                       meanwhile: Optional[Callable[[Callable[[], bool]], None]] = None) -> None:
        """A new QEMU's greeting and capabilities on the calling thread,
        which keeps the monitor (execute and execute_all go straight over
        the socket: qmpdirect says why) until hand_over(), or until any
        other use of the monitor hands it over first."""
        direct = DirectSession(sock, self._client.deliver)
        try:
            direct.greet(timeout, meanwhile)
        except MonitorError:
            sock.close()
            raise
        self._direct = direct

    def hand_over(self) -> None:
        """From direct use to the QMP thread, which reads the monitor's
        events from now on (a no-op when it already does)."""
        if self._direct is None:
            return
        with self._direct_lock:
            self._leave_direct()

    def hand_over_soon(self, then: Optional[Callable[[], None]] = None) -> None:
        """hand_over() a moment later (HAND_OVER_DELAY), on the QMP thread,
        once no caller is in a direct exchange: taking the socket is 0.3 ms
        of qemu.qmp's Python, which done now would hold the GIL while the
        caller (a start) returns.  Calls meanwhile still go direct; QEMU's
        events wait in the socket.  `then()` runs on the QMP thread after."""
        def take() -> None:
            if self._direct is not None:
                if not self._direct_lock.acquire(blocking=False):   # a call in progress
                    asyncio.get_running_loop().call_later(HAND_OVER_DELAY, take)
                    return
                try:
                    self._leave_direct()
                finally:
                    self._direct_lock.release()
            if then is not None:
                then()
        qmp_thread.call_soon(lambda: asyncio.get_running_loop().call_later(
            HAND_OVER_DELAY, take))

    def _leave_direct(self) -> None:
        """(_direct_lock held) The direct session's socket to qemu.qmp."""
        direct = self._direct
        if direct is None:
            return
        if direct.closed or self._closing:
            self._direct = None
            direct.sock.close()
            return
        client = self._client
        client.await_greeting = client.negotiate = False   # done directly

        async def go() -> None:
            try:
                await client.connect(direct.sock)
            except Exception:
                if not self._closing:
                    self._on_eof()
                raise
            if self._closing:   # close() came while connecting
                await client.disconnect()
                return
            asyncio.get_running_loop().create_task(self._watch())
        # set before _direct is cleared: whoever sees no direct session
        # finds the connection to wait for (_connected)
        self._connecting = asyncio.run_coroutine_threadsafe(go(), qmp_thread.loop())
        self._direct = None

    def _in_direct(self, run: Callable[[DirectSession], Any]) -> tuple[bool, Any]:
        """(True, run(session)) while direct, else (False, None)."""
        if self._direct is None:
            return False, None
        with self._direct_lock:
            direct = self._direct
            if direct is None:
                return False, None
            try:
                return True, run(direct)
            except MonitorError:
                if direct.closed:   # close() came meanwhile: the socket is ours to close
                    self._direct = None
                    direct.sock.close()
                raise

    async def _connected(self) -> None:
        """(QMP thread) Once the hand-over's connection is up; at once after."""
        pending = self._connecting
        if pending is None:
            return
        if pending.done():
            pending.result()
        else:
            await asyncio.wrap_future(pending)

    def connect(self, sock: socket.socket, timeout: float,
                meanwhile: Optional[Callable[[Callable[[], bool]], None]] = None) -> None:
        """Greeting and capabilities negotiation over the connected `sock`;
        `meanwhile(answered)` runs on the calling thread while QEMU gets there
        (answered() tells whether it has)."""
        async def go() -> None:
            await asyncio.wait_for(self._client.connect(sock), timeout)
            asyncio.get_running_loop().create_task(self._watch())
        future = asyncio.run_coroutine_threadsafe(go(), qmp_thread.loop())
        if meanwhile is not None:
            meanwhile(future.done)
        try:
            future.result()
        except Exception as exc:
            raise MonitorError(str(exc) or type(exc).__name__, eof=True) from None

    async def _watch(self) -> None:
        while True:
            state = await self._client.runstate_changed()
            if state == Runstate.DISCONNECTING:
                try:
                    await self._client.disconnect()
                except Exception:  # EOFError and friends: QEMU went away
                    pass
                if not self._closing:
                    self._on_eof()
                return
            if state == Runstate.IDLE:
                return

    def execute(self, cmd: str, args: Optional[dict[str, Any]] = None,
                timeout: float = 60.0,
                meanwhile: Optional[Callable[[Callable[[], bool]], None]] = None) -> Any:
        """Run `cmd` and return QEMU's answer; `meanwhile(answered)` runs on
        the calling thread once the command is on its way."""
        direct, answer = self._in_direct(
            lambda session: session.execute_all([(cmd, args)], timeout, meanwhile)[0])
        if direct:
            return answer

        async def go() -> Any:
            await self._connected()
            return await self._client.execute(cmd, args)
        return self._wait(asyncio.run_coroutine_threadsafe(go(), qmp_thread.loop()),
                          cmd, timeout, meanwhile)

    def execute_all(self, cmds: list[tuple[str, Optional[dict[str, Any]]]],
                    timeout: float = 60.0) -> list[Any]:
        """Run independent commands all at once (one wait instead of one
        round trip each); their answers in order.  The first failure raises."""
        direct, answers = self._in_direct(lambda session: session.execute_all(cmds, timeout))
        if direct:
            return list(answers)

        async def go() -> list[Any]:
            await self._connected()
            return list(await asyncio.gather(*(self._client.execute(c, a) for c, a in cmds)))
        return self._wait(asyncio.run_coroutine_threadsafe(go(), qmp_thread.loop()),
                          cmds[0][0], timeout, None)

    @staticmethod
    def _wait(future: Any, cmd: str, timeout: float,
              meanwhile: Optional[Callable[[Callable[[], bool]], None]]) -> Any:
        if meanwhile is not None:
            meanwhile(future.done)
        try:
            try:
                return future.result(timeout)
            except TimeoutError:
                future.cancel()
                raise
        except ExecuteError as exc:
            raise MonitorError(str(exc), qmp_class=exc.error_class) from None
        except TimeoutError:
            raise MonitorError(f"timed out waiting for QEMU command '{cmd}'") from None
        except Exception as exc:
            raise MonitorError(str(exc) or type(exc).__name__, eof=True) from None

    def execute_soon(self, cmd: str, args: Optional[dict[str, Any]],
                     done: Callable[[Optional[str]], None]) -> None:
        """Send `cmd` from the QMP thread itself (an event handler) without
        waiting: written to the socket before the handler goes on, with no
        hop to another thread or task on a path QEMU waits on.  `done(error)`
        runs on the QMP thread later with QEMU's error text, or None."""
        if self._direct is not None:   # a start's setup: no migration to act for yet
            raise MonitorError(f"QEMU command '{cmd}' sent while the monitor is direct")
        client = self._client
        try:
            # qemu.qmp's own bookkeeping (its execute() would queue the message
            # for its writer task, after whatever the handler does next)
            exec_id = client._get_exec_id()
            client._pending[exec_id] = asyncio.Queue(maxsize=1)
            client._do_send(Message({"execute": cmd, "arguments": args or {}, "id": exec_id}))
            reply: Callable[[], Any] = lambda: client._reply(exec_id)  # noqa: E731
        except AttributeError:   # another qemu.qmp: its public way
            reply = lambda: client.execute(cmd, args)  # noqa: E731

        async def go() -> None:
            try:
                answer = await reply()
            except Exception as exc:   # the monitor gone
                done(str(exc) or type(exc).__name__)
                return
            error = answer.get("error") if isinstance(answer, Message) else None
            done(str(error.get("desc", error)) if error else None)
        asyncio.get_running_loop().create_task(go())

    def execute_text(self, data: bytes, msg_id: Optional[str], fd: Optional[int] = None,
                     timeout: float = 60.0) -> bytes:
        """Send `data`, a command already as text whose id is `msg_id` (None:
        it has none, and QEMU's reply none either), with `fd` passed along
        (SCM_RIGHTS); QEMU's reply, whatever it says, as the line it sent."""
        self.hand_over()
        client = self._client

        async def go() -> bytes:
            await self._connected()
            if fd is not None:
                client.send_fd_scm(fd)
            # qemu.qmp's own bookkeeping: its execute() wants a mapping with
            # "execute" and checks the answer; this text may be neither
            client._pending[msg_id] = asyncio.Queue(maxsize=1)
            client._do_send(Message(data + b"\r\n", eager=False))
            return bytes(await client._reply(msg_id))
        try:
            result: bytes = qmp_thread.run(go(), timeout)
            return result
        except TimeoutError:
            raise MonitorError("timed out waiting for QEMU's reply") from None
        except Exception as exc:
            raise MonitorError(str(exc) or type(exc).__name__, eof=True) from None

    def send_fd(self, fd: int, name: str, timeout: float = 60.0) -> None:
        """Pass `fd` to QEMU (SCM_RIGHTS) and name it `name` (QMP getfd)."""
        self.hand_over()

        async def go() -> Any:
            await self._connected()
            self._client.send_fd_scm(fd)
            return await self._client.execute("getfd", {"fdname": name})
        try:
            qmp_thread.run(go(), timeout)
        except ExecuteError as exc:
            raise MonitorError(str(exc), qmp_class=exc.error_class) from None
        except TimeoutError:
            raise MonitorError("timed out waiting for QEMU command 'getfd'") from None
        except Exception as exc:
            raise MonitorError(str(exc) or type(exc).__name__, eof=True) from None

    def close(self) -> None:
        """Disconnect, without waiting: callers may hold the driver's lock,
        which the QMP thread may be waiting for.  Once is enough."""
        if self._closing:
            return
        self._closing = True
        if self._direct is not None:
            if self._direct_lock.acquire(blocking=False):
                try:
                    direct, self._direct = self._direct, None
                    if direct is not None:
                        direct.sock.close()
                        return
                finally:
                    self._direct_lock.release()
            else:   # a caller is in an exchange: wake it, and it closes
                direct = self._direct
                if direct is not None:
                    direct.closed = True
                    with contextlib.suppress(OSError):
                        direct.sock.shutdown(socket.SHUT_RDWR)
                    return

        async def go() -> None:
            # after a hand-over's connect under way: qemu.qmp's disconnect
            # may not cut across it (its state machine asserts)
            with contextlib.suppress(Exception):
                await self._connected()
            try:
                await self._client.disconnect()
            except Exception:  # already gone
                pass
        qmp_thread.call_soon(lambda: asyncio.ensure_future(go()))
