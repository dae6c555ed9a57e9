"""What the emulator on this host offers: version, machine types, accelerators.

Probed once per emulator binary and process (`-version`, `-machine help`,
about 20 ms), as libvirt's capabilities cache does per binary.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import re
import shutil
import subprocess
from typing import Optional

EMULATORS = {"x86_64": "qemu-system-x86_64", "i686": "qemu-system-i386"}


@dataclasses.dataclass(frozen=True)
class EmulatorCaps:
    """ex) path='/usr/bin/qemu-system-x86_64' version=7002022 default_machine='pc-i440fx-7.2'
    version_text='7.2.22Debian 1:7.2+dfsg-7+deb12u18+b3' (as libvirt writes it: the
    version, then the package with no space between)"""
    path: str
    version: int
    machines: frozenset[str]
    aliases: dict[str, str]
    default_machine: str
    version_text: str = ""

    def canonical_machine(self, machine: Optional[str]) -> Optional[str]:
        """'q35' -> 'pc-q35-7.2'; None when the emulator has no such machine."""
        if machine is None:
            machine = self.default_machine
        machine = self.aliases.get(machine, machine)
        return machine if machine in self.machines else None


def emulator_path(arch: str) -> Optional[str]:
    binary = EMULATORS.get(arch)
    if binary is None:
        return None
    for folder in ("/usr/bin", "/usr/libexec"):
        path = os.path.join(folder, binary)
        if os.access(path, os.X_OK):
            return path
    return shutil.which(binary)


@functools.lru_cache(maxsize=None)
def probe(path: str) -> EmulatorCaps:
    env = dict(os.environ, LC_ALL="C")
    out = subprocess.run([path, "-version"], capture_output=True, text=True, env=env,
                         timeout=30).stdout
    m = re.search(r"version (\d+)\.(\d+)(?:\.(\d+))?(?: \(([^)]*)\))?", out)
    version, version_text = 0, ""
    if m:
        version = int(m[1]) * 1_000_000 + int(m[2]) * 1000 + int(m[3] or 0)
        version_text = f"{m[1]}.{m[2]}.{int(m[3] or 0)}{m[4] or ''}"
    out = subprocess.run([path, "-machine", "help"], capture_output=True, text=True,
                         env=env, timeout=30).stdout
    machines, aliases, default = set(), {}, ""
    for line in out.splitlines()[1:]:
        parts = line.split(None, 1)
        if not parts:
            continue
        name, desc = parts[0], (parts[1] if len(parts) > 1 else "")
        alias = re.search(r"\(alias of ([^)]+)\)", desc)
        if alias:
            aliases[name] = alias[1]
        else:
            machines.add(name)
        if "(default)" in desc:
            default = name
    default = aliases.get(default, default)
    return EmulatorCaps(path, version, frozenset(machines), aliases, default, version_text)


def kvm_usable() -> bool:
    """/dev/kvm exists and we may open it read-write."""
    try:
        fd = os.open("/dev/kvm", os.O_RDWR | os.O_CLOEXEC)
    except OSError:
        return False
    os.close(fd)
    return True
