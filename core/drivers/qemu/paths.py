"""Where an embedded QEMU driver keeps things under its root, as libvirt's
embed mode lays them out (``qemu:///embed?root=DIR``)::

    DIR/etc/qemu/NAME.xml          persistent definitions
    DIR/etc/qemu/autostart/NAME.xml  symlink to the definition: start on first open
    DIR/run/qemu/NAME.xml          status of a running domain (domstatus)
    DIR/run/qemu/NAME.pid          QEMU's pid file
    DIR/run/qemu/driver.pid        held (fcntl lock) by the driver instance owning DIR
    DIR/lib/qemu/domain-ID-NAME/   per-run files: monitor.sock
    DIR/lib/qemu/save/NAME.save    managed save image
    DIR/lib/qemu/snapshot/NAME/SNAP.xml  a snapshot's metadata (<active>: the current one)
    DIR/log/qemu/NAME.log          QEMU's stdout/stderr, after its command line
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path


@dataclasses.dataclass(frozen=True)
class RootLayout:
    """The directories of one embed root; ex) root=/tmp/r -> config_dir=/tmp/r/etc/qemu."""
    root: Path

    @property
    def config_dir(self) -> Path:
        return self.root / "etc" / "qemu"

    @property
    def state_dir(self) -> Path:
        return self.root / "run" / "qemu"

    @property
    def lib_dir(self) -> Path:
        return self.root / "lib" / "qemu"

    @property
    def log_dir(self) -> Path:
        return self.root / "log" / "qemu"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache" / "qemu"

    def create(self) -> None:
        for d in (self.config_dir, self.state_dir, self.lib_dir, self.log_dir, self.cache_dir):
            d.mkdir(parents=True, exist_ok=True)

    def config_file(self, name: str) -> Path:
        return self.config_dir / f"{name}.xml"

    def status_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.xml"

    def pid_file(self, name: str) -> Path:
        return self.state_dir / f"{name}.pid"

    def log_file(self, name: str) -> Path:
        return self.log_dir / f"{name}.log"

    def domain_dir(self, dom_id: int, name: str) -> Path:
        return self.lib_dir / f"domain-{dom_id}-{name}"

    def channel_dir(self, dom_id: int, name: str) -> Path:
        """Where a running domain's path-less channels listen (channels.py)."""
        return self.lib_dir / "channel" / "target" / f"domain-{dom_id}-{name}"

    @property
    def driver_lock_file(self) -> Path:
        return self.state_dir / "driver.pid"

    @property
    def autostart_dir(self) -> Path:
        return self.config_dir / "autostart"

    def autostart_link(self, name: str) -> Path:
        return self.autostart_dir / f"{name}.xml"

    @property
    def autostarted_marker(self) -> Path:
        """Present once autostart has run for this root (libvirt: once per boot)."""
        return self.state_dir / "autostarted"

    @property
    def save_dir(self) -> Path:
        return self.lib_dir / "save"

    def managed_save_file(self, name: str) -> Path:
        return self.save_dir / f"{name}.save"

    def snapshot_dir(self, name: str) -> Path:
        return self.lib_dir / "snapshot" / name

    def snapshot_file(self, name: str, snapshot: str) -> Path:
        return self.snapshot_dir(name) / f"{snapshot}.xml"


def write_atomic(path: Path, text: str, sync_dir: bool = True) -> None:
    """Replace `path` with `text` so that a crash leaves the old or the new
    file, never a part: temp file in the same folder, fsync, rename (DESIGN.md's
    rule for configs and running-domain status alike).  `sync_dir=False` skips
    the folder's fsync after the rename: running-domain status is rewritten on
    every state change, on the monitor's thread between an event and the reply
    that follows it, and the file's own fsync is what the rule asks for."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    write_synced(tmp, text)
    os.replace(tmp, path)
    if sync_dir:
        fsync_dir(path.parent)


def write_synced(tmp: Path, text: str) -> None:
    """The first half of write_atomic: `text` in `tmp`, fsynced (the rename is the caller's)."""
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, text.encode())
        os.fsync(fd)
    finally:
        os.close(fd)


def remove_durably(path: Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        return
    fsync_dir(path.parent)


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
