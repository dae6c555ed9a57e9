"""virDomainScreenshot as libvirt 9.0's QEMU driver takes it: QEMU's
screendump writes a PNG (this QEMU has the format argument) into a fresh
file in the domain's directory, which the stream then reads; the file is
unlinked at once, the stream keeping it open.  A non-zero screen is
counted through the video devices' heads to the device that shows it."""

from __future__ import annotations

import os
import tempfile
from typing import Optional

from lxml import etree

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from ...objects import Domain
from ...stream import FileStream, Stream
from .runtime import qemu_error

Q = ErrorDomain.VIR_FROM_QEMU


def _screen_device(videos: list[tuple[str, int]], screen: int) -> Optional[tuple[str, int]]:
    """The alias of the video device showing `screen` (heads counted in
    order) and which of its heads it is."""
    for alias, heads in videos:
        if screen < heads:
            return alias, screen
        screen -= heads
    return None


class Screenshot:
    """Mixed into QemuDriver (which supplies job, lock, _running, layout, _monitor_call)."""

    def domain_screenshot(self, dom: Domain, stream: Stream, screen: int, flags: int) -> str:
        errors.check_flags(flags, 0, "qemuDomainScreenshot", Q)
        with self.job(dom.uuid):  # type: ignore[attr-defined]
            obj, rt = self._running(dom)  # type: ignore[attr-defined]
            with self.lock:  # type: ignore[attr-defined]
                videos = [(f"video{i}", int(_heads(dev)))
                          for i, dev in enumerate(d for d in obj.def_.devices if d.tag == "video")]
                folder = str(self.layout.domain_dir(obj.id, obj.name))  # type: ignore[attr-defined]
            if not videos:
                raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_INVALID,
                                 "no screens to take screenshot from")
            args: dict[str, object] = {"format": "png"}
            if screen:
                shown = _screen_device(videos, screen)
                if shown is None:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_INVALID, "no such screen ID")
                args["device"] = shown[0]
                if shown[1]:
                    args["head"] = shown[1]
            try:
                fd, tmp = tempfile.mkstemp(prefix="qemu.screendump.", dir=folder)
            except OSError as exc:
                raise errors.report(ErrorNumber.VIR_ERR_SYSTEM_ERROR, Q,
                                    f'g_mkstemp("{folder}/qemu.screendump.XXXXXX") failed: '
                                    f"{os.strerror(exc.errno or 0)}") from None
            try:
                os.close(fd)
                args["filename"] = tmp
                self._monitor_call(rt, "screendump", args)  # type: ignore[attr-defined]
                try:
                    stream.attach(FileStream(stream, tmp))
                except errors.VirtError:
                    raise qemu_error(ErrorNumber.VIR_ERR_OPERATION_FAILED,
                                     "unable to open stream") from None
            finally:
                os.unlink(tmp)
        return "image/png"


def _heads(video: etree._Element) -> str:
    model = video.find("model")
    return (model.get("heads") if model is not None else None) or "1"
