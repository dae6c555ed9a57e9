"""Running a script under each `libvirt` implementation, in a subprocess:

  pyvirt  pyvirt's generated module: PYTHONPATH=build/python
  real    Debian's python3-libvirt (libvirtmod) on pyvirt's libvirt.so.0:
          LD_LIBRARY_PATH=build/lib, and build/python nowhere on sys.path

Both run /usr/bin/python3 from / with a clean PYTHONPATH, so that neither the
test's own sys.path (pytest.ini) nor the current folder can pick the module.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
HERE = Path(__file__).resolve().parent
SYSPY = "/usr/bin/python3"
IMPLS = ("pyvirt", "real")


def env_for(impl: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "LD_LIBRARY_PATH", "PYTHONHOME", "PYTHONSTARTUP")}
    if impl == "pyvirt":
        env["PYTHONPATH"] = str(BUILD / "python")
    elif impl == "real":
        env["LD_LIBRARY_PATH"] = str(BUILD / "lib")
    elif impl != "system":   # the system's libvirt, untouched
        raise ValueError(impl)
    return env


def run(impl: str, script: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([SYSPY, str(script), *args], env=env_for(impl), cwd="/",
                          capture_output=True, text=True, timeout=timeout)


def run_json(impl: str, script: Path, *args: str) -> tuple[dict, str]:
    """The JSON the script prints on its last line, and its stderr."""
    p = run(impl, script, *args)
    assert p.returncode == 0, f"{impl}: {script.name} failed\n{p.stderr}"
    return json.loads(p.stdout.strip().splitlines()[-1]), p.stderr
