"""A device given to attach, detach or update, and the persistent
definition's side of those calls (libvirt 9.0's qemuDomain*DeviceConfig):
what a device XML may be, how libvirt finds the device it names, and the
errors it gives when it finds none, or two."""

from __future__ import annotations

import copy
from typing import Callable, Optional

from lxml import etree

from ... import errors
from ...conf import xmlutil
from ...conf.domain import DomainDef
from ...errors import ErrorDomain, ErrorNumber

Q, D = ErrorDomain.VIR_FROM_QEMU, ErrorDomain.VIR_FROM_DOMAIN
CHAR_TAGS = ("serial", "parallel", "console", "channel")
# <devices> children and libvirt's name of their kind (virDomainDeviceType)
KINDS = {"disk": "disk", "controller": "controller", "lease": "lease",
         "filesystem": "filesystem", "interface": "net", "smartcard": "smartcard",
         "serial": "chr", "parallel": "chr", "console": "chr", "channel": "chr",
         "input": "input", "tpm": "tpm", "graphics": "graphics", "sound": "sound",
         "audio": "audio", "video": "video", "hostdev": "hostdev", "redirdev": "redirdev",
         "redirfilter": "redirfilter", "hub": "hub", "watchdog": "watchdog",
         "memballoon": "memballoon", "rng": "rng", "nvram": "nvram", "panic": "panic",
         "shmem": "shmem", "memory": "memory", "iommu": "iommu", "vsock": "vsock",
         "crypto": "crypto"}
# what libvirt adds to and removes from a persistent definition
_CONFIG_ATTACH = {"disk", "net", "sound", "hostdev", "lease", "controller", "chr",
                  "filesystem", "rng", "memory", "redirdev", "shmem", "watchdog", "input",
                  "vsock"}
_CONFIG_DETACH = _CONFIG_ATTACH
_CONFIG_UPDATE = {"disk", "net", "graphics"}
_NULL = "(<null>)"


def parse_device(xml: str) -> etree._Element:
    """The one device element `xml` holds, with libvirt's parse errors."""
    try:
        tag = etree.fromstring(xml.encode()).tag
    except (etree.XMLSyntaxError, ValueError):
        tag = ""
    elem = xmlutil.parse_document(xml, "(device_definition)", str(tag))
    if elem.tag not in KINDS:
        raise errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, D,
                            f"unknown device type '{elem.tag}'")
    return xmlutil.copy_element(elem)


def kind(dev: etree._Element) -> str:
    return KINDS.get(dev.tag, dev.tag)


def unsupported(what: str, dev: etree._Element,
                code: int = ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED) -> errors.VirtError:
    """libvirt's 'live attach of device 'sound' is not supported' and kin."""
    return errors.report(code, Q, f"{what} of device '{kind(dev)}' is not supported")


def _target(dev: etree._Element, attr: str = "dev") -> str:
    t = dev.find("target")
    return t.get(attr, "") if t is not None else ""


def target_dev(dev: etree._Element) -> str:
    return _target(dev)


def _mac(dev: etree._Element) -> Optional[str]:
    m = dev.find("mac")
    return m.get("address", "").lower() if m is not None else None


def _alias(dev: etree._Element) -> Optional[str]:
    a = dev.find("alias")
    return a.get("name") if a is not None else None


def _pci(dev: etree._Element) -> Optional[tuple[int, int, int, int]]:
    a = dev.find("address")
    if a is None or a.get("type") != "pci":
        return None
    return tuple(int(a.get(k, "0"), 0)   # type: ignore[return-value]
                 for k in ("domain", "bus", "slot", "function"))


def find_disk(d: DomainDef, dst: str) -> Optional[int]:
    return next((i for i, dev in enumerate(d.devices)
                 if dev.tag == "disk" and _target(dev) == dst), None)


def find_nic(d: DomainDef, nic: etree._Element) -> int:
    """The index in d.devices of the <interface> that `nic` names (virDomainNetFindIdx):
    by MAC, PCI address and alias where given."""
    mac, pci, alias = _mac(nic), _pci(nic), _alias(nic)
    found = [i for i, dev in enumerate(d.devices) if dev.tag == "interface"
             and (mac is None or _mac(dev) == mac) and (pci is None or _pci(dev) == pci)
             and (alias is None or _alias(dev) == alias)]
    if len(found) > 1:
        detail = (f"multiple devices matching MAC address {mac} found" if mac is not None
                  else "multiple matching devices found")
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_FAILED, D, detail)
    if not found:
        where = "%04x:%02x:%02x.%x" % pci if pci is not None else _NULL
        raise errors.report(ErrorNumber.VIR_ERR_DEVICE_MISSING, D,
                            f"no device found at address '{where}' matching MAC address "
                            f"'{mac or _NULL}' and alias '{alias or _NULL}'")
    return found[0]


def _same(a: etree._Element, b: etree._Element, *attrs: str) -> bool:
    return all(a.get(k) == b.get(k) for k in attrs)


def _chr_port(dev: etree._Element) -> str:
    return _target(dev, "port")   # none given: no port matches


def _not_present(code: int = ErrorNumber.VIR_ERR_DEVICE_MISSING) -> errors.VirtError:
    return errors.report(code, Q, "device not present in domain configuration")


def _matcher(dev: etree._Element) -> Callable[[etree._Element], bool]:
    """How libvirt's detach from a definition recognises `dev`'s kind of device."""
    if dev.tag == "controller":
        return lambda o: _same(o, dev, "type") and o.get("index", "0") == dev.get("index", "0")
    if dev.tag == "input":
        return lambda o: _same(o, dev, "type", "bus")
    if dev.tag == "sound":
        return lambda o: _same(o, dev, "model")
    if dev.tag == "watchdog":
        return lambda o: True   # a domain has one
    if dev.tag in CHAR_TAGS:
        return lambda o: (_same(o, dev, "type") and _chr_port(o) == _chr_port(dev)
                          and _target(o, "name") == _target(dev, "name"))
    bare = _canonical(dev)
    return lambda o: _canonical(o) == bare


def _canonical(dev: etree._Element) -> bytes:
    """A device as given, without what libvirt fills in (address, alias)."""
    out = copy.deepcopy(dev)
    for child in [c for c in out if c.tag in ("address", "alias")]:
        out.remove(child)
    for elem in out.iter():   # the layout of the document it came from does not count
        elem.tail = None
        if elem.text is not None and not elem.text.strip():
            elem.text = None
    return etree.tostring(out, method="c14n")


def attach(d: DomainDef, dev: etree._Element) -> None:
    """Check `dev` may join the persistent `d` and append it (to be
    completed by the definition's post-parse)."""
    if kind(dev) not in _CONFIG_ATTACH:
        raise unsupported("persistent attach", dev)
    if dev.tag == "disk" and find_disk(d, _target(dev)) is not None:
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                            f"target {_target(dev)} already exists")
    if dev.tag == "controller" and dev.get("index") is not None and any(
            o.tag == "controller" and _same(o, dev, "type")
            and o.get("index", "0") == dev.get("index") for o in d.devices):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                            f"controller index='{dev.get('index')}' already exists")
    if dev.tag == "watchdog" and any(o.tag == "watchdog" for o in d.devices):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q,
                            "domain already has a watchdog")
    if dev.tag in ("serial", "parallel") and _target(dev, "port") and any(
            o.tag == dev.tag and _chr_port(o) == _target(dev, "port") for o in d.devices):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, Q, "chardev already exists")
    d.devices.append(dev)


def detach(d: DomainDef, dev: etree._Element) -> None:
    """Remove from the persistent `d` the device `dev` names."""
    if kind(dev) not in _CONFIG_DETACH:
        raise unsupported("persistent detach", dev)
    if dev.tag == "disk":
        at = find_disk(d, _target(dev))
        if at is None:
            raise errors.report(ErrorNumber.VIR_ERR_DEVICE_MISSING, Q,
                                f"no target device {_target(dev)}")
    elif dev.tag == "interface":
        at = find_nic(d, dev)
    else:
        match = _matcher(dev)
        at = next((i for i, o in enumerate(d.devices) if o.tag == dev.tag and match(o)), None)
        if at is None:
            if dev.tag == "input":
                raise errors.report(ErrorNumber.VIR_ERR_DEVICE_MISSING, Q,
                                    "matching input device not found")
            raise _not_present(ErrorNumber.VIR_ERR_INVALID_ARG if dev.tag in CHAR_TAGS
                               else ErrorNumber.VIR_ERR_DEVICE_MISSING)
    removed = d.devices.pop(at)
    if removed.tag == "serial":   # and the console that shows it
        port = _chr_port(removed)
        d.devices[:] = [o for o in d.devices if not (
            o.tag == "console" and _target(o, "type") in ("", "serial")
            and _target(o, "port") == port)]


def update(d: DomainDef, dev: etree._Element) -> None:
    """Replace in the persistent `d` the device `dev` names by `dev` (its
    address kept unless `dev` gives one)."""
    if kind(dev) not in _CONFIG_UPDATE:
        raise unsupported("persistent update", dev)
    if dev.tag == "disk":
        at = find_disk(d, _target(dev))
        if at is None:
            raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, Q,
                                f"target {_target(dev)} doesn't exist.")
    elif dev.tag == "interface":
        at = find_nic(d, dev)
    else:
        at = next((i for i, o in enumerate(d.devices) if o.tag == "graphics"
                   and _same(o, dev, "type")), None)
        if at is None:
            raise errors.report(ErrorNumber.VIR_ERR_DEVICE_MISSING, Q,
                                f"cannot find existing graphics type '{dev.get('type')}' "
                                "device to modify")
    old = d.devices[at]
    address = old.find("address")
    if dev.find("address") is None and address is not None:
        dev.append(copy.deepcopy(address))
    d.devices[at] = dev
