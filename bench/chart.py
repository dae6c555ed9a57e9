"""The bench's PNG: ratios per operation (C and Python) and the scaling curves
(lookups and listing vs domains, define cost and memory, event callbacks)."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from report import C_OPS, PY_OPS, QEMU_OPS, header  # noqa: E402

LIB, PYV, MOD = "#4C72B0", "#DD8452", "#55A868"
MEMORY_FROM = 10000   # below, RSS moves by whole pages and the interpreter's free arenas


def _median(st) -> float | None:
    return st.get("median_ns") if st else None


def _ratio_panel(ax, title: str, items: list) -> None:
    """items: (label, [(ratio or None, colour, series name)])."""
    labels = [label for label, _ in items]
    nser = max((len(s) for _, s in items), default=1)
    h = 0.8 / nser
    seen = set()
    for i, (_, series) in enumerate(items):
        for j, (r, colour, name) in enumerate(series):
            if r is None:
                continue
            y = i - 0.4 + h * (j + 0.5)
            ax.barh(y, r, height=h, color=colour,
                    label=None if name in seen else name)
            seen.add(name)
            ax.text(r * 1.05, y, f"{r:.1f}×" if r < 10 else f"{r:.0f}×", va="center",
                    fontsize=7)
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    lo = min([r for _, ser in items for r, _, _ in ser if r] + [1.0])
    hi = max([r for _, ser in items for r, _, _ in ser if r] + [1.0])
    ticks = [t for t in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)
             if lo / 2 <= t <= hi * 2]
    ax.set_xlim(min(ticks[0], lo / 1.3), max(ticks[-1], hi * 1.6))
    ax.xaxis.set_major_locator(matplotlib.ticker.FixedLocator(ticks))
    ax.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}×"))
    ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    ax.axvline(1, color="black", lw=0.8)
    ax.set_xlabel("pyvirt time / libvirt time (log; left of 1: pyvirt faster)")
    ax.set_title(title, fontsize=10, pad=22)
    ax.grid(axis="x", which="both", alpha=0.3)
    ax.legend(fontsize=7, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=2, frameon=False)


def _c_items(res: dict) -> list:
    items = []
    for key, label in C_OPS:
        if key.startswith("list_all_"):
            st = res["scale"].get(key.rsplit("_", 1)[1], {}).get("ops", {}).get("list_all")
        else:
            st = res["c"].get(key)
        if not st:
            continue
        a, b = _median(st.get("libvirt")), _median(st.get("pyvirt"))
        items.append((label.replace("virDomain", "").replace("virConnect", ""),
                      [(b / a if a and b else None, PYV, "C program on pyvirt")]))
    return items


def _py_items(res: dict) -> list:
    items = []
    keys = [k for k, _ in PY_OPS if k != "list_all_*"]
    keys += sorted((k for k in res["python"] if k.startswith("list_all_")),
                   key=lambda k: int(k.rsplit("_", 1)[1]))
    labels = dict(PY_OPS)
    for key in keys:
        st = res["python"].get(key)
        if not st:
            continue
        label = labels.get(key) or f"listAllDomains(), {int(key.rsplit('_', 1)[1]):,}"
        a = _median(st.get("libvirt"))
        series = []
        for side, colour, name in (("pyvirt", PYV, "python3-libvirt on pyvirt's .so"),
                                   ("pyvirt_module", MOD, "pyvirt's own module")):
            b = _median(st.get(side))
            series.append((b / a if a and b else None, colour, name))
        items.append((label, series))
    return items


def _qemu_items(res: dict) -> list:
    """The QEMU rows measured on libvirt in this run (not the reference's)."""
    q = res.get("qemu", {})
    items = []
    for key, label in QEMU_OPS:
        if key in (q.get("reference_ms") or {}):
            continue
        st = q.get("ops", {}).get(key) or {}
        a, b = _median(st.get("libvirt")), _median(st.get("pyvirt"))
        if a and b:
            items.append((f"QEMU: {label}", [(b / a, PYV, "python3-libvirt on pyvirt's .so")]))
    return items


def _scale_points(res: dict, op: str, side: str) -> tuple[list, list]:
    xs, ys = [], []
    for n, sc in sorted(res["scale"].items(), key=lambda kv: int(kv[0])):
        m = _median(sc["ops"].get(op, {}).get(side))
        reached = (sc["reached"].get(side) or {}).get("domains", int(n))
        if m:
            xs.append(reached)
            ys.append(m / 1e3)
    return xs, ys


def _curves(ax, res: dict, ops: list, title: str, ylabel: str) -> None:
    """Solid: libvirt, dashed: pyvirt; one colour per operation, or per side
    when the panel has one operation."""
    colours = ["#4C72B0", "#C44E52", "#8172B2", "#937860"]
    for (op, label), colour in zip(ops, colours):
        for side, style, side_colour in (("libvirt", "-", LIB), ("pyvirt", "--", PYV)):
            xs, ys = _scale_points(res, op, side)
            if xs:
                ax.plot(xs, ys, style, marker="o", ms=3,
                        color=side_colour if len(ops) == 1 else colour,
                        label=f"{label}, {side}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("defined domains")
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(which="both", alpha=0.3)
    ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    ax.legend(fontsize=7, loc="upper left")


def _events(ax, res: dict) -> None:
    for side, style, colour in (("libvirt", "-", LIB), ("pyvirt", "--", PYV)):
        pts = sorted((int(k), _median(v.get(side))) for k, v in res["events"].items())
        pts = [(k, m / 1e3) for k, m in pts if m]
        if pts:
            ax.plot(*zip(*pts), style, marker="o", ms=3, color=colour, label=side)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("lifecycle callbacks registered")
    ax.set_ylabel("µs per suspend + resume cycle")
    ax.set_title("Event delivery vs callbacks (C)", fontsize=10)
    ax.grid(which="both", alpha=0.3)
    ax.legend(fontsize=7)


def _define_memory(ax, res: dict) -> None:
    _curves(ax, res, [("define", "DefineXML")], "Define cost and memory vs domains (C)",
            "µs per DefineXML (mean)")
    ax2 = ax.twinx()
    for side, colour in (("libvirt", LIB), ("pyvirt", PYV)):
        pts = []
        for n, sc in sorted(res["scale"].items(), key=lambda kv: int(kv[0])):
            r = sc["reached"].get(side)
            if r and int(n) >= MEMORY_FROM:
                pts.append((r["domains"], r["bytes_per_domain"] / 1024))
        if pts:
            ax2.plot(*zip(*pts), ":", marker="s", ms=3, color=colour,
                     label=f"KiB per domain, {side}")
    ax2.set_ylabel("peak KiB per defined domain (dotted)")
    ax2.set_ylim(bottom=0)
    ax2.legend(fontsize=7, loc="center left")


def draw(res: dict, path: Path) -> None:
    fig = plt.figure(figsize=(17, 11), dpi=110)
    gs = fig.add_gridspec(2, 3, hspace=0.35, wspace=0.45)
    _ratio_panel(fig.add_subplot(gs[0, 0]), "C API: pyvirt / libvirt", _c_items(res))
    _ratio_panel(fig.add_subplot(gs[1, 0]), "Python (and QEMU): pyvirt / python3-libvirt "
                 "on libvirt", _py_items(res) + _qemu_items(res))
    _curves(fig.add_subplot(gs[0, 1]), res,
            [("lookup_name", "LookupByName"), ("lookup_uuid", "LookupByUUID"),
             ("get_info", "GetInfo")],
            "Lookups vs domains (C): should stay flat", "µs per call")
    _curves(fig.add_subplot(gs[0, 2]), res, [("list_all", "ListAllDomains + Free")],
            "Listing vs domains (C): linear", "µs per call")
    _define_memory(fig.add_subplot(gs[1, 1]), res)
    _events(fig.add_subplot(gs[1, 2]), res)
    first = header(res).split("\n")[0]
    cut = first.find(": ") + 1
    fig.suptitle(first[:cut] + "\n" + first[cut:].strip(), fontsize=9)
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
