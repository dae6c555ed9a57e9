"""Lifecycle events through libvirtaio (asyncio as libvirt's event loop).
Run by test_aio.py under each implementation; prints one JSON line."""

import asyncio
import json

import libvirt
import libvirtaio

XML = """<domain type='test'><name>aio</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"""


async def main():
    impl = libvirtaio.virEventRegisterAsyncIOImpl()
    conn = libvirt.open("test:///default")
    got = asyncio.Queue()
    cid = conn.domainEventRegisterAny(
        None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
        lambda c, d, ev, detail, op: got.put_nowait([d.name(), ev, detail, op]), "aio")
    dom = conn.defineXML(XML)
    dom.create()
    dom.destroy()
    dom.undefine()
    events = [await asyncio.wait_for(got.get(), 5) for _ in range(4)]
    conn.domainEventDeregisterAny(cid)
    conn.close()
    await impl.drain()
    return {"events": events, "current": libvirtaio.getCurrentImpl() is impl}


print(json.dumps(asyncio.run(main())))
