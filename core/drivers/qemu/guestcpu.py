"""The guest CPU, as libvirt 9.0's QEMU driver handles it: the -cpu
argument made from <cpu>, and the CPU the guest really got, which the live
XML shows once QEMU runs.

QEMU drops the features the accelerator cannot give (KVM on this host) and
adds its own (x2apic and hypervisor with KVM); libvirt reads what QEMU
enabled back from the first vCPU and writes a custom CPU with check='full':
each feature of the CPU map that QEMU enabled but the model lacks becomes
policy='require', each the model has but QEMU left out policy='disable'
(a feature already listed keeps its place, new ones follow in map order).
Read here with two qom-get (feature-words, filtered-features) rather than
libvirt's one qom-get per property, so a start costs two round trips."""

from __future__ import annotations

import copy
from typing import Any, Callable, Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber
from . import cpumap

Calls = Callable[[list[tuple[str, Optional[dict[str, Any]]]]], list[Any]]   # sent at once
DEFAULT_MODEL = "qemu64"
VCPU_PATH = "/machine/unattached/device[0]"   # the first vCPU of a pc or q35 machine
_ON = ("require", "force", "optional")


def command_args(d: DomainDef) -> list[str]:
    """-cpu for `d`'s <cpu> (postparse gives every domain one)."""
    cpu = d.verbatim.get("cpu")
    mode = cpu.get("mode", "custom") if cpu is not None else "custom"
    if mode == "host-passthrough":
        if d.virt_type != "kvm":
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                                f"CPU mode 'host-passthrough' for {d.os.arch} {d.virt_type} "
                                f"domain on {d.os.arch} host is not supported by hypervisor")
        return ["-cpu", f"host,migratable={cpu.get('migratable', 'on')}"]
    if mode == "maximum":
        return ["-cpu", "max"]
    if mode != "custom":   # host-model: libvirt names the host's model and its features
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                            f"CPU mode '{mode}' is not supported yet")
    model = (cpu.findtext("model") if cpu is not None else None) or DEFAULT_MODEL
    props = [f"{cpumap.qemu_name(f.get('name', ''))}="
             f"{'on' if f.get('policy', 'require') in _ON else 'off'}"
             for f in (cpu.findall("feature") if cpu is not None else [])]
    return ["-cpu", ",".join([model.strip()] + props)]


def _bits(words: list[dict[str, Any]]) -> set[tuple[int, int, str, int]]:
    out = set()
    for w in words:
        key = (int(w.get("cpuid-input-eax", 0)), int(w.get("cpuid-input-ecx", 0)),
               str(w.get("cpuid-register", "")).lower())
        value = int(w.get("features", 0))
        out.update(key + (bit,) for bit in range(32) if value >> bit & 1)
    return out


def query(calls: Calls, d: DomainDef) -> Optional[etree._Element]:
    """The live <cpu> of a freshly started `d`, or None when libvirt shows
    the defined one (a mode other than custom) or pyvirt cannot tell (a
    model outside cpumap.MODELS)."""
    cpu = d.verbatim.get("cpu")
    if cpu is None or cpu.get("mode", "custom") != "custom":
        return None
    model = (cpu.findtext("model") or "").strip()
    if model not in cpumap.MODELS:
        return None
    enabled, filtered = calls([("qom-get", {"path": VCPU_PATH, "property": prop})
                               for prop in ("feature-words", "filtered-features")])
    return expand(cpu, _bits(enabled), _bits(filtered))


def expand(cpu: etree._Element, enabled: set[tuple[int, int, str, int]],
           filtered: set[tuple[int, int, str, int]]) -> etree._Element:
    """A copy of the custom `cpu` updated to what QEMU enabled and filtered."""
    live = copy.deepcopy(cpu)
    listed = {f.get("name"): f for f in live.findall("feature")}
    for f in listed.values():   # QEMU answered every optional one
        if f.get("policy") == "optional":
            f.set("policy", "require")
    expected = set(cpumap.MODELS[(cpu.findtext("model") or "").strip()])
    for name, f in listed.items():
        if f.get("policy") in ("require", "force"):
            expected.add(name)
        elif f.get("policy") in ("disable", "forbid"):
            expected.discard(name)

    def update(name: str, policy: str) -> None:
        f = listed.get(name)
        if f is None:   # after the other features, before a <numa>
            f = listed[name] = etree.Element("feature", policy=policy, name=name)
            numa = live.find("numa")
            live.insert(live.index(numa) if numa is not None else len(live), f)
        f.set("policy", policy)

    for feat in cpumap.FEATURES:
        key = (feat.leaf, feat.subleaf, feat.register, feat.bit)
        want = feat.name in expected
        if not want and key in enabled:
            update(feat.name, "require")
        if key in filtered or (want and key not in enabled):
            update(feat.name, "disable")
    live.set("check", "full")
    model = live.find("model")
    if model is not None:
        model.set("fallback", "forbid")
    return live
