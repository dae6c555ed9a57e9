"""The bench's tables, from results.json's dict: plain text for the terminal,
Markdown for docs/bench.md.  Ratios are pyvirt / libvirt: above 1, pyvirt is slower."""

from __future__ import annotations

C_OPS = [
    ("open_close", "open + close test:///default"),
    ("get_info", "virDomainGetInfo"),
    ("lookup_name", "virDomainLookupByName + Free"),
    ("lookup_uuid", "virDomainLookupByUUID + Free"),
    ("get_xml", "virDomainGetXMLDesc"),
    ("define_undefine", "virDomainDefineXML + Undefine"),
    ("list_all_1000", "virConnectListAllDomains + Free, 1,000 domains"),
    ("list_all_10000", "virConnectListAllDomains + Free, 10,000 domains"),
    ("suspend_resume_event", "suspend + resume, both events delivered"),
    ("threads8_get_info", "8 threads: virDomainGetInfo"),
    ("threads8_lookup_name", "8 threads: virDomainLookupByName + Free"),
    ("threads8_get_xml", "8 threads: virDomainGetXMLDesc"),
    ("threads8_define_undefine", "8 threads: DefineXML + Undefine"),
]
PY_OPS = [
    ("open_close", "libvirt.open(...).close()"),
    ("get_info", "dom.info()"),
    ("lookup_name", "conn.lookupByName()"),
    ("lookup_uuid", "conn.lookupByUUID()"),
    ("get_xml", "dom.XMLDesc()"),
    ("define_undefine", "conn.defineXML().undefine()"),
    ("list_all_*", "conn.listAllDomains(), {} domains"),
    ("suspend_resume_event", "suspend + resume, both events delivered"),
    ("threads8_get_info", "8 threads: dom.info()"),
    ("threads8_lookup_name", "8 threads: conn.lookupByName()"),
    ("threads8_get_xml", "8 threads: dom.XMLDesc()"),
    ("threads8_define_undefine", "8 threads: defineXML().undefine()"),
]
SCALE_OPS = [
    ("lookup_name", "LookupByName"),
    ("lookup_uuid", "LookupByUUID"),
    ("get_info", "GetInfo"),
    ("list_all", "ListAllDomains + Free"),
    ("define", "DefineXML (mean over the defines)"),
]
QEMU_ROWS = ["domain start to running", "suspend + resume", "destroy",
             "migration: total time", "migration: downtime"]


def fmt_ns(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            v = ns / scale
            return f"{v:.3g} {unit}" if v < 100 else f"{v:.0f} {unit}"
    return f"{ns:.0f} ns"


def fmt_bytes(b: float) -> str:
    return f"{b / 1024:.2f} KiB" if b >= 1024 else f"{b:.0f} B"


def cell(st: dict | None) -> str:
    if st is None:
        return "—"
    if "error" in st:
        return "failed"
    text = fmt_ns(st["median_ns"])
    if len(st["samples"]) > 1:
        text += f" ±{st['spread'] * 50:.0f}%"
    return text


def ratio(a: dict | None, b: dict | None) -> str:
    if not a or not b or "median_ns" not in a or "median_ns" not in b or not a["median_ns"]:
        return "—"
    r = b["median_ns"] / a["median_ns"]
    return f"{r:.2f}×" if r < 10 else f"{r:.0f}×"


def _c_list_stats(res: dict, n: int) -> dict:
    ops = res["scale"].get(str(n), {}).get("ops", {}).get("list_all")
    return ops or {}


def sections(res: dict) -> list[tuple[str, list[str], list[list[str]]]]:
    """(title, header, rows) for each table."""
    out = []
    c = res["c"]
    rows = []
    for key, label in C_OPS:
        if key.startswith("list_all_"):
            st = _c_list_stats(res, int(key.rsplit("_", 1)[1]))
            if not st:
                continue
        else:
            st = c.get(key, {})
        rows.append([label, cell(st.get("libvirt")), cell(st.get("pyvirt")),
                     ratio(st.get("libvirt"), st.get("pyvirt"))])
    for n in ("10000",):
        reached = res["scale"].get(n, {}).get("reached", {})
        if reached.get("libvirt") and reached.get("pyvirt"):
            lv, pv = reached["libvirt"]["bytes_per_domain"], reached["pyvirt"]["bytes_per_domain"]
            rows.append([f"peak memory per defined domain ({int(n):,} domains)", fmt_bytes(lv),
                         fmt_bytes(pv), f"{pv / lv:.2f}×" if lv > 0 else "—"])
            break
    out.append(("C API on test:///default: time per call (8 threads: wall time / all calls)",
                ["operation", "libvirt", "pyvirt", "ratio"], rows))

    py = res["python"]
    rows = []
    module = res.get("pyvirt_module", "")
    expanded = []
    for key, label in PY_OPS:
        if key == "list_all_*":
            sizes = sorted(int(k.rsplit("_", 1)[1]) for k in py if k.startswith("list_all_"))
            expanded += [(f"list_all_{n}", label.format(f"{n:,}")) for n in sizes]
        else:
            expanded.append((key, label))
    for key, label in expanded:
        st = py.get(key)
        if not st:
            continue
        m = st.get("pyvirt_module")
        rows.append([label, cell(st.get("libvirt")), cell(st.get("pyvirt")),
                     ratio(st.get("libvirt"), st.get("pyvirt")),
                     cell(m) if m else "—", ratio(st.get("libvirt"), m)])
    out.append(("Python (/usr/bin/python3): python3-libvirt on libvirt; python3-libvirt on "
                "pyvirt's libvirt.so.0; pyvirt's own module" + (f" ({module})" if module else ""),
                ["operation", "libvirt", "pyvirt .so", "ratio", "pyvirt module", "ratio"], rows))

    rows = []
    for key, label in SCALE_OPS:
        for n, sc in res["scale"].items():
            st = sc["ops"].get(key)
            if not st:
                continue
            cells = []
            for side in ("libvirt", "pyvirt"):
                text = cell(st.get(side))
                got = (sc["reached"].get(side) or {}).get("domains")
                if got is not None and got < int(n):
                    text += f" (at {got:,})"
                cells.append(text)
            rows.append([f"{label} @ {int(n):,}", *cells, ratio(st.get("libvirt"),
                                                                st.get("pyvirt"))])
    for n, sc in res["scale"].items():
        r = sc["reached"]
        # RSS moves by pages and the interpreter reuses its free arenas: not below 10,000
        if int(n) >= 10000 and r.get("libvirt") and r.get("pyvirt"):
            lv, pv = r["libvirt"]["bytes_per_domain"], r["pyvirt"]["bytes_per_domain"]
            rows.append([f"peak memory per domain @ {int(n):,}", fmt_bytes(lv), fmt_bytes(pv),
                         f"{pv / lv:.2f}×" if lv > 0 else "—"])
    out.append(("Scale (C): cost at N defined domains (lookups should stay flat, "
                "listing grow linearly); (at M): defining stopped at M domains, out of time", ["operation @ domains", "libvirt", "pyvirt", "ratio"],
                rows))

    rows = []
    for k, st in res["events"].items():
        rows.append([f"suspend + resume, {int(k):,} lifecycle callbacks", cell(st.get("libvirt")),
                     cell(st.get("pyvirt")), ratio(st.get("libvirt"), st.get("pyvirt"))])
    out.append(("Events (C): one suspend/resume cycle, every callback run by "
                "virEventRunDefaultImpl", ["operation", "libvirt", "pyvirt", "ratio"], rows))

    out.append(qemu_section(res["qemu"]))
    return out


QEMU_OPS = [("qemu_start", "domain start to running"),
            ("qemu_suspend_resume", "suspend + resume"),
            ("qemu_destroy", "destroy"),
            ("migrate_total", "live migration (precopy): total time"),
            ("migrate_downtime", "live migration (precopy): downtime"),
            ("migrate_total_postcopy", "live migration (post-copy): total time"),
            ("migrate_downtime_postcopy", "live migration (post-copy): downtime")]
MIGRATION_OPS = {op for op, _ in QEMU_OPS if op.startswith("migrate_")}


def qemu_section(q: dict) -> tuple[str, list[str], list[list[str]]]:
    title = "QEMU (qemu:///embed, and raw QEMU through QMP on the same guest)"
    if "ops" not in q:
        return title, ["operation", "result"], [[r, q["status"]] for r in QEMU_ROWS]
    ref = q.get("reference_ms") or {}
    head = ["operation", "libvirt 9.0", "raw QEMU (QMP)", "pyvirt", "vs libvirt", "vs raw"]
    rows = []
    for op, label in QEMU_OPS:
        st = q["ops"].get(op, {})
        if op in MIGRATION_OPS and not any(q.get("migration_rounds") or ()):
            rows.append([label, q.get("migration", "skipped"), "—", "—", "—", "—"])
            continue
        lv, star = st.get("libvirt"), ""
        if op in ref:
            lv, star = {"median_ns": ref[op] * 1e6, "samples": [ref[op] * 1e6]}, " *"
        elif lv and "error" in lv and op in MIGRATION_OPS:
            star = " (no reference)"
        rows.append([label, cell(lv) + star, cell(st.get("raw")),
                     cell(st.get("pyvirt")), ratio(lv, st.get("pyvirt")),
                     ratio(st.get("raw"), st.get("pyvirt"))])
    title += (f"; {q['status']}. Lifecycle: the sides take turns in blocks of rounds; "
              "suspend + resume 0.3 s after the start, as the reference's bench.py has it")
    if any(q.get("migration_rounds") or ()):
        title += (f". Migration: {q['migration']}; total: the migrate call to its return "
                  "(raw: spawning the destination QEMU to the source gone, destination "
                  "running; post-copy: migrate-start-postcopy once active); downtime: "
                  "the job's figure: QEMU's own for raw and pyvirt, libvirt's own for "
                  "libvirt (from the STOP it sees to the destination resumed, which "
                  "measured 4-17 ms, median 8, above QEMU's STOP to completion over 19 "
                  "rounds); raw sends what a "
                  "managed migration sends: its own connection as an fd (TCP_NODELAY, "
                  "as libvirt's), the same capabilities, pause-before-switchover "
                  "included, continued on QEMU's event; raw runs the guest's hardware "
                  "(bench/rawguest.py)")
    return title, head, rows


def header(res: dict) -> str:
    m = res["meta"]
    p = m["profile"]
    return (f"pyvirt bench ({m['mode']}), {m['date']}, commit {m['commit']}: {m['cpu']}, "
            f"{m['cpus']} CPUs, {m['memory_gib']} GiB, {m['os']}, kernel {m['kernel']}; "
            f"libvirt {m['libvirt']}, python3-libvirt {m['python3_libvirt']}, "
            f"Python {m['python']}; load average {m.get('load_before', '?')} at the start."
            f"\nMedian of {p['rounds']} alternating rounds "
            f"(scale: {p['scale_rounds']} up to 10,000 domains, 1 above), each operation "
            f"timed for {p['seconds']} s; ±: half the range over rounds; "
            f"ratio: pyvirt / libvirt (above 1: pyvirt is slower). "
            f"{m['seconds_total']} s in all.")


def render_text(res: dict) -> str:
    lines = [header(res), ""]
    for title, head, rows in sections(res):
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines.append(title)
        lines.append("  ".join(h.ljust(w) for h, w in zip(head, widths)).rstrip())
        lines.append("  ".join("-" * w for w in widths))
        for r in rows:
            lines.append("  ".join([r[0].ljust(widths[0])]
                                   + [c.rjust(w) for c, w in zip(r[1:], widths[1:])]).rstrip())
        lines.append("")
    if res["qemu"].get("detail"):
        lines.append(f"QEMU probe: {res['qemu']['detail']}")
    for f in res.get("failures", []):
        lines.append(f"FAILED: {f}")
    return "\n".join(lines) + "\n"


def render_markdown(res: dict) -> str:
    lines = ["# pyvirt bench: the latest run", "",
             "Written by `make bench DOCS=1` (bench/run.py --docs); the chart is "
             "[bench.png](bench.png).", "", header(res), ""]
    for title, head, rows in sections(res):
        lines += [f"## {title}", "", "| " + " | ".join(head) + " |",
                  "| " + " | ".join(["---"] + ["---:"] * (len(head) - 1)) + " |"]
        lines += ["| " + " | ".join(r) + " |" for r in rows]
        lines.append("")
    if res["qemu"].get("detail"):
        lines.append(f"QEMU probe: {res['qemu']['detail']}\n")
    for f in res.get("failures", []):
        lines.append(f"- FAILED: {f}")
    return "\n".join(lines) + "\n"
