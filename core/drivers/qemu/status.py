"""Running-domain status, persisted as libvirt's <domstatus> document.

One file per running domain (run/qemu/NAME.xml), rewritten atomically on
every state change, so that a driver opened later on the same root finds
the QEMU process, its monitor and the domain's state and live definition.
The status of a transition the driver asks QEMU for (start, suspend,
resume) is written and fsynced to a temp file of its own while QEMU acts,
and renamed over NAME.xml only once QEMU has reported it (statuswrite.py;
the likely next call's is prepared too, while QEMU works).
pid is 0 until the guest's first transition: a start in progress, found
again by its pidfile marker::

    <domstatus state='running' reason='booted' pid='1234'>
      <monitor path='.../monitor.sock' type='unix'/>
      <job async='migration out' phase='postcopy_failed' flags='0x8001'/>
      <domain type='kvm' id='1'>...</domain>

(<job> only while a migration job is active: a later driver takes over a
paused post-copy and can still resume it; <blockjobs>, libvirt's, only
while block jobs run: a later driver finds them again, see blockjob.py.)
    </domstatus>

Once QEMU has told the guest CPU (guestcpu.py), <domain> holds that live
<cpu> and a <cpu> of <domstatus> the defined one, as libvirt keeps them.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Optional

from lxml import etree

from ... import domainstate as ds
from ...conf.domain import DomainDef, format_domain_xml, parse_domain_xml
from ...conf import xmlutil
from .paths import write_atomic

_REASON_ENUMS: dict[ds.DomainState, type] = {
    ds.DomainState.VIR_DOMAIN_RUNNING: ds.DomainRunningReason,
    ds.DomainState.VIR_DOMAIN_PAUSED: ds.DomainPausedReason,
    ds.DomainState.VIR_DOMAIN_SHUTDOWN: ds.DomainShutdownReason,
    ds.DomainState.VIR_DOMAIN_SHUTOFF: ds.DomainShutoffReason,
    ds.DomainState.VIR_DOMAIN_CRASHED: ds.DomainCrashedReason,
}


# libvirt's names (its virDomain*Reason string tables) where the enum's own
# do not spell them; the others are the enum's, lower case, with spaces
_LIBVIRT_NAMES: dict[tuple[ds.DomainState, int], str] = {
    (ds.DomainState.VIR_DOMAIN_PAUSED, ds.DomainPausedReason.VIR_DOMAIN_PAUSED_SHUTTING_DOWN):
        "shutdown",
    (ds.DomainState.VIR_DOMAIN_PAUSED, ds.DomainPausedReason.VIR_DOMAIN_PAUSED_CRASHED):
        "panicked",
    (ds.DomainState.VIR_DOMAIN_PAUSED, ds.DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY):
        "post-copy",
    (ds.DomainState.VIR_DOMAIN_PAUSED, ds.DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED):
        "post-copy failed",
    (ds.DomainState.VIR_DOMAIN_RUNNING, ds.DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY):
        "post-copy",
    (ds.DomainState.VIR_DOMAIN_RUNNING,
     ds.DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY_FAILED): "post-copy failed",
}
_BY_LIBVIRT_NAME = {(state, name): reason for (state, reason), name in _LIBVIRT_NAMES.items()}


def state_name(state: ds.DomainState) -> str:
    """VIR_DOMAIN_RUNNING -> 'running'."""
    return state.name[len("VIR_DOMAIN_"):].lower()


def reason_name(state: ds.DomainState, reason: int) -> str:
    """(PAUSED, 11) -> 'starting up', (PAUSED, 12) -> 'post-copy': libvirt's."""
    enum_type = _REASON_ENUMS.get(state)
    if enum_type is None:
        return "unknown"
    if (state, reason) in _LIBVIRT_NAMES:
        return _LIBVIRT_NAMES[(state, reason)]
    member = enum_type(reason)
    return member.name.split("_", 3)[3].lower().replace("_", " ")


def _parse_state(name: str) -> ds.DomainState:
    return ds.DomainState["VIR_DOMAIN_" + name.upper()]


def _parse_reason(state: ds.DomainState, name: str) -> int:
    """reason_name's inverse; also the enum's spelling (older pyvirt's files)."""
    enum_type = _REASON_ENUMS.get(state)
    if enum_type is None:
        return 0
    if (state, name) in _BY_LIBVIRT_NAME:
        return int(_BY_LIBVIRT_NAME[(state, name)])
    prefix = f"VIR_DOMAIN_{state_name(state).upper()}_"
    return int(enum_type[prefix + name.upper().replace(" ", "_")])


@dataclasses.dataclass
class DomainStatus:
    """One <domstatus>; pid 0 while QEMU is not spawned yet."""
    def_: DomainDef
    state: ds.DomainState
    reason: int
    pid: int
    monitor_path: str
    job: Optional[dict[str, str]] = None   # async ('migration out'/'in'), phase, flags
    live_cpu: Optional[etree._Element] = None   # the <cpu> QEMU gave the guest
    taints: list[str] = dataclasses.field(default_factory=list)   # taint.py's flags
    node_index: Optional[int] = None   # the last disk image number a hotplug gave
    blockjobs: Optional[etree._Element] = None   # <blockjobs> (blockjob.py), while any run


def format_status(st: DomainStatus) -> str:
    return with_state(format_body(st), st.state, st.reason, st.pid)


def with_state(body: str, state: ds.DomainState, reason: int, pid: int) -> str:
    """The status document of `body` (format_body) in `state`: one body
    serves the statuses of a transition and of the next (prepare_status)."""
    attrs = xmlutil.attrs([("state", state_name(state)),
                           ("reason", reason_name(state, reason)), ("pid", str(pid))])
    return f"<domstatus{attrs}>\n{body}"


def format_body(st: DomainStatus) -> str:
    """Everything after the <domstatus> line, which alone holds the state."""
    d, defined_cpu = st.def_, ""
    if st.live_cpu is not None:
        d = dataclasses.replace(d, verbatim={**d.verbatim, "cpu": st.live_cpu})
        if "cpu" in st.def_.verbatim:
            lines: list[str] = []
            xmlutil.write_element(st.def_.verbatim["cpu"], 2, lines)
            defined_cpu = "".join(line + "\n" for line in lines)
    domain = format_domain_xml(d).rstrip("\n").replace("\n", "\n  ")
    return (f"  <monitor{xmlutil.attrs([('path', st.monitor_path)])} type='unix'/>\n"
            + "".join(f"  <taint{xmlutil.attrs([('flag', t)])}/>\n" for t in st.taints)
            + (f"  <nodename index='{st.node_index}'/>\n" if st.node_index is not None else "")
            + (f"  <job{xmlutil.attrs(list(st.job.items()))}/>\n" if st.job else "")
            + _blockjobs_text(st.blockjobs)
            + defined_cpu
            + f"  {domain}\n"
            f"</domstatus>\n")


def _blockjobs_text(elem: Optional[etree._Element]) -> str:
    if elem is None:
        return ""
    lines: list[str] = []
    xmlutil.write_element(elem, 2, lines)
    return "".join(line + "\n" for line in lines)


def save(path: Path, st: DomainStatus) -> None:
    save_text(path, format_status(st))


def save_text(path: Path, text: str) -> None:
    """Atomic and fsynced, without the folder's fsync (see write_atomic)."""
    write_atomic(path, text, sync_dir=False)


def load(path: Path, default_arch: str) -> Optional[DomainStatus]:
    """The status in `path`, or None when it cannot be read back."""
    try:
        root = etree.fromstring(path.read_bytes())
        state = _parse_state(root.get("state", "shutoff"))
        reason = _parse_reason(state, root.get("reason", "unknown"))
        domain = root.find("domain")
        monitor = root.find("monitor")
        if domain is None or monitor is None:
            return None
        def_ = parse_domain_xml(etree.tostring(domain, encoding="unicode"),
                                default_arch=default_arch, keep_interfaces=True)
        dom_id = domain.get("id")
        def_.id = int(dom_id) if dom_id is not None else -1
        job = root.find("job")
        defined_cpu, live_cpu = root.find("cpu"), None
        nodename = root.find("nodename")
        if defined_cpu is not None and "cpu" in def_.verbatim:
            live_cpu = def_.verbatim["cpu"]
            def_.verbatim["cpu"] = xmlutil.copy_element(defined_cpu)
        return DomainStatus(def_, state, reason, int(root.get("pid", "0")),
                            monitor.get("path", ""),
                            dict(job.attrib) if job is not None else None, live_cpu,
                            [t.get("flag", "") for t in root.findall("taint")],
                            int(nodename.get("index", "0")) if nodename is not None else None,
                            root.find("blockjobs"))
    except Exception:  # unreadable, half-written by hand, or of another version
        return None
