"""What an emulator answers over QMP about itself, asked once per binary,
accelerator and process: machine types with their limits, CPU models and
whether this host can run them, the host's CPU as the accelerator gives
it, and the QOM types compiled in.  libvirt keeps the same facts in its
capabilities cache (probing with -machine none, once with KVM and once
with TCG); the capabilities documents, domain capabilities and the CPU
APIs are made from them.

QEMU runs with -machine none, its monitor on one end of a socketpair (no
path to clean up), and answers every command at once: about 70 ms.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import os
import socket
import subprocess
import time
from typing import Any, Optional

TIMEOUT = 30.0
# asked of every probe: (name, key of the answer, command, arguments)
_COMMANDS: tuple[tuple[str, str, Optional[dict[str, Any]]], ...] = (
    ("machines", "query-machines", None),
    ("cpu_definitions", "query-cpu-definitions", None),
    ("types", "qom-list-types", None),
    ("kvm", "query-kvm", None),
    ("sev", "query-sev-capabilities", None),
    ("sgx", "query-sgx-capabilities", None),
    ("schema", "query-qmp-schema", None),
)


class ProbeError(Exception):
    """QEMU could not be run or did not answer."""


@dataclasses.dataclass(frozen=True)
class Probe:
    """One emulator's answers with one accelerator; an answer is None when
    QEMU refused the command (no SEV on this host, say).  ex)
    machines=[{'name': 'pc-q35-7.2', 'cpu-max': 288, 'deprecated': False, ...}, ...]
    host_cpu={'name': 'host', 'props': {'vme': True, ...}} (model 'max' with TCG)"""
    path: str
    accel: str
    version: dict[str, Any]
    machines: list[dict[str, Any]]
    cpu_definitions: list[dict[str, Any]]
    types: list[str]
    kvm: Optional[dict[str, Any]]
    sev: Optional[dict[str, Any]]
    sgx: Optional[dict[str, Any]]
    host_cpu_static: Optional[dict[str, Any]]   # query-cpu-model-expansion static
    host_cpu: Optional[dict[str, Any]]          # ... full, of the static one's answer
    host_cpu_migratable: Optional[dict[str, Any]]   # full with migratable=on (KVM)
    # from the QAPI schema: command names, and the display types
    # (query-display-options' variants) this build has compiled in
    commands: frozenset[str] = frozenset()
    display_types: frozenset[str] = frozenset()


def probe(path: str, accel: str) -> Probe:
    """The answers of the emulator at `path` with `accel` ('kvm' or 'tcg'),
    cached until the binary or /dev/kvm changes."""
    return _probe(path, accel, _identity(path), _identity("/dev/kvm") if accel == "kvm" else ())


def _identity(path: str) -> tuple[int, ...]:
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@functools.lru_cache(maxsize=8)
def _probe(path: str, accel: str, _binary: tuple[int, ...], _kvm: tuple[int, ...]) -> Probe:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    argv = [path, "-S", "-no-user-config", "-nodefaults", "-display", "none",
            "-machine", "none", "-accel", accel,
            "-chardev", f"socket,id=qmp,fd={theirs.fileno()}", "-mon", "chardev=qmp,mode=control"]
    try:
        proc = subprocess.Popen(argv, pass_fds=[theirs.fileno()], stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env=dict(os.environ, LC_ALL="C"))
    except OSError as e:
        ours.close()
        theirs.close()
        raise ProbeError(f"cannot run {path}: {e.strerror}") from None
    theirs.close()
    try:
        return _ask(ours, path, accel)
    except (OSError, ValueError) as e:
        err = proc.stderr.read(4096).decode(errors="replace").strip() if proc.poll() is not None \
            else ""
        raise ProbeError(f"probing {path} with {accel} failed: {err or e}") from None
    finally:
        ours.close()
        proc.kill()
        proc.wait()
        proc.stderr.close()


class _Session:
    """Line-framed QMP over a blocking socket; events are skipped."""

    def __init__(self, sock: socket.socket) -> None:
        sock.settimeout(TIMEOUT)
        self.file = sock.makefile("rwb")
        self.deadline = time.monotonic() + TIMEOUT

    def read(self) -> dict[str, Any]:
        while True:
            line = self.file.readline()
            if not line:
                raise ValueError("QEMU closed its monitor")
            msg = json.loads(line)
            if "event" not in msg:
                return msg
            if time.monotonic() > self.deadline:
                raise ValueError("no answer")

    def ask(self, cmds: list[tuple[str, Optional[dict[str, Any]]]]) -> list[Any]:
        """Send `cmds` at once; their answers in order, None for an error."""
        for i, (cmd, args) in enumerate(cmds):
            self.file.write(json.dumps({"execute": cmd, "id": i,
                                        **({"arguments": args} if args else {})}).encode() + b"\n")
        self.file.flush()
        out: list[Any] = [None] * len(cmds)
        for _ in cmds:
            msg = self.read()
            if "return" in msg:
                out[msg["id"]] = msg["return"]
        return out


def _ask(sock: socket.socket, path: str, accel: str) -> Probe:
    s = _Session(sock)
    greeting = s.read()
    s.ask([("qmp_capabilities", None)])
    answers = dict(zip([name for name, _, _ in _COMMANDS],
                       s.ask([(cmd, args) for _, cmd, args in _COMMANDS])))
    # the host's CPU as libvirt asks it: static expansion of 'host' (KVM) or
    # 'max' (TCG) with migratable off, then the full expansion of that
    model = "host" if accel == "kvm" else "max"
    static, = s.ask([("query-cpu-model-expansion",
                      {"type": "static",
                       "model": {"name": model, "props": {"migratable": False}}})])
    full = migratable = None
    if static is not None:
        full, = s.ask([("query-cpu-model-expansion", {"type": "full", "model": static["model"]})])
        if accel == "kvm":
            mig_static, = s.ask([("query-cpu-model-expansion",
                                  {"type": "static", "model": {"name": model}})])
            if mig_static is not None:
                migratable, = s.ask([("query-cpu-model-expansion",
                                      {"type": "full", "model": mig_static["model"]})])
    return Probe(path=path, accel=accel,
                 version=greeting.get("QMP", {}).get("version", {}),
                 machines=answers["machines"] or [],
                 cpu_definitions=answers["cpu_definitions"] or [],
                 types=sorted(t["name"] for t in answers["types"] or []),
                 kvm=answers["kvm"], sev=answers["sev"], sgx=answers["sgx"],
                 host_cpu_static=static and static["model"],
                 host_cpu=full and full["model"],
                 host_cpu_migratable=migratable and migratable["model"],
                 **_schema_facts(answers["schema"] or []))


def _schema_facts(schema: list[dict[str, Any]]) -> dict[str, frozenset[str]]:
    """What libvirt reads from query-qmp-schema for domain capabilities."""
    by_name = {e["name"]: e for e in schema}
    commands = {e["name"] for e in schema if e.get("meta-type") == "command"}
    ret = by_name.get(by_name.get("query-display-options", {}).get("ret-type", ""), {})
    displays = {v["case"] for v in ret.get("variants", ())}
    return {"commands": frozenset(commands), "display_types": frozenset(displays)}
