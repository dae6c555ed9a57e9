"""A sweep of the QEMU driver's setters and state-changing calls on one
domain shut off (it starts on the way), running, paused, and a transient
one, compared live with real libvirt 9.0's embed driver: each call's result
or error's code, domain and message, in the same order on both.  Random
MACs and the roots' paths are normalised."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()
MAC = "52:54:00:11:22:33"

CALLS = [
    "setMemory(49152)", "setMemoryFlags(40960, 2)", "setMemoryFlags(40960, 1)",
    "setMemoryFlags(131072, 4)", "setMaxMemory(131072)", "setMemoryFlags(262144, 6)",
    "info()[1:4]", "setAutostart(1)", "autostart()", "setAutostart(0)",
    "setMemoryStatsPeriod(5, 0)", "setMemoryStatsPeriod(-1, 0)", "setMemoryStatsPeriod(5, 2)",
    "managedSaveRemove(0)", "hasManagedSaveImage(0)", "setMetadata(1, 'T', None, None, 0)",
    "metadata(1, None, 0)", "setMetadata(2, '<x/>', 'p', 'http://a/', 0)",
    "metadata(2, 'http://a/', 0)", "setMetadata(2, None, 'p', 'http://a/', 0)",
    "setMetadata(2, '<x/>', None, 'http://a/', 0)", "setMetadata(9, 'x', None, None, 0)",
    "resume()", "create()", "reset(1)", "shutdownFlags(8)", "shutdownFlags(16)", "reboot(8)",
    "setLifecycleAction(0, 1, 0)", "setLifecycleAction(0, 99, 0)",
    "setLifecycleAction(1, 2, 2)", "setPerfEvents({'cmt': True}, 0)",
    "setBlockIoTune('vda', {'total_bytes_sec': 1000}, 0)",
    "setBlkioParameters({'weight': 500}, 2)", "setMemoryParameters({'hard_limit': 1<<20}, 2)",
    "setNumaParameters({'numa_mode': 1}, 2)", "setSchedulerParameters({'cpu_shares': 5})",
    f"setInterfaceParameters('{MAC}', {{'inbound.average': 100}}, 2)",
    "blockResize('vda', 8 << 20, 0)", "blockResize('vda', 4, 0)", "blockResize('vdz', 8 << 20, 0)",
    "rename('x', 0)", "sendKey(0, 0, [28], 1, 0)", "sendProcessSignal(1, 15, 0)",
    "attachDevice('<disk/>')", "detachDeviceAlias('nope', 1)",
    "updateDeviceFlags('<interface type=\"user\"/>', 1)",
    "updateDeviceFlags('<interface type=\"user\"/>', 2)", "injectNMI(0)",
    "pMSuspendForDuration(0, 0, 0)", "setGuestVcpus('0', 1, 0)", "setVcpu('0', 1, 0)",
    "abortJob()", "coreDumpWithFormat('/dev/null', 9, 0)", "migrateStartPostCopy(0)",
    "setUserPassword('root', 'x', 0)", "delIOThread(5, 0)", "addIOThread(0, 0)",
    "setIOThreadParams(1, {'poll_max_ns': 5}, 1)", "pinVcpu(0, (True,))",
    "pinEmulator((True,), 2)", "pinIOThread(1, (True,), 2)",
]


def questions(kernel: Path, disk: Path) -> dict[str, str]:
    extra = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{disk}'/><target dev='vda' bus='virtio'/></disk>"
             f"<interface type='user'><mac address='{MAC}'/><model type='virtio'/></interface>"
             "<memballoon model='none'/>")
    qs = {"a0": f"c.defineXML({domxml('st_sweep', kernel, extra)!r}).name()"}

    def sweep(prefix: str, name: str) -> None:
        for i, call in enumerate(CALLS):
            qs[f"{prefix}_{i:03d}_{call}"] = f"(lambda d: d.{call})(c.lookupByName('{name}'))"
    sweep("b_off", "st_sweep")          # create() on the way starts it
    sweep("c_running", "st_sweep")
    qs["d0"] = "c.lookupByName('st_sweep').suspend()"
    sweep("d_paused", "st_sweep")
    qs["e0"] = "[d.destroy() for d in c.listAllDomains() if d.isActive()]"
    qs["e1"] = "c.lookupByName('st_sweep').undefineFlags(4 | 1)"
    qs["f0"] = f"c.createXML({domxml('st_transient', kernel, extra)!r}, 0).name()"
    sweep("f_transient", "st_transient")
    qs["z9"] = "[d.destroy() for d in c.listAllDomains() if d.isActive()]"
    return qs


def _normal(answers: dict, folder: Path, root: str) -> dict:
    text = json.dumps(answers).replace(str(folder), "DIR").replace(root, "ROOT")
    return json.loads(re.sub(r"52:54:00(:[0-9a-f]{2}){3}(?=\b)(?<!11:22:33)", "MAC", text))


def test_setters_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    sides = {}
    for side in ("real", "ours"):
        folder = tmp_path / side
        folder.mkdir()
        subprocess.run(["qemu-img", "create", "-q", "-f", "raw", str(folder / "d.raw"), "4M"],
                       check=True)
        qs = questions(kernels["idle"], folder / "d.raw")
        if side == "real":
            sides[side] = _normal(reallibvirt.ask(qs), folder, reallibvirt._root())
            continue
        sides[side] = _normal(reallibvirt.ask_pyvirt(libvirt, root, qs), folder, str(root))
    real, mine = sides["real"], sides["ours"]
    assert {k: (v, real[k]) for k, v in mine.items() if v != real[k]} == {}
