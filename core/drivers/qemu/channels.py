"""virtio-serial channels as libvirt 9.0's QEMU driver runs them, the guest
agent's ('org.qemu.guest_agent.0') among them: their virtio-serial port
(post-parse), the listening socket libvirt makes and hands QEMU as an fd
(a channel without a path gets one under lib/qemu/channel/target/), the
command line, and the live XML's source path, state and alias.

Source path and state are live only: libvirt leaves them out of the
inactive and the migratable XML, so they are kept in the runtime
(ChannelState), never in the definition."""

from __future__ import annotations

import dataclasses
import socket
from pathlib import Path
from typing import Any, Callable, Optional

from lxml import etree

from ... import errors, events
from ...conf.domain import DomainDef
from ...domainobj import DomainObj
from .unixsock import unix_listen
from ...errors import ErrorDomain, ErrorNumber

AGENT_NAME = "org.qemu.guest_agent.0"
CONNECTED, DISCONNECTED = "connected", "disconnected"
# VIR_CONNECT_DOMAIN_EVENT_AGENT_LIFECYCLE_STATE_* and _REASON_*
AGENT_STATE = {CONNECTED: 1, DISCONNECTED: 2}
REASON_DOMAIN_STARTED, REASON_CHANNEL = 1, 2


def virtio_channels(d: DomainDef) -> list[etree._Element]:
    """The <channel>s with a virtio target, in definition order."""
    return [dev for dev in d.devices if dev.tag == "channel"
            and (t := dev.find("target")) is not None and t.get("type") == "virtio"]


def agent_channel(d: DomainDef) -> Optional[etree._Element]:
    """libvirt's qemuFindAgentConfig: the virtio channel of the agent's name."""
    return next((ch for ch in virtio_channels(d)
                 if ch.find("target").get("name") == AGENT_NAME), None)   # type: ignore[union-attr]


def assign_ports(d: DomainDef) -> None:
    """Each virtio channel without an address gets the next free port of
    virtio-serial controller 0, bus 0, from 1 (port 0 is a console's)."""
    used = {int(a.get("port", "0")) for ch in virtio_channels(d)
            if (a := ch.find("address")) is not None and a.get("type") == "virtio-serial"}
    port = 1
    for ch in virtio_channels(d):
        if ch.find("address") is not None:
            continue
        while port in used:
            port += 1
        used.add(port)
        ch.append(etree.Element("address", {"type": "virtio-serial", "controller": "0",
                                            "bus": "0", "port": str(port)}))


def _port(ch: etree._Element) -> tuple[int, int, int]:
    a = ch.find("address")
    if a is None:
        return 0, 0, 0
    return int(a.get("controller", "0")), int(a.get("bus", "0")), int(a.get("port", "0"))


def _unsupported(detail: str) -> errors.VirtError:
    return errors.report(ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED, ErrorDomain.VIR_FROM_QEMU, detail)


@dataclasses.dataclass
class ChannelState:
    """A running domain's channels: where each listens, and whether the
    guest has its end open (QEMU's frontend-open)."""
    paths: list[str] = dataclasses.field(default_factory=list)
    states: list[str] = dataclasses.field(default_factory=list)
    target_dir: str = ""    # the folder libvirt made for path-less channels


def socket_paths(d: DomainDef, target_dir: Path) -> list[str]:
    """Each virtio channel's socket: its own <source path>, else one in
    `target_dir` named after its target (or its port, as libvirt names it)."""
    out = []
    for ch in virtio_channels(d):
        if ch.get("type") != "unix":
            raise _unsupported(f"channel type '{ch.get('type')}' is not supported yet")
        source = ch.find("source")
        if source is not None and source.get("mode", "bind") != "bind":
            raise _unsupported("channel source mode 'connect' is not supported yet")
        if source is not None and source.get("path"):
            out.append(str(source.get("path")))
            continue
        name = ch.find("target").get("name")   # type: ignore[union-attr]
        out.append(str(target_dir / (name or "vioser-{:02d}-{:02d}-{:02d}.sock".format(
            *_port(ch)))))
    return out


def listen(paths: list[str]) -> list[socket.socket]:
    """The listening sockets QEMU gets (libvirt binds them itself)."""
    socks: list[socket.socket] = []
    try:
        for path in paths:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            socks.append(unix_listen(path))
    except OSError:
        for s in socks:
            s.close()
        raise
    return socks


def command_args(d: DomainDef, fds: list[int]) -> list[str]:
    """-chardev and -device virtserialport for each virtio channel."""
    out: list[str] = []
    for index, (ch, fd) in enumerate(zip(virtio_channels(d), fds)):
        controller, bus, port = _port(ch)
        props = [f"virtserialport,bus=virtio-serial{controller}.{bus}", f"nr={port}",
                 f"chardev=charchannel{index}", f"id=channel{index}"]
        name = ch.find("target").get("name")   # type: ignore[union-attr]
        if name:
            props.append(f"name={name}")
        out += ["-chardev", f"socket,id=charchannel{index},fd={fd},server=on,wait=off",
                "-device", ",".join(props)]
    return out


def frontend_states(d: DomainDef, chardevs: list[dict[str, object]]) -> list[str]:
    """Each virtio channel's state from QEMU's query-chardev."""
    open_ = {c.get("label"): bool(c.get("frontend-open")) for c in chardevs}
    return [CONNECTED if open_.get(f"charchannel{i}") else DISCONNECTED
            for i in range(len(virtio_channels(d)))]


def live_view(devices: list[etree._Element], d: DomainDef, state: ChannelState) -> None:
    """The running domain's channels (on a copy of its devices): the
    socket as <source mode='bind'>, the state on <target>, the alias."""
    chans = [dev for dev in devices if dev.tag == "channel"
             and (t := dev.find("target")) is not None and t.get("type") == "virtio"]
    for index, ch in enumerate(chans):
        if ch.find("source") is None and index < len(state.paths):
            ch.insert(0, etree.Element("source", mode="bind", path=state.paths[index]))
        target = ch.find("target")
        if index < len(state.states) and target is not None:
            target.set("state", state.states[index])
        if ch.find("alias") is None:
            at = next((i for i, c in enumerate(ch) if c.tag == "address"), len(ch))
            ch.insert(at, etree.Element("alias", name=f"channel{index}"))


def _agent_event(source: object, obj: DomainObj, state: str, reason: int) -> None:
    events.queue_domain_event(source, events.DomainEventID.VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE,
                              obj.name, obj.uuid, obj.id, AGENT_STATE[state], reason)


def _agent_index(d: DomainDef) -> Optional[int]:
    agent = agent_channel(d)
    return None if agent is None else virtio_channels(d).index(agent)


def refresh(source: object, obj: DomainObj, state: Optional[ChannelState],
            call: Callable[[str], Any], reason: int) -> None:
    """Each channel's state from QEMU (libvirt's qemuProcessRefreshChannelVirtioState,
    at start and reconnect); the agent's channel, if any, says so in an
    AGENT_LIFECYCLE event, whether or not the guest ever opens it."""
    if state is None or not virtio_channels(obj.def_):
        return
    state.states = frontend_states(obj.def_, call("query-chardev"))
    index = _agent_index(obj.def_)
    if index is not None:
        _agent_event(source, obj, state.states[index], reason)


def port_changed(source: object, obj: DomainObj, state: ChannelState,
                 data: dict[str, Any]) -> None:
    """QEMU's VSERPORT_CHANGE: the guest opened or closed its end (lock held)."""
    alias = str(data.get("id", ""))
    if not alias.startswith("channel") or not alias[7:].isdigit():
        return
    index = int(alias[7:])
    if index >= len(state.states):
        return
    state.states[index] = CONNECTED if data.get("open") else DISCONNECTED
    if index == _agent_index(obj.def_):
        _agent_event(source, obj, state.states[index], REASON_CHANNEL)
