"""The VALIDATE flags on test:///default through libvirt-python (Debian's
python3-libvirt) on whichever libvirt.so.0 is loaded: each document valid
and invalid against libvirt's schema; prints one JSON line
{label: ["ok", value] or [code, domain, message]}."""

from __future__ import annotations

import json

import libvirt

BOGUS = "<bogus/>"
DOMAIN = ("<domain type='test'><name>{n}</name><memory>1024</memory>"
          "<os><type>hvm</type></os>{x}</domain>")
NETWORK = "<network><name>{n}</name>{x}</network>"
IFACE = "<interface type='ethernet' name='{n}'><start mode='onboot'/>{x}</interface>"
NODEDEV = ("<device><parent>scsi_host1</parent><capability type='scsi_host'>"
           "<capability type='fc_host'><wwnn>2000000012341234</wwnn>"
           "<wwpn>1000000012341234</wwpn></capability></capability>{x}</device>")
POOL = "<pool type='dir'><name>{n}</name><target><path>/tmp/{n}</path></target>{x}</pool>"
SNAPSHOT = "<domainsnapshot><name>{n}</name>{x}</domainsnapshot>"
VOL = "<volume><name>{n}</name><capacity>1</capacity><target><path>/x/{n}</path></target>{x}</volume>"


def main() -> None:
    libvirt.registerErrorHandler(lambda *a: None, None)
    c = libvirt.open("test:///default")
    pool = c.storagePoolLookupByName("default-pool")
    dom = c.lookupByName("test")
    calls = {
        "domain_define": lambda x, n: c.defineXMLFlags(DOMAIN.format(n=n, x=x), 1).name(),
        "domain_create": lambda x, n: c.createXML(DOMAIN.format(n=n, x=x), 16).name(),
        "domain_create_bypass": lambda x, n: c.createXML(DOMAIN.format(n=n, x=x), 4).name(),
        "network_define": lambda x, n: c.networkDefineXMLFlags(NETWORK.format(n=n, x=x), 1).name(),
        "network_create": lambda x, n: c.networkCreateXMLFlags(NETWORK.format(n=n, x=x), 1).name(),
        "interface_define": lambda x, n: c.interfaceDefineXML(IFACE.format(n=n, x=x), 1).name(),
        "nodedev_create": lambda x, n: c.nodeDeviceCreateXML(NODEDEV.format(x=x), 1).name(),
        "pool_define": lambda x, n: c.storagePoolDefineXML(POOL.format(n=n, x=x), 1).name(),
        "vol_create": lambda x, n: pool.createXML(VOL.format(n=n, x=x), 4).name(),
        "vol_create_other": lambda x, n: pool.createXML(VOL.format(n=n, x=x), 1).name(),
        "snapshot_create": lambda x, n: dom.snapshotCreateXML(SNAPSHOT.format(n=n, x=x),
                                                             512).getName(),
    }
    out = {}
    for label, call in calls.items():
        for kind, extra in (("invalid", BOGUS), ("valid", "")):
            try:
                out[f"{label}-{kind}"] = ["ok", call(extra, f"v{len(out)}")]
            except libvirt.libvirtError as e:
                out[f"{label}-{kind}"] = [e.get_error_code(), e.get_error_domain(),
                                          e.get_error_message()]
    out["malformed"] = None
    try:
        c.defineXMLFlags("<domain><name>b", 1)
    except libvirt.libvirtError as e:
        out["malformed"] = [e.get_error_code(), e.get_error_domain()]
    print(json.dumps(out))


if __name__ == "__main__":
    main()
