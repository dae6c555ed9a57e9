"""The asyncio-native API (libvirt_asyncio): awaited calls, objects of its own
classes, libvirt's errors, events through libvirtaio.  Run by test_aio.py; prints
one JSON line."""

import asyncio
import json

import libvirt
import libvirt_asyncio as aio
import libvirtaio

XML = """<domain type='test'><name>native</name><memory unit='MiB'>128</memory>
<vcpu>1</vcpu><os><type arch='x86_64'>hvm</type></os></domain>"""


async def main():
    libvirtaio.virEventRegisterAsyncIOImpl()
    out = {}
    async with await aio.open("test:///default") as conn:
        got = asyncio.Queue()
        cid = await conn.domainEventRegisterAny(
            None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
            lambda c, d, ev, detail, op: got.put_nowait([d.name(), ev, detail]), None)
        dom = await conn.lookupByName("test")
        out["class"] = type(dom).__name__ + "/" + type(dom).__module__
        out["name"] = dom.name()
        out["info"] = (await dom.info())[:2]
        # many calls at once, the loop stays free meanwhile
        ticks = 0

        async def ticker():
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0)
        t = asyncio.create_task(ticker())
        names = await asyncio.gather(*(conn.lookupByName("test") for _ in range(20)))
        t.cancel()
        out["gather"] = sorted({d.name() for d in names})
        out["loop_ran"] = ticks > 0
        out["all"] = [d.name() for d in await conn.listAllDomains()]
        try:
            await conn.lookupByName("nope")
        except libvirt.libvirtError as e:
            out["error"] = [e.get_error_code(), e.get_error_message()]
        new = await conn.defineXML(XML)
        await new.create()
        await new.destroy()
        await new.undefine()
        out["events"] = [await asyncio.wait_for(got.get(), 5) for _ in range(4)]
        await conn.domainEventDeregisterAny(cid)
        out["hostname"] = isinstance(await conn.getHostname(), str)
    return out


print(json.dumps(asyncio.run(main())))
