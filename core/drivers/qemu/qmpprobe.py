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
import hashlib
import json
import os
import socket
import subprocess
import tempfile
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


# where answers are kept on disk: the cache folders of the roots opened in
# this process (any will do: the answers depend on the binary and the host)
_KEPT_IN: list[str] = []


def keep_in(folder: str) -> None:
    """Keep answers in `folder` (a root's cache/qemu), so that the next
    process on this root need not run QEMU again, as libvirt's
    capabilities cache does; the folder last named is written first."""
    if folder in _KEPT_IN:
        _KEPT_IN.remove(folder)
    _KEPT_IN.insert(0, folder)
    del _KEPT_IN[8:]   # a process that opened many roots keeps its latest


def probe(path: str, accel: str) -> Probe:
    """The answers of the emulator at `path` with `accel` ('kvm' or 'tcg'),
    cached until the binary, /dev/kvm, the kernel or the CPU changes."""
    return _probe(path, accel, _identity(path), _identity("/dev/kvm") if accel == "kvm" else ())


def _identity(path: str) -> tuple[int, ...]:
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


@functools.cache
def host_identity() -> tuple[str, ...]:
    """The kernel and the CPU with its microcode, read once per process."""
    keep = ("vendor_id", "cpu family", "model", "model name", "stepping", "microcode", "flags")
    facts = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break   # the first CPU tells
                key, _, value = line.partition(":")
                if key.strip() in keep:
                    facts[key.strip()] = value.strip()
    except OSError:
        pass
    return (os.uname().release, *(facts.get(k, "") for k in keep))


def _kept_file(folder: str, path: str, accel: str) -> str:
    name = hashlib.sha256(f"{path}\0{accel}".encode()).hexdigest()[:32]
    return os.path.join(folder, "capabilities", f"{name}.json")


def _recall(path: str, accel: str, key: list[Any]) -> Optional[Probe]:
    """Answers kept on disk for the same binary, /dev/kvm, kernel and CPU."""
    for folder in _KEPT_IN:
        try:
            with open(_kept_file(folder, path, accel)) as f:
                kept = json.load(f)
        except (OSError, ValueError):
            continue
        if kept.get("key") != key:
            continue
        try:
            fields = kept["probe"]
            for name in ("commands", "display_types"):
                fields[name] = frozenset(fields[name])
            return Probe(**fields)
        except (KeyError, TypeError):
            continue
    return None


def _keep(path: str, accel: str, key: list[Any], found: Probe) -> None:
    """Write the answers where they are kept (atomically; a lost cache
    costs only a probe, so no fsync)."""
    fields = dataclasses.asdict(found)
    for name in ("commands", "display_types"):
        fields[name] = sorted(fields[name])
    text = json.dumps({"key": key, "probe": fields})
    for folder in _KEPT_IN[:1]:
        target = _kept_file(folder, path, accel)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=os.path.dirname(target), prefix=".probe")
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, target)
        except OSError:
            pass   # a cache we cannot write is only a slower next process


@functools.lru_cache(maxsize=8)
def _probe(path: str, accel: str, binary: tuple[int, ...], kvm: tuple[int, ...]) -> Probe:
    key = json.loads(json.dumps([binary, kvm, host_identity()]))   # as JSON gives it back
    found = _recall(path, accel, key)
    if found is None:
        found = _run(path, accel)
        _keep(path, accel, key, found)
    return found


def _run(path: str, accel: str) -> Probe:
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
