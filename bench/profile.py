"""Where pyvirt's time goes under the C benchmark: cProfile inside the
interpreter that libvirt.so.0 embeds (see bench/profile_hook/sitecustomize.py).

    bench/profile.py [--top N] -- ops SECONDS | scale N SECONDS LIMIT | events K SECONDS

Runs build/bench/cbench (make bench builds it) on pyvirt's library and prints
the functions with the most time of their own, then the most cumulative time.
cProfile sees the thread that first called into the library (the C main thread):
the 8-thread rows are not in it, and its own overhead inflates small calls.
"""

from __future__ import annotations

import argparse
import os
import pstats
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("args", nargs="+", help="cbench's arguments")
    args = ap.parse_args(argv)
    exe = ROOT / "build" / "bench" / "cbench"
    if not exe.exists():
        print("bench/profile.py: run `make bench` (or bench/run.py --smoke) first",
              file=sys.stderr)
        return 1
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "cbench.prof"
        env = dict(os.environ, LD_LIBRARY_PATH=str(ROOT / "build" / "lib"),
                   PYTHONPATH=str(ROOT / "bench" / "profile_hook"), PYVIRT_PROFILE_OUT=str(out))
        subprocess.run([str(exe), *args.args], env=env, check=True)
        stats = pstats.Stats(str(out))
        stats.strip_dirs()
        stats.sort_stats("tottime").print_stats(args.top)
        stats.sort_stats("cumulative").print_stats(args.top)
    return 0


if __name__ == "__main__":
    sys.exit(main())
