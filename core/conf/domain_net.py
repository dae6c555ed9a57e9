"""The parts of an <interface> that exist only while its domain runs, as
libvirt 9.0 treats them: the device alias (net0, ...) and a tap name the
driver generated (vnet0, ...).  A definition never keeps them: define drops
them, the inactive XML leaves them out, and a domain that stops forgets them.
A name the user chose stays, and so does an alias of the user's ("ua-")."""

from __future__ import annotations

import copy

from lxml import etree

# tap/macvtap names libvirt generates; such a name in a definition is dropped
GENERATED_PREFIXES = ("vnet", "macvtap", "macvlan")
USER_ALIAS_PREFIX = "ua-"


def is_generated(name: str) -> bool:
    return name.startswith(GENERATED_PREFIXES)


def _runtime_children(nic: etree._Element) -> list[etree._Element]:
    out = []
    target = nic.find("target")
    if (target is not None and target.get("managed") != "no"
            and is_generated(target.get("dev", ""))):
        out.append(target)
    alias = nic.find("alias")
    if alias is not None and not alias.get("name", "").startswith(USER_ALIAS_PREFIX):
        out.append(alias)
    return out


def strip_runtime(nic: etree._Element) -> None:
    """Remove the run-time parts of `nic` in place."""
    for child in _runtime_children(nic):
        nic.remove(child)


def inactive_view(dev: etree._Element) -> etree._Element:
    """`dev` as the inactive XML shows it: an interface without its run-time
    parts (a copy, only when there is something to leave out)."""
    if dev.tag != "interface" or not _runtime_children(dev):
        return dev
    out = copy.deepcopy(dev)
    strip_runtime(out)
    return out
