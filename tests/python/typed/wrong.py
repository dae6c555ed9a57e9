"""Mistakes the stubs must catch (each line below is one error for mypy)."""

import libvirt

conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
dom.setSchedulerParameters({"cpu_shares": "many"})
dom.migrate3(conn, {"bandwidth": "fast"})
name: int = dom.name()
flag: str = libvirt.VIR_MIGRATE_LIVE
