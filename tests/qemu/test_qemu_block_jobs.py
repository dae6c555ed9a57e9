"""Block jobs (pull, rebase, commit, copy; their information, speed, abort
and pivot) on real QEMU, compared live with real libvirt 9.0's embed driver:
the same sequence of libvirt-python expressions, on qcow2 chains made alike
with qemu-img and marked with qemu-io, run by both (`c` the connection,
`libvirt` the module: pyvirt's generated one here, python3-libvirt there).
Compared: return values, the jobs' information (its progress only as far
as it is not a matter of timing), the BLOCK_JOB and BLOCK_JOB_2 events, the
disks' live (and inactive) XML, errors; after the guests are gone, what
the images hold (qemu-img, qemu-io: the data really moved).  A job found
again by a driver reopened on the root is pyvirt's alone (libvirt's embed
driver lives as long as its process)."""

from __future__ import annotations

import json
import re
import subprocess
import time
from pathlib import Path
from typing import Any

import reallibvirt
from support import on_pyvirt, pyvirt_module
from pyvirt import api
from qemutest import VIRT_TYPE, ensure_event_loop, kernels, root, until  # noqa: F401

libvirt = pyvirt_module()
MiB = 1 << 20

# helpers of each run: the BLOCK_JOB(_2) events seen since the last look,
# a disk's live XML, a job's information without its timing, what a file holds
PRELUDE = r'''
import os, re, subprocess, time
EV = []
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB,
                         lambda cn, d, p, t, s, o: EV.append((d.name(), 1, p, t, s)), None)
c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                         lambda cn, d, p, t, s, o: EV.append((d.name(), 2, p, t, s)), None)
def EVS(n):
    end = time.time() + 30
    while len(EV) < n and time.time() < end:
        time.sleep(0.02)
    time.sleep(0.2)
    r = list(EV); del EV[:]; return r
def DISK(d, f=0):
    return re.findall(r"<disk .*?</disk>", d.XMLDesc(f), re.S)
def INFO(d, f=0, end=True):
    i = d.blockJobInfo("vda", f)
    if not i:
        return i
    # a mirror just started may not have counted what it copies yet (end)
    return [i["type"], i["bandwidth"], i["end"] if end else None, 0 <= i["cur"] <= i["end"],
            i["cur"] == i["end"]]
def CHAIN(path):
    out = subprocess.run(["qemu-img", "info", "-U", "--backing-chain", path],
                         capture_output=True, text=True).stdout
    return [l for l in out.splitlines() if l.startswith(("image:", "backing file:"))]
def PAT(path, pattern, off, size):
    r = subprocess.run(["qemu-io", "-r", "-c", f"read -P {pattern} {off} {size}", path],
                       capture_output=True, text=True)
    return "Pattern verification failed" not in r.stdout + r.stderr and r.returncode == 0
def PATS(path, n):
    return [PAT(path, f"0x{i + 1}{i + 1}", f"{i}M", "1M") for i in range(n)]
'''


def chain(folder: Path, name: str, layers: int) -> list[Path]:
    """qcow2 images name0 <- name1 <- ..., 8 MiB, each with its own MiB
    written (pattern 0x11, 0x22, ... at offset 0, 1 MiB, ...)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}{i}.qcow2" for i in range(layers)]
    for i, path in enumerate(paths):
        cmd = ["qemu-img", "create", "-f", "qcow2", str(path), "8M"]
        if i:
            cmd[4:4] = ["-F", "qcow2", "-b", str(paths[i - 1])]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                        f"write -P 0x{i + 1}{i + 1} {i}M 1M", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
    return paths


def relative_chain(folder: Path, name: str, layers: int) -> list[Path]:
    """As chain(), each image naming its backing file relatively."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}{i}.qcow2" for i in range(layers)]
    for i, path in enumerate(paths):
        cmd = ["qemu-img", "create", "-f", "qcow2", path.name, "8M"]
        if i:
            cmd[4:4] = ["-F", "qcow2", "-b", paths[i - 1].name]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, cwd=folder)
        subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                        f"write -P 0x{i + 1}{i + 1} {i}M 1M", str(path)],
                       check=True, stdout=subprocess.DEVNULL)
    return paths


def xml(name: str, kernel: Path, top: Path) -> str:
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
            f"<kernel>{kernel}</kernel></os><devices>"
            f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
            f"<source file='{top}'/><target dev='vda' bus='virtio'/></disk>"
            f"</devices></domain>")


def questions(kernel: Path, folder: Path) -> dict[str, str]:
    """Domains bjp (pull), bjc (commit), bjy (persistent: copy with
    TRANSIENT_JOB), bjt (copy), bji (defined only); each a chain of its own."""
    p, cm, y, t = (chain(folder / n, n, k) for n, k in (("p", 3), ("c", 4), ("y", 3), ("t", 3)))
    rel = relative_chain(folder / "l", "l", 4)
    F = str(folder)
    qs: dict[str, str] = {}

    def q(expr: str) -> None:
        qs[f"q{len(qs):03d}"] = expr

    q(f"exec({PRELUDE!r}, globals())")
    P, C, Y, T, In = (f"c.lookupByName('{n}')" for n in ("bjp", "bjc", "bjy", "bjt", "bji"))
    q(f"c.defineXML({xml('bji', kernel, p[2])!r}).name()")
    q(f"c.createXML({xml('bjp', kernel, p[2])!r}, 0).name()")
    # -- no job yet; errors before any job
    for e in ("blockJobInfo('vda', 0)", "blockJobInfo('vdz', 0)", "blockJobInfo('vda', 2)",
              "blockJobAbort('vda', 0)", "blockJobAbort('vda', 4)",
              "blockJobSetSpeed('vda', 1, 0)", "blockJobSetSpeed('vda', 1, 2)",
              "blockPull('vdz', 0, 0)", "blockPull('vda', 0, 1)",
              "blockPull('vda', 1 << 60, 0)", "blockRebase('vda', None, 0, 1 << 9)",
              "blockRebase('vda', None, 0, 16)",
              f"blockRebase('vda', '{p[2]}', 0, 0)", "blockRebase('vda', '/nope', 0, 0)",
              "blockRebase('vda', 'vda[1]', 0, 0)", "blockRebase('vdb[3]', 'vdb[3]', 0, 0)",
              "blockRebase('vda', 'vdb[3]', 0, 0)", f"blockRebase('vda', '{p[0]}', 0, 16)",
              "blockCommit('vda', None, None, 0, 1 << 10)"):
        q(f"{P}.{e}")
    for e in ("blockJobInfo('vda', 0)", "blockJobAbort('vda', 0)",
              "blockJobSetSpeed('vda', 1, 0)", "blockPull('vda', 0, 0)",
              "blockCommit('vda', None, None, 0, 0)",
              "blockCommit('vda', None, None, 0, 4)",
              f"blockRebase('vda', '{F}/x.qcow2', 0, 8)"):
        q(f"{In}.{e}")
    # -- pull into the top down to its base (vda[3]: p0), slowly, then its speed
    q(f"{P}.blockRebase('vda', 'vda[3]', 65536, 64)")
    q(f"INFO({P})")
    q(f"INFO({P}, 1)")
    q(f"DISK({P})")
    q(f"{P}.blockPull('vda', 0, 0)")
    q(f"{P}.blockCommit('vda', None, None, 0, 4)")
    q(f"{P}.blockJobAbort('vda', 2)")
    q(f"{P}.save('{F}/p.save')")
    q(f"{P}.detachDeviceFlags(\"<disk type='file' device='disk'><source file='{p[2]}'/>"
      "<target dev='vda' bus='virtio'/></disk>\", 1)")
    q(f"os.path.exists('{F}/p.save')")
    q(f"{P}.blockJobSetSpeed('vda', 2, 0)")
    q(f"INFO({P})")
    q(f"{P}.blockJobSetSpeed('vda', 1000, 1)")
    q(f"INFO({P}, 1)")
    q(f"INFO({P}, 0)")
    q(f"{P}.blockJobSetSpeed('vda', 1 << 60, 0)")
    q(f"{P}.blockJobSetSpeed('vda', 0, 0)")
    q("EVS(2)")
    q(f"{P}.blockJobInfo('vda', 0)")
    q(f"DISK({P})")
    # -- a pull aborted (waiting for its end), then one to the end
    q(f"{P}.blockPull('vda', 65536, 64)")
    q(f"{P}.blockJobAbort('vda', 0)")
    q("EVS(2)")
    q(f"{P}.blockJobInfo('vda', 0)")
    q(f"DISK({P})")
    q(f"{P}.blockPull('vda', {MiB}, 64)")
    q(f"INFO({P}, 1)")
    q(f"{P}.blockJobAbort('vda', 1)")
    q("EVS(2)")
    q(f"{P}.blockPull('vda', 0, 0)")
    q("EVS(2)")
    q(f"DISK({P})")
    # -- commit: errors, a commit below the top (deleting what it merged), then the top's
    q(f"c.createXML({xml('bjc', kernel, cm[3])!r}, 0).name()")
    for e in ("blockCommit('vda', None, None, 0, 0)", "blockCommit('vda', None, 'vda', 0, 0)",
              f"blockCommit('vda', None, '{cm[2]}', 0, 8)",
              f"blockCommit('vda', None, '{cm[2]}', 0, 4)",
              "blockCommit('vda', None, '/nope', 0, 0)", "blockCommit('vda', None, 'vda[9]', 0, 0)",
              "blockCommit('vda', None, 'vdb[2]', 0, 0)",
              f"blockCommit('vda', '/nope', '{cm[2]}', 0, 0)",
              f"blockCommit('vda', '{cm[3]}', '{cm[2]}', 0, 0)",
              f"blockCommit('vda', '{cm[0]}', '{cm[2]}', 0, 1)",
              f"blockCommit('vda', None, '{cm[0]}', 0, 0)",
              "blockCommit('vda', None, None, 1 << 60, 4)",
              "blockCommit('vdz', None, None, 0, 4)"):
        q(f"{C}.{e}")
    q(f"{C}.blockCommit('vda', None, 'vda[2]', 1, 2)")
    q(f"INFO({C})")
    q(f"DISK({C})")
    q(f"{C}.blockJobAbort('vda', 2)")
    q(f"{C}.blockJobSetSpeed('vda', 0, 0)")
    q("EVS(2)")
    q(f"DISK({C})")
    q(f"[os.path.exists(x) for x in {[str(x) for x in cm]!r}]")
    # active commit: READY, abort without pivot; again, pivot
    q(f"{C}.blockCommit('vda', None, None, 0, 4 | 1)")
    q("EVS(2)")
    q(f"INFO({C})")
    q(f"DISK({C})")
    q(f"{C}.blockCommit('vda', None, None, 0, 4)")
    q(f"{C}.blockJobAbort('vda', 0)")
    q("EVS(2)")
    q(f"DISK({C})")
    q(f"{C}.blockCommit('vda', None, None, 0, 4)")
    q("EVS(2)")
    q(f"{C}.blockJobAbort('vda', 2)")
    q("EVS(2)")
    q(f"{C}.blockJobInfo('vda', 0)")
    q(f"DISK({C})")
    # -- copy: a persistent domain needs TRANSIENT_JOB; deep copy, pivoted
    q(f"c.defineXML({xml('bjy', kernel, y[2])!r}).create()")
    q(f"{Y}.blockRebase('vda', '{F}/y/copy.qcow2', 0, 8)")
    q(f"{Y}.blockCopy('vda', \"<disk type='file'><source file='{F}/y/copy.qcow2'/></disk>\", "
      "None, 0)")
    q(f"os.path.exists('{F}/y/copy.qcow2')")
    q(f"{Y}.blockCopy('vda', \"<disk type='file'><source file='{F}/y/copy.qcow2'/>"
      f"<driver type='qcow2'/></disk>\", {{'bandwidth': {MiB}}}, 4)")
    q(f"INFO({Y}, 0, False)")
    q(f"DISK({Y})")
    q(f"{Y}.blockJobAbort('vda', 2)")
    q(f"{Y}.blockCopy('vda', \"<disk type='file'><source file='{F}/y/c2.qcow2'/></disk>\", "
      "None, 4)")
    q(f"{Y}.blockPull('vda', 0, 0)")
    q(f"{Y}.managedSave(0)")
    q(f"{Y}.detachDeviceFlags(\"<disk type='file' device='disk'><source file='{y[2]}'/>"
      "<target dev='vda' bus='virtio'/></disk>\", 1)")
    q(f"{Y}.blockJobSetSpeed('vda', 0, 0)")
    q("EVS(2)")
    q(f"INFO({Y})")
    q(f"DISK({Y})")
    q(f"{Y}.blockJobAbort('vda', 2)")
    q("EVS(2)")
    q(f"DISK({Y})")
    q(f"DISK({Y}, 2)")
    # -- copy errors, then shallow copies: one aborted, one pivoted
    q(f"c.createXML({xml('bjt', kernel, t[2])!r}, 0).name()")
    (folder / "t" / "full.img").write_bytes(b"x")
    for e in (f"blockRebase('vda', '{F}/t/a.qcow2', 0, 8 | 16)",
              "blockRebase('vda', 'a.qcow2', 0, 8)",
              f"blockRebase('vda', '{F}/t/missing.qcow2', 0, 8 | 2)",
              f"blockRebase('vda', '{F}/t/full.img', 0, 8)",
              f"blockRebase('vda', '{F}/t/s.img', 0, 8 | 1 | 4)",
              f"blockRebase('vda', '{F}/t/a.qcow2', 1 << 60, 8)",
              f"blockCopy('vda', \"<disk type='file'><source file='{F}/t/b.qcow2'/>"
              f"<driver type='qcow2'/><backingStore type='file'><format type='qcow2'/>"
              f"<source file='{t[0]}'/></backingStore></disk>\", None, 0)",
              f"blockCopy('vda', \"<disk type='file'><source file='{F}/t/b.qcow2'/></disk>\", "
              "{'granularity': 3}, 0)",
              f"blockCopy('vda', \"<disk type='file'><source file='{F}/t/b.qcow2'/></disk>\", "
              "{'nope': 3}, 0)",
              f"blockCopy('vda', \"<disk type='file'><source file='{F}/t/b.qcow2'/></disk>\", "
              "None, 16)"):
        q(f"{T}.{e}")
    q(f"[os.path.exists('{F}/t/' + x) for x in ('a.qcow2', 's.img', 'b.qcow2')]")
    q(f"{T}.blockRebase('vda', '{F}/t/s1.qcow2', 0, 8 | 1)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockJobAbort('vda', 0)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"os.path.exists('{F}/t/s1.qcow2')")
    q(f"{T}.blockRebase('vda', '{F}/t/s2.qcow2', 0, 8 | 1)")
    q("EVS(2)")
    q(f"{T}.blockJobAbort('vda', 2 | 1)")
    q("EVS(2)")
    q(f"DISK({T})")
    # reused images: a shallow copy into one over t1 (its chain opened at the
    # pivot), a deep one aborted; then a copy into a new raw file
    subprocess.run(["qemu-img", "create", "-f", "qcow2", "-F", "qcow2", "-b", str(t[1]),
                    str(folder / "t" / "rs.qcow2"), "8M"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(folder / "t" / "r.qcow2"), "8M"],
                   check=True, stdout=subprocess.DEVNULL)
    q(f"{T}.blockRebase('vda', '{F}/t/rs.qcow2', 0, 8 | 1 | 2)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockJobAbort('vda', 2)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockCopy('vda', \"<disk type='file'><source file='{F}/t/r.qcow2'/></disk>\", "
      "None, 2)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockJobAbort('vda', 0)")
    q("EVS(2)")
    q(f"{T}.blockRebase('vda', '{F}/t/raw.img', 0, 8 | 4)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockJobAbort('vda', 2)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"os.path.getsize('{F}/t/raw.img')")
    q(f"{T}.blockCopy('vda', \"<disk type='file'><source file='{F}/t/g.qcow2'/>"
      "<driver type='qcow2'/></disk>\", {'granularity': 65536, 'buf-size': 1048576}, 8)")
    q("EVS(2)")
    q(f"DISK({T})")
    q(f"{T}.blockJobAbort('vda', 0)")
    q("EVS(2)")
    # -- RELATIVE: backing names kept relative by a pull and a commit below the top
    L = "c.lookupByName('bjl')"
    q(f"c.createXML({xml('bjl', kernel, rel[3])!r}, 0).name()")
    q(f"{L}.blockRebase('vda', 'vda[3]', 0, 16)")
    q("EVS(2)")
    q(f"{L}.blockCommit('vda', 'vda[4]', 'vda[3]', 0, 8)")
    q("EVS(2)")
    q(f"DISK({L})")
    q(f"{L}.blockCommit('vda', None, None, 0, 4 | 8)")
    q("EVS(2)")
    q(f"{L}.blockJobAbort('vda', 2)")
    q("EVS(2)")
    q(f"DISK({L})")
    # -- the guests go; what the images hold
    q("[d.destroy() for d in c.listAllDomains() if d.name().startswith('bj') and d.isActive()]")
    q("[d.undefine() for d in c.listAllDomains() if d.name().startswith('bj')]")
    q(f"CHAIN('{p[2]}')")
    q(f"PATS('{p[2]}', 3)")
    q(f"CHAIN('{cm[3]}')")
    q(f"PATS('{cm[0]}', 4)")
    q(f"CHAIN('{F}/y/copy.qcow2')")
    q(f"PATS('{F}/y/copy.qcow2', 3)")
    q(f"CHAIN('{F}/t/s2.qcow2')")
    q(f"PATS('{F}/t/s2.qcow2', 3)")
    q(f"PAT('{F}/t/s2.qcow2', '0', '3M', '5M')")
    q(f"CHAIN('{F}/t/rs.qcow2')")
    q(f"CHAIN('{rel[3]}')")
    q(f"PATS('{rel[0]}', 4)")
    q(f"PATS('{F}/t/raw.img', 3)")
    return qs


def _norm(answer: Any, folder: Path) -> str:
    """The answer as JSON, the run's folder as DIR."""
    return json.dumps(list(answer)).replace(str(folder), "DIR")


def test_block_jobs_as_real_libvirt(root: Path, kernels: dict[str, Path],
                                    tmp_path: Path) -> None:
    theirs, mine = tmp_path / "real", tmp_path / "ours"
    real = reallibvirt.ask(questions(kernels["idle"], theirs))
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(reallibvirt.QEMU_CONF)
    qs = questions(kernels["idle"], mine)
    ours = reallibvirt.ask_pyvirt(libvirt, root, qs)
    diffs = [(k, qs[k][:160], _norm(ours.get(k, ()), mine), _norm(real[k], theirs))
             for k in sorted(real) if _norm(ours.get(k, ()), mine) != _norm(real[k], theirs)]
    for k, q, a, b in diffs:
        print(k, q, "ours: " + a, "real: " + b, sep="\n  ")
    assert not diffs
    assert len(real) > 140


def test_job_found_again_by_a_driver_reopened(root: Path, kernels: dict[str, Path],
                                              tmp_path: Path) -> None:
    """A copy running when the driver closes: a driver opened later on the
    root finds it (status file: <blockjobs> and the disk's <mirror>), goes
    on with it (READY, pivot) and QEMU's node names with it."""
    paths = chain(tmp_path / "img", "r", 2)
    copy = tmp_path / "img" / "copy.qcow2"
    ensure_event_loop()
    c = libvirt.open(f"qemu:///embed?root={root}")
    d = c.createXML(xml("bjr", kernels["idle"], paths[1]), 0)
    d.blockRebase("vda", str(copy), 1, 8)
    status = (root / "run" / "qemu" / "bjr.xml").read_text()
    assert re.search(r"<blockjobs active='yes'>\s*<blockjob name='copy-vda-libvirt-1-format' "
                     r"type='copy' state='running' jobflags='0x0'>\s*<disk dst='vda' "
                     r"mirror='yes'/>\s*</blockjob>\s*</blockjobs>", status), status
    c.close()
    c = libvirt.open(f"qemu:///embed?root={root}")
    seen: list[tuple[str, int, int]] = []
    c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                             lambda cn, dom, disk, t, s, o: seen.append((disk, t, s)), None)
    try:
        d = c.lookupByName("bjr")
        info = d.blockJobInfo("vda", 0)
        assert (info["type"], info["bandwidth"]) == (2, 1)
        assert f"<mirror type='file' file='{copy}' format='qcow2' job='copy'>" in d.XMLDesc(0)
        d.blockJobSetSpeed("vda", 0, 0)
        assert until(lambda: seen == [("vda", 2, 3)], 20), seen
        assert "ready='yes'" in d.XMLDesc(0)
        d.blockJobAbort("vda", 2)
        assert until(lambda: len(seen) == 2, 20) and seen[1] == ("vda", 2, 0), seen
        assert d.blockJobInfo("vda", 0) == {}
        disk = re.search(r"<disk .*?</disk>", d.XMLDesc(0), re.S).group(0)  # type: ignore
        assert f"<source file='{copy}' index='3'/>\n      <backingStore/>" in disk, disk
        nodes = json.loads(libvirt_qemu_command(d, '{"execute": "query-block"}'))
        assert nodes["return"][0]["inserted"]["node-name"] == "libvirt-3-format"
        assert "<blockjobs" not in (root / "run" / "qemu" / "bjr.xml").read_text()
    finally:
        d.destroy()
        c.close()


def libvirt_qemu_command(d: Any, cmd: str) -> str:
    return str(api.virDomainQemuMonitorCommand(d._o, cmd, 0))


def test_jobs_end_with_their_guest(root: Path, kernels: dict[str, Path],
                                   tmp_path: Path) -> None:
    """A guest destroyed while a copy runs: its job goes with it (no event,
    as libvirt), a later start has neither job nor <mirror>, and the copy
    of a persistent domain never reached its definition."""
    paths = chain(tmp_path / "img", "g", 2)
    ensure_event_loop()
    c = libvirt.open(f"qemu:///embed?root={root}")
    seen: list[Any] = []
    c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2,
                             lambda cn, dom, disk, t, s, o: seen.append((disk, t, s)), None)
    try:
        d = c.defineXML(xml("bjg", kernels["idle"], paths[1]))
        d.create()
        d.blockCopy("vda", f"<disk type='file'><source file='{tmp_path}/img/c.qcow2'/></disk>",
                    {"bandwidth": 65536}, 4)
        assert d.blockJobInfo("vda", 0)["type"] == 2
        d.destroy()
        assert "<mirror" not in d.XMLDesc(0)
        d.create()
        assert d.blockJobInfo("vda", 0) == {}
        assert "<mirror" not in d.XMLDesc(0) and "<mirror" not in d.XMLDesc(2)
        d.blockPull("vda", 65536, 64)
        d.destroy()
        d.create()
        assert d.blockJobInfo("vda", 0) == {}
        assert f"<source file='{paths[0]}'/>" in d.XMLDesc(0)   # the chain as it was
        d.destroy()
        assert seen == []
    finally:
        for dom in c.listAllDomains():
            if dom.isActive():
                dom.destroy()
            dom.undefine()
        c.close()


C_ABI = r'''
import json, sys, threading, time
import libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
libvirt.virEventRegisterDefaultImpl()
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                 daemon=True).start()
root, domxml = sys.argv[1], sys.argv[2]
c = libvirt.open("qemu:///embed?root=" + root)
ev = []
for i in (libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB, libvirt.VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2):
    c.domainEventRegisterAny(None, i, lambda cn, d, p, t, s, o: ev.append([o, t, s]), i)
d = c.createXML(domxml, 0)
out = [d.blockJobInfo("vda", 0), d.blockPull("vda", 65536, 64)]
i = d.blockJobInfo("vda", 1)
out += [[i["type"], i["bandwidth"], i["end"]], d.blockJobSetSpeed("vda", 0, 0)]
end = time.time() + 20
while len(ev) < 2 and time.time() < end:
    time.sleep(0.02)
out += [sorted(ev), d.blockJobInfo("vda", 0)]
d.destroy()
print(json.dumps(out))
'''


def test_through_the_c_abi(root: Path, kernels: dict[str, Path], tmp_path: Path) -> None:
    """python3-libvirt on pyvirt's libvirt.so.0: virDomainGetBlockJobInfo's
    0 (no job) and 1 (its record filled), the events' C callbacks."""
    paths = chain(tmp_path / "img", "a", 2)
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(reallibvirt.QEMU_CONF)
    done = subprocess.run(["/usr/bin/python3", "-c", C_ABI, str(root),
                           xml("bja", kernels["idle"], paths[1])],
                          capture_output=True, text=True, timeout=120, env=on_pyvirt())
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [{}, 0, [1, 65536, 8 * MiB], 0,
                                       [[8, 1, 0], [16, 1, 0]], {}]


def test_job_that_ended_while_no_driver_ran(root: Path, kernels: dict[str, Path],
                                            tmp_path: Path) -> None:
    """A pull that QEMU finished while no driver was open: the next driver
    finds it concluded (query-jobs), ends it (dismissed, the chain and
    QEMU's nodes without the pulled image) and forgets it."""
    paths = chain(tmp_path / "img", "e", 2)
    ensure_event_loop()
    c = libvirt.open(f"qemu:///embed?root={root}")
    d = c.createXML(xml("bje", kernels["idle"], paths[1]), 0)
    d.blockPull("vda", MiB, 64)
    assert "<blockjobs active='yes'>" in (root / "run" / "qemu" / "bje.xml").read_text()
    c.close()
    time.sleep(2)   # 1 MiB of data at 1 MiB/s: over by now
    c = libvirt.open(f"qemu:///embed?root={root}")
    try:
        d = c.lookupByName("bje")
        assert d.blockJobInfo("vda", 0) == {}
        disk = re.search(r"<disk .*?</disk>", d.XMLDesc(0), re.S).group(0)  # type: ignore
        assert f"<source file='{paths[1]}' index='1'/>\n      <backingStore/>" in disk, disk
        jobs = json.loads(libvirt_qemu_command(d, '{"execute": "query-jobs"}'))["return"]
        nodes = json.loads(libvirt_qemu_command(
            d, '{"execute": "query-named-block-nodes", "arguments": {"flat": true}}'))["return"]
        assert jobs == [] and sorted(n["node-name"] for n in nodes) == [
            "libvirt-1-format", "libvirt-1-storage"]
        assert "<blockjobs" not in (root / "run" / "qemu" / "bje.xml").read_text()
    finally:
        d.destroy()
        c.close()
