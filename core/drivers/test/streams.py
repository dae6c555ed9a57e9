"""The test driver's stream users: virDomainScreenshot streams a fixed PNG
(libvirt's own test-screenshot.png, whatever the domain or screen).
libvirt 9.0's test driver has no volume upload/download, console or
channel: those stay VIR_ERR_NO_SUPPORT.  Mixed into TestDriver."""

from __future__ import annotations

import os

from ... import errors
from ...objects import Domain
from ...stream import FileStream, Stream

SCREENSHOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "test-screenshot.png")


class StreamMixin:
    """Stream entry points of the test driver."""

    def domain_screenshot(self, dom: Domain, stream: Stream, screen: int, flags: int) -> str:
        errors.check_flags(flags, 0, "testDomainScreenshot")
        stream.attach(FileStream(stream, SCREENSHOT))
        return "image/png"
