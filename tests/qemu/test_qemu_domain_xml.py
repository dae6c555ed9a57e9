"""The domain XML of the QEMU driver against libvirt 9.0's on the corpus of
xmlcorpus.py: the inactive document after define, the live one while
running (per-run values masked), and the -device lines of the QEMU command
line.  data/domxml/ holds what libvirt produced (xmlref_capture.py)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from pathlib import Path
from typing import Any

import pytest
from lxml import etree

import xmlcorpus
from qemutest import VIRT_TYPE, conn, kernels, root  # noqa: F401
from pyvirt import api

DATA = Path(__file__).parent / "data" / "domxml"
NAMES = sorted(xmlcorpus.CORPUS)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("xmlcorpus")
    for args in xmlcorpus.image_commands(str(folder)):
        subprocess.run(args, check=True)
    return folder


def expected(name: str, kind: str) -> str:
    return (DATA / f"{name}.{kind}").read_text()


def define(c: Any, name: str, kernels: dict[str, Path], images: Path) -> Any:
    xml = xmlcorpus.fill(xmlcorpus.domain(name), str(kernels["idle"]), str(images), VIRT_TYPE)
    return api.virDomainDefineXML(c, xml)


def ours(dom: Any, kernels: dict[str, Path], images: Path, live: bool) -> str:
    return xmlcorpus.mask(api.virDomainGetXMLDesc(dom, 0), str(kernels["idle"]), str(images),
                          live)


@pytest.mark.parametrize("name", NAMES)
def test_inactive_xml(conn: Any, kernels: dict[str, Path], images: Path, name: str) -> None:
    dom = define(conn, name, kernels, images)
    got = ours(dom, kernels, images, False)
    assert got == expected(name, "inactive.xml")
    # defined again as it now reads: nothing moves
    api.virDomainDefineXML(conn, api.virDomainGetXMLDesc(dom, 0))
    assert ours(dom, kernels, images, False) == got


def _argv(root: Path, name: str) -> list[str]:
    pid = (root / "run" / "qemu" / f"{name}.pid").read_text().strip()
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return [a.decode() for a in f.read().split(b"\0")[:-1]]


def _gaps(xml: str) -> str:
    """The live values pyvirt does not show yet, blanked on both sides: the
    CPU features QEMU expanded (and check='full')."""
    xml = re.sub(r"\n *<feature policy='\w+' name='\w+'/>", "", xml)
    return xml.replace("check='full'", "check='none'")


@pytest.mark.parametrize("name", NAMES)
def test_live_xml_and_devices(conn: Any, root: Path, kernels: dict[str, Path],
                              images: Path, name: str) -> None:
    dom = define(conn, name, kernels, images)
    api.virDomainCreate(dom)
    try:
        devices = xmlcorpus.device_lines(_argv(root, name))
        assert devices == expected(name, "devices").splitlines()
        if VIRT_TYPE == "kvm":   # libvirt's documents were captured on KVM
            assert _gaps(ours(dom, kernels, images, True)) == _gaps(expected(name, "live.xml"))
    finally:
        api.virDomainDestroy(dom)


def test_live_consoles_are_real(conn: Any, kernels: dict[str, Path], images: Path) -> None:
    """The pty the live XML names is the serial port's, and the VNC port
    it names speaks RFB."""
    dom = define(conn, "pc-ide-nic-serial-vnc", kernels, images)
    api.virDomainCreate(dom)
    try:
        live = etree.fromstring(api.virDomainGetXMLDesc(dom, 0))
        pty = live.find("devices/serial/source").get("path")
        assert live.find("devices/console").get("tty") == pty
        fd = os.open(pty, os.O_RDWR | os.O_NOCTTY)
        try:
            assert os.ttyname(fd) == pty
        finally:
            os.close(fd)
        port = int(live.find("devices/graphics").get("port"))
        assert 5900 <= port <= 5999
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            assert s.recv(12).startswith(b"RFB ")
    finally:
        api.virDomainDestroy(dom)
