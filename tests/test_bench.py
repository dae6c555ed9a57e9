"""The bench harness runs and writes valid results (bench/run.py --smoke).

Timings are never checked here: only that every part ran on both libraries
and that results.json has the shape the tables and the chart read."""

from __future__ import annotations

import json
import subprocess
import sys

from support import ROOT, needs_build, needs_system_libvirt


@needs_build
@needs_system_libvirt
def test_bench_smoke(tmp_path):
    p = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--smoke", "--no-chart",
                        "--out", str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr[-3000:]
    res = json.loads((tmp_path / "results.json").read_text())
    assert res["meta"]["mode"] == "smoke"
    for op in ("open_close", "get_info", "lookup_name", "lookup_uuid", "get_xml",
               "define_undefine", "suspend_resume_event", "threads8_get_info"):
        for side in ("libvirt", "pyvirt"):
            assert res["c"][op][side]["median_ns"] > 0, (op, side, res["c"][op][side])
            assert res["python"][op][side]["median_ns"] > 0, (op, side)
    scale = res["scale"]["100"]
    assert {"lookup_name", "lookup_uuid", "get_info", "list_all", "define"} <= set(scale["ops"])
    assert scale["reached"]["pyvirt"]["domains"] == 100
    assert set(res["events"]) == {"1", "4"}
    assert res["qemu"]["status"]
    if "ops" in res["qemu"]:   # QEMU ran: every row is there, migration skipped in smoke
        assert {"qemu_start", "qemu_destroy", "migrate_total", "migrate_downtime",
                "migrate_total_postcopy"} <= set(res["qemu"]["ops"])
        assert res["qemu"]["migration_rounds"] == [0, 0]
        assert "live migration (precopy): downtime" in (tmp_path / "table.txt").read_text()
    assert "virDomainGetInfo" in (tmp_path / "table.txt").read_text()
    assert (tmp_path / "table.md").read_text().startswith("# pyvirt bench")
