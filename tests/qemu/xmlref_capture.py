"""Runs the XML corpus through real libvirt 9.0 (embed root) and stores
what it gives under data/domxml/: NAME.inactive.xml, NAME.live.xml,
NAME.migratable.xml (the running domain's VIR_DOMAIN_XML_MIGRATABLE
document, what migration sends), NAME.devices (the -device lines of its
QEMU log) and NAME.args (its -cpu and -no-acpi).  Run as
    /usr/bin/python3 bench/reaper.py /usr/bin/python3 tests/qemu/xmlref_capture.py KERNEL
from the project root, with the system's libvirt (not pyvirt's)."""

import os
import shlex
import sys
import subprocess
import tempfile
import threading

import libvirt

sys.path.insert(0, os.path.dirname(__file__))
import xmlcorpus  # noqa: E402

OUT = os.path.join(os.path.dirname(__file__), "data", "domxml")
FOLDER = "/tmp/pyvirt-xmlcorpus"


def images(folder: str) -> None:
    os.makedirs(folder, exist_ok=True)
    for args in xmlcorpus.image_commands(folder):
        if not os.path.exists(args[-2]):
            subprocess.run(args, check=True)


def main() -> None:
    kernel = sys.argv[1]
    vtype = "kvm" if os.access("/dev/kvm", os.R_OK | os.W_OK) else "qemu"
    images(FOLDER)
    libvirt.registerErrorHandler(lambda c, e: None, None)
    libvirt.virEventRegisterDefaultImpl()
    threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)],
                     daemon=True).start()
    root = tempfile.mkdtemp()
    os.makedirs(f"{root}/etc")
    with open(f"{root}/etc/qemu.conf", "w") as f:
        f.write('stdio_handler = "file"\nuser = "root"\ngroup = "root"\ncgroup_controllers = [ ]\n')
    conn = libvirt.open(f"qemu:///embed?root={root}")
    names = sys.argv[2:] or sorted(xmlcorpus.CORPUS)
    for name in names:
        xml = xmlcorpus.fill(xmlcorpus.domain(name), kernel, FOLDER, vtype)
        dom = conn.defineXML(xml)
        inactive = dom.XMLDesc(0)
        dom.create()
        try:
            live = dom.XMLDesc(0)
            migratable = dom.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE)
        finally:
            dom.destroy()
            dom.undefine()
        with open(f"{root}/log/qemu/{name}.log") as f:
            lines = f.read().split("\n")
        start = next(i for i, l in enumerate(lines) if l.startswith("LC_ALL="))
        end = next(i for i in range(start, len(lines)) if not lines[i].endswith("\\"))
        argv = shlex.split(" ".join(l.rstrip("\\") for l in lines[start:end + 1]))
        for kind, text in (("inactive", inactive), ("live", live), ("migratable", migratable)):
            with open(os.path.join(OUT, f"{name}.{kind}.xml"), "w") as f:
                f.write(xmlcorpus.mask(text, kernel, FOLDER, kind != "inactive"))
        with open(os.path.join(OUT, f"{name}.devices"), "w") as f:
            f.write("\n".join(xmlcorpus.device_lines(argv)) + "\n")
        with open(os.path.join(OUT, f"{name}.args"), "w") as f:
            f.write("\n".join(xmlcorpus.machine_lines(argv)) + "\n")
        print(name, "ok")
    conn.close()


if __name__ == "__main__":
    main()
