"""Extract the x86 CPU-model facts pyvirt needs (baseline, host CPU, host-model)
from a libvirt cpu_map directory into core/cpu/cpu_x86.json (run once, commit
the result; pyvirt never reads the system's cpu_map at run time).

    .venv/bin/python tools/gen_cpu_x86.py [/usr/share/libvirt/cpu_map]

The JSON holds, in the map's order: vendors as [name, CPUID vendor string];
features as [name, migratable, bit, [QEMU's other names]] where bit is
'cpuid:LEAF:SUBLEAF:REG:N' or 'msr:INDEX:REG:N' (hex numbers);
models as [name, vendor, decode_host, decode_guest, [[family, model], ...],
[feature, ...], [removed feature, ...]] (a removed feature is no longer part of
the model, and a guest CPU of that model lists it as disabled).  Every x86 feature of the map is one CPUID/MSR bit of its
own (checked here), so CPU data can be handled as sets of feature names.
"""

from __future__ import annotations

import json
import os
import sys

from lxml import etree

OUT = os.path.join(os.path.dirname(__file__), "..", "core", "cpu", "cpu_x86.json")


def bits(elem: etree._Element) -> list[str]:
    """The set bits of one <cpuid>/<msr> element, as stable keys."""
    out = []
    if elem.tag == "cpuid":
        leaf = int(elem.get("eax_in"), 16), int(elem.get("ecx_in", "0"), 16)
        prefix = f"cpuid:{leaf[0]:x}:{leaf[1]:x}"
        regs = ("eax", "ebx", "ecx", "edx")
    else:
        prefix = f"msr:{int(elem.get('index'), 16):x}"
        regs = ("eax", "edx")
    for reg in regs:
        value = int(elem.get(reg, "0"), 16)
        out.extend(f"{prefix}:{reg}:{n}" for n in range(32) if value >> n & 1)
    return out


def main(cpu_map: str) -> None:
    index = etree.parse(os.path.join(cpu_map, "index.xml")).getroot()
    arch = index.find("arch[@name='x86']")
    vendors: list[list[str]] = []
    features: list[list] = []
    models: list[list] = []
    seen: set[str] = set()
    for inc in arch.findall("include"):
        root = etree.parse(os.path.join(cpu_map, inc.get("filename"))).getroot()
        for v in root.findall("vendor"):
            vendors.append([v.get("name"), v.get("string")])
        for f in root.findall("feature"):
            fbits = [b for item in f if item.tag in ("cpuid", "msr") for b in bits(item)]
            assert len(fbits) == 1 and fbits[0] not in seen, f.get("name")
            seen.add(fbits[0])
            qemu = [a.get("name") for a in f.findall("alias") if a.get("source") == "qemu"]
            features.append([f.get("name"), int(f.get("migratable", "yes") != "no"), fbits[0], qemu])
        for m in root.findall("model"):
            decode = m.find("decode")
            vendor = m.find("vendor")
            models.append([
                m.get("name"), vendor.get("name") if vendor is not None else None,
                int(decode is None or decode.get("host") == "on"),
                int(decode is None or decode.get("guest") == "on"),
                [[int(s.get("family")), int(s.get("model"))] for s in m.findall("signature")],
                [f.get("name") for f in m.findall("feature") if f.get("removed") != "yes"],
                [f.get("name") for f in m.findall("feature") if f.get("removed") == "yes"]])
            assert m.find("model") is None, "model inheritance is not expected"
    data = {"vendors": vendors, "features": features, "models": models}
    with open(OUT, "w") as f:
        f.write("{\n")
        for key in ("vendors", "features", "models"):
            rows = ",\n".join("  " + json.dumps(row) for row in data[key])
            f.write(f' "{key}": [\n{rows}\n ]' + ("\n" if key == "models" else ",\n"))
        f.write("}\n")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "/usr/share/libvirt/cpu_map")
