"""The driver interface: what a hypervisor driver may implement.

As libvirt's virHypervisorDriver, a driver is a table of entry points;
here each entry point is a method whose name is the public function's
name without the 'vir' prefix, in snake case (virDomainSuspend ->
domain_suspend).  An entry point a driver lacks makes the public function
fail with VIR_ERR_NO_SUPPORT (see pyvirt.api).  Entry points receive the
already-checked arguments of the public function and return its result.
"""

from __future__ import annotations

import functools
import re
import socket
from typing import Any, Callable, Optional


LIBVIR_VERSION_NUMBER = 9000000   # the libvirt whose interface this is: 9.0.0


@functools.cache   # on every call's path: derive each name once
def entry_point_name(c_name: str) -> str:
    """virConnectGetType -> connect_get_type; virDomainGetXMLDesc -> domain_get_xml_desc."""
    stem = c_name[3:] if c_name.startswith("vir") else c_name
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", stem).lower()


def host_name() -> str:
    """The host's name as libvirt's virGetHostname gives it: the system's,
    or its canonical name when that has no dot (a DNS lookup)."""
    name = socket.gethostname()
    if "." in name or name.startswith("localhost"):
        return name
    try:
        info = socket.getaddrinfo(name, None, flags=socket.AI_CANONNAME)
        return info[0][3] or name
    except OSError:
        return name


class HypervisorDriver:
    """Base of every driver instance reached through a connection."""

    name = "none"

    def entry_point(self, c_name: str) -> Optional[Callable[..., Any]]:
        return getattr(self, entry_point_name(c_name), None)

    def connect_close(self) -> None:
        """Called once per connection when that connection closes."""
