"""Which entry points libvirt 9.0's test driver implements, and which of them
pyvirt's implements: both found by the same probe, never from libvirt's source.

Every public function of apispec/libvirt.xml whose first argument is an object
handle (virConnectPtr, virDomainPtr, ...) is called once on test:///default,
with harmless arguments built from its C signature, through ctypes on
`libvirt.so.0`: the system's (real libvirt) or build/lib's (pyvirt), each in
its own /usr/bin/python3 process.  libvirt answers VIR_ERR_NO_SUPPORT for a
function its driver lacks; any other answer (success or another error) means
the driver implements it.  Each call runs in a forked child, so a call that
changes the host (destroy, undefine) cannot affect the next one and a crash
is reported rather than fatal.

    python3 tools/testdriver_report.py            # writes build/testdriver-report.txt
    python3 tools/testdriver_report.py --probe real|ours   # one side, JSON on stdout
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import re
import signal
import subprocess
import tempfile
import sys
from typing import Any, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SPEC = os.path.join(ROOT, "apispec", "libvirt.xml")
REPORT = os.path.join(ROOT, "build", "testdriver-report.txt")
SYSPY = "/usr/bin/python3"
URI = b"test:///default"
VIR_ERR_NO_SUPPORT = 3
CALL_TIMEOUT = 10.0

HANDLES = ("virConnectPtr", "virDomainPtr", "virNetworkPtr", "virNetworkPortPtr",
           "virStoragePoolPtr", "virStorageVolPtr", "virInterfacePtr", "virNodeDevicePtr",
           "virDomainSnapshotPtr", "virDomainCheckpointPtr", "virSecretPtr", "virNWFilterPtr",
           "virNWFilterBindingPtr", "virStreamPtr")

# Functions the library answers itself, without asking the driver: they
# never say NO_SUPPORT, so probing them tells nothing about a driver.
LIBRARY_SIDE = re.compile(
    r"(Ref|Free|GetConnect|GetDomain|GetNetwork|GetName|GetUUID|GetUUIDString|GetID"
    r"|GetKey|GetMACString|GetUsageType|GetUsageID|GetPortDev|GetFilterName)$"
    r"|^virConn(CopyLastError|GetLastError|ResetLastError|SetErrorFunc)$"
    r"|^virConnectClose$|^virStreamNew$")

# Objects each probe works on, made on test:///default before the calls.
SETUP_XML = {
    "vol": b"<volume><name>probe.img</name><capacity>1048576</capacity></volume>",
    "snapshot": b"<domainsnapshot><name>probe</name></domainsnapshot>",
    "checkpoint": b"<domaincheckpoint><name>probe</name></domaincheckpoint>",
    "port": (b"<networkport><owner><name>test</name>"
             b"<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></owner>"
             b"<mac address='52:54:00:00:00:01'/></networkport>"),
    "secret": b"<secret ephemeral='no' private='no'><usage type='ceph'>"
              b"<name>probe</name></usage></secret>",
    "nwfilter": b"<filter name='probe' chain='root'></filter>",
    "binding": (b"<filterbinding><owner><name>test</name>"
                b"<uuid>6695eb01-f6a4-8304-79aa-97f2502e193f</uuid></owner>"
                b"<portdev name='vnet0'/><mac address='52:54:00:00:00:01'/>"
                b"<filterref filter='probe'/></filterbinding>"),
}


def load_functions() -> list[tuple[str, list[tuple[str, str, str]]]]:
    """(name, [(arg name, C type, dir)]) of each function taking a handle first."""
    sys.path.insert(0, ROOT)
    from generator import spec
    api = spec.load(SPEC)
    out = []
    for fn in api.functions:
        if fn.args and fn.args[0].type in HANDLES:
            out.append((fn.name, [(a.name, a.type, a.dir) for a in fn.args]))
    return sorted(out)


# -- the probe, run inside /usr/bin/python3 with the library to test --------------

class Probe:
    def __init__(self, lib: ctypes.CDLL) -> None:
        self.lib = lib
        self.keep: list[Any] = []
        for name in ("virConnectOpen", "virDomainLookupByName", "virNetworkLookupByName",
                     "virStoragePoolLookupByName", "virStorageVolCreateXML",
                     "virInterfaceLookupByName", "virNodeDeviceLookupByName",
                     "virDomainSnapshotCreateXML", "virDomainCheckpointCreateXML",
                     "virNetworkPortCreateXML", "virSecretDefineXML", "virNWFilterDefineXML",
                     "virNWFilterBindingCreateXML", "virStreamNew"):
            getattr(lib, name).restype = ctypes.c_void_p
        lib.virGetLastErrorCode.restype = ctypes.c_int
        quiet = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)(lambda a, b: None)
        self.keep.append(quiet)  # errors are read back, not printed
        lib.virSetErrorFunc(None, quiet)
        conn = lib.virConnectOpen(URI)
        v = ctypes.c_void_p
        dom = lib.virDomainLookupByName(v(conn), b"test")
        net = lib.virNetworkLookupByName(v(conn), b"default")
        pool = lib.virStoragePoolLookupByName(v(conn), b"default-pool")
        self.handles: dict[str, Optional[int]] = {
            "virConnectPtr": conn, "virDomainPtr": dom, "virNetworkPtr": net,
            "virStoragePoolPtr": pool,
            "virInterfacePtr": lib.virInterfaceLookupByName(v(conn), b"eth1"),
            "virNodeDevicePtr": lib.virNodeDeviceLookupByName(v(conn), b"computer"),
        }
        # Made in the forked child only when a call needs them (a snapshot and a
        # checkpoint of one domain exclude each other).
        self.makers = {
            "virStorageVolPtr": lambda: lib.virStorageVolCreateXML(v(pool), SETUP_XML["vol"], 0),
            "virDomainSnapshotPtr": lambda: lib.virDomainSnapshotCreateXML(
                v(dom), SETUP_XML["snapshot"], 0),
            "virDomainCheckpointPtr": lambda: lib.virDomainCheckpointCreateXML(
                v(dom), SETUP_XML["checkpoint"], 0),
            "virNetworkPortPtr": lambda: lib.virNetworkPortCreateXML(
                v(net), SETUP_XML["port"], 0),
            "virSecretPtr": lambda: lib.virSecretDefineXML(v(conn), SETUP_XML["secret"], 0),
            "virNWFilterPtr": lambda: lib.virNWFilterDefineXML(v(conn), SETUP_XML["nwfilter"]),
            "virNWFilterBindingPtr": lambda: lib.virNWFilterBindingCreateXML(
                v(conn), SETUP_XML["binding"], 0),
            "virStreamPtr": lambda: lib.virStreamNew(v(conn), 0),
        }

    def _buffer(self, size: int = 65536) -> ctypes.Array:
        buf = ctypes.create_string_buffer(size)
        self.keep.append(buf)
        return buf

    def _string(self, name: str) -> bytes:
        low = name.lower()
        if "uuid" in low:
            return b"6695eb01-f6a4-8304-79aa-97f2502e193f"
        if "xml" in low:
            return b"<x/>"
        if "uri" in low:
            return b"test:///default"
        if "mac" in low:
            return b"aa:bb:cc:dd:ee:ff"
        return b"vda"

    def argument(self, name: str, ctype: str, direction: str) -> Any:
        if ctype in HANDLES:
            handle = self.handles.get(ctype)
            return ctypes.c_void_p(handle)
        if ctype == "unsigned int" and name == "flags":
            return ctypes.c_uint(0)
        if ctype in ("int", "unsigned int"):
            return ctypes.c_int(1)
        if ctype in ("unsigned long", "unsigned long long", "long long", "size_t"):
            return ctypes.c_ulonglong(1)
        if ctype == "double":
            return ctypes.c_double(1.0)
        if ctype == "const char *":
            return ctypes.c_char_p(self._string(name))
        if ctype == "const char **" and direction == "in":
            names = (ctypes.c_char_p * 2)(b"/", None)
            self.keep.append(names)
            return names
        if ctype == "virTypedParameterPtr" and direction == "in":
            param = self._buffer(96)  # one valid parameter: field "x", VIR_TYPED_PARAM_INT
            param[0] = b"x"
            ctypes.c_int.from_buffer(param, 80).value = 1
            return param
        if ctype == "const unsigned char *":
            return self._buffer(16)
        if ctype == "virFreeCallback":
            return ctypes.c_void_p(None)
        if ctype.startswith("vir") and (ctype.endswith("Callback") or ctype.endswith("Func")):
            cb = ctypes.CFUNCTYPE(ctypes.c_int)(lambda: 0)
            self.keep.append(cb)
            return cb
        if direction == "inout" and ctype in ("int *", "unsigned int *"):
            buf = self._buffer(8)  # a count of 0: ask how many
            return buf
        return self._buffer()  # any other pointer: zeroed room for an answer

    def call(self, name: str, args: list[tuple[str, str, str]]) -> dict[str, Any]:
        for _, ctype, _ in args:
            if ctype in self.makers and ctype not in self.handles:
                self.handles[ctype] = self.makers[ctype]()
        if self.handles.get(args[0][1]) is None:
            return {"answer": "no-object"}
        fn = getattr(self.lib, name, None)
        if fn is None:
            return {"answer": "no-symbol"}
        fn.restype = ctypes.c_void_p
        values = [self.argument(*a) for a in args]
        self.lib.virResetLastError()
        fn(*values)
        code = self.lib.virGetLastErrorCode()
        return {"answer": "no-support" if code == VIR_ERR_NO_SUPPORT else "answered",
                "code": code}


def _run_forked(probe: Probe, name: str, args: list[tuple[str, str, str]]) -> dict[str, Any]:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: one call, its answer on the pipe
        os.close(rfd)
        try:
            result = probe.call(name, args)
        except BaseException as e:  # noqa: BLE001 - reported, never raised
            result = {"answer": "probe-error", "detail": repr(e)}
        os.write(wfd, json.dumps(result).encode())
        os._exit(0)
    os.close(wfd)
    signal.signal(signal.SIGALRM, lambda *a: os.kill(pid, signal.SIGKILL))
    signal.setitimer(signal.ITIMER_REAL, CALL_TIMEOUT)
    chunks = []
    while True:
        try:
            data = os.read(rfd, 65536)
        except InterruptedError:
            continue
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    signal.setitimer(signal.ITIMER_REAL, 0)
    os.close(rfd)
    if chunks:
        return json.loads(b"".join(chunks))
    return {"answer": "crash", "detail": f"wait status {status}"}


def probe_main() -> None:
    functions = json.load(sys.stdin)
    lib = ctypes.CDLL("libvirt.so.0")
    probe = Probe(lib)
    results = {name: _run_forked(probe, name, args) for name, args in functions}
    json.dump(results, sys.stdout, indent=1, sort_keys=True)


# -- running both sides and writing the report --------------------------------------

def probe(side: str, functions: list) -> dict[str, dict[str, Any]]:
    """Run the probe in a fresh /usr/bin/python3 on the system's library or ours."""
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    if side == "ours":
        env["LD_LIBRARY_PATH"] = os.path.join(ROOT, "build", "lib")
    else:
        env.pop("LD_LIBRARY_PATH", None)
    # In a scratch folder: probes such as virDomainSave write files by relative path.
    with tempfile.TemporaryDirectory(prefix="pyvirt-probe-") as scratch:
        proc = subprocess.run([SYSPY, os.path.abspath(__file__), "--probe", side],
                              input=json.dumps(functions), capture_output=True, text=True,
                              env=env, timeout=600, check=False, cwd=scratch)
    if proc.returncode != 0:
        raise RuntimeError(f"probe of {side} failed: {proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def implemented(result: dict[str, Any]) -> bool:
    return result["answer"] == "answered"


def compare(functions: Optional[list] = None) -> dict[str, Any]:
    """{'real': {...}, 'ours': {...}, 'driver': [names], 'library': [names]}."""
    functions = functions if functions is not None else load_functions()
    driver_fns = [f for f in functions if not LIBRARY_SIDE.search(f[0])]
    real = probe("real", driver_fns)
    ours = probe("ours", driver_fns)
    return {"real": real, "ours": ours, "driver": [f[0] for f in driver_fns],
            "library": [f[0] for f in functions if LIBRARY_SIDE.search(f[0])]}


def shim_coverage() -> dict[str, str]:
    """How the C shim handles each function (build/shim/libvirt/coverage.txt)."""
    path = os.path.join(ROOT, "build", "shim", "libvirt", "coverage.txt")
    out = {}
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                name, _, how = line.partition(": ")
                out[name] = how.strip()
    return out


def render(result: dict[str, Any]) -> str:
    real, ours = result["real"], result["ours"]
    in_real = [n for n in result["driver"] if implemented(real[n])]
    done = [n for n in in_real if implemented(ours[n])]
    missing = [n for n in in_real if not implemented(ours[n])]
    extra = [n for n in result["driver"] if implemented(ours[n]) and not implemented(real[n])]
    lines = [
        "# libvirt 9.0's test driver and pyvirt's: entry points, found by probing both",
        "# generated by tools/testdriver_report.py; do not edit",
        "",
        f"functions probed (first argument a handle): {len(result['driver'])}",
        f"implemented by libvirt's test driver:      {len(in_real)}",
        f"  of which implemented by pyvirt's:        {len(done)}",
        f"  of which missing in pyvirt's:            {len(missing)}",
        f"implemented only by pyvirt's:              {len(extra)}",
        f"library-side, not probed:                  {len(result['library'])}",
        "",
        "## entry points of libvirt's test driver",
    ]
    width = max(len(n) for n in result["driver"]) + 2
    coverage = shim_coverage()
    for name in in_real:
        state = "implemented" if name in done else f"MISSING ({ours[name]['answer']})"
        if name in missing and coverage.get(name, "").startswith("not converted"):
            state += f"; C shim: {coverage[name]}"
        lines.append(f"{name:<{width}}{state}")
    lines += ["", "## not implemented by libvirt's test driver (NO_SUPPORT or no object)"]
    for name in result["driver"]:
        if not implemented(real[name]):
            note = " (pyvirt answers)" if name in extra else ""
            lines.append(f"{name:<{width}}{real[name]['answer']}{note}")
    lines += ["", "## library-side: answered without the driver"]
    lines += result["library"]
    return "\n".join(lines) + "\n"


def write_report(text: str, path: str = REPORT) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--probe", choices=("real", "ours"),
                        help="internal: probe one library, reading the functions on stdin")
    parser.add_argument("--output", default=REPORT)
    args = parser.parse_args(argv)
    if args.probe:
        probe_main()
        return 0
    result = compare()
    write_report(render(result), args.output)
    print(render(result).split("\n## ")[0])
    return 0


if __name__ == "__main__":
    sys.exit(main())
