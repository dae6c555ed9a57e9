"""virDomainReset, InjectNMI, SendKey, SendProcessSignal, Screenshot, CoreDump
and CoreDumpWithFormat with real QEMU, compared live with real libvirt 9.0's
embed driver: the same expressions (python3-libvirt's API, which pyvirt's
generated module also offers) run in order on both, with the same guest
kernel; results, errors, states and events must be equal.  What depends on
the moment (dump sizes) is reduced to what does not (the file's kind, its
mode, whether it exists)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, ensure_event_loop, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()   # pyvirt's generated module (see support.pyvirt_module)

VGA = ("<graphics type='vnc' port='-1' autoport='yes'/>"
       "<video><model type='vga' heads='1'/></video>")
# the events of both sides, drained by each "ev_*" question
EVENTS = (
    "(lambda evs: [c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_REBOOT, "
    "lambda c, d, o: evs.append(['reboot', d.name()]), None), "
    "c.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, "
    "lambda c, d, e, det, o: evs.append(['life', d.name(), e, det]), None), evs][-1])([])")
DRAIN = "(__import__('time').sleep(0.5), list(EVS), EVS.clear())[1]"
# a dump file reduced to what does not move: size > 0, kind, mode; then removed
FILE = ("(lambda p: (lambda s, h: [s.st_size > 0, h[:4].hex(), oct(s.st_mode), os.unlink(p)][:3])"
        "(os.stat(p), open(p, 'rb').read(8)))")
SHOT = ("(lambda d, s: (lambda r: [r[0], r[1], r[3]])([d.screenshot(s, 0, 0), (lambda b: b[:8].hex())(b''.join(iter(lambda: s.recv(1 << 16), b''))), "
        "s.finish(), sorted(f for f in os.listdir(root + '/lib/qemu/domain-' + str(d.ID()) + '-' "
        "+ d.name()) if 'screendump' in f)]))")


def questions(kernel: Path, out: str) -> dict[str, str]:
    x = lambda name, extra="": domxml(name, kernel, extra)   # noqa: E731
    run, off = "c.lookupByName('ga1')", "c.lookupByName('ga2')"
    return {
        "a0": f"globals().__setitem__('EVS', {EVENTS})",
        "a1": f"c.createXML({x('ga1', VGA)!r}, 0).name()",
        "a2": f"c.defineXML({x('ga2')!r}).name()",
        "a3": f"c.createXML({x('ga3')!r}, 0).name()",
        "a9": DRAIN,
        # reset: QEMU's reset, a REBOOT event, the state kept
        "b1_reset": f"[{run}.reset(0), {run}.state()]",
        "b2_reset_flags": f"{run}.reset(1)",
        "b3_reset_off": f"{off}.reset(0)",
        "b4_reset_paused": f"[{run}.suspend(), {run}.reset(0), {run}.state(), {run}.resume()]",
        "b9": DRAIN,
        # the NMI makes the idle kernel (no IDT) triple-fault: QEMU resets it,
        # twice; it waits for the guest to be back in it after the resets above
        "c1_nmi": f"[__import__('time').sleep(2), {run}.injectNMI(0), {run}.state()][1:]",
        "c2_nmi_flags": f"{run}.injectNMI(1)",
        "c3_nmi_off": f"{off}.injectNMI(0)",
        # what the NMI does to the guest depends on where it is: not compared
        "c9": "[__import__('time').sleep(1), EVS.clear()][1]",
        "d01_key": f"{run}.sendKey(0, 0, [30, 31], 2, 0)",
        "d02_key_hold": f"{run}.sendKey(0, 100, [30], 1, 0)",
        "d03_key_flags": f"{run}.sendKey(0, 0, [30], 1, 1)",
        "d04_key_linux_bad": f"{run}.sendKey(0, 0, [9999], 1, 0)",
        "d05_key_xt_bad": f"{run}.sendKey(1, 0, [0x200], 1, 0)",
        "d06_key_codeset": f"{run}.sendKey(42, 0, [30], 1, 0)",
        "d07_key_off": f"{off}.sendKey(0, 0, [30], 1, 0)",
        "d08_key_off_bad": f"{off}.sendKey(0, 0, [9999], 1, 0)",
        "d09_key_qnum": f"{run}.sendKey(9, 0, [0x1e, 0x9c, 0x1ff], 3, 0)",
        "d10_key_qnum_big": f"{run}.sendKey(9, 0, [0x1e, 0x10000], 2, 0)",
        "d11_key_16": f"{run}.sendKey(0, 0, list(range(1, 17)), 16, 0)",
        "d12_key_zero": f"{run}.sendKey(0, 0, [0], 1, 0)",
        "d13_key_usb": f"{run}.sendKey(7, 0, [4], 1, 0)",
        "d14_key_xtkbd_bad": f"{run}.sendKey(6, 0, [0x7f], 1, 0)",
        "d15_key_atset1_hangeul": f"{run}.sendKey(2, 0, [0x72], 1, 0)",
        "d16_key_atset1_f2": f"{run}.sendKey(2, 0, [0xf2], 1, 0)",
        "d17_key_osx": f"{run}.sendKey(5, 0, [0, 0xff], 2, 0)",
        "d18_key_win32": f"{run}.sendKey(8, 0, [0x41, 0x5b], 2, 0)",
        "d19_key_atset2_3": f"{run}.sendKey(3, 0, [0x1c], 1, 0) + {run}.sendKey(4, 0, [0x1c], 1, 0)",
        "d99": DRAIN,
        "e1_signal": f"{run}.sendProcessSignal(1, 9, 0)",
        "e2_signal_off": f"{off}.sendProcessSignal(1, 9, 0)",
        "f1_shot": f"{SHOT}({run}, c.newStream(0))",
        "f2_shot_screen": f"{run}.screenshot(c.newStream(0), 1, 0)",
        "f3_shot_flags": f"{run}.screenshot(c.newStream(0), 0, 1)",
        "f4_shot_novideo": "c.lookupByName('ga3').screenshot(c.newStream(0), 0, 0)",
        "f5_shot_off": f"{off}.screenshot(c.newStream(0), 0, 0)",
        "f9": DRAIN,
        # dumps; a failure after the pause resumes the guest
        "g01_flags": f"{run}.coreDumpWithFormat({out + '/x'!r}, 0, 0x20)",
        "g02_off": f"{off}.coreDump({out + '/x'!r}, 0)",
        "g03_format": f"{run}.coreDumpWithFormat({out + '/x'!r}, 9, 16)",
        "g04_crash_live": f"{run}.coreDump({out + '/x'!r}, 1 | 2)",
        "g05_live_reset": f"{run}.coreDump({out + '/x'!r}, 2 | 8)",
        "g06_kdump_not_memory": f"{run}.coreDumpWithFormat({out + '/x'!r}, 1, 0)",
        "g07_no_dir": f"{run}.coreDumpWithFormat({out + '/no/x'!r}, 0, 16)",
        "g08_left": f"os.path.exists({out + '/x'!r})",
        "g09": DRAIN,
        "h1_elf": f"[{run}.coreDumpWithFormat({out + '/elf'!r}, 0, 16), {FILE}({out + '/elf'!r})]",
        "h2": DRAIN,
        "h3_elf_live": f"[{run}.coreDump({out + '/live'!r}, 16 | 2), {FILE}({out + '/live'!r})]",
        "h4": DRAIN,
        "h5_kdump_zlib": f"[{run}.coreDumpWithFormat({out + '/kz'!r}, 1, 16), {FILE}({out + '/kz'!r})]",
        "h6_kdump_lzo": f"{run}.coreDumpWithFormat({out + '/kl'!r}, 2, 16)",
        "h7_win": f"{run}.coreDumpWithFormat({out + '/w'!r}, 4, 16)",
        "h8": DRAIN,
        "h9_left": f"sorted(os.listdir({out!r}))",
        "i1_raw": f"[{run}.coreDump({out + '/raw'!r}, 0), {FILE}({out + '/raw'!r}), {run}.state()]",
        "i2_raw_paused": f"[{run}.suspend(), {run}.coreDump({out + '/rp'!r}, 0), "
                         f"{FILE}({out + '/rp'!r}), {run}.state(), {run}.resume()]",
        "i3_reset": f"[{run}.coreDump({out + '/rs'!r}, 16 | 8), {FILE}({out + '/rs'!r}), {run}.state()]",
        "i4_bypass": f"[{run}.coreDump({out + '/bp'!r}, 16 | 4), {FILE}({out + '/bp'!r})]",
        "i5_existing": f"[open({out + '/ex'!r}, 'w').write('x'), os.chmod({out + '/ex'!r}, 0o644), "
                       f"{run}.coreDump({out + '/ex'!r}, 16), {FILE}({out + '/ex'!r})]",
        "i6_relative": f"[os.chdir({out!r}), {run}.coreDump('rel', 16), {FILE}({out + '/rel'!r})]",
        "i9": DRAIN,
        "j1_crash": f"[{run}.coreDump({out + '/cr'!r}, 16 | 1), {FILE}({out + '/cr'!r}), "
                    "sorted(d.name() for d in c.listAllDomains() if d.name().startswith('ga'))]",
        "j9": DRAIN,
        "z1": "c.lookupByName('ga3').destroy()",
    }


def ours(root: Path, qs: dict[str, str]) -> dict[str, tuple[Any, ...]]:
    """The questions asked of pyvirt, in reallibvirt's order and shape."""
    ensure_event_loop()
    c = libvirt.open(f"qemu:///embed?root={root}")
    cwd = os.getcwd()
    try:
        out = reallibvirt.ask_ours(libvirt, c, qs, str(root))
    finally:
        os.chdir(cwd)
        for d in c.listAllDomains():
            if d.isActive():
                d.destroy()
        c.close()
    return out


def test_guest_actions_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    mine_dir, real_dir = tmp_path / "ours", tmp_path / "real"
    mine_dir.mkdir()
    real_dir.mkdir()
    real = reallibvirt.ask(questions(kernels["idle"], str(real_dir)))
    mine = ours(root, questions(kernels["idle"], str(mine_dir)))
    mine = {k: json.loads(json.dumps(v).replace(str(mine_dir), str(real_dir)))
            for k, v in mine.items()}
    diffs = {k: (mine[k], real[k]) for k in sorted(real) if mine[k] != list(real[k])}
    assert not diffs
    # host-independent facts, plainly: a PNG, an ELF core of mode 0600, a
    # migration stream (QEMU's "QEVM"), the guest gone after a crash dump
    assert mine["f1_shot"][1] == ["image/png", "89504e470d0a1a0a", []]
    assert mine["h1_elf"][1][1] == [True, "7f454c46", "0o100600"]
    assert mine["i1_raw"][1][1] == [True, "5145564d", "0o100600"]
    assert mine["j1_crash"][1][2] == ["ga2", "ga3"]
