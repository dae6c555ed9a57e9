"""A disk's sizes (virDomainGetBlockInfo) and I/O throttling
(virDomainGet/SetBlockIoTune) on real QEMU, compared live with real
libvirt 9.0's embed driver: the same scenario, on images of its own made
alike, run by both (`c` the connection, `libvirt` the module: pyvirt's
generated one here, python3-libvirt there); what QEMU was told is pinned
through query-block."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import reallibvirt
from support import pyvirt_module
from pyvirt import api
from qemutest import VIRT_TYPE, ensure_event_loop, kernels, root  # noqa: F401

libvirt = pyvirt_module()
START_TUNE = ("<total_bytes_sec>4000</total_bytes_sec><write_iops_sec>30</write_iops_sec>"
              "<write_iops_sec_max>60</write_iops_sec_max><group_name>g0</group_name>")


def images(folder: Path) -> Path:
    """A raw and a qcow2 image, each with data written (qemu-io), alike in every run."""
    folder.mkdir(parents=True, exist_ok=True)
    raw, qcow2 = folder / "a.raw", folder / "b.qcow2"
    subprocess.run(["qemu-img", "create", "-f", "raw", str(raw), "16M"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["qemu-img", "create", "-f", "qcow2", str(qcow2), "32M"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["qemu-io", "-f", "raw", "-c", "write 0 1M", str(raw)], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c", "write 0 1M", "-c", "write 10M 64k",
                    str(qcow2)], check=True, stdout=subprocess.DEVNULL)
    return folder


def xml(name: str, kernel: Path, folder: Path, network: bool = False, tune: str = "") -> str:
    """`tune`: vda's <iotune> children."""
    iotune = f"<iotune>{tune}</iotune>" if tune else ""
    disks = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{folder}/a.raw'/><target dev='vda' bus='virtio'/>{iotune}</disk>"
             f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             f"<source file='{folder}/b.qcow2'/><target dev='vdb' bus='virtio'/></disk>"
             "<disk type='file' device='cdrom'><driver name='qemu' type='raw'/>"
             "<target dev='sda' bus='sata'/><readonly/></disk>")
    if network:
        disks += ("<disk type='network' device='disk'><driver name='qemu' type='raw'/>"
                  "<source protocol='nbd' name='x'><host name='localhost' port='10809'/>"
                  "</source><target dev='vdc' bus='virtio'/></disk>")
    return (f"<domain type='{VIRT_TYPE}'><name>{name}</name><memory unit='MiB'>64</memory>"
            f"<vcpu>1</vcpu><os><type arch='x86_64' machine='q35'>hvm</type>"
            f"<kernel>{kernel}</kernel></os><devices>{disks}</devices></domain>")


def questions(kernel: Path, folder: Path, p: str) -> dict[str, str]:
    """Domains {p}i (inactive, with a network disk), {p}r (running
    persistent), {p}t (transient), {p}s (started throttled); the TUNABLE
    events seen, at the end."""
    L = lambda n: f"c.lookupByName('{p}{n}')"   # noqa: E731
    qs = {"a0": "[setattr(libvirt, 'bi_events', []), c.domainEventRegisterAny(None, "
                "libvirt.VIR_DOMAIN_EVENT_ID_TUNABLE, lambda cn, d, prm, o: "
                "libvirt.bi_events.append((d.name(), prm)), None), 0][2]",
          "a1": f"c.defineXML({xml(p + 'i', kernel, folder, True)!r}).name()",
          "a2": f"[c.defineXML({xml(p + 'r', kernel, folder / 'r')!r}).create(), 0][1]",
          "a2m": f"c.defineXML({xml(p + 'm', kernel, folder / 'missing')!r}).blockInfo('vda')",
          "a3": f"c.createXML({xml(p + 't', kernel, folder / 't')!r}).name()",
          "a4": f"c.createXML({xml(p + 's', kernel, folder / 's', tune=START_TUNE)!r}).name()",
          "a5": f"{L('s')}.blockIoTune('vda', 0)",
          "a6": f"{L('s')}.XMLDesc(0)"}
    n = 0

    def q(expr: str) -> None:
        nonlocal n
        n += 1
        qs[f"b{n:03d}"] = expr
    paths = {"i": folder, "r": folder / "r", "t": folder / "t"}
    for d in "irt":
        for disk in ("vda", "vdb", f"{paths[d]}/a.raw", f"{paths[d]}/b.qcow2", "sda", "vdc",
                     "vdz", "/tmp/nope"):
            raw = disk in ("vda", f"{paths[d]}/a.raw")
            path = f"{paths[d]}/{'a.raw' if raw else 'b.qcow2'}"
            if d == "i" or disk not in ("vda", "vdb", path):
                q(f"{L(d)}.blockInfo({disk!r}, 0)")
                continue
            # While the domain runs, libvirt's DAC driver remembers the image's
            # owner in extended attributes (trusted.libvirt.security.*), which
            # take a block of their own on ext4; pyvirt keeps no such record.
            # Their block is taken off the allocation QEMU reports.
            q(f"(lambda i, p: [i[0], i[1] - (os.statvfs(p).f_bsize if os.listxattr(p) "
              f"else 0), i[2]])({L(d)}.blockInfo({disk!r}, 0), {path!r})")
        q(f"{L(d)}.blockInfo('vda', 1)")
        for f in (0, 1, 2, 3, 8):
            for disk in ("vda", "sda", "vdz"):
                q(f"{L(d)}.blockIoTune({disk!r}, {f})")
        for f in (0, 1, 2, 3, 4):
            q(f"{L(d)}.setBlockIoTune('vdb', {{'write_iops_sec': 7}}, {f})")
        for params in ("{'total_bytes_sec': 1000, 'read_iops_sec': 20}",
                       "{'total_bytes_sec_max': 500}",
                       "{'total_bytes_sec_max': 5000}",
                       "{'read_iops_sec_max_length': 5}",
                       "{'total_bytes_sec_max_length': 5}",
                       "{'read_bytes_sec': 5}",
                       "{'read_bytes_sec': 10 ** 16}",
                       "{'total_iops_sec': 3, 'write_iops_sec': 4}",
                       "{'total_bytes_sec_max_length': 1, 'read_bytes_sec_max_length': 1}",
                       "{'size_iops_sec': 10}",
                       "{'group_name': 'gg'}"):
            q(f"{L(d)}.setBlockIoTune('vda', {params}, 0)")
            q(f"{L(d)}.blockIoTune('vda', 0)")
        # a group: vdb joins vda's, then changes it for both
        q(f"{L(d)}.setBlockIoTune({str(paths[d]) + '/b.qcow2'!r}, {{'group_name': 'gg'}}, 0)")
        q(f"{L(d)}.setBlockIoTune('vdb', {{'group_name': 'gg', 'write_bytes_sec': 77}}, 0)")
        q(f"{L(d)}.setBlockIoTune('vdb', {{'group_name': 'hh', 'total_bytes_sec': 9, "
          f"'total_bytes_sec_max': 0}}, 0)")
        q(f"[{L(d)}.blockIoTune(x, 0) for x in ('vda', 'vdb')]")
        q(f"{L(d)}.setBlockIoTune('sda', {{'total_iops_sec': 5}}, 0)")
        q(f"{L(d)}.setBlockIoTune('vdz', {{'total_iops_sec': 5}}, 0)")
        q(f"{L(d)}.setBlockIoTune('vdc', {{'total_iops_sec': 5}}, 0)")
        q(f"{L(d)}.XMLDesc(0)")
        q(f"{L(d)}.setBlockIoTune('vda', {{'total_bytes_sec': 0, 'read_iops_sec': 0, "
          f"'total_bytes_sec_max': 0, 'total_bytes_sec_max_length': 0, "
          f"'write_bytes_sec': 0, 'size_iops_sec': 0}}, 0)")
        q(f"{L(d)}.blockIoTune('vda', 0)")
        q(f"{L(d)}.setBlockIoTune('vdb', {{'group_name': 'zz'}}, 0)")
        if d != "t":
            q(f"{L(d)}.XMLDesc(2)")
        q(f"{L(d)}.XMLDesc(0)")
    q(f"[d.destroy() for d in c.listAllDomains() if d.isActive() and d.name().startswith('{p}')]")
    # the real root serves the whole session: leave no definition for other tests to list
    q(f"[d.undefine() for d in c.listAllDomains() if d.name().startswith('{p}')]")
    q("(__import__('time').sleep(1), sorted(libvirt.bi_events, key=repr))[1]")
    return qs


def _norm(answer: Any, folder: Path) -> Any:
    """The answer as JSON, without what differs between two runs (paths, uuids, ids)."""
    import re
    text = json.dumps(list(answer)).replace(str(folder), "DIR")
    text = re.sub(r"<uuid>.*?</uuid>", "", text)
    return re.sub(r" id='\d+'", "", text)


def test_block_info_and_iotune_as_real_libvirt(root: Path, kernels: dict[str, Path],
                                               tmp_path: Path) -> None:
    theirs, mine = tmp_path / "real", tmp_path / "ours"
    for folder in (theirs, mine):
        for sub in (folder, folder / "r", folder / "t", folder / "s"):
            images(sub)
    real = reallibvirt.ask(questions(kernels["idle"], theirs, "bi"))
    (root / "etc").mkdir(parents=True)
    (root / "etc" / "qemu.conf").write_text(reallibvirt.QEMU_CONF)
    ensure_event_loop()
    c = libvirt.open(f"qemu:///embed?root={root}")
    qs = questions(kernels["idle"], mine, "bi")
    try:
        ours = reallibvirt.ask_ours(libvirt, c, qs, str(root))
    finally:
        for d in c.listAllDomains():
            if d.isActive():
                d.destroy()
        c.close()
    diffs = [(k, qs[k][:150], _norm(ours.get(k, ()), mine), _norm(real[k], theirs))
             for k in sorted(real)
             if _norm(ours.get(k, ()), mine) != _norm(real[k], theirs)]
    for k, q, a, b in diffs:
        print(k, q, "ours: " + a, "real: " + b, sep="\n  ")
    assert not diffs


def _throttle(d: Any, qdev: str) -> dict[str, Any]:
    """What QEMU was told for the device `qdev` (query-block)."""
    out = json.loads(api.virDomainQemuMonitorCommand(d, '{"execute": "query-block"}', 0))
    inserted = next(b["inserted"] for b in out["return"] if b["qdev"] == qdev)
    return {k: inserted[k] for k in ("bps", "bps_rd", "iops_wr", "iops_wr_max",
                                     "iops_size", "group") if k in inserted}


def test_live_throttling_in_qemu_and_status(root: Path, kernels: dict[str, Path],
                                            tmp_path: Path) -> None:
    """block_set_io_throttle goes to the device's QOM name with libvirt's
    values (at start from <iotune>, then from the API); a new driver on the
    root finds them in the status file (live XML) and in QEMU, while the
    config keeps its own."""
    folder = images(tmp_path / "img")
    vda = "/machine/peripheral/virtio-disk0/virtio-backend"
    want = {"bps": 0, "bps_rd": 100000, "iops_wr": 30, "iops_wr_max": 60, "iops_size": 512,
            "group": "g0"}
    ensure_event_loop()
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainDefineXML(c, xml("bk", kernels["idle"], folder, tune=START_TUNE))
        api.virDomainCreate(d)
        started = dict((n, v) for n, _, v in api.virDomainGetBlockIoTune(d, "vda", 1))
        assert (started["total_bytes_sec"], started["write_iops_sec"],
                started["write_iops_sec_max"], started["group_name"]) == (4000, 30, 60, "g0")
        api.virDomainSetBlockIoTune(d, "vda", [("read_bytes_sec", 4, 100000),
                                               ("size_iops_sec", 4, 512)], 1)
        assert _throttle(d, vda) == want
    finally:
        api.virConnectClose(c)
    c = api.virConnectOpen(f"qemu:///embed?root={root}")
    try:
        d = api.virDomainLookupByName(c, "bk")
        live = dict((n, v) for n, _, v in api.virDomainGetBlockIoTune(d, "vda", 1))
        config = dict((n, v) for n, _, v in api.virDomainGetBlockIoTune(d, "vda", 2))
        assert (live["read_bytes_sec"], live["total_bytes_sec"], live["size_iops_sec"],
                live["group_name"]) == (100000, 0, 512, "g0")
        assert (config["read_bytes_sec"], config["total_bytes_sec"]) == (0, 4000)
        assert "<read_bytes_sec>100000</read_bytes_sec>" in api.virDomainGetXMLDesc(d, 0)
        assert _throttle(d, vda) == want
        api.virDomainDestroy(d)
    finally:
        api.virConnectClose(c)


def test_running_sizes_after_guest_writes(tmp_path: Path) -> None:
    """libvirt's reading of QEMU's numbers once a guest has written (not
    compared live: the test guests write no disk): a raw disk's allocation
    is the highest offset written, its physical QEMU's disk usage; a qcow2
    file's allocation is its disk usage, and physical then the file's size."""
    from pyvirt.drivers.qemu.blockinfo import _running_sizes
    from pyvirt.drivers.qemu.command import DiskNode
    image = tmp_path / "x.img"
    image.write_bytes(b"\0" * 8192)
    inserted = {"image": {"virtual-size": 1 << 24, "actual-size": 3 << 20}}
    written = {"parent": {"stats": {"wr_highest_offset": 5 << 20}}}
    raw = DiskNode("vda", 1, "virtio-disk0", str(image), "raw", False)
    qcow2 = DiskNode("vda", 1, "virtio-disk0", str(image), "qcow2", False)
    sizes = lambda n, st: tuple(vars(_running_sizes(n, st, inserted)).values())  # noqa: E731
    assert sizes(raw, written) == (1 << 24, 5 << 20, 3 << 20)
    assert sizes(qcow2, written) == (1 << 24, 3 << 20, 8192)
    assert sizes(raw, {"parent": {"stats": {"wr_highest_offset": 0}}}) == (1 << 24, 3 << 20, 8192)
    assert sizes(raw, None) == (1 << 24, 3 << 20, 8192)
