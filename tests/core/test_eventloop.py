"""The default event loop and an application-provided one."""

import os
import threading
import time

from pyvirt import api, eventloop
from pyvirt.eventloop import DefaultEventLoop


def _run_in_thread(loop, stop):
    def run():
        while not stop.is_set():
            loop.run_once()
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_handle_readable_and_free():
    loop = DefaultEventLoop()
    r, w = os.pipe()
    got, freed = [], []
    watch = loop.add_handle(r, eventloop.EventHandleType.VIR_EVENT_HANDLE_READABLE,
                            lambda wt, fd, ev: got.append((wt, fd, ev)), lambda: freed.append(1))
    assert watch == 1
    os.write(w, b"x")
    loop.run_once()
    assert got == [(1, r, 1)]
    assert loop.remove_handle(watch) == 0 and loop.remove_handle(watch) == -1
    loop.add_timeout(0, lambda t: None, None)  # so that the next iteration returns
    loop.run_once()  # the data is still there, but the watch is gone
    assert freed == [1] and len(got) == 1
    os.close(r)
    os.close(w)


def test_timer_wakes_blocked_loop_from_other_thread():
    loop = DefaultEventLoop()
    fired = threading.Event()
    stop = threading.Event()
    keepalive = loop.add_timeout(-1, lambda t: None, None)  # the loop blocks in poll
    t = _run_in_thread(loop, stop)
    time.sleep(0.05)
    start = time.monotonic()
    timer = loop.add_timeout(0, lambda tid: (fired.set(), loop.update_timeout(tid, -1)), None)
    assert fired.wait(2)
    assert time.monotonic() - start < 1
    assert timer == 2 and keepalive == 1
    stop.set()
    loop.update_timeout(keepalive, 0)  # wake it so it sees stop
    t.join(2)
    assert not t.is_alive()


def test_periodic_timer_and_removal():
    loop = DefaultEventLoop()
    ticks = []
    timer = loop.add_timeout(10, lambda tid: ticks.append(tid), None)
    for _ in range(3):
        loop.run_once()
    assert ticks == [timer] * 3
    assert loop.remove_timeout(timer) == 0
    assert loop.remove_timeout(timer) == -1


def test_external_impl_receives_event_timer():
    calls = []
    timers = {}

    def add_timeout(ms, cb, ff):
        calls.append(("add", ms))
        timers[len(timers) + 1] = cb
        return len(timers)

    api.virEventRegisterImpl(lambda *a: 1, lambda *a: None, lambda *a: 0,
                             add_timeout, lambda t, ms: calls.append(("update", t, ms)),
                             lambda t: 0)
    try:
        conn = api.virConnectOpen("test:///default")
        got = []
        api.virConnectDomainEventRegisterAny(conn, None, 0, lambda c, d, e, det: got.append(e),
                                             None)
        assert calls[0] == ("add", -1)
        api.virDomainSuspend(api.virDomainLookupByName(conn, "test"))
        assert ("update", 1, 0) in calls and got == []
        timers[1](1)  # the application's loop fires the timer
        assert got == [3]
        api.virConnectClose(conn)
    finally:
        api.virEventRegisterDefaultImpl()


def test_api_without_impl_returns_minus_one():
    saved = eventloop._registry.current
    eventloop._registry.current = None
    try:
        assert api.virEventAddTimeout(0, lambda t: None, None) == -1
        assert api.virEventRemoveHandle(5) == -1
    finally:
        eventloop._registry.current = saved
