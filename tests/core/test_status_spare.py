"""The status thread's spare links (statuswrite.StatusWriter): made at its
next wake-up, never by a wake-up of their own, and dropped with the status."""

from __future__ import annotations

import os

from pyvirt.drivers.qemu.statuswrite import PreparedStatus, spare_of, status_writer


def test_the_spare_waits_for_the_next_write_and_keeps_the_replaced_file(tmp_path) -> None:
    path = tmp_path / "dom.xml"
    path.write_text("<domstatus state='paused'/>")
    status_writer.respare(path)
    assert not spare_of(path).exists()            # no wake-up for it alone

    ahead = PreparedStatus.beside(path, "<domstatus state='running'/>", armed=True)
    status_writer.put(ahead)
    assert ahead.ready.wait(5) and ahead.take()   # written: the spare came first
    assert spare_of(path).stat().st_ino == path.stat().st_ino
    old = path.stat().st_ino
    os.replace(ahead.tmp, path)                   # the transition: not the file's last link
    assert spare_of(path).stat().st_ino == old
    assert path.read_text() == "<domstatus state='running'/>"

    status_writer.forget(path)                    # the domain stopped
    assert not spare_of(path).exists()
