"""virDomainOpenConsole and virDomainOpenChannel, compared live with real
libvirt 9.0's embed driver: the same calls on a guest that echoes what its
serial port receives (guest.py's 'echo'), so the bytes really go through
the pty and back; one session per device, FORCE taking it over, aliases,
errors, and the stream's end when the domain stops."""

from __future__ import annotations

import json
from pathlib import Path

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()

# receive on stream s until `want` came (the guest echoes byte by byte)
RECV = ("(lambda s, want: (lambda f: f(f, b'').decode())(lambda f, got: got if want in got "
        "else f(f, got + s.recv(64))))")
HEX = "(lambda r: r.hex() if isinstance(r, bytes) else r)"
KEEP = "[globals().__setitem__({name!r}, c.newStream(0)), {call}][1]"


def questions(kernel: Path) -> dict[str, str]:
    def xml(name: str, extra: str) -> str:
        return repr(domxml(name, kernel, extra + "<memballoon model='none'/>"))
    chan = "<channel type='unix'><target type='virtio' name='org.example.0'/></channel>"
    return {
        "a0": f"c.createXML({xml('co_echo', '<serial type=' + repr('pty') + '/>' + chan)}, 0).name()",
        "a1": KEEP.format(name="S1", call="c.lookupByName('co_echo').openConsole(None, S1, 0)"),
        "a2_echo": f"[S1.send(b'ping'), {RECV}(S1, b'ping')]",
        "a3_busy": KEEP.format(name="S2", call="c.lookupByName('co_echo').openConsole(None, S2, 0)"),
        "a4_force": "c.lookupByName('co_echo').openConsole(None, S2, 1)",
        "a5_old_recv": "S1.recv(10)",
        "a6_old_send": "S1.send(b'x')",
        "a7_echo": f"[S2.send(b'pong'), {RECV}(S2, b'pong')]",
        "a8": "S2.finish()",
        "a9_serial0": "c.lookupByName('co_echo').openConsole('serial0', c.newStream(0), 0)",
        "b1_console0": "c.lookupByName('co_echo').openConsole('console0', c.newStream(0), 0)",
        "b2_unknown": "c.lookupByName('co_echo').openConsole('nope', c.newStream(0), 0)",
        "b3_flags": "c.lookupByName('co_echo').openConsole(None, c.newStream(0), 4)",
        "b4_no_channel": "c.lookupByName('co_echo').openChannel('nope', c.newStream(0), 0)",
        "b6_flags": "c.lookupByName('co_echo').openChannel('org.example.0', c.newStream(0), 2)",
        "b7_channel": KEEP.format(name="S3", call="c.lookupByName('co_echo').openChannel("
                                               "'org.example.0', S3, 0)"),
        "b8_busy": "c.lookupByName('co_echo').openChannel('org.example.0', c.newStream(0), 0)",
        "b9_force": "c.lookupByName('co_echo').openChannel('org.example.0', c.newStream(0), 1)",
        "c0": "c.lookupByName('co_echo').destroy()",
        "c1": f"c.createXML({xml('co_file', '<serial type=' + repr('file') + '><source path=' + repr('/dev/null') + '/></serial>')}, 0).name()",
        "c2_not_pty": "c.lookupByName('co_file').openConsole(None, c.newStream(0), 0)",
        "c3": "c.lookupByName('co_file').destroy()",
        "c4": f"c.createXML({xml('co_none', '')}, 0).name()",
        "c5_none": "c.lookupByName('co_none').openConsole(None, c.newStream(0), 0)",
        "c6": "c.lookupByName('co_none').destroy()",
        # a stopped domain's stream reads its end
        "d0": f"c.createXML({xml('co_stop', '<serial type=' + repr('pty') + '/>')}, 0).name()",
        "d1": KEEP.format(name="S4", call="c.lookupByName('co_stop').openConsole(None, S4, 0)"),
        "d2": "c.lookupByName('co_stop').destroy()",
        "d3_end": f"{HEX}(S4.recv(10))",
        "d4_end": f"{HEX}(S4.recv(10))",
        "d5": "S4.finish()",
        "d6_stopped": f"c.createXML({xml('co_gone', '')}, 0).destroy() or "
                      "c.lookupByName('co_gone').openConsole(None, c.newStream(0), 0)",
    }


def test_console_and_channel_streams_as_real_libvirt(root, kernels):  # noqa: F811
    qs = questions(kernels["echo"])
    real = reallibvirt.ask(qs)
    mine = reallibvirt.ask_pyvirt(libvirt, root, qs)
    mine = json.loads(json.dumps(mine, default=lambda b: b.hex()))
    real = json.loads(json.dumps(real))
    assert {k: v for k, v in mine.items() if v != real[k]} == {}
    # and plainly: the bytes went through the guest and back
    assert mine["a2_echo"] == ["ok", [4, "ping"]] and mine["a7_echo"] == ["ok", [4, "pong"]]
    assert mine["a3_busy"] == ["err", 9, 10, "operation failed: Active console session "
                                             "exists for this domain"]
    assert mine["d3_end"] == ["ok", ""]
