"""QEMU's firmware descriptors (docs/interop/firmware.json): the JSON files
that say which firmware image serves which machine types, with which
interface (BIOS, UEFI) and features.  libvirt reads them for domain
capabilities and for firmware autoselection.

Descriptors come from QEMU's data folder, then /etc/qemu/firmware, then
(unprivileged only) the user's own; a file of the same name in a later
folder replaces an earlier one, an empty file hides it.  They are used in
the order of their file names.
"""

from __future__ import annotations

import dataclasses
import fnmatch
import json
import os
from pathlib import Path
from typing import Any, Optional

SYSTEM_DIRS = ("/usr/share/qemu/firmware", "/etc/qemu/firmware")
# libvirt's built-in loader list (qemu.conf's nvram = [...] default): used
# when no descriptor serves the machine; entries whose image is missing drop out
DEFAULT_LOADERS = (
    ("/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.fd"),
    ("/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"),
    ("/usr/share/AAVMF/AAVMF32_CODE.fd", "/usr/share/AAVMF/AAVMF32_VARS.fd"),
)
# QEMU's target names where they differ from libvirt's architecture names
_QEMU_ARCH = {"i386": "i686", "arm": "armv7l"}


@dataclasses.dataclass(frozen=True)
class Descriptor:
    """One descriptor file.  ex) interfaces=('uefi',) image='/usr/share/OVMF/OVMF_CODE_4M.fd'
    nvram_template='/usr/share/OVMF/OVMF_VARS_4M.fd' features=('acpi-s3', 'requires-smm')
    targets=(('x86_64', ('pc-q35-*',)),)"""
    path: str
    interfaces: tuple[str, ...]
    image: Optional[str]
    nvram_template: Optional[str]
    targets: tuple[tuple[str, tuple[str, ...]], ...]
    features: tuple[str, ...]

    def serves(self, machine: str, arch: str) -> bool:
        return any(_QEMU_ARCH.get(a, a) == arch and any(fnmatch.fnmatchcase(machine, m)
                                                        for m in machines)
                   for a, machines in self.targets)


@dataclasses.dataclass(frozen=True)
class Supported:
    """What the descriptors offer one machine type.  ex) interfaces={'efi'}
    loaders=['/usr/share/OVMF/OVMF_CODE_4M.fd'] secure=False"""
    interfaces: frozenset[str]     # libvirt's names: 'bios', 'efi'
    loaders: list[str]             # images in descriptor order, each once
    secure: bool                   # some descriptor requires SMM


def search_dirs(privileged: bool) -> list[str]:
    dirs = list(SYSTEM_DIRS)
    if not privileged:
        config = os.environ.get("XDG_CONFIG_HOME") or os.path.join(
            os.path.expanduser("~"), ".config")
        dirs.append(os.path.join(config, "qemu", "firmware"))
    return dirs


def descriptors(privileged: bool) -> list[Descriptor]:
    """The descriptors in force, in file-name order; unreadable ones are skipped."""
    files: dict[str, Path] = {}
    for folder in search_dirs(privileged):
        try:
            entries = sorted(Path(folder).iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.name.endswith(".json"):
                files[entry.name] = entry
    found = []
    for name in sorted(files):
        desc = _read(files[name])
        if desc is not None:
            found.append(desc)
    return found


def _read(path: Path) -> Optional[Descriptor]:
    try:
        text = path.read_text()
        if not text.strip():
            return None     # an empty file masks one of the same name
        doc: dict[str, Any] = json.loads(text)
        mapping = doc.get("mapping", {})
        image = nvram = None
        if mapping.get("device") == "flash":
            image = mapping.get("executable", {}).get("filename")
            nvram = mapping.get("nvram-template", {}).get("filename")
        elif mapping.get("device") == "memory":
            image = mapping.get("filename")
        targets = tuple((t["architecture"], tuple(t.get("machines", ())))
                        for t in doc.get("targets", ()))
        return Descriptor(str(path), tuple(doc.get("interface-types", ())), image, nvram,
                          targets, tuple(doc.get("features", ())))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return None


def supported(machine: str, arch: str, privileged: bool) -> Supported:
    """The firmware the descriptors offer `machine` on `arch`."""
    interfaces: set[str] = set()
    loaders: list[str] = []
    secure = False
    for desc in descriptors(privileged):
        if not desc.serves(machine, arch):
            continue
        interfaces.update({"uefi": "efi", "bios": "bios"}[i] for i in desc.interfaces
                          if i in ("uefi", "bios"))
        secure = secure or "requires-smm" in desc.features
        if desc.image and desc.image not in loaders:
            loaders.append(desc.image)
    return Supported(frozenset(interfaces), loaders, secure)


def loader_values(offer: Supported) -> list[str]:
    """The loader images domain capabilities list: the descriptors', or
    libvirt's built-in list when none has one; existing files only."""
    images = offer.loaders or [image for image, _ in DEFAULT_LOADERS]
    return [image for image in images if os.path.exists(image)]
