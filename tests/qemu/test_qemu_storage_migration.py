"""Storage migration over NBD (VIR_MIGRATE_NON_SHARED_DISK), between two
embed roots whose disk images live in different directories, with real
QEMU; and the migration tuning flags (AUTO_CONVERGE, COMPRESSED)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from qemutest import domxml, kernels, until  # noqa: F401
from test_qemu_migration import (ITER, RESUMED_MIGRATED, STARTED_MIGRATED,  # noqa: F401
                                 SUSPENDED_MIGRATED, STOPPED_MIGRATED, two, migrate_in_thread)
from pyvirt import api, migration as mig
from pyvirt.errors import VirtError

LIVE = mig.VIR_MIGRATE_LIVE
DISK = mig.VIR_MIGRATE_NON_SHARED_DISK
SIZE = 1 << 20
BEFORE, DURING = (0, b"A" * 65536), (SIZE // 2, b"B" * 65536)


def _disk(path: Path) -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='sda' bus='sata'/></disk>")


def _images(tmp_path: Path) -> tuple[Path, Path]:
    (tmp_path / "src-images").mkdir()
    (tmp_path / "dst-images").mkdir()
    src, dst = tmp_path / "src-images" / "d.img", tmp_path / "dst-images" / "d.img"
    data = bytearray(SIZE)
    data[BEFORE[0]:BEFORE[0] + len(BEFORE[1])] = BEFORE[1]
    src.write_bytes(bytes(data))
    dst.write_bytes(bytes(SIZE))      # the destination's image exists, as libvirt wants
    return src, dst


def test_non_shared_disk_copies_what_the_guest_wrote(two, kernels, tmp_path):
    src_conn, dst_conn, src_ev, dst_ev = two
    src_img, dst_img = _images(tmp_path)
    src = api.virDomainCreateXML(src_conn, domxml("smig", kernels["dirty"], _disk(src_img)), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    dxml = domxml("smig", kernels["dirty"], _disk(dst_img)).replace(
        "<name>", f"<uuid>{api.virDomainGetUUIDString(src)}</uuid><name>")
    # 1 MiB/s: the disk copy gets ready, the dirtying memory never converges
    t, result = migrate_in_thread(
        src, dst_conn, [("bandwidth", 4, 1), ("destination_xml", 7, dxml)], LIVE | DISK)
    try:
        # memory moves only once every mirror is READY: from then on writes are mirrored
        src_ev.wait(lambda items: any(i[0] == "iter" for i in items) or not t.is_alive(), 60)
        assert any(i[0] == "iter" for i in src_ev.items), result
        stats = dict((k, v) for k, _, v in api.virDomainGetJobStats(src, 0)[1])
        assert stats["disk_total"] == SIZE and stats["disk_processed"] <= SIZE
        info = api.virDomainGetJobInfo(src)
        assert (info.type, info.fileTotal) == (mig.VIR_DOMAIN_JOB_UNBOUNDED, SIZE)
        rt = src_conn.driver.runtime[src.uuid]
        out = rt.monitor.execute("human-monitor-command", {
            "command-line": f'qemu-io -d sata0-0-0 "write -P 0x42 {DURING[0]} {len(DURING[1])}"'})
        assert "rror" not in out, out    # qemu-io prints nothing on success here
        api.virDomainMigrateSetMaxSpeed(src, mig.BANDWIDTH_MAX, 0)   # now let it converge
    finally:
        t.join(120)
    assert "dom" in result, result
    ddom = result["dom"]
    assert api.virDomainGetState(ddom, 0) == (1, 2)                  # RUNNING/MIGRATED
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    job = dict((k, v) for k, _, v in [i for i in src_ev.items if i[0] == "job"][0][1])
    # QEMU's mirror progress counts re-copied (rewritten) bytes too, as libvirt reports it
    assert job["disk_total"] >= SIZE + len(DURING[1])
    assert (job["disk_processed"], job["disk_remaining"]) == (job["disk_total"], 0)
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, STOPPED_MIGRATED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_MIGRATED]
    api.virDomainDestroy(ddom)
    copied = dst_img.read_bytes()
    assert copied == src_img.read_bytes()
    for offset, data in (BEFORE, DURING):
        assert copied[offset:offset + len(data)] == data


def test_missing_destination_image_fails_prepare(two, kernels, tmp_path):
    """Prepare fails on the destination: the guest stays running on the source,
    nothing is left on the destination, the source is free for a new job."""
    src_conn, dst_conn, src_ev, dst_ev = two
    src_img, dst_img = _images(tmp_path)
    dst_img.unlink()
    src = api.virDomainCreateXML(src_conn, domxml("pmig", kernels["idle"], _disk(src_img)), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    dxml = domxml("pmig", kernels["idle"], _disk(dst_img)).replace(
        "<name>", f"<uuid>{api.virDomainGetUUIDString(src)}</uuid><name>")
    with pytest.raises(VirtError) as err:
        api.virDomainMigrate3(src, dst_conn, [("destination_xml", 7, dxml)], LIVE | DISK)
    assert (err.value.code, str(err.value)) == (
        49, "Storage pool not found: no storage pool with matching target path "
            f"'{dst_img.parent}'")
    with pytest.raises(VirtError) as inc:
        api.virDomainMigrate3(src, dst_conn, [("destination_xml", 7, dxml)],
                              LIVE | mig.VIR_MIGRATE_NON_SHARED_INC)
    assert (inc.value.code, str(inc.value)) == (
        84, "Operation not supported: pre-creation of storage targets for incremental "
            "storage migration is not supported")
    with pytest.raises(VirtError) as unknown:
        api.virDomainMigrate3(src, dst_conn, [("migrate_disks", 7, "vdz")], LIVE | DISK)
    assert (unknown.value.code, str(unknown.value)) == (8, "invalid argument: disk target vdz not found")
    assert api.virDomainGetState(src, 0) == (1, 1)                  # RUNNING/BOOTED
    assert api.virConnectListAllDomains(dst_conn, 0) == []
    assert dst_ev.lifecycle() == [] and src_ev.lifecycle() == []
    assert api.virDomainGetJobStats(src, 0) == (mig.VIR_DOMAIN_JOB_NONE, [])


def test_auto_converge_and_compression_reach_qemu(two, kernels):
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("tmig", kernels["dirty"]), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    bad = [([("auto_converge.initial", 1, 30)], LIVE,
            "Turn auto convergence on to tune it"),
           ([("compression", 7, "lz4")], LIVE | mig.VIR_MIGRATE_COMPRESSED,
            "Unsupported compression method 'lz4'"),
           # libvirt 9.0 has no multifd compression (zlib/zstd came in 9.4)
           ([("compression", 7, "zlib")], LIVE | mig.VIR_MIGRATE_COMPRESSED,
            "Unsupported compression method 'zlib'"),
           ([("compression.xbzrle.cache", 4, 1 << 20)], LIVE,
            "Turn xbzrle compression on to tune it")]
    for params, flags, message in bad:
        with pytest.raises(VirtError) as err:
            api.virDomainMigrate3(src, dst_conn, params, flags)
        assert (err.value.code, str(err.value)) == (8, "invalid argument: " + message)
    del src_ev.items[:]
    flags = LIVE | mig.VIR_MIGRATE_AUTO_CONVERGE | mig.VIR_MIGRATE_COMPRESSED
    params = [("bandwidth", 4, 1), ("auto_converge.initial", 1, 30),
              ("auto_converge.increment", 1, 5), ("compression", 7, "xbzrle"),
              ("compression.xbzrle.cache", 4, 8 << 20)]
    t, result = migrate_in_thread(src, dst_conn, params, flags)
    try:
        src_ev.wait(lambda items: any(i[0] == "iter" for i in items) or not t.is_alive(), 60)
        mon = src_conn.driver.runtime[src.uuid].monitor
        caps = {c["capability"]: c["state"]
                for c in mon.execute("query-migrate-capabilities")}
        qparams = mon.execute("query-migrate-parameters")
    finally:
        api.virDomainAbortJob(src)
        t.join(60)
    assert caps["auto-converge"] and caps["xbzrle"] and not caps["compress"]
    assert (qparams["cpu-throttle-initial"], qparams["cpu-throttle-increment"],
            qparams["xbzrle-cache-size"]) == (30, 5, 8 << 20)
    assert result["err"][0] == 78                      # aborted: the guest stays here
    assert api.virDomainGetState(src, 0) == (1, 1)


def test_non_shared_inc_copies_only_the_top_of_a_backing_chain(two, kernels, tmp_path):
    """VIR_MIGRATE_NON_SHARED_INC of a qcow2 overlay on a raw base: the base is
    on both sides already (same content, each side's own file); only what the
    overlay holds crosses (a mirror with sync 'top'), and the destination reads
    the base's data through its own base plus the overlay's data."""
    src_dir, dst_dir = tmp_path / "src-images", tmp_path / "dst-images"
    src_dir.mkdir()
    dst_dir.mkdir()
    base = bytearray(SIZE)
    base[BEFORE[0]:BEFORE[0] + len(BEFORE[1])] = BEFORE[1]
    tops = []
    for d in (src_dir, dst_dir):
        (d / "base.raw").write_bytes(bytes(base))
        subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-F", "raw",
                        "-b", str(d / "base.raw"), str(d / "top.qcow2")], check=True)
        tops.append(d / "top.qcow2")
    top_data = (SIZE // 4, b"T" * 65536)
    subprocess.run(["qemu-io", "-f", "qcow2", "-c",
                    f"write -P 0x54 {top_data[0]} {len(top_data[1])}", str(tops[0])],
                   check=True, capture_output=True)

    def qdisk(path: Path) -> str:
        return _disk(path).replace("type='raw'", "type='qcow2'")
    src_conn, dst_conn, src_ev, dst_ev = two
    src = api.virDomainCreateXML(src_conn, domxml("imig", kernels["idle"], qdisk(tops[0])), 0)
    src_ev.wait(lambda items: len(items) >= 2)
    del src_ev.items[:]
    dxml = domxml("imig", kernels["idle"], qdisk(tops[1])).replace(
        "<name>", f"<uuid>{api.virDomainGetUUIDString(src)}</uuid><name>")
    ddom = api.virDomainMigrate3(src, dst_conn, [("destination_xml", 7, dxml)],
                                 LIVE | mig.VIR_MIGRATE_NON_SHARED_INC)
    assert api.virDomainGetState(ddom, 0) == (1, 2)                  # RUNNING/MIGRATED
    src_ev.wait(lambda items: any(i[0] == "job" for i in items))
    job = dict((k, v) for k, _, v in [i for i in src_ev.items if i[0] == "job"][0][1])
    assert job["disk_processed"] == job["disk_total"] == len(top_data[1])   # the top alone
    assert src_ev.lifecycle() == [SUSPENDED_MIGRATED, STOPPED_MIGRATED]
    assert dst_ev.lifecycle() == [STARTED_MIGRATED, RESUMED_MIGRATED]
    api.virDomainDestroy(ddom)
    # the destination's overlay holds the top's data alone, its base the rest
    extents = json.loads(subprocess.run(["qemu-img", "map", "--output=json", str(tops[1])],
                                        check=True, capture_output=True, text=True).stdout)
    own = [(e["start"], e["length"]) for e in extents if e["depth"] == 0 and e["data"]]
    assert own == [(top_data[0], len(top_data[1]))]
    flat = tmp_path / "flat.raw"
    subprocess.run(["qemu-img", "convert", "-O", "raw", str(tops[1]), str(flat)], check=True)
    copied = flat.read_bytes()
    for offset, data in (BEFORE, top_data):
        assert copied[offset:offset + len(data)] == data
