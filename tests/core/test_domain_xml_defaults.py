"""Domain XML normalisation compared byte for byte with libvirt 9.0's test
driver: the defaults filled in at define time (disk buses and drive
addresses, implicit controllers, serial/console pairs, graphics listeners and
the default video card, device order, CPU, lifecycle and other attribute
defaults), both XMLDesc views, and the errors of malformed input."""

import re

import pytest

from pyvirt import api

from conftest import need_real, ours, real, unique

UUID = "c7a5fdbd-cdaf-9455-926a-d65c16db1809"
MAC = re.compile(r"<mac address='52:54:00:[0-9a-f:]{8}'/>")


def _disk(dev: str, extra: str = "", device: str = "disk") -> str:
    return (f"<disk type='file' device='{device}'><source file='/tmp/{dev}.img'/>"
            f"<target dev='{dev}'/>{extra}</disk>")


def _on(bus: str, *devs: str) -> str:
    return "".join(f"<disk type='file' device='disk'><source file='/tmp/{dev}.img'/>"
                   f"<target dev='{dev}' bus='{bus}'/></disk>" for dev in devs)


DEVICES = {
    # disks: buses in the order they first appear, each bus's by target index
    "disks_buses_as_first_seen": (_on("sata", "sdb") + _on("virtio", "vdb")
                                  + _on("sata", "sda") + _on("virtio", "vda")),
    "disks_buses_interleaved": (_on("scsi", "sdc") + _on("virtio", "vdc") + _on("scsi", "sda")
                                + _on("sata", "sdb") + _on("virtio", "vda")
                                + _on("scsi", "sdd") + _on("virtio", "vdb")),
    "disks_index_past_z": (_on("virtio", "vdz", "vdaa", "vdb") + _on("usb", "sdb", "sda")
                           + _on("virtio", "vda")),
    "ide_disk": _disk("hda"),
    "ide_disks_two_buses": _disk("hdb") + _disk("hdd"),
    "scsi_disks_two_controllers": _disk("sda") + _disk("sdh"),
    "virtio_disk": _disk("vda"),
    "cdrom": _disk("hdc", "<readonly/>", "cdrom"),
    "floppy": _disk("fda", device="floppy"),
    "disk_with_boot_order": _disk("hda", "<boot order='1'/>"),
    "explicit_address": ("<disk type='file' device='disk'><source file='/a'/>"
                         "<target dev='vda' bus='virtio'/><address type='pci' domain='0' "
                         "bus='0' slot='4' function='0'/></disk>"),
    "user_ide_controller": ("<controller type='ide' index='0'/>" + _disk("hda")),
    "devices_out_of_order": ("<interface type='network'><source network='default'/>"
                             "</interface>" + _disk("hdb") + _disk("sdh")),
    "interface_no_source": "<interface type='user'><model type='virtio'/></interface>",
    "vnc": "<graphics type='vnc'/>",
    "vnc_listen": "<graphics type='vnc' listen='127.0.0.1'/>",
    "spice": "<graphics type='spice'/>",
    "spice_port": "<graphics type='spice' port='5900'/>",
    "console_only": "<console type='pty'/>",
    "serial_only": "<serial type='file'><source path='/tmp/s'/></serial>",
    "serial_and_console": "<serial type='pty'/><console type='pty'/>",
    "videos": "<video><model type='qxl'/></video><video><model type='virtio'/></video>",
    "virtio_channel": ("<channel type='unix'><target type='virtio' "
                       "name='org.qemu.guest_agent.0'/></channel>"),
    "pci_hostdev": ("<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='0' "
                    "slot='1' function='0'/></source></hostdev>"),
    "filesystem": "<filesystem type='mount'><source dir='/a'/><target dir='b'/></filesystem>",
    "watchdog": "<watchdog model='i6300esb'/>",
    "inputs_without_bus": "<input type='mouse'/><input type='keyboard'/><input type='tablet'/>",
    "inputs_with_bus": "<input type='mouse' bus='usb'/><input type='keyboard' bus='virtio'/>",
    "usb_controllers_without_index": "<controller type='usb'/><controller type='usb'/>",
    "usb_controller_none": "<controller type='usb' model='none'/>",
    "scsi_controllers_gap": ("<controller type='scsi'/><controller type='scsi' index='3'/>"
                             "<controller type='scsi'/>"),
    "parallels": ("<parallel type='pty'><target port='3'/></parallel><parallel type='pty'/>"
                  "<parallel type='file'><source path='/x'/></parallel>"),
    "smartcards": "<smartcard mode='host'/><smartcard mode='passthrough' type='spicevmc'/>",
    "smartcard_other_ccid": "<controller type='ccid' index='1'/><smartcard mode='host'/>",
    "channels_and_controller": ("<controller type='virtio-serial' index='0' ports='16'/>"
                                "<channel type='unix'><target type='virtio' name='a.0'/>"
                                "</channel><channel type='pty'><target type='virtio' "
                                "name='b.0'/></channel><channel type='pty'><target "
                                "type='guestfwd' address='10.0.2.1' port='4600'/></channel>"),
    "serial_ports_after_highest": ("<serial type='pty'/><serial type='pty'><target port='0'/>"
                                   "</serial><serial type='pty'><target type='isa-serial'/>"
                                   "</serial>"),
    "tcp_protocols": ("<serial type='tcp'><source mode='connect' host='h' service='1'/>"
                      "</serial><channel type='tcp'><source mode='bind' host='h' "
                      "service='2'/><target type='virtio' name='x.0'/></channel>"),
    "usb_hub_tablet": "<controller type='usb' index='0'/><hub type='usb'/>"
                      "<input type='tablet' bus='usb'/>",
}
# USB devices on a guest whose USB is off (or, for redirection, absent)
USB_OFF = {
    "tablet": "<controller type='usb' model='none'/><input type='tablet' bus='usb'/>",
    "hub": "<controller type='usb' model='none'/><hub type='usb'/>",
    "redirdev_none": "<controller type='usb' model='none'/><redirdev bus='usb' type='spicevmc'/>",
    "redirdev_no_controller": "<redirdev bus='usb' type='spicevmc'/>",
}
HEADS = {
    "memory_units": ("<memory unit='GiB'>2</memory><currentMemory unit='MiB'>512"
                     "</currentMemory>", "", ""),
    "boot_order": ("<memory>1024</memory>", "<boot dev='cdrom'/><boot dev='hd'/>", ""),
    "features_clock": ("<memory>1024</memory>", "",
                       "<features><acpi/><apic/><pae/></features><clock offset='localtime'/>"),
    "cpu_model": ("<memory>1024</memory>", "", "<cpu><model>Haswell</model></cpu>"),
    "cpu_passthrough": ("<memory>1024</memory>", "", "<cpu mode='host-passthrough'/>"),
    "lifecycle": ("<memory>1024</memory>", "",
                  "<on_poweroff>restart</on_poweroff><on_crash>preserve</on_crash>"),
}


def _domain(name: str, devices: str = "", memory: str = "<memory>1024</memory>",
            os_extra: str = "", middle: str = "") -> str:
    return (f"<domain type='test'><name>{name}</name><uuid>{UUID}</uuid>{memory}"
            f"<os><type>hvm</type>{os_extra}</os>{middle}<devices>{devices}</devices>"
            "</domain>")


def _xml_both(xml: str, conn, rconn) -> tuple:
    def mine():
        dom = api.virDomainDefineXML(conn, xml)
        try:
            return (api.virDomainGetXMLDesc(dom, 0), api.virDomainGetXMLDesc(dom, 2))
        finally:
            api.virDomainUndefine(dom)

    def theirs():
        dom = rconn.defineXML(xml)
        try:
            return (dom.XMLDesc(0), dom.XMLDesc(2))
        finally:
            dom.undefine()
    return ours(mine), real(theirs)


def _no_macs(result: tuple) -> tuple:
    """Generated MAC addresses are random on both sides."""
    if result[0] != "ok":
        return result
    return ("ok", tuple(MAC.sub("<mac/>", x) for x in result[1]))


@need_real
@pytest.mark.parametrize("case", sorted(DEVICES))
def test_device_defaults_as_real(conn, rconn, case):
    mine, theirs = _xml_both(_domain(unique("xmldef"), DEVICES[case]), conn, rconn)
    assert _no_macs(mine) == _no_macs(theirs)


@need_real
@pytest.mark.parametrize("case", sorted(HEADS))
def test_domain_defaults_as_real(conn, rconn, case):
    memory, os_extra, middle = HEADS[case]
    xml = _domain(unique("xmldef"), memory=memory, os_extra=os_extra, middle=middle)
    mine, theirs = _xml_both(xml, conn, rconn)
    assert mine == theirs


@need_real
@pytest.mark.parametrize("case", sorted(USB_OFF))
def test_usb_devices_without_usb_as_real(conn, rconn, case):
    xml = _domain(unique("xmlusb"), USB_OFF[case])
    mine = ours(lambda: api.virDomainDefineXML(conn, xml))
    theirs = real(lambda: rconn.defineXML(xml))
    assert mine[0] == theirs[0] == "err"
    assert mine[1:] == theirs[1:]


ID = re.compile(r"^<domain type='test' id='\d+'>")


@need_real
@pytest.mark.parametrize("case", ["inputs_without_bus", "smartcards", "parallels",
                                  "channels_and_controller", "virtio_channel", "vnc",
                                  "serial_and_console", "ide_disks_two_buses"])
def test_running_domain_xml_as_real(conn, rconn, case):
    """A running domain's XMLDesc (live, and its inactive definition)."""
    xml = _domain(unique("xmlrun"), DEVICES[case])

    def views(define, start, desc, stop):
        dom = define(xml)
        try:
            start(dom)
            live, inactive = desc(dom, 0), desc(dom, 2)
            stop(dom)
            return ID.sub("<domain type='test' id='N'>", live), inactive, desc(dom, 0)
        finally:
            dom.undefine() if hasattr(dom, "undefine") else api.virDomainUndefine(dom)

    mine = ours(lambda: views(lambda x: api.virDomainDefineXML(conn, x), api.virDomainCreate,
                              api.virDomainGetXMLDesc, api.virDomainDestroy))
    theirs = real(lambda: views(rconn.defineXML, lambda d: d.create(),
                                lambda d, f: d.XMLDesc(f), lambda d: d.destroy()))
    assert _no_macs(mine) == _no_macs(theirs)
    assert mine[1][0].startswith("<domain type='test' id='N'>")


BAD = {
    "attribute_name": "<memory><x</memory>",
    "tag_mismatch_long_line": "<memory>10</memory><devices><disk></devices>" + "x" * 60,
    "bad_memory": "<memory>ten</memory>",
    "bad_unit": "<memory unit='parsec'>10</memory>",
    "no_memory": "",
    "bad_lifecycle": "<memory>10</memory><on_reboot>explode</on_reboot>",
}


@need_real
@pytest.mark.parametrize("case", sorted(BAD))
def test_invalid_xml_errors_as_real(conn, rconn, case):
    xml = (f"<domain type='test'><name>{unique('xmlbad')}</name>{BAD[case]}"
           "<os><type>hvm</type></os></domain>")
    mine = ours(lambda: api.virDomainDefineXML(conn, xml))
    theirs = real(lambda: rconn.defineXML(xml))
    assert mine[0] == theirs[0] == "err"
    assert mine[1:] == theirs[1:]


def test_normalising_twice_changes_nothing(conn):
    """A definition is copied by formatting and parsing it again."""
    xml = _domain(unique("xmldef"), "".join(DEVICES[k] for k in (
        "ide_disk", "scsi_disks_two_controllers", "vnc", "serial_and_console",
        "virtio_channel", "pci_hostdev")))
    dom = api.virDomainDefineXML(conn, xml)
    try:
        first = api.virDomainGetXMLDesc(dom, 0)
        again = api.virDomainDefineXML(conn, first)
        assert api.virDomainGetXMLDesc(again, 0) == first
        assert first.count("<controller type='ide' index='0'/>") == 1
        assert first.count("<console type='pty'>") == 1
    finally:
        api.virDomainUndefine(dom)
