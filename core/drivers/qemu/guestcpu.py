"""The guest CPU, as libvirt 9.0's QEMU driver handles it: the -cpu
argument made from <cpu>, and the CPU the guest really got, which the live
XML shows once QEMU runs.

QEMU drops the features the accelerator cannot give (KVM on this host) and
adds its own (x2apic and hypervisor with KVM); libvirt reads what QEMU
enabled back from the first vCPU and writes a custom CPU with check='full':
each feature of the CPU map that QEMU enabled but the model lacks becomes
policy='require', each the model has but QEMU left out policy='disable'
(a feature already listed keeps its place, new ones follow in map order).
Read here with two qom-get (feature-words, filtered-features) sent at once,
rather than libvirt's one qom-get per property.  The answer depends only on
the QEMU binary, the host (kernel, KVM, CPU and its microcode) and the CPU
options of the command line, so it is kept per process by those (as libvirt
keeps QEMU's host CPU data in its capabilities cache): only the first start
of each asks, and later ones know their live CPU before QEMU runs, in time
for the status written while it boots."""

from __future__ import annotations

import copy
import os
from typing import Any, Callable, Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
from ...cpu import compare, cpudef
from ...cpu.x86 import x86_map
from ...errors import ErrorDomain, ErrorNumber
from . import cpux86, qmpprobe

Calls = Callable[[list[tuple[str, Optional[dict[str, Any]]]]], list[Any]]   # sent at once
DEFAULT_MODEL = "qemu64"
VCPU_PATH = "/machine/unattached/device[0]"   # the first vCPU of a pc or q35 machine
_ON = ("require", "force", "optional")
# the options of a QEMU command line that can change what its vCPUs get
_CPU_OPTIONS = ("-machine", "-accel", "-cpu", "-smp", "-global", "-overcommit", "-enable-kvm")
Bits = frozenset[tuple[int, int, str, int]]
_ANSWERS: dict[tuple[Any, ...], tuple[Bits, Bits]] = {}   # answer_key -> (enabled, filtered)


# libvirt's feature names that QEMU spells otherwise (besides '_' for '-')
_QEMU_NAMES = {"pclmuldq": "pclmulqdq"}


def qemu_name(name: str) -> str:
    """The -cpu property of a libvirt feature name: lahf_lm -> lahf-lm."""
    return _QEMU_NAMES.get(name, name.replace("_", "-"))


def check_host(d: DomainDef, emulator: str) -> None:
    """libvirt's check before QEMU runs: a custom CPU with check='partial'
    must fit the host's whole CPU (CPUID's with KVM, QEMU's host model with
    TCG), else the start fails."""
    cpu = d.verbatim.get("cpu")
    if cpu is None or cpu.get("mode", "custom") != "custom" or cpu.get("check") != "partial":
        return
    if d.virt_type == "kvm":
        host = cpux86.host_cpu_def()
    else:
        hm = _host_model(d, emulator, migratable=False)
        host = (hm.model, hm.vendor, hm.features)
    compare.compare(host, cpudef.from_element(cpu), True)


def effective(d: DomainDef, emulator: str) -> Optional[etree._Element]:
    """The <cpu> QEMU is given for `d`, as libvirt updates it at start from
    what QEMU can give on this host (its host model, migratable features
    only with KVM): a host-model CPU becomes that custom CPU with the
    domain's own features over it; a custom CPU's optional features become
    required or disabled by it, and match='minimum' gains all it has more;
    any other is `d`'s own."""
    cpu = d.verbatim.get("cpu")
    if cpu is None:
        return None
    mode = cpu.get("mode", "custom")
    if mode == "host-model":
        return _custom_of(cpu, _host_model(d, emulator, d.virt_type == "kvm"))
    if mode == "custom" and (cpu.get("match") == "minimum" or any(
            f.get("policy") == "optional" for f in cpu.findall("feature"))):
        return _relative(cpu, _host_model(d, emulator, d.virt_type == "kvm"))
    return cpu


def _host_model(d: DomainDef, emulator: str, migratable: bool) -> cpux86.HostModel:
    try:
        hm = cpux86.host_model_cpu(
            qmpprobe.probe(emulator, "kvm" if d.virt_type == "kvm" else "tcg"), migratable)
    except qmpprobe.ProbeError as e:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_QEMU,
                            str(e)) from None
    if hm is None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                            f"CPU mode 'host-model' for {d.os.arch} {d.virt_type} domain on "
                            f"{d.os.arch} host is not supported by hypervisor")
    return hm


def _relative(cpu: etree._Element, hm: cpux86.HostModel) -> etree._Element:
    """A custom `cpu` updated against the host model: each optional feature
    required where the host model has it, disabled where not; a
    match='minimum' CPU made exact with every feature the host model has
    beyond its own model and required features, and its model's that the
    host model lacks disabled (map order, after its own)."""
    cpu_map = x86_map()
    host = set(cpu_map.models[hm.model].features) if hm.model in cpu_map.models else set()
    host |= {name for policy, name in hm.features if policy == "require"}
    host -= {name for policy, name in hm.features if policy == "disable"}
    out = copy.deepcopy(cpu)
    for f in out.findall("feature"):
        if f.get("policy") == "optional":
            f.set("policy", "require" if f.get("name") in host else "disable")
    if out.get("match") == "minimum":
        out.set("match", "exact")
        model = cpu_map.models.get((out.findtext("model") or "").strip())
        own = set(model.features) if model is not None else set()
        own |= {f.get("name") for f in out.findall("feature")
                if f.get("policy") in ("require", "force")}
        listed = {f.get("name") for f in out.findall("feature")}
        numa = out.find("numa")
        for policy, names in (("require", host - own), ("disable", own - host - listed)):
            for name in cpu_map.in_order(names):
                f = etree.Element("feature", policy=policy, name=name)
                if numa is not None:
                    numa.addprevious(f)
                else:
                    out.append(f)
    return out


def _custom_of(cpu: etree._Element, hm: cpux86.HostModel) -> etree._Element:
    """libvirt's custom CPU for the host-model `cpu`: the host model, its
    vendor, the domain's topology and the like, the host's features with the
    domain's own policies over them, then a <numa>."""
    out = etree.Element("cpu", mode="custom", match="exact",
                        check=cpu.get("check", "partial"))
    etree.SubElement(out, "model", fallback="forbid").text = hm.model
    if hm.vendor is not None:
        etree.SubElement(out, "vendor").text = hm.vendor
    for child in cpu:
        if child.tag in ("topology", "cache", "maxphysaddr"):
            out.append(copy.deepcopy(child))
    policies = {name: policy for policy, name in hm.features}
    for f in cpu.findall("feature"):
        policies[f.get("name", "")] = f.get("policy", "require")
    for name, policy in policies.items():
        etree.SubElement(out, "feature", policy=policy, name=name)
    numa = cpu.find("numa")
    if numa is not None:
        out.append(copy.deepcopy(numa))
    return out


def command_args(d: DomainDef, emulator: str) -> list[str]:
    """-cpu for `d`'s <cpu> (postparse gives every domain one)."""
    cpu = effective(d, emulator)
    mode = cpu.get("mode", "custom") if cpu is not None else "custom"
    if mode == "host-passthrough":
        if d.virt_type != "kvm":
            raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                                f"CPU mode 'host-passthrough' for {d.os.arch} {d.virt_type} "
                                f"domain on {d.os.arch} host is not supported by hypervisor")
        return ["-cpu", f"host,migratable={cpu.get('migratable', 'on')}"]
    if mode == "maximum":
        return ["-cpu", "max"]
    model = (cpu.findtext("model") if cpu is not None else None) or DEFAULT_MODEL
    props = [f"{qemu_name(f.get('name', ''))}="
             f"{'on' if f.get('policy', 'require') in _ON else 'off'}"
             for f in (cpu.findall("feature") if cpu is not None else [])]
    return ["-cpu", ",".join([model.strip()] + props)]


def _bits(words: list[dict[str, Any]]) -> Bits:
    out = set()
    for w in words:
        key = (int(w.get("cpuid-input-eax", 0)), int(w.get("cpuid-input-ecx", 0)),
               str(w.get("cpuid-register", "")).lower())
        value = int(w.get("features", 0))
        out.update(key + (bit,) for bit in range(32) if value >> bit & 1)
    return frozenset(out)


def _stat_key(path: str) -> tuple[int, ...]:
    """A file's identity: a new QEMU binary, or KVM's module loaded again
    (its /dev/kvm is made anew), is a new key."""
    try:
        st = os.stat(path)
    except OSError:
        return ()
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns, st.st_ctime_ns)


def answer_key(d: DomainDef, argv: list[str]) -> Optional[tuple[Any, ...]]:
    """What QEMU's answer about `d`'s vCPUs depends on, from its command
    line `argv`; None when there is nothing to ask (host-passthrough or
    maximum, or a model libvirt's map does not know)."""
    cpu = effective(d, argv[0])
    if cpu is None or cpu.get("mode", "custom") != "custom":
        return None
    if (cpu.findtext("model") or "").strip() not in x86_map().models:
        return None
    options = tuple((opt, argv[i + 1] if i + 1 < len(argv) else "")
                    for i, opt in enumerate(argv) if opt in _CPU_OPTIONS)
    return (argv[0], _stat_key(argv[0]), _stat_key("/dev/kvm"), qmpprobe.host_identity(),
            options)


def known(d: DomainDef, key: Optional[tuple[Any, ...]]) -> Optional[etree._Element]:
    """The live <cpu> from an earlier start's answer for `key`, or None."""
    answer = _ANSWERS.get(key) if key is not None else None
    return None if answer is None else _live(_asked(d, key), *answer)


def _asked(d: DomainDef, key: tuple[Any, ...]) -> etree._Element:
    cpu = effective(d, key[0])   # the emulator leads the key
    assert cpu is not None   # answer_key gave the key
    return cpu


def query(calls: Calls, d: DomainDef, key: Optional[tuple[Any, ...]]) -> Optional[etree._Element]:
    """The live <cpu> of a freshly started `d`, asked of QEMU, or None when
    libvirt shows the defined one or pyvirt cannot tell (key None)."""
    if key is None:
        return None
    enabled, filtered = calls([("qom-get", {"path": VCPU_PATH, "property": prop})
                               for prop in ("feature-words", "filtered-features")])
    _ANSWERS[key] = answer = (_bits(enabled), _bits(filtered))
    return _live(_asked(d, key), *answer)


def _live(cpu: etree._Element, enabled: Bits, filtered: Bits) -> etree._Element:
    return _expand(cpu, enabled, filtered)[0]


def verify(d: DomainDef, key: Optional[tuple[Any, ...]]) -> None:
    """libvirt's check of a check='full' CPU once QEMU runs: QEMU must have
    given exactly what it names, else the start fails."""
    answer = _ANSWERS.get(key) if key is not None else None
    if answer is None:
        return
    cpu = _asked(d, key)
    if cpu.get("check") != "full":
        return
    _, extra, missing = _expand(cpu, *answer)
    if extra or missing:
        why = ", ".join(f"{what} features: {','.join(names)}"
                        for what, names in (("extra", extra), ("missing", missing)) if names)
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, ErrorDomain.VIR_FROM_CPU,
                            f"guest CPU doesn't match specification: {why}")


def migratable(d: DomainDef, live: etree._Element, emulator: str) -> Optional[etree._Element]:
    """The <cpu> a running domain's migratable XML shows: the CPU it was
    started with (host-model made custom, its model not allowed to fall
    back), unless QEMU changed nothing of it; then the live one."""
    cpu = effective(d, emulator)
    if cpu is None or cpu.get("mode", "custom") != "custom":
        return cpu
    started = copy.deepcopy(cpu)
    model = started.find("model")
    if model is not None:
        model.set("fallback", "forbid")

    def features(c: etree._Element) -> list[tuple[Optional[str], Optional[str]]]:
        return [(f.get("name"), f.get("policy", "require")) for f in c.findall("feature")]
    return live if features(live) == features(started) else started


def _expand(cpu: etree._Element, enabled: Bits, filtered: Bits
            ) -> tuple[etree._Element, list[str], list[str]]:
    """A copy of the custom `cpu` updated to what QEMU enabled and filtered,
    with the features QEMU added and those it left out (map order)."""
    live = copy.deepcopy(cpu)
    extra: list[str] = []
    missing: list[str] = []
    listed = {f.get("name"): f for f in live.findall("feature")}
    for f in listed.values():   # QEMU answered every optional one
        if f.get("policy") == "optional":
            f.set("policy", "require")
    cpu_map = x86_map()
    expected = set(cpu_map.models[(cpu.findtext("model") or "").strip()].features)
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

    for feat in cpu_map.features:
        if feat.bit[0] != "cpuid":   # QEMU's feature words have CPUID bits only
            continue
        key = feat.bit[1:]
        want = feat.name in expected
        if not want and key in enabled:
            update(feat.name, "require")
            extra.append(feat.name)
        if key in filtered or (want and key not in enabled):
            update(feat.name, "disable")
            if want:
                missing.append(feat.name)
    live.set("check", "full")
    model = live.find("model")
    if model is not None:
        model.set("fallback", "forbid")
    return live, extra, missing
