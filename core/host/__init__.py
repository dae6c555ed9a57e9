"""What the host tells about itself, read from /proc, /sys and /dev/kvm the
way libvirt 9.0's util/ readers (virhostcpu, virhostmem, virnuma) read it:
driver-independent, so every driver's node calls and capabilities share one
reader per fact.

    sysfs    the sysfs roots, and the numbered entries (nodeN, cpuN) in them
    errors   how these readers fail (VIR_FROM_NONE, as libvirt's util/ does)
    cpus     CPU lists, present/online CPUs, topology, CPU times and clock
    memory   page sizes, NUMA nodes and their memory, page pools, KSM
    facts    what only the capabilities document needs: UUID, TSC, caches,
             IOMMU, the NUMA cells
"""
