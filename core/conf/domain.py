"""Domain XML: parse a <domain> document into a DomainDef and format it back.

Modelled: virt type, name, uuid, title/description, memory/currentMemory,
vcpu, os (type, arch, machine, boot), lifecycle actions, IOThreads and their
pins (domain_iothreads.py).  The other
elements libvirt knows are kept as written and re-emitted at the place
libvirt puts them; elements libvirt does not know are dropped, as libvirt
drops them.  Validation errors use libvirt 9.0's codes and wording.
"""

from __future__ import annotations

import dataclasses
import random
from typing import Optional

from lxml import etree

from .. import errors, viruuid
from ..errors import ErrorDomain, ErrorNumber
from . import (domain_devices, domain_disk, domain_iothreads, domain_net, domain_tune,
               domain_vcpus, xmlutil)
from .domain_iothreads import IOThreadDef
from .domain_vcpus import VcpuSlot
from .domain_tune import Tuning

VIRT_TYPES = ("none", "qemu", "kqemu", "kvm", "xen", "lxc", "uml", "openvz", "test",
              "vmware", "hyperv", "vbox", "phyp", "parallels", "bhyve", "vz", "ch")
OS_TYPES = ("hvm", "xen", "linux", "exe", "uml", "xenpvh")
ARCHES = ("none", "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686",
          "ia64", "lm32", "loongarch64", "m68k", "microblaze", "microblazeel", "mips",
          "mipsel", "mips64", "mips64el", "openrisc", "parisc", "parisc64", "ppc",
          "ppcle", "ppc64", "ppc64le", "ppcemb", "riscv32", "riscv64", "s390", "s390x",
          "sh4", "sh4eb", "sparc", "sparc64", "unicore32", "x86_64", "xtensa", "xtensaeb")
LIFECYCLE_ACTIONS = ("destroy", "restart", "rename-restart", "preserve",
                     "coredump-destroy", "coredump-restart")

# Elements kept verbatim, in the order libvirt writes them around the
# modelled ones ("@name" marks where a modelled part goes).
_LAYOUT = ("@head", "metadata", "maxMemory", "@memory", "@blkiotune", "@memtune",
           "memoryBacking", "@vcpu", "@iothreads", "@cputune", "@numatune",
           "resource", "sysinfo", "bootloader", "bootloader_args", "@os", "idmap",
           "features", "cpu", "@clock", "@lifecycle", "on_lockfailure", "pm", "@perf",
           "@devices", "seclabel", "keywrap", "launchSecurity")
_VERBATIM = frozenset(n for n in _LAYOUT if not n.startswith("@"))

_UNITS = {"b": 1, "bytes": 1, "kb": 1000, "k": 1024, "kib": 1024, "mb": 1000**2,
          "m": 1024**2, "mib": 1024**2, "gb": 1000**3, "g": 1024**3, "gib": 1024**3,
          "tb": 1000**4, "t": 1024**4, "tib": 1024**4, "pb": 1000**5, "p": 1024**5,
          "pib": 1024**5, "eb": 1000**6, "e": 1024**6, "eib": 1024**6}


@dataclasses.dataclass
class OsDef:
    """<os>; ex) type='hvm' arch='i686' machine=None boot=['hd']"""
    type: str
    arch: str
    machine: Optional[str] = None
    boot: list[str] = dataclasses.field(default_factory=list)
    extra: list[etree._Element] = dataclasses.field(default_factory=list)


@dataclasses.dataclass
class DomainDef:
    """<domain>; memory values are KiB, uuid is the raw 16 bytes."""
    virt_type: str
    name: str
    uuid: bytes
    memory: int
    current_memory: int
    vcpus: int
    os: OsDef
    id: int = -1
    title: Optional[str] = None
    description: Optional[str] = None
    vcpus_current: Optional[int] = None
    vcpu_slots: Optional[list[VcpuSlot]] = None   # <vcpus> (domain_vcpus.py)
    clock: Optional[etree._Element] = None
    on_poweroff: str = "destroy"
    on_reboot: str = "restart"
    on_crash: str = "destroy"
    devices: list[etree._Element] = dataclasses.field(default_factory=list)
    verbatim: dict[str, etree._Element] = dataclasses.field(default_factory=dict)
    iothreads: list[IOThreadDef] = dataclasses.field(default_factory=list)
    cputune: Optional[etree._Element] = None   # without its iothreadpins
    tune: Tuning = dataclasses.field(default_factory=Tuning)   # memtune, blkiotune, ...

    def copy(self) -> "DomainDef":
        return parse_domain_xml(format_domain_xml(self, inactive=True),
                                default_arch=self.os.arch, keep_interfaces=True)


def _xml_error(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_DOMAIN, detail)


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_DOMAIN,
                         detail)


def parse_memory(root: etree._Element, tag: str) -> Optional[int]:
    """<memory unit='MiB'>1</memory> -> KiB, rounded up as libvirt rounds."""
    elem = root.find(tag)
    if elem is None:
        return None
    text = (elem.text or "").strip()
    if not text.isdigit():
        raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                            f"Invalid value '{text}' for element or attribute './{tag}[1]'")
    unit = elem.get("unit", "KiB")
    scale = _UNITS.get(unit.lower())
    if scale is None:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                            f"unknown suffix '{unit}'")
    return (int(text) * scale + 1023) // 1024


def _parse_os(root: etree._Element, default_arch: str) -> OsDef:
    os_elem = root.find("os")
    type_elem = os_elem.find("type") if os_elem is not None else None
    os_type = (type_elem.text or "").strip() if type_elem is not None else ""
    if not os_type:
        raise _xml_error("an os <type> must be specified")
    if os_type not in OS_TYPES:
        raise _unsupported(f"unknown OS type '{os_type}'")
    assert os_elem is not None and type_elem is not None
    arch = type_elem.get("arch", default_arch)
    if arch not in ARCHES:
        raise _unsupported(f"Unknown architecture {arch}")
    boot = [b.get("dev", "") for b in os_elem.findall("boot")]
    # hd by default, unless a device has its own <boot order>
    if (not boot and os_type == "hvm"
            and root.find("devices/*/boot[@order]") is None):
        boot = ["hd"]
    extra = [xmlutil.copy_element(c) for c in os_elem
             if isinstance(c.tag, str) and c.tag not in ("type", "boot")]
    return OsDef(type=os_type, arch=arch, machine=type_elem.get("machine"),
                 boot=boot, extra=extra)


def _parse_lifecycle(root: etree._Element, event: str, default: str) -> str:
    elem = root.find(f"on_{event}")
    if elem is None or not (elem.text or "").strip():
        return default
    action = (elem.text or "").strip()
    if action not in LIFECYCLE_ACTIONS:
        raise _unsupported(f"unknown on_{event} action: {action}")
    if event != "crash" and action.startswith("coredump"):
        raise _unsupported(f"Lifecycle event '{event}' doesn't support '{action}' action")
    return action


_AFTER_IFACE_TARGET = frozenset((
    "guest", "model", "driver", "backend", "filterref", "tune", "teaming", "link", "mtu",
    "coalesce", "rom", "alias", "address", "boot", "acpi"))


def _fill_interfaces(devices: list[etree._Element]) -> None:
    """Give every <interface> a MAC and a target name, as the test driver does."""
    for index, dev in enumerate(d for d in devices if d.tag == "interface"):
        if dev.find("mac") is None:
            mac = "52:54:00:%02x:%02x:%02x" % tuple(random.randrange(256) for _ in range(3))
            dev.insert(0, etree.Element("mac", address=mac))
        existing = dev.find("target")
        if existing is not None:
            existing.set("dev", f"testnet{index}")  # the test driver names them all
        else:
            # libvirt writes <target> before the model and what follows it
            target = etree.Element("target", dev=f"testnet{index}")
            children = list(dev)
            pos = next((i for i, c in enumerate(children) if c.tag in _AFTER_IFACE_TARGET),
                       len(children))
            dev.insert(pos, target)


def parse_domain_xml(text: Optional[str], default_arch: str = "i686",
                     keep_interfaces: bool = False) -> DomainDef:
    """Parse and validate a domain definition as libvirt's define does."""
    root = xmlutil.parse_document(text, "(domain_definition)", "domain")
    # libvirt's order: the name and UUID, then the type, then the name's form
    name = (root.findtext("name") or "").strip()
    if not name:
        raise errors.report(ErrorNumber.VIR_ERR_NO_NAME, ErrorDomain.VIR_FROM_DOMAIN)
    uuid = xmlutil.parse_uuid(root, lambda: errors.report(
        ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_DOMAIN, "malformed uuid element"))
    virt_type = root.get("type")
    if virt_type is None:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_DOMAIN,
                            "missing domain type attribute")
    if virt_type not in VIRT_TYPES:
        raise _unsupported(f"invalid domain type {virt_type}")
    memory = parse_memory(root, "memory") or 0
    current = parse_memory(root, "currentMemory")
    os_def = _parse_os(root, default_arch)
    if memory == 0:
        raise _xml_error("Memory size must be specified via <memory> or in the "
                         "<numa> configuration")
    if "/" in name:   # checked late, by libvirt's validation of the parsed definition
        raise _xml_error(f"name {name} cannot contain '/'")
    vcpu_elem = root.find("vcpu")
    vcpus, vcpus_current = 1, None
    if vcpu_elem is not None:
        vcpus = int((vcpu_elem.text or "1").strip() or 1)
        if vcpu_elem.get("current") is not None:
            vcpus_current = int(vcpu_elem.get("current", "0"))
            if vcpus_current == vcpus:
                vcpus_current = None
    if vcpus == 0:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_DOMAIN,
                            "CPU IDs in <numa> exceed the <vcpu> count")
    vcpu_slots = domain_vcpus.parse(root, vcpus)
    if vcpu_slots is not None:
        current_count = sum(s.online for s in vcpu_slots)
        vcpus_current = None if current_count == vcpus else current_count
    devices_elem = root.find("devices")
    devices = [xmlutil.copy_element(d) for d in (devices_elem if devices_elem is not None else [])
               if isinstance(d.tag, str)]
    domain_devices.order_parsed_controllers(devices)
    devices = domain_devices.normalise(
        devices, hvm=(root.findtext("os/type") or "").strip() == "hvm")
    domain_tune.normalise_bandwidth(devices)
    if not keep_interfaces:
        _fill_interfaces(devices)
    clock = root.find("clock")
    cputune_elem = root.find("cputune")
    cputune = xmlutil.copy_element(cputune_elem) if cputune_elem is not None else None
    iothreads = domain_iothreads.parse(root, cputune)
    tune = domain_tune.parse(root)
    if cputune is not None and not len(cputune) and not cputune.attrib:
        cputune = None
    verbatim = {e.tag: xmlutil.copy_element(e) for e in root
                if isinstance(e.tag, str) and e.tag in _VERBATIM}
    if "cpu" in verbatim:
        _fill_cpu(verbatim["cpu"])
    return DomainDef(
        virt_type=virt_type, name=name, uuid=uuid, memory=memory,
        current_memory=min(current, memory) if current else memory,
        vcpus=vcpus, vcpus_current=vcpus_current, vcpu_slots=vcpu_slots, os=os_def,
        title=root.findtext("title"), description=root.findtext("description"),
        clock=xmlutil.copy_element(clock) if clock is not None else None,
        on_poweroff=_parse_lifecycle(root, "poweroff", "destroy"),
        on_reboot=_parse_lifecycle(root, "reboot", "restart"),
        on_crash=_parse_lifecycle(root, "crash", "destroy"),
        devices=devices, iothreads=iothreads, cputune=cputune, verbatim=verbatim, tune=tune)


def _fill_cpu(cpu: etree._Element) -> None:
    """A guest CPU with a model is a custom one matched exactly by default,
    its model allowed to fall back, as libvirt writes it; a topology has
    one die per socket unless it says otherwise."""
    topology = cpu.find("topology")
    if topology is not None:
        _check_topology(topology)
        if topology.get("dies") is None:
            given = dict(topology.attrib)
            topology.attrib.clear()
            for k in ("sockets", "dies", "cores", "threads"):
                if k in given or k == "dies":
                    topology.set(k, given.pop(k, "1"))
            topology.attrib.update(given)
    model = cpu.find("model")
    if model is None or cpu.get("mode", "custom") != "custom":
        return
    attrs = [("mode", "custom"), ("match", cpu.get("match", "exact"))]
    rest = [(k, v) for k, v in cpu.attrib.items() if k not in ("mode", "match")]
    cpu.attrib.clear()
    for k, v in attrs + rest:
        cpu.set(k, v)
    if model.get("fallback") is None:
        model.set("fallback", "allow")


def _check_topology(topology: etree._Element) -> None:
    """Each count a positive integer; dies may be left out."""
    for name in ("sockets", "dies", "cores", "threads"):
        value = topology.get(name)
        if value is None:
            if name == "dies":
                continue
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                                f"Missing required attribute '{name}' in element 'topology'")
        why = None
        if not value.strip().isdigit():
            why = f"'{value}'. Expected non-negative integer value"
        elif int(value) == 0:
            why = "Zero is not permitted"
        if why is not None:
            raise errors.report(ErrorNumber.VIR_ERR_XML_ERROR, ErrorDomain.VIR_FROM_XML,
                                f"Invalid value for attribute '{name}' in element "
                                f"'topology': {why}")


def topology(d: "DomainDef") -> Optional[tuple[int, int, int, int]]:
    """(sockets, dies, cores, threads) of `d`'s <cpu><topology>, or None."""
    cpu = d.verbatim.get("cpu")
    t = cpu.find("topology") if cpu is not None else None
    if t is None:
        return None
    return (int(t.get("sockets", "1")), int(t.get("dies", "1")), int(t.get("cores", "1")),
            int(t.get("threads", "1")))


# Writers of the modelled parts, each appending its lines to `out`; the
# layout loop looks them up in _WRITERS (one dict lookup per part instead of
# an if-chain, since GetXMLDesc runs this on every call).

def _write_head(d: DomainDef, out: list[str]) -> None:
    esc = xmlutil.escape
    out.append(f"  <name>{esc(d.name)}</name>")
    out.append(f"  <uuid>{viruuid.format(d.uuid)}</uuid>")
    if d.title is not None:
        out.append(f"  <title>{esc(d.title)}</title>")
    if d.description is not None:
        out.append(f"  <description>{esc(d.description)}</description>")


def _write_memory(d: DomainDef, out: list[str]) -> None:
    out.append(f"  <memory unit='KiB'>{d.memory}</memory>")
    out.append(f"  <currentMemory unit='KiB'>{d.current_memory}</currentMemory>")


def _write_vcpu(d: DomainDef, out: list[str]) -> None:
    current = "" if d.vcpus_current is None else f" current='{d.vcpus_current}'"
    # automatic NUMA memory placement makes the vCPUs' automatic too
    placement = "auto" if d.tune.numa_placement == "auto" else "static"
    out.append(f"  <vcpu placement='{placement}'{current}>{d.vcpus}</vcpu>")
    domain_vcpus.write(d, out)


def _write_os(d: DomainDef, out: list[str]) -> None:
    esc = xmlutil.escape
    type_attrs = xmlutil.attrs([("arch", d.os.arch), ("machine", d.os.machine)])
    out.append("  <os>")
    out.append(f"    <type{type_attrs}>{esc(d.os.type)}</type>")
    for extra in d.os.extra:
        xmlutil.write_element(extra, 4, out)
    out.extend(f"    <boot dev='{esc(dev)}'/>" for dev in d.os.boot)
    out.append("  </os>")


def _write_iothreads(d: DomainDef, out: list[str]) -> None:
    domain_iothreads.write(d.iothreads, out)


def _write_cputune(d: DomainDef, out: list[str]) -> None:
    cputune = domain_iothreads.cputune_with_pins(d.cputune, d.iothreads)
    if cputune is not None:
        xmlutil.write_element(cputune, 2, out)


def _write_clock(d: DomainDef, out: list[str]) -> None:
    if d.clock is None:
        out.append("  <clock offset='utc'/>")
    else:
        xmlutil.write_element(d.clock, 2, out)


def _write_lifecycle(d: DomainDef, out: list[str]) -> None:
    out.append(f"  <on_poweroff>{d.on_poweroff}</on_poweroff>")
    out.append(f"  <on_reboot>{d.on_reboot}</on_reboot>")
    out.append(f"  <on_crash>{d.on_crash}</on_crash>")


def _write_devices(d: DomainDef, out: list[str]) -> None:
    out.append("  <devices>")
    for dev in d.devices:
        xmlutil.write_element(dev, 4, out)
    out.append("  </devices>")


def _write_inactive_devices(d: DomainDef, out: list[str]) -> None:
    """Without what exists only while running (tap names, NIC aliases, disk
    source indexes and the backing chains found)."""
    out.append("  <devices>")
    for dev in d.devices:
        xmlutil.write_element(domain_disk.inactive_view(domain_net.inactive_view(dev)), 4, out)
    out.append("  </devices>")


_WRITERS = {"@head": _write_head, "@memory": _write_memory, "@vcpu": _write_vcpu,
            "@os": _write_os, "@clock": _write_clock, "@lifecycle": _write_lifecycle,
            "@devices": _write_devices, "@iothreads": _write_iothreads,
            "@cputune": _write_cputune,
            "@blkiotune": lambda d, out: domain_tune.write_blkiotune(d.tune, out),
            "@memtune": lambda d, out: domain_tune.write_memtune(d.tune, out),
            "@numatune": lambda d, out: domain_tune.write_numatune(d.tune, out),
            "@perf": lambda d, out: domain_tune.write_perf(d.tune, out)}
assert set(_WRITERS) == {n for n in _LAYOUT if n.startswith("@")}


def metadata_lines(metadata: etree._Element) -> list[str]:
    """<metadata>: each child as libxml2 writes it (libvirt dumps these nodes
    raw: double quotes, the namespace declared on the child)."""
    children = [c for c in metadata if isinstance(c.tag, str)]
    if not children:
        return ["  <metadata/>"]
    out = ["  <metadata>"]
    for child in children:
        copy = etree.fromstring(etree.tostring(child))
        etree.indent(copy, space="  ")
        text = etree.tostring(copy, encoding="unicode")
        out.extend("    " + line for line in text.split("\n"))
    return out + ["  </metadata>"]


def format_domain_xml(d: DomainDef, inactive: bool = False) -> str:
    """The document virDomainGetXMLDesc returns; `inactive` omits the id."""
    head_attrs = [("type", d.virt_type)]
    if not inactive and d.id >= 0:
        head_attrs.append(("id", str(d.id)))
    lines = [f"<domain{xmlutil.attrs(head_attrs)}>"]
    verbatim = d.verbatim
    for part in _LAYOUT:
        write = _write_inactive_devices if inactive and part == "@devices" \
            else _WRITERS.get(part)
        if write is not None:
            write(d, lines)
        elif part in verbatim:
            if part == "metadata":
                lines.extend(metadata_lines(verbatim[part]))
            else:
                xmlutil.write_element(verbatim[part], 2, lines)
    lines.append("</domain>")
    return "\n".join(lines) + "\n"
