"""The lifecycle calls with their flags, one after the other on one domain,
compared live with real libvirt 9.0's embed driver: start paused, managed
save (RUNNING, PAUSED), save and restore (RUNNING, PAUSED), a save image's
definition read and replaced (virDomainSaveImageDefineXML, a managed save's
too, with libvirt's ABI checks), destroy (GRACEFUL, REMOVE_LOGS), AUTODESTROY, FORCE_BOOT; each
call's answer, the state after it and the lifecycle events it gave."""

from __future__ import annotations

import json
import re
from pathlib import Path

import reallibvirt
from support import pyvirt_module
from qemutest import domxml, kernels, root  # noqa: F401,F811 (fixtures)

libvirt = pyvirt_module()

RECORD = ("[globals().setdefault('EV', []), globals().setdefault('CB', "
          "c.domainEventRegisterAny(None, 0, lambda conn, d, e, det, o: "
          "EV.append((d.name(), e, det)), None))][0] and 0")
DRAIN = "(lambda: (__import__('time').sleep(0.25), list(EV), EV.clear())[1])()"


def questions(kernel: Path, save: str) -> dict[str, str]:
    d = "c.lookupByName('lf_dom')"
    image = f"c.saveImageGetXMLDesc({save!r}, 0)"
    steps = [
        f"c.defineXML({domxml('lf_dom', kernel, '<memballoon model=' + repr('none') + '/>')!r}).name()",
        f"{d}.createWithFlags(1)", f"{d}.state()", f"{d}.createWithFlags(0)", f"{d}.resume()",
        f"{d}.managedSave(2)", f"{d}.state()", f"{d}.hasManagedSaveImage()",
        f"{d}.createWithFlags(1)", f"{d}.state()", f"{d}.managedSave(4)", f"{d}.managedSave(6)",
        f"{d}.create()", f"{d}.state()", f"{d}.saveFlags({save!r}, None, 4)", f"{d}.state()",
        f"c.restoreFlags({save!r}, None, 2)", f"{d}.state()", f"{image}.count('<domain')",
        f"c.saveImageDefineXML({save!r}, {image}.replace('<on_crash>destroy', "
        "'<on_crash>restart'), 4)",
        f"{image}.count('<on_crash>restart')",
        f"c.saveImageDefineXML({save!r}, {image}.replace('<name>lf_dom<', '<name>zz<'), 0)",
        f"c.saveImageDefineXML({save!r}, re.sub('<uuid>.*</uuid>', '<uuid>00000000-0000-0000-"
        f"0000-000000000009</uuid>', {image}), 0)",
        f"c.saveImageDefineXML({save!r}, {image}, 6)",
        f"c.saveImageDefineXML({save!r}, {image}.replace('</devices>', '<!--' + 'x' * 9000 + "
        "'--></devices>'), 0)",
        f"c.saveImageDefineXML({save!r}, {image}.replace('</devices>', '<controller type="
        "\"usb\" index=\"5\" model=\"qemu-xhci\"/></devices>'), 0)",
        f"c.saveImageDefineXML({save!r}, '<bad', 0)",
        f"{d}.destroyFlags(1)", f"{d}.state()", f"{d}.destroyFlags(2)", f"{d}.destroy()",
        f"c.restoreFlags({save!r}, None, 4)", f"{d}.state()", f"c.restore({save!r})",
        f"{d}.destroy()", f"c.restore({save!r})", f"{d}.shutdown()", f"{d}.reboot(1)",
        f"{d}.reboot(4)", f"{d}.reset(0)", f"{d}.destroy()", f"{d}.createWithFlags(2)",
        f"{d}.createWithFlags(8)", f"{d}.state()", f"{d}.destroy()", f"{d}.create()",
        "os.path.exists(root + '/log/qemu/lf_dom.log')", f"{d}.destroyFlags(2)",
        "os.path.exists(root + '/log/qemu/lf_dom.log')",
        f"c.createXML({domxml('lf_auto', kernel)!r}, 2)",
        # the managed save image's definition
        f"{d}.managedSaveGetXMLDesc(0)", f"{d}.create()", f"{d}.managedSave(0)",
        f"{d}.managedSaveGetXMLDesc(0).count('<domain')",
        f"{d}.managedSaveDefineXML({d}.managedSaveGetXMLDesc(0).replace('<on_crash>destroy', "
        "'<on_crash>restart'), 4)",
        f"{d}.managedSaveGetXMLDesc(0).count('restart')", f"{d}.managedSaveGetXMLDesc(2)",
        f"{d}.managedSaveDefineXML('<bad', 0)", f"[{d}.create(), {d}.state()]",
        f"{d}.managedSaveDefineXML({d}.XMLDesc(0), 0)", f"{d}.destroy()",
        f"{d}.undefineFlags(0)",
    ]
    qs = {"a00": RECORD, "a01": "[globals().setdefault('re', __import__('re'))][0] and 0"}
    for i, step in enumerate(steps):
        qs[f"b{i:02d}"] = step
        qs[f"b{i:02d}_events"] = DRAIN
    qs["z9"] = "[d.destroy() for d in c.listAllDomains() if d.isActive()]"
    return qs


def test_lifecycle_flags_as_real_libvirt(root, kernels, tmp_path):  # noqa: F811
    answers = {}
    for side in ("real", "ours"):
        qs = questions(kernels["idle"], str(tmp_path / f"{side}.save"))
        if side == "real":
            answers[side] = reallibvirt.ask(qs)
            continue
        answers[side] = reallibvirt.ask_pyvirt(libvirt, root, qs)
    real, mine = (json.loads(re.sub(r"source [0-9a-f-]{36}", "source UUID",
                                    json.dumps(answers[s]).replace(str(tmp_path / f"{s}.save"),
                                                                   "SAVE")))
                  for s in ("real", "ours"))
    assert {k: (v, real[k]) for k, v in mine.items() if v != real[k]} == {}
