"""`make bench`: pyvirt against the system's libvirt, on the same work, in one run.

    bench/run.py [--quick | --smoke] [--out DIR] [--no-chart] [--docs]

Compiles bench/cbench.c once against the system's libvirt headers and runs it,
alternately, on the system's libvirt.so.0 and on pyvirt's (LD_LIBRARY_PATH);
runs bench/pybench.py on Debian's /usr/bin/python3 with python3-libvirt on each
library, and with pyvirt's own module when build/python/libvirt.py exists;
the QEMU rows (qemubench.py, migbench.py) on real QEMU: libvirt 9.0's driver
(qemu:///embed, and two private libvirtd for migration: libvirtd.py), pyvirt's
(two qemu:///embed roots in one process) and raw QEMU through plain QMP.
Writes DIR/results.json, DIR/table.txt, DIR/table.md and DIR/bench.png
(DIR defaults to build/bench); --docs copies the table and chart to docs/.
Every measurement is a median over rounds; timings are never pass/fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
LIBDIR = ROOT / "build" / "lib"
PYVIRT_MODULE = ROOT / "build" / "python" / "libvirt.py"
SYSPY = "/usr/bin/python3"
SIDES = ("libvirt", "pyvirt")


@dataclasses.dataclass(frozen=True)
class Profile:
    """How long and how wide one run is."""
    seconds: float          # per measured operation
    rounds: int             # alternating rounds of the single-call operations
    scale: tuple            # domain counts for the scale runs
    scale_rounds: int       # rounds at sizes up to 10,000 (larger: one)
    define_limit: float     # seconds a scale run may spend defining domains
    callbacks: tuple        # event-callback counts
    py_lists: tuple         # domain counts for Python's listAllDomains


PROFILES = {
    "full": Profile(0.25, 5, (100, 1000, 10000, 100000), 3, 90.0, (1, 10, 100, 1000),
                    (1000, 10000)),
    "quick": Profile(0.05, 2, (100, 1000, 10000), 1, 20.0, (1, 10, 100, 1000), (1000,)),
    "smoke": Profile(0.002, 1, (100,), 1, 5.0, (1, 4), (100,)),
}


def log(msg: str) -> None:
    print(f"  bench {msg}", file=sys.stderr, flush=True)


# -- running the two programs ------------------------------------------------------

def clean_env() -> dict:
    env = {k: v for k, v in os.environ.items()
           if k not in ("LD_LIBRARY_PATH", "PYTHONPATH", "LIBVIRT_DEFAULT_URI", "PYTHONHOME")}
    env["LC_ALL"] = "C"
    return env


def side_env(side: str) -> dict:
    env = clean_env()
    if side == "pyvirt":
        env["LD_LIBRARY_PATH"] = str(LIBDIR)
    elif side == "pyvirt_module":
        env["PYTHONPATH"] = str(ROOT / "build" / "python")
    return env


def run_lines(cmd: list, env: dict, timeout: float) -> tuple[list[dict], str]:
    """The JSON lines a benchmark program printed, and its failure (or "")."""
    try:
        p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return [], f"timed out after {timeout:.0f} s"
    rows = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    err = ""
    if p.returncode != 0:
        tail = p.stderr.strip().splitlines()[-3:]
        err = f"exit {p.returncode}: " + " / ".join(tail)
    return rows, err


def compile_cbench(out: Path) -> Path:
    exe = out / "cbench"
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "libvirt"], check=True,
                           capture_output=True, text=True).stdout.split()
    subprocess.run(["gcc", "-O2", "-Wall", "-o", str(exe), str(BENCH / "cbench.c"), *flags,
                    "-lpthread"], check=True)
    return exe


def alternate(r: int, sides) -> list:
    """Round r's order: the sides in turn, reversed every other round."""
    return list(sides) if r % 2 == 0 else list(reversed(sides))


class Samples:
    """ns per call, per (section, key, side): a list over rounds, or an error."""

    def __init__(self) -> None:
        self.values: dict = {}
        self.errors: dict = {}

    def add(self, where: tuple, row: dict) -> None:
        if "error" in row:
            self.errors.setdefault(where, row["error"])
        elif "ns" in row:
            self.values.setdefault(where, []).append(row["ns"])

    def stats(self, where: tuple) -> dict | None:
        v = self.values.get(where)
        if not v:
            return {"error": self.errors[where]} if where in self.errors else None
        med = statistics.median(v)
        return {"median_ns": med, "min_ns": min(v), "max_ns": max(v),
                "spread": (max(v) - min(v)) / med if med else 0.0, "samples": v}


# -- the parts ---------------------------------------------------------------------

def bench_c_ops(exe: Path, prof: Profile, s: Samples, failures: list) -> None:
    for r in range(prof.rounds):
        for side in alternate(r, SIDES):
            log(f"C ops, round {r + 1}/{prof.rounds}, {side}")
            rows, err = run_lines([str(exe), "ops", str(prof.seconds)], side_env(side), 600)
            for row in rows:
                s.add(("c", row["op"], side), row)
            if err:
                failures.append(f"C ops on {side}: {err}")


def bench_c_scale(exe: Path, prof: Profile, s: Samples, failures: list) -> dict:
    """Per side and wanted size: the size reached and the memory it took."""
    sizes: dict = {side: {} for side in SIDES}
    for n in prof.scale:
        rounds = prof.scale_rounds if n <= 10000 else 1
        for r in range(rounds):
            for side in alternate(r, SIDES):
                log(f"C scale, {n:,} domains, round {r + 1}/{rounds}, {side}")
                cmd = [str(exe), "scale", str(n), str(prof.seconds), str(prof.define_limit)]
                rows, err = run_lines(cmd, side_env(side), prof.define_limit + 600)
                for row in rows:
                    if row["op"] == "size":
                        per = ((row["hwm_kb"] - row["rss_before_kb"]) * 1024
                               / max(1, row["domains"] - 1))
                        sizes[side].setdefault(n, []).append(
                            {"domains": row["domains"], "bytes_per_domain": per})
                    else:
                        s.add(("scale", (n, row["op"]), side), row)
                if err:
                    failures.append(f"C scale {n} on {side}: {err}")
    return {side: {n: {"domains": min(x["domains"] for x in v),
                       "bytes_per_domain": statistics.median(x["bytes_per_domain"] for x in v)}
                   for n, v in per_n.items()} for side, per_n in sizes.items()}


def bench_c_events(exe: Path, prof: Profile, s: Samples, failures: list) -> None:
    rounds = max(1, min(3, prof.rounds))
    for k in prof.callbacks:
        for r in range(rounds):
            for side in alternate(r, SIDES):
                log(f"C events, {k} callbacks, round {r + 1}/{rounds}, {side}")
                rows, err = run_lines([str(exe), "events", str(k), str(prof.seconds)],
                                      side_env(side), 600)
                for row in rows:
                    s.add(("events", k, side), row)
                if err:
                    failures.append(f"C events {k} on {side}: {err}")


def python_sides() -> tuple[list, str]:
    """The Python setups to run, and what became of pyvirt's own module."""
    sides = ["libvirt", "pyvirt"]
    if not PYVIRT_MODULE.exists():
        return sides, "skipped: build/python/libvirt.py is not generated yet"
    rows, err = run_lines([SYSPY, str(BENCH / "pybench.py"), "which"],
                          side_env("pyvirt_module"), 120)
    if err or not rows:
        return sides, f"skipped: pyvirt's module does not import ({err or 'no output'})"
    return sides + ["pyvirt_module"], f"ran {rows[0]['module']}"


def bench_python(prof: Profile, s: Samples, failures: list) -> str:
    sides, status = python_sides()
    script = str(BENCH / "pybench.py")
    for r in range(prof.rounds):
        for side in alternate(r, sides):
            log(f"Python ops, round {r + 1}/{prof.rounds}, {side}")
            rows, err = run_lines([SYSPY, script, "ops", str(prof.seconds)], side_env(side), 600)
            for row in rows:
                s.add(("py", row["op"], side), row)
            if err:
                failures.append(f"Python ops on {side}: {err}")
    for n in prof.py_lists:
        for side in sides:
            log(f"Python listAllDomains, {n:,} domains, {side}")
            rows, err = run_lines([SYSPY, script, "list", str(n), str(prof.seconds)],
                                  side_env(side), 900)
            for row in rows:
                s.add(("py", row["op"], side), row)
            if err:
                failures.append(f"Python list {n} on {side}: {err}")
    return status


QEMU_SKIP = "skipped: pyvirt's qemu:///embed does not open"
# QEMU's own start comes in steps of a 4 ms tick (raw QEMU's: 36.4, 40.4 or
# 44.6 ms over 30 rounds), its exit in 4 or 17-18 ms: enough rounds that the
# median does not jump a step with a round or two; each under a second
QEMU_ROUNDS = {"full": 30, "quick": 3, "smoke": 1}
QEMU_BLOCKS = 6     # turns the sides take at them (bench_qemu_lifecycle)
# (precopy, post-copy): a precopy's downtime spreads most, so more rounds for its median
MIGRATION_ROUNDS = {"full": (9, 5), "quick": (1, 1), "smoke": (0, 0)}
QEMU_OPS = ("qemu_start", "qemu_suspend_resume", "qemu_destroy", "migrate_total",
            "migrate_downtime", "migrate_total_postcopy", "migrate_downtime_postcopy")
# libvirt 9.0 on this kind of machine, from shared/reference/libvirt-qemu/README.md
# (sections 2 and 3): shown, marked *, only where it cannot run here.  Its precopy
# guest dirtied 240 MiB (ours: 46 MiB), so those two are a rough guide only.
QEMU_REFERENCE_MS = {"qemu_start": 241.0, "qemu_suspend_resume": 4.7, "qemu_destroy": 206.0,
                     "migrate_total": 1617.0, "migrate_downtime": 141.0}
SETUP_HINT = "tools/setup-host.sh bench installs libvirt-daemon-system, which creates it"


def kvm_usable() -> bool:
    try:
        os.close(os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC))
        return True
    except OSError:
        return False


def probe_qemu() -> dict:
    """Whether the QEMU rows can run ({"status", "detail"} when not)."""
    if not shutil.which("qemu-system-x86_64"):
        return {"status": "skipped: qemu-system-x86_64 is not installed "
                          "(Debian: qemu-system-x86)", "detail": ""}
    if not kvm_usable() and not os.environ.get("PYVIRT_BENCH_TCG"):
        return {"status": "skipped: KVM is missing (/dev/kvm is not usable); "
                          "PYVIRT_BENCH_TCG=1 runs the rows on TCG", "detail": ""}
    with tempfile.TemporaryDirectory(prefix="pyvirt-bench-qemu-") as root:
        code = ("import libvirt, sys\n"
                "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
                "libvirt.virEventRegisterDefaultImpl()\n"   # embed drivers need a loop
                f"try:\n    libvirt.open('qemu:///embed?root={root}').close()\n"
                "except libvirt.libvirtError as e:\n    print(e); sys.exit(1)\n")
        p = subprocess.run([SYSPY, "-c", code], env=side_env("pyvirt"), capture_output=True,
                           text=True, timeout=120)
    if p.returncode != 0:
        reason = (p.stdout.strip() or p.stderr.strip() or "?").splitlines()[-1]
        return {"status": QEMU_SKIP,
                "detail": "opening qemu:///embed?root=DIR on pyvirt: "
                          + reason.replace(f"?root={root}", "?root=DIR")}
    return {}


def reaped(cmd: list) -> list:
    """cmd under bench/reaper.py: QEMU's exit seen at once, on every side alike."""
    return [SYSPY, str(BENCH / "reaper.py"), *cmd]


def first_error(s: Samples, side: str, ops) -> str:
    return next((s.errors[("qemu", op, side)] for op in ops if ("qemu", op, side) in s.errors),
                "")


def bench_qemu_lifecycle(tmp: str, kernel: str, virt: str, rounds: int, s: Samples,
                         failures: list) -> None:
    """The sides take turns, a block of rounds each (each block's process
    warms up first), so that a drift of the machine meanwhile weighs on all
    of them alike."""
    script = str(BENCH / "qemubench.py")
    blocks = min(QEMU_BLOCKS, rounds)
    failed: set[str] = set()
    for block in range(blocks):
        n = rounds // blocks + (block < rounds % blocks)
        for side in ("raw", "pyvirt", "libvirt"):
            if side in failed:
                continue
            log(f"QEMU start/suspend/resume/destroy, block {block + 1}/{blocks} "
                f"({n} rounds), {side}")
            folder = os.path.join(tmp, side)   # one root per side: libvirt probes QEMU once
            os.makedirs(folder, exist_ok=True)
            env = side_env("pyvirt" if side == "pyvirt" else "libvirt")
            rows, err = run_lines(reaped([SYSPY, script, "raw" if side == "raw" else "embed",
                                          folder, kernel, virt, str(n)]), env, 300)
            for row in rows:
                s.add(("qemu", row["op"], side), row)
            if err or any("error" in row for row in rows):
                failed.add(side)
            if err:
                failures.append(f"QEMU rows on {side}: {err}")


def bench_migration(tmp: str, kernel: str, virt: str, rounds: tuple[int, int],
                    s: Samples, failures: list) -> str:
    """Raw QEMU, pyvirt (two embed roots, one process) and libvirt 9.0 (two libvirtd);
    the libvirt daemons' failure, or ""."""
    from libvirtd import TwoDaemons   # bench/ is on sys.path
    script = str(BENCH / "migbench.py")

    def run(side: str, args: list, what: str, n: int) -> None:
        log(f"QEMU migration, {what}, {n} rounds, {side}")
        rows, err = run_lines(reaped([SYSPY, script, *args]),
                              side_env("pyvirt" if side == "pyvirt" else "libvirt"),
                              120 + max(rounds) * 60)
        for row in rows:
            s.add(("qemu", row["op"], side), row)
        if err:
            failures.append(f"QEMU migration ({what}) on {side}: {err}")

    raw = os.path.join(tmp, "mig-raw")
    os.makedirs(raw)
    modes = (([], "precopy", rounds[0]), (["postcopy"], "post-copy", rounds[1]))
    for extra, what, n in modes:
        run("raw", ["raw", raw, kernel, virt, str(n), *extra], what, n)
    pa, pb = (f"qemu:///embed?root={tmp}/mig-pyvirt-{x}" for x in "ab")
    for extra, what, n in modes:
        run("pyvirt", ["managed", pa, pb, kernel, virt, str(n), *extra], what, n)
    daemons = TwoDaemons(Path(tmp) / "libvirtd")
    with daemons as (a, b):
        if daemons.error:
            log(f"QEMU migration on libvirt: {daemons.error}")
            return daemons.error
        for extra, what, n in modes:
            run("libvirt", ["managed", a, b, kernel, virt, str(n), *extra], what, n)
    return ""


def bench_qemu(mode: str, s: Samples, failures: list) -> dict:
    """Start, suspend+resume, destroy of one guest and a live migration: libvirt 9.0's
    QEMU driver, pyvirt's, and raw QEMU through plain QMP (the floor)."""
    skip = probe_qemu()
    if skip:
        log(f"QEMU rows {skip['status']}")
        return skip
    virt = "kvm" if kvm_usable() else "qemu"
    rounds, mig_rounds = QEMU_ROUNDS[mode], MIGRATION_ROUNDS[mode]
    sys.path.insert(0, str(ROOT / "tests" / "qemu"))
    import guest   # the tests' tiny flat kernels
    import migbench   # bench/ is on sys.path: the migration guest's pinned parameters
    mig_status = "skipped in --smoke (minutes: two guests booting per round)"
    daemons_error = ""
    with tempfile.TemporaryDirectory(prefix="pyvirt-bench-qemu-") as tmp:
        bench_qemu_lifecycle(tmp, str(guest.build("idle", Path(tmp) / "idle.bin")), virt,
                             rounds, s, failures)
        if mig_rounds[0]:
            dirty = str(guest.build("dirty", Path(tmp) / "dirty.bin", migbench.DIRTY_END))
            daemons_error = bench_migration(tmp, dirty, virt, mig_rounds, s, failures)
            mig_status = (f"{mig_rounds[0]} precopy and {mig_rounds[1]} post-copy rounds "
                          "of the dirty guest "
                          "(2 to 240 MiB rewritten non-stop), live, as the reference pinned: "
                          "precopy with bandwidth unlimited; post-copy with 10 MiB/s of "
                          "precopy bandwidth, StartPostCopy 2 s after the start; libvirt: "
                          f"two libvirtd; every side migrates the guest {migbench.DIRTY_FOR:g} s "
                          "after its first page is dirtied (read with pmemsave, or "
                          "virDomainMemoryPeek)")
    accel = "KVM" if virt == "kvm" else "TCG (no KVM)"
    embed_error = first_error(s, "libvirt", QEMU_OPS[:3])
    mig_error = daemons_error or first_error(s, "libvirt", QEMU_OPS[3:])
    reference = {}
    notes = []
    if embed_error:
        reference.update({k: v for k, v in QEMU_REFERENCE_MS.items() if k in QEMU_OPS[:3]})
        hint = f"; {SETUP_HINT}" if "libvirt-qemu" in embed_error else ""
        notes.append(f"libvirt 9.0's embed driver does not run here ({embed_error}{hint})")
    if mig_rounds[0] and mig_error:
        reference.update({k: v for k, v in QEMU_REFERENCE_MS.items() if k in QEMU_OPS[3:]})
        hint = f"; {SETUP_HINT}" if "libvirt-qemu" in mig_error else ""
        notes.append(f"libvirt 9.0's daemons do not migrate here ({mig_error}{hint}; the "
                     "reference's precopy guest dirtied 240 MiB, ours 46 MiB)")
    status = f"measured on {accel}, in this run: libvirt 9.0, pyvirt, raw QEMU"
    if notes:
        status = (f"measured on {accel}; " + "; ".join(notes)
                  + "; * marks shared/reference/libvirt-qemu's figures (same machine kind, "
                  "KVM), not this run")
    return {"status": status, "detail": "", "virt": virt, "rounds": rounds,
            "migration": mig_status, "migration_rounds": list(mig_rounds),
            "libvirt_error": embed_error, "libvirt_migration_error": mig_error,
            "reference_ms": reference,
            "ops": {op: {side: s.stats(("qemu", op, side))
                         for side in ("libvirt", "pyvirt", "raw")}
                    for op in QEMU_OPS}}


def preflight() -> str:
    """Why pyvirt cannot open test:///default right now (a core mid-edit), or ""."""
    code = ("import libvirt\n"
            "libvirt.registerErrorHandler(lambda c, e: None, None)\n"
            "libvirt.open('test:///default').lookupByName('test').info()\n")
    p = subprocess.run([SYSPY, "-c", code], env=side_env("pyvirt"), capture_output=True,
                       text=True, timeout=120)
    return "" if p.returncode == 0 else (p.stderr.strip().splitlines() or ["?"])[-1]


def machine() -> dict:
    def read(path: str, key: str) -> str:
        try:
            for line in open(path):
                if line.startswith(key):
                    return line.split(":", 1)[-1].split("=", 1)[-1].strip().strip('"')
        except OSError:
            pass
        return "?"

    def out(cmd: list) -> str:
        try:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.TimeoutExpired):
            return "?"

    mem_kb = read("/proc/meminfo", "MemTotal").split()[0]
    return {
        "cpu": read("/proc/cpuinfo", "model name"),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(mem_kb) / 2**20, 1) if mem_kb.isdigit() else None,
        "os": read("/etc/os-release", "PRETTY_NAME"),
        "kernel": platform.release(),
        "libvirt": out(["dpkg-query", "-W", "-f=${Version}", "libvirt0"]),
        "python3_libvirt": out(["dpkg-query", "-W", "-f=${Version}", "python3-libvirt"]),
        "python": out([SYSPY, "-c", "import sys; print(sys.version.split()[0])"]),
        "commit": out(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"]),
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


# -- putting it together -----------------------------------------------------------

def collect(s: Samples, sizes: dict, prof: Profile) -> dict:
    def section(name: str, keys, sides) -> dict:
        return {str(k): {side: s.stats((name, k, side)) for side in sides} for k in keys}

    c_ops = sorted({k for (sec, k, _) in s.values.keys() | s.errors.keys() if sec == "c"})
    py_ops = sorted({k for (sec, k, _) in s.values.keys() | s.errors.keys() if sec == "py"})
    scale = {}
    for n in prof.scale:
        ops = sorted({k[1] for (sec, k, _) in s.values.keys() | s.errors.keys()
                      if sec == "scale" and k[0] == n})
        scale[str(n)] = {
            "reached": {side: sizes[side].get(n) for side in SIDES},
            "ops": {op: {side: s.stats(("scale", (n, op), side)) for side in SIDES}
                    for op in ops},
        }
    return {
        "c": section("c", c_ops, SIDES),
        "python": section("py", py_ops, ("libvirt", "pyvirt", "pyvirt_module")),
        "scale": scale,
        "events": section("events", prof.callbacks, SIDES),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true", help="a short run (about two minutes)")
    mode.add_argument("--smoke", action="store_true", help="seconds: checks the harness only")
    ap.add_argument("--out", default=str(ROOT / "build" / "bench"))
    ap.add_argument("--no-chart", action="store_true")
    ap.add_argument("--docs", action="store_true", help="copy table and chart to docs/")
    args = ap.parse_args(argv)
    name = "smoke" if args.smoke else "quick" if args.quick else "full"
    prof = PROFILES[name]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    missing = [p for p in ("/usr/include/libvirt/libvirt.h", str(LIBDIR / "libvirt.so.0"))
               if not Path(p).exists()]
    if missing:
        print(f"bench: missing {', '.join(missing)} (run `make build` and install "
              "libvirt-dev, libvirt0 and python3-libvirt)", file=sys.stderr)
        return 1

    problem = preflight()
    if problem:
        print(f"bench: pyvirt's libvirt.so.0 does not work: {problem}", file=sys.stderr)
        return 1
    load = os.getloadavg()[0]
    t0 = time.monotonic()
    exe = compile_cbench(out)
    s, failures = Samples(), []
    bench_c_ops(exe, prof, s, failures)
    sizes = bench_c_scale(exe, prof, s, failures)
    bench_c_events(exe, prof, s, failures)
    py_status = bench_python(prof, s, failures)
    results = {
        "meta": {**machine(), "mode": name, "profile": dataclasses.asdict(prof),
                 "load_before": round(load, 2), "seconds_total": None},
        **collect(s, sizes, prof),
        "pyvirt_module": py_status,
        "qemu": bench_qemu(name, s, failures),
        "failures": failures,
    }
    results["meta"]["seconds_total"] = round(time.monotonic() - t0, 1)

    from report import render_markdown, render_text   # bench/ is on sys.path
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    text = render_text(results)
    (out / "table.txt").write_text(text)
    (out / "table.md").write_text(render_markdown(results))
    print(text)
    if not args.no_chart:
        try:
            from chart import draw
        except ImportError as e:
            log(f"no chart: {e} (pip install -r bench/requirements.txt)")
        else:
            draw(results, out / "bench.png")
            log(f"chart {out / 'bench.png'}")
    if args.docs:
        docs = ROOT / "docs"
        docs.mkdir(exist_ok=True)
        shutil.copy(out / "table.md", docs / "bench.md")
        if (out / "bench.png").exists():
            shutil.copy(out / "bench.png", docs / "bench.png")
        log("copied table.md and bench.png to docs/")
    log(f"results {out / 'results.json'} ({results['meta']['seconds_total']} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
