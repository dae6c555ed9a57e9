"""The simulated host behind test:///default: its node facts, its
topology and capabilities, and the one domain it starts with."""

from __future__ import annotations

import dataclasses

from ...structs import NodeInfo

DEFAULT_DOMAIN_UUID = "6695eb01-f6a4-8304-79aa-97f2502e193f"

DEFAULT_DOMAIN_XML = f"""<domain type='test'>
  <name>test</name>
  <uuid>{DEFAULT_DOMAIN_UUID}</uuid>
  <memory>8388608</memory>
  <currentMemory>2097152</currentMemory>
  <vcpu>2</vcpu>
  <os>
    <type>hvm</type>
  </os>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <disk type='file' device='disk'>
      <source file='/guest/diskimage1'/>
      <target dev='vda' bus='virtio'/>
      <address type='pci' domain='0x0000' bus='0x01' slot='0x00' function='0x0'/>
    </disk>
    <interface type='network'>
      <mac address='aa:bb:cc:dd:ee:ff'/>
      <source network='default'/>
      <target dev='testnet0'/>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x01' function='0x0'/>
    </interface>
    <memballoon model='virtio'>
      <address type='pci' domain='0x0000' bus='0x00' slot='0x02' function='0x0'/>
    </memballoon>
  </devices>
</domain>
"""


@dataclasses.dataclass(frozen=True)
class Cell:
    """One NUMA cell of the simulated host; pages maps size KiB -> count."""
    id: int
    memory: int
    pages: tuple[tuple[int, int], ...]
    cpus: tuple[int, ...]
    socket: int


DEFAULT_NODE_INFO = NodeInfo(model="i686", memory=3 * 1024 * 1024, cpus=16, mhz=1400,
                             nodes=2, sockets=2, cores=2, threads=2)

DEFAULT_CELLS = (
    Cell(0, 2097152, ((4, 524288), (2048, 0), (1048576, 0)), tuple(range(0, 8)), 0),
    Cell(1, 4194304, ((8, 524288), (2048, 0), (1048576, 0)), tuple(range(8, 16)), 1),
)

HOST_ARCH = "i686"
GUEST_OS_TYPES = ("hvm", "xen")
MAX_VCPUS = 32
HYPERVISOR_VERSION = 2


def capabilities_xml(cells: tuple[Cell, ...] = DEFAULT_CELLS, arch: str = HOST_ARCH) -> str:
    """The capabilities document of the simulated host."""
    page_sizes = sorted({size for cell in cells for size, _ in cell.pages})
    out = ["<capabilities>", "", "  <host>", "    <cpu>", f"      <arch>{arch}</arch>",
           "      <features>", "        <pae/>", "        <nonpae/>", "      </features>"]
    out += [f"      <pages unit='KiB' size='{size}'/>" for size in page_sizes]
    out += ["    </cpu>", "    <power_management/>", "    <iommu support='no'/>",
            "    <topology>", f"      <cells num='{len(cells)}'>"]
    for cell in cells:
        out += [f"        <cell id='{cell.id}'>",
                f"          <memory unit='KiB'>{cell.memory}</memory>"]
        out += [f"          <pages unit='KiB' size='{size}'>{count}</pages>"
                for size, count in cell.pages]
        out.append(f"          <cpus num='{len(cell.cpus)}'>")
        for core, cpu in enumerate(cell.cpus):
            out.append(f"            <cpu id='{cpu}' socket_id='{cell.socket}' die_id='0' "
                       f"core_id='{core}' siblings='{cpu}'/>")
        out += ["          </cpus>", "        </cell>"]
    out += ["      </cells>", "    </topology>", "    <secmodel>",
            "      <model>testSecurity</model>", "      <doi></doi>", "    </secmodel>",
            "  </host>", ""]
    for os_type in GUEST_OS_TYPES:
        out += ["  <guest>", f"    <os_type>{os_type}</os_type>", f"    <arch name='{arch}'>",
                "      <wordsize>32</wordsize>", "      <emulator>/usr/bin/test-hv</emulator>",
                "      <domain type='test'/>", "    </arch>", "    <features>",
                "      <pae/>", "      <nonpae/>", "    </features>", "  </guest>", ""]
    out.append("</capabilities>")
    return "\n".join(out) + "\n"


DEFAULT_NETWORK_XML = """<network>
  <name>default</name>
  <uuid>dd8fe884-6c02-601e-7551-cca97df1c5df</uuid>
  <bridge name='virbr0'/>
  <forward/>
  <ip address='192.168.122.1' netmask='255.255.255.0'>
    <dhcp>
      <range start='192.168.122.2' end='192.168.122.254'/>
    </dhcp>
  </ip>
</network>
"""

DEFAULT_INTERFACE_XML = """<interface type='ethernet' name='eth1'>
  <start mode='onboot'/>
  <mac address='aa:bb:cc:dd:ee:ff'/>
  <mtu size='1492'/>
  <protocol family='ipv4'>
    <ip address='192.168.0.5' prefix='24'/>
    <route gateway='192.168.0.1'/>
  </protocol>
</interface>
"""

DEFAULT_POOL_XML = """<pool type='dir'>
  <name>default-pool</name>
  <uuid>dfe224cb-28fb-8dd0-c4b2-64eb3f0f4566</uuid>
  <target>
    <path>/default-pool</path>
  </target>
</pool>
"""


def _scsi_host(name: str, parent: str, host: int, unique: int, wwnn: str, wwpn: str,
               fabric: str, vports: bool) -> str:
    vport = ("    <capability type='vport_ops'>\n      <max_vports>0</max_vports>\n"
             "      <vports>0</vports>\n    </capability>\n") if vports else ""
    return (f"<device>\n  <name>{name}</name>\n  <parent>{parent}</parent>\n"
            f"  <capability type='scsi_host'>\n    <host>{host}</host>\n"
            f"    <unique_id>{unique}</unique_id>\n    <capability type='fc_host'>\n"
            f"      <wwnn>{wwnn}</wwnn>\n      <wwpn>{wwpn}</wwpn>\n"
            f"      <fabric_wwn>{fabric}</fabric_wwn>\n    </capability>\n{vport}"
            f"  </capability>\n</device>\n")


DEFAULT_DEVICE_XMLS = (
    """<device>
  <name>computer</name>
  <capability type='system'>
    <hardware>
      <vendor>Libvirt</vendor>
      <version>Test driver</version>
      <serial>123456</serial>
      <uuid>11111111-2222-3333-4444-555555555555</uuid>
    </hardware>
    <firmware>
      <vendor>Libvirt</vendor>
      <version>Test Driver</version>
      <release_date>01/22/2007</release_date>
    </firmware>
  </capability>
</device>
""",
    _scsi_host("scsi_host1", "computer", 1, 0, "2000000012341234", "1000000012341234",
               "2000000043214321", True),
    _scsi_host("scsi_host2", "computer", 2, 1, "2000000056785678", "1000000056785678",
               "2000000087658765", True),
    _scsi_host("scsi_host11", "scsi_host1", 11, 10, "2000000034563456", "1000000034563456",
               "2000000043214321", False),
)
