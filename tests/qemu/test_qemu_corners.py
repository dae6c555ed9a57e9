"""Corners of the QEMU driver, compared live with real libvirt 9.0's embed
driver: a shutdown of a paused domain, which missing disk image a start
reports, the modes of the sockets and files under the root, and the
INACTIVE XML of a running domain that was created transient (libvirt
shows its live definition) or undefined while running (its persistent
one, kept till the stop), and the VALIDATE flags."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()

# the modes of the files in a folder of the root (those of domain `name`'s)
MODES = ("(lambda d: sorted((p, oct(os.stat(os.path.join(d, p)).st_mode)) for p in os.listdir(d)"
         " if p.startswith(('{name}.', 'driver', 'monitor'))))(root + '/{sub}')")
# the INACTIVE document against the live one without its id
SAME_AS_LIVE = ("(lambda d: d.XMLDesc({flags} | 2) == d.XMLDesc({flags})"
                ".replace(\" id='%d'\" % d.ID(), '', 1))(c.lookupByName('{name}'))")


def _disk(path: str, dev: str, bus: str = "virtio") -> str:
    return (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
            f"<source file='{path}'/><target dev='{dev}' bus='{bus}'/></disk>")


def questions(kernel: Path, images: str) -> dict[str, str]:
    def xml(name: str, extra: str = "") -> str:
        return repr(domxml(name, kernel, extra + "<memballoon model='none'/>"))
    gone = images + "/gone"
    return {
        # a paused domain refuses every shutdown (reboot goes on)
        "a1": f"c.defineXML({xml('cn_paused')}).create()",
        "a2": "c.lookupByName('cn_paused').suspend()",
        "a3_shutdown": "c.lookupByName('cn_paused').shutdown()",
        "a4_acpi": "c.lookupByName('cn_paused').shutdownFlags(1)",
        "a5_agent_acpi": "c.lookupByName('cn_paused').shutdownFlags(1 | 2)",
        "a6_state": "c.lookupByName('cn_paused').state()",
        "a7_sockets": MODES.format(name="cn_paused", sub="lib/qemu/domain-' + str("
                      "c.lookupByName('cn_paused').ID()) + '-cn_paused"),
        "a8_run": MODES.format(name="cn_paused", sub="run/qemu"),
        "a9": "[c.lookupByName('cn_paused').destroy(), c.lookupByName('cn_paused').undefine()]",
        # the last disk's missing image is the one reported
        "b1_one": f"c.createXML({xml('cn_m1', _disk(gone + '/a.img', 'vda'))}, 0)",
        "b2_two": f"c.createXML({xml('cn_m2', _disk(images + '/a.img', 'vda') + _disk(images + '/b.img', 'vdb'))}, 0)",
        "b3_buses": f"c.createXML({xml('cn_m3', _disk(images + '/a.img', 'sda', 'sata') + _disk(images + '/b.img', 'vda') + _disk(images + '/c.img', 'vdb'))}, 0)",
        "b4_left": "[d.name() for d in c.listAllDomains() if d.name().startswith('cn_')]",
        # INACTIVE XML of running domains without a persistent definition
        "c1": f"c.createXML({xml('cn_transient')}, 0).name()",
        "c2_inactive": SAME_AS_LIVE.format(flags=0, name="cn_transient"),
        "c3_secure": SAME_AS_LIVE.format(flags=1, name="cn_transient"),
        "c4_migratable": "(lambda d: d.XMLDesc(8 | 2) == d.XMLDesc(8))(c.lookupByName('cn_transient'))",
        "c5": "c.lookupByName('cn_transient').destroy()",
        "d1": f"c.defineXML({xml('cn_undef')}).create()",
        "d2": "c.lookupByName('cn_undef').undefine()",
        "d3_inactive": SAME_AS_LIVE.format(flags=0, name="cn_undef"),
        "d4_persistent": "c.lookupByName('cn_undef').isPersistent()",
        "d5": "c.lookupByName('cn_undef').destroy()",
        # USB inputs: a port each at define, and on QEMU's command line
        "g1_define": "__import__('re').findall(r'<input.*?</input>|<input[^>]*/>', c.defineXML("
                     + xml('cn_usb', "<input type='tablet' bus='usb'/><input type='keyboard' "
                                     "bus='usb'/>") + ").XMLDesc(0), __import__('re').S)",
        "g2": "c.lookupByName('cn_usb').create()",
        "g3_live": "__import__('re').findall(r'<input.*?</input>', "
                   "c.lookupByName('cn_usb').XMLDesc(0), __import__('re').S)",
        "g4_argv": "[open(root + '/log/qemu/cn_usb.log').read().count(k) for k in "
                   "('usb-tablet', 'usb-kbd', 'usb.0')]",
        "g5": "[c.lookupByName('cn_usb').destroy(), c.lookupByName('cn_usb').undefine()]",
        # VALIDATE: libvirt's schema, in libxml2's words
        "e1_define": f"c.defineXMLFlags({xml('cn_bad', '<bogus/>')}, 1)",
        "e2_create": f"c.createXML({xml('cn_bad', '<bogus/>')}, 16)",
        "e3_valid": f"c.defineXMLFlags({xml('cn_valid')}, 1).undefine()",
    }


def test_corners_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    mine_dir, real_dir = tmp_path / "ours", tmp_path / "real"
    mine_dir.mkdir()
    real_dir.mkdir()
    real = reallibvirt.ask(questions(kernels["idle"], str(real_dir)))
    mine = reallibvirt.ask_pyvirt(libvirt, root, questions(kernels["idle"], str(mine_dir)))
    # JSON's shape (lists) and the image folder as real libvirt's
    mine = {k: json.loads(json.dumps(v).replace(str(mine_dir), str(real_dir)))
            for k, v in mine.items()}
    real = {k: json.loads(json.dumps(v)) for k, v in real.items()}
    diffs = {k: (mine[k], real[k]) for k in sorted(real) if mine[k] != real[k]}
    assert not diffs
    # and plainly: what libvirt 9.0 answers here
    not_running = ["err", 55, 10, "Requested operation is not valid: domain is not running"]
    assert mine["a3_shutdown"] == mine["a4_acpi"] == mine["a5_agent_acpi"] == not_running
    assert ["monitor.sock", "0o140775"] in mine["a7_sockets"][1]
    assert ["driver.pid", "0o100644"] in mine["a8_run"][1]
    assert mine["b3_buses"][3] == f"Cannot access storage file '{real_dir}/c.img': " \
                                  "No such file or directory"
    assert mine["b4_left"] == ["ok", []]
    assert [mine[k][1] for k in ("c2_inactive", "c3_secure", "c4_migratable", "d3_inactive")] \
        == [True, True, True, False]
    assert re.match(r"Cannot access storage file '.*/gone/a.img': No such", mine["b1_one"][3])


def resize_questions(kernel: Path, images: str) -> dict[str, str]:
    disks = (f"<disk type='file' device='disk'><driver name='qemu' type='raw'/>"
             f"<source file='{images}/a.raw'/><target dev='vda' bus='virtio'/></disk>"
             f"<disk type='file' device='disk'><driver name='qemu' type='qcow2'/>"
             f"<source file='{images}/b.qcow2'/><target dev='vdb' bus='virtio'/></disk>")
    xml = repr(domxml("cn_resize", kernel, disks + "<memballoon model='none'/>"))
    run = "c.lookupByName('cn_resize')"
    return {
        "a0": f"c.defineXML({xml}).name()",
        "a1_inactive": f"{run}.blockResize('vda', 8192, 0)",
        "a2": f"{run}.create()",
        "a3_kib": f"{run}.blockResize('vda', 8192, 0)",
        "a4_sizes": f"[{run}.blockInfo('vda')[0], os.stat({images + '/a.raw'!r}).st_size]",
        "a5_bytes_qcow2": f"{run}.blockResize('vdb', 10000, 1)",
        "a6_rounded": f"{run}.blockInfo('vdb')[0]",
        "a7_flags": f"{run}.blockResize('vda', 100, 2)",
        "a8_unknown": f"{run}.blockResize('vdz', 100, 0)",
        "a9_by_path": f"{run}.blockResize({images + '/a.raw'!r}, 16384, 0)",
        "b1_overflow": f"{run}.blockResize('vda', 1 << 62, 0)",
        "b2_empty": f"{run}.blockResize('', 1, 0)",
        "b3_no_target": f"{run}.attachDeviceFlags('<disk/>', 2)",
        "b4_no_target": f"{run}.attachDeviceFlags(\"<disk type='file'><source file='/x'/></disk>\", 1)",
        "b5_updated": f"{run}.isUpdated()",
        "z9": f"[{run}.destroy(), {run}.undefine()]",
    }


def test_block_resize_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    """virDomainBlockResize (QMP block_resize on the image's format node, a
    qcow2 size rounded up to whole sectors), a disk without a target, and
    isUpdated, which libvirt 9.0's QEMU driver never sets."""
    answers = []
    for side in ("real", "ours"):
        folder = tmp_path / side
        folder.mkdir()
        for name, fmt in (("a.raw", "raw"), ("b.qcow2", "qcow2")):
            subprocess.run(["qemu-img", "create", "-q", "-f", fmt, str(folder / name), "4M"],
                           check=True)
        qs = resize_questions(kernels["idle"], str(folder))
        answers.append(reallibvirt.ask(qs) if side == "real"
                       else reallibvirt.ask_pyvirt(libvirt, root, qs))
    real, mine = (json.loads(json.dumps(a).replace(str(tmp_path / s), "DIR"))
                  for a, s in zip(answers, ("real", "ours")))
    assert {k: (v, real[k]) for k, v in mine.items() if v != real[k]} == {}
    assert mine["a4_sizes"] == ["ok", [8 << 20, 8 << 20]]
    assert mine["a6_rounded"] == ["ok", 10240]
