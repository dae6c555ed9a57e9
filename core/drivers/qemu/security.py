"""Which security drivers libvirt 9.0's QEMU driver stacks on this host and
with what labels: qemu.conf's security_driver, else the host's LSM where
libvirt's probe finds it usable (SELinux, AppArmor), else 'none'; then DAC
with the user and group QEMU runs as.  The capabilities document lists
them all, virNodeGetSecurityModel reports the first."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path
from typing import Any, Optional

from ... import errors
from ...errors import ErrorDomain, ErrorNumber
from . import qemuconf

DEFAULT_QEMU_USER = DEFAULT_QEMU_GROUP = "libvirt-qemu"   # Debian's build of libvirt
APPARMOR_PROFILES = "/sys/kernel/security/apparmor/profiles"
APPARMOR_TEMPLATES = ("/etc/apparmor.d/libvirt/TEMPLATE.qemu",
                      "/etc/apparmor.d/libvirt/TEMPLATE.lxc")
SELINUX_ENFORCE = "/sys/fs/selinux/enforce"
Model = tuple[str, str, tuple[tuple[str, str], ...]]   # (model, doi, (virt type, base label)...)


def _conf(root: Path) -> dict[str, Any]:
    path = root / "etc" / "qemu.conf"
    try:
        return qemuconf.parse(path.read_text(), str(path))
    except FileNotFoundError:
        return {}


def _apparmor_usable() -> bool:
    """libvirt's AppArmor probe: its own binary's (or 'libvirtd''s) profile
    loaded, and the QEMU and LXC templates present."""
    try:
        with open(APPARMOR_PROFILES) as f:
            profiles = f.read()
    except OSError:
        return False
    exe = os.path.realpath("/proc/self/exe")
    if f"{exe} " not in profiles and "libvirtd " not in profiles:
        return False
    return all(os.path.exists(p) for p in APPARMOR_TEMPLATES)


def lsm(conf: dict[str, Any]) -> str:
    """The first security driver: qemu.conf's choice (the first of a list),
    else the host's usable LSM, else 'none'."""
    chosen: Optional[Any] = conf.get("security_driver")
    if isinstance(chosen, list):
        chosen = chosen[0] if chosen else None
    if isinstance(chosen, str):
        return chosen
    if os.path.exists(SELINUX_ENFORCE):
        return "selinux"
    return "apparmor" if _apparmor_usable() else "none"


def _id(name: str, kind: str) -> int:
    """qemu.conf's user or group: '+N', a name, or failing that a number."""
    try:
        if name.startswith("+"):
            return int(name[1:])
        try:
            return pwd.getpwnam(name).pw_uid if kind == "user" else grp.getgrnam(name).gr_gid
        except KeyError:
            return int(name)
    except ValueError:
        raise errors.report(ErrorNumber.VIR_ERR_INVALID_ARG, ErrorDomain.VIR_FROM_NONE,
                            f"Failed to parse {kind} '{name}'") from None


def dac_label(root: Path) -> str:
    """'+uid:+gid' of the QEMU processes: qemu.conf's user and group, else
    Debian's libvirt-qemu when we are root, else ourselves."""
    conf = _conf(root)
    user, group = conf.get("user"), conf.get("group")
    privileged = os.geteuid() == 0
    uid = _id(user, "user") if isinstance(user, str) else (
        _id(DEFAULT_QEMU_USER, "user") if privileged else os.getuid())
    gid = _id(group, "group") if isinstance(group, str) else (
        _id(DEFAULT_QEMU_GROUP, "group") if privileged else os.getgid())
    return f"+{uid}:+{gid}"


def models(root: Path) -> list[Model]:
    """The stacked security drivers of the driver on `root`, first the LSM's
    (or 'none'), then DAC."""
    label = dac_label(root)
    return [(lsm(_conf(root)), "0", ()), ("dac", "0", (("kvm", label), ("qemu", label)))]
