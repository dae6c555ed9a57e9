"""A small program written against libvirt's type stubs: `mypy --strict` passes."""

from __future__ import annotations

import libvirt
import libvirt_asyncio


def describe(conn: libvirt.virConnect) -> list[str]:
    out: list[str] = []
    for dom in conn.listAllDomains(0):
        state, maxmem, mem, vcpus, cputime = dom.info()
        name: str = dom.name()
        uuid: bytes = dom.UUID()
        out.append(f"{name} {uuid.hex()} {state} {mem}/{maxmem} {vcpus} {cputime}")
        sched: libvirt.SchedulerParameters = dom.schedulerParameters()
        shares: int = sched.get("cpu_shares", 0)
        dom.setSchedulerParameters({"cpu_shares": shares + 1})
        stats = dom.jobStats()
        elapsed: int = stats.get("time_elapsed", 0)
        out.append(str(elapsed))
    return out


def migrate(dom: libvirt.virDomain, dest: libvirt.virConnect) -> libvirt.virDomain:
    params: libvirt.MigrateParameters = {"bandwidth": 100, "migrate_disks": ["vda"],
                                         "destination_name": "copy"}
    return dom.migrate3(dest, params, libvirt.VIR_MIGRATE_LIVE)


def main() -> int:
    try:
        conn = libvirt.open("test:///default")
    except libvirt.libvirtNotFoundError as e:
        code: int | None = e.get_error_code()
        return code or 1
    except libvirt.libvirtError:
        return 1
    with conn:
        print("\n".join(describe(conn)))
        host: str = conn.getHostname()
        print(host, libvirt.VIR_DOMAIN_SCHEDULER_CPU_SHARES.upper())
    return 0


async def amain() -> str:
    conn = await libvirt_asyncio.open("test:///default")
    dom = await conn.lookupByName("test")
    return dom.name()
