"""pyvirt's Python benchmark: the C benchmark's operations through `import libvirt`.

Run by bench/run.py with Debian's /usr/bin/python3 in three setups: python3-libvirt
on the system's libvirt.so.0, python3-libvirt on pyvirt's (LD_LIBRARY_PATH), and
pyvirt's own module (PYTHONPATH=build/python).  Prints one JSON line per
measurement, as bench/cbench.c does:  {"op": ..., "ns": per call, "n": calls}.

    pybench.py ops SECONDS        the single-thread calls, events, 8 threads
    pybench.py list N SECONDS     ListAllDomains with N domains defined
    pybench.py which              which libvirt module and library this is
"""

from __future__ import annotations

import json
import sys
import threading
import time

import libvirt

URI = "test:///default"
NTHREADS = 8
XML = ("<domain type='test'><name>{}</name><memory>1024</memory>"
       "<os><type>hvm</type></os></domain>")


def emit(op: str, ns: float, n: int) -> None:
    print(json.dumps({"op": op, "ns": round(ns, 1), "n": n}), flush=True)


def emit_error(op: str, exc: BaseException) -> None:
    print(json.dumps({"op": op, "error": f"{type(exc).__name__}: {exc}"}), flush=True)


def measure(name: str, fn, seconds: float) -> None:
    """Call fn(i) in doubling batches until `seconds` have passed."""
    try:
        fn(0)
        n, batch = 0, 1
        t0 = t = time.perf_counter()
        while t - t0 < seconds:
            for i in range(n + 1, n + 1 + batch):
                fn(i)
            n += batch
            batch = min(batch * 2, 1 << 16)
            t = time.perf_counter()
    except Exception as e:   # one failing call costs its row, not the run
        emit_error(name, e)
        return
    emit(name, (t - t0) * 1e9 / n, n)


def measure_threads(name: str, make_fn, seconds: float) -> None:
    """NTHREADS threads call their own fn(i) until time is up: wall time per call."""
    counts = [0] * NTHREADS
    errors: list[BaseException] = []
    barrier = threading.Barrier(NTHREADS + 1)
    stop = [float("inf")]

    def worker(t: int) -> None:
        fn = make_fn(t)
        try:
            fn(0)
        except Exception as e:
            errors.append(e)
        barrier.wait()
        i = 1
        try:
            while not errors and time.perf_counter() < stop[0]:
                fn(i)
                i += 1
        except Exception as e:
            errors.append(e)
        counts[t] = i - 1

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(NTHREADS)]
    for th in threads:
        th.start()
    barrier.wait()
    t0 = time.perf_counter()
    stop[0] = t0 + seconds
    for th in threads:
        th.join()
    if errors:
        emit_error(name, errors[0])
        return
    emit(name, (time.perf_counter() - t0) * 1e9 / max(1, sum(counts)), sum(counts))


def run_ops(seconds: float) -> None:
    def open_close(i: int) -> None:
        libvirt.open(URI).close()

    measure("open_close", open_close, seconds)

    conn = libvirt.open(URI)
    dom = conn.lookupByName("test")
    uuid = dom.UUID()
    measure("get_info", lambda i: dom.info(), seconds)
    measure("lookup_name", lambda i: conn.lookupByName("test"), seconds)
    measure("lookup_uuid", lambda i: conn.lookupByUUID(uuid), seconds)
    measure("get_xml", lambda i: dom.XMLDesc(0), seconds)

    def define_undefine(tag: str):
        def fn(i: int) -> None:
            conn.defineXML(XML.format(f"bench-{tag}-{i}")).undefine()
        return fn

    measure("define_undefine", define_undefine("t0"), seconds)

    seen = [0]

    def on_lifecycle(c, d, event, detail, opaque) -> None:
        seen[0] += 1

    def wait_for(want: int) -> None:
        for _ in range(100000):
            if seen[0] >= want:
                return
            libvirt.virEventRunDefaultImpl()
        raise RuntimeError("event delivery timed out")

    def suspend_resume(i: int) -> None:
        want = seen[0] + 1
        dom.suspend()
        wait_for(want)
        dom.resume()
        wait_for(want + 1)

    cb = conn.domainEventRegisterAny(dom, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                     on_lifecycle, None)
    measure("suspend_resume_event", suspend_resume, seconds)
    conn.domainEventDeregisterAny(cb)

    measure_threads("threads8_get_info", lambda t: (lambda i: dom.info()), seconds)
    measure_threads("threads8_lookup_name",
                    lambda t: (lambda i: conn.lookupByName("test")), seconds)
    measure_threads("threads8_get_xml", lambda t: (lambda i: dom.XMLDesc(0)), seconds)
    measure_threads("threads8_define_undefine", lambda t: define_undefine(f"t{t + 1}"),
                    seconds)
    conn.close()


def run_list(total: int, seconds: float) -> None:
    conn = libvirt.open(URI)
    for i in range(total - conn.numOfDomains() - conn.numOfDefinedDomains()):
        conn.defineXML(XML.format(f"scale-{i}"))
    measure(f"list_all_{total}", lambda i: conn.listAllDomains(0), seconds)
    conn.close()


def which() -> None:
    lib = ""
    try:
        with open("/proc/self/maps") as maps:
            lib = next((line.split()[-1] for line in maps if "libvirt.so" in line), "")
    except OSError:
        pass
    print(json.dumps({"module": libvirt.__file__, "library": lib}))


def main(argv: list[str]) -> int:
    libvirt.registerErrorHandler(lambda ctx, err: None, None)
    libvirt.virEventRegisterDefaultImpl()
    if argv[:1] == ["ops"] and len(argv) == 2:
        run_ops(float(argv[1]))
    elif argv[:1] == ["list"] and len(argv) == 3:
        run_list(int(argv[1]), float(argv[2]))
    elif argv == ["which"]:
        which()
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
