"""Connection URIs: ``driver[+transport]://[user@][host][:port]/path[?query]``.

Only the parts a driver chooses on are modelled.  A URI libvirt could not
parse fails with VIR_ERR_INTERNAL_ERROR from VIR_FROM_URI, as libvirt does.
"""

from __future__ import annotations

import dataclasses
import re
import urllib.parse
from typing import Optional

from . import errors
from .errors import ErrorDomain, ErrorNumber

_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")


@dataclasses.dataclass(frozen=True)
class Uri:
    """A parsed connection URI; ex) test:///default -> scheme='test', path='/default'."""
    text: str
    scheme: str
    transport: Optional[str]
    user: Optional[str]
    server: Optional[str]
    port: Optional[int]
    path: str
    params: tuple[tuple[str, str], ...]

    @property
    def driver(self) -> str:
        """The part of the scheme naming the driver: 'qemu' in 'qemu+ssh'."""
        return self.scheme

    @property
    def is_local(self) -> bool:
        return self.transport is None and not self.server

    def param(self, name: str) -> Optional[str]:
        for key, value in self.params:
            if key == name:
                return value
        return None


def parse(text: str) -> Uri:
    """Parse `text` or raise the error libvirt gives for an unparsable URI."""
    if not _SCHEME.match(text):
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_URI,
                            f"Unable to parse URI {text}")
    try:
        split = urllib.parse.urlsplit(text)
        port = split.port
    except ValueError:
        raise errors.report(ErrorNumber.VIR_ERR_INTERNAL_ERROR, ErrorDomain.VIR_FROM_URI,
                            f"Unable to parse URI {text}") from None
    scheme, _, transport = split.scheme.partition("+")
    return Uri(text=text, scheme=scheme, transport=transport or None,
               user=split.username, server=split.hostname, port=port,
               path=urllib.parse.unquote(split.path),
               params=tuple(urllib.parse.parse_qsl(split.query, keep_blank_values=True)))
