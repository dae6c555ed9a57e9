"""Typed-parameter setters given plain Python values (each field takes the type
the matching getter reports, as in libvirt-python); prints one JSON line."""

import json

import libvirt

conn = libvirt.open("test:///default")
dom = conn.lookupByName("test")
dom.setSchedulerParameters({"weight": 10})
dom.setMemoryParameters({"hard_limit": 1048576}, 0)
dom.setBlkioParameters({"weight": 500}, 0)
print(json.dumps({"sched": dom.schedulerParameters(),
                  "memory": sorted(dom.memoryParameters(0).items()),
                  "blkio": dom.blkioParameters(0)["weight"]}))
