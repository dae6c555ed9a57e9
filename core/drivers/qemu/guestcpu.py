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
import functools
import os
from typing import Any, Callable, Optional

from lxml import etree

from ... import errors
from ...conf.domain import DomainDef
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


def effective(d: DomainDef, emulator: str) -> Optional[etree._Element]:
    """The <cpu> QEMU is given for `d`: a host-model CPU becomes the custom
    CPU libvirt makes of it (the model and features decoded from what QEMU
    can give on this host, migratable ones only with KVM, the domain's own
    features applied over them); any other is `d`'s own."""
    cpu = d.verbatim.get("cpu")
    if cpu is None or cpu.get("mode") != "host-model":
        return cpu
    kvm = d.virt_type == "kvm"
    try:
        hm = cpux86.host_model_cpu(qmpprobe.probe(emulator, "kvm" if kvm else "tcg"),
                                   migratable=kvm)
    except qmpprobe.ProbeError as e:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_QEMU,
                            str(e)) from None
    if hm is None:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU,
                            f"CPU mode 'host-model' for {d.os.arch} {d.virt_type} domain on "
                            f"{d.os.arch} host is not supported by hypervisor")
    return _custom_of(cpu, hm)


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


@functools.cache
def _host() -> tuple[str, ...]:
    """The kernel and the CPU with its microcode, read once per process."""
    keep = ("vendor_id", "cpu family", "model", "model name", "stepping", "microcode", "flags")
    facts = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if not line.strip():
                    break   # the first CPU tells
                key, _, value = line.partition(":")
                if key.strip() in keep:
                    facts[key.strip()] = value.strip()
    except OSError:
        pass
    return (os.uname().release, *(facts.get(k, "") for k in keep))


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
    return (argv[0], _stat_key(argv[0]), _stat_key("/dev/kvm"), _host(), options)


def known(d: DomainDef, key: Optional[tuple[Any, ...]]) -> Optional[etree._Element]:
    """The live <cpu> from an earlier start's answer for `key`, or None."""
    answer = _ANSWERS.get(key) if key is not None else None
    return None if answer is None else expand(_asked(d, key), *answer)


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
    return expand(_asked(d, key), *answer)


def expand(cpu: etree._Element, enabled: Bits, filtered: Bits) -> etree._Element:
    """A copy of the custom `cpu` updated to what QEMU enabled and filtered."""
    live = copy.deepcopy(cpu)
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
        if key in filtered or (want and key not in enabled):
            update(feat.name, "disable")
    live.set("check", "full")
    model = live.find("model")
    if model is not None:
        model.set("fallback", "forbid")
    return live
