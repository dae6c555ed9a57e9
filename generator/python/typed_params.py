"""Typed parameters as TypedDicts: which string macros name the fields of which
virTypedParameter list, and the Python type of each field.

The spec gives the field names (the VIR_DOMAIN_SCHEDULER_* and similar string
macros) and, where libvirt's headers document it, the kind of each one's value
(<macro param='ullong'>).  FIELD_TYPES keeps only what the spec cannot say; a
field known to neither is typed Any, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..model import Api, Macro


@dataclass(frozen=True)
class Family:
    """A TypedDict for one kind of typed-parameter list; ex) name='SchedulerParameters'
    prefix='VIR_DOMAIN_SCHEDULER_' functions=('virDomainGetSchedulerParameters', ...)"""
    name: str
    prefix: str
    functions: tuple[str, ...]


@dataclass(frozen=True)
class TypedDictSpec:
    """One generated TypedDict; ex) name='SchedulerParameters' fields=(('cpu_shares', 'int'),)"""
    name: str
    fields: tuple[tuple[str, str], ...]


# prefix of the macros naming the fields -> the functions taking or returning that list.
# The spec does not link a function's params to its macros, so the link is data.
FAMILIES: tuple[Family, ...] = (
    Family("SchedulerParameters", "VIR_DOMAIN_SCHEDULER_",
           ("virDomainGetSchedulerParameters", "virDomainGetSchedulerParametersFlags",
            "virDomainSetSchedulerParameters", "virDomainSetSchedulerParametersFlags")),
    Family("MigrateParameters", "VIR_MIGRATE_PARAM_",
           ("virDomainMigrate3", "virDomainMigrateToURI3")),
    Family("JobStats", "VIR_DOMAIN_JOB_", ("virDomainGetJobStats",)),
    Family("BlkioParameters", "VIR_DOMAIN_BLKIO_",
           ("virDomainGetBlkioParameters", "virDomainSetBlkioParameters")),
    Family("MemoryParameters", "VIR_DOMAIN_MEMORY_",
           ("virDomainGetMemoryParameters", "virDomainSetMemoryParameters")),
    Family("NumaParameters", "VIR_DOMAIN_NUMA_",
           ("virDomainGetNumaParameters", "virDomainSetNumaParameters")),
    Family("InterfaceParameters", "VIR_DOMAIN_BANDWIDTH_",
           ("virDomainGetInterfaceParameters", "virDomainSetInterfaceParameters")),
    Family("BlockIoTuneParameters", "VIR_DOMAIN_BLOCK_IOTUNE_",
           ("virDomainGetBlockIoTune", "virDomainSetBlockIoTune")),
    Family("BlockStats", "VIR_DOMAIN_BLOCK_STATS_", ("virDomainBlockStatsFlags",)),
    Family("BlockCopyParameters", "VIR_DOMAIN_BLOCK_COPY_", ("virDomainBlockCopy",)),
    Family("PerfEvents", "VIR_PERF_PARAM_", ("virDomainGetPerfEvents", "virDomainSetPerfEvents")),
    Family("IOThreadParameters", "VIR_DOMAIN_IOTHREAD_", ("virDomainSetIOThreadParams",)),
    Family("SaveParameters", "VIR_DOMAIN_SAVE_PARAM_",
           ("virDomainSaveParams", "virDomainRestoreParams")),
    Family("LaunchSecurityParameters", "VIR_DOMAIN_LAUNCH_SECURITY_",
           ("virDomainGetLaunchSecurityInfo", "virDomainSetLaunchSecurityState")),
    Family("NodeMemoryParameters", "VIR_NODE_MEMORY_SHARED_",
           ("virNodeGetMemoryParameters", "virNodeSetMemoryParameters")),
    Family("SEVInfo", "VIR_NODE_SEV_", ("virNodeGetSEVInfo",)),
    Family("IdentityParameters", "VIR_CONNECT_IDENTITY_", ("virConnectSetIdentity",)),
    Family("NetworkPortParameters", "VIR_NETWORK_PORT_BANDWIDTH_",
           ("virNetworkPortGetParameters", "virNetworkPortSetParameters")),
)

# The Python type of each kind of value a macro's `param` gives (spec: <macro param=...>).
PARAM_TYPES = {"int": "int", "uint": "int", "llong": "int", "ullong": "int",
               "double": "float", "boolean": "bool", "string": "str"}

# What the spec cannot say: fields whose header documentation names no kind, and
# "multiple fields" (one value per entry in C, a list in Python).
FIELD_TYPES: dict[str, str] = {
    "VIR_DOMAIN_BLOCK_COPY_BANDWIDTH": "int",
    "VIR_DOMAIN_BLOCK_COPY_BUF_SIZE": "int",
    "VIR_DOMAIN_BLOCK_COPY_GRANULARITY": "int",
    "VIR_DOMAIN_IOTHREAD_POLL_GROW": "int",
    "VIR_DOMAIN_IOTHREAD_POLL_MAX_NS": "int",
    "VIR_DOMAIN_IOTHREAD_POLL_SHRINK": "int",
    "VIR_DOMAIN_JOB_ERRMSG": "str",
    "VIR_DOMAIN_JOB_MEMORY_DIRTY_RATE": "int",
    "VIR_DOMAIN_SAVE_PARAM_DXML": "str",
    "VIR_DOMAIN_SAVE_PARAM_FILE": "str",
    "VIR_MIGRATE_PARAM_COMPRESSION": "List[str]",
    "VIR_MIGRATE_PARAM_LISTEN_ADDRESS": "str",
    "VIR_MIGRATE_PARAM_MIGRATE_DISKS": "List[str]",
    "VIR_NODE_CPU_STATS_IDLE": "int",
    "VIR_NODE_CPU_STATS_INTR": "int",
    "VIR_NODE_CPU_STATS_IOWAIT": "int",
    "VIR_NODE_CPU_STATS_KERNEL": "int",
    "VIR_NODE_CPU_STATS_USER": "int",
    "VIR_NODE_CPU_STATS_UTILIZATION": "int",
    "VIR_NODE_MEMORY_SHARED_FULL_SCANS": "int",
    "VIR_NODE_MEMORY_SHARED_MERGE_ACROSS_NODES": "int",
    "VIR_NODE_MEMORY_SHARED_PAGES_SHARED": "int",
    "VIR_NODE_MEMORY_SHARED_PAGES_SHARING": "int",
    "VIR_NODE_MEMORY_SHARED_PAGES_TO_SCAN": "int",
    "VIR_NODE_MEMORY_SHARED_PAGES_UNSHARED": "int",
    "VIR_NODE_MEMORY_SHARED_PAGES_VOLATILE": "int",
    "VIR_NODE_MEMORY_SHARED_SLEEP_MILLISECS": "int",
    "VIR_NODE_MEMORY_STATS_BUFFERS": "int",
    "VIR_NODE_MEMORY_STATS_CACHED": "int",
    "VIR_NODE_MEMORY_STATS_FREE": "int",
    "VIR_NODE_MEMORY_STATS_TOTAL": "int",
    "VIR_NODE_SEV_CBITPOS": "int",
    "VIR_NODE_SEV_CERT_CHAIN": "str",
    "VIR_NODE_SEV_CPU0_ID": "str",
    "VIR_NODE_SEV_PDH": "str",
    "VIR_NODE_SEV_REDUCED_PHYS_BITS": "int",
    "VIR_PERF_PARAM_ALIGNMENT_FAULTS": "bool",
    "VIR_PERF_PARAM_BRANCH_INSTRUCTIONS": "bool",
    "VIR_PERF_PARAM_BRANCH_MISSES": "bool",
    "VIR_PERF_PARAM_BUS_CYCLES": "bool",
    "VIR_PERF_PARAM_CACHE_MISSES": "bool",
    "VIR_PERF_PARAM_CACHE_REFERENCES": "bool",
    "VIR_PERF_PARAM_CMT": "bool",
    "VIR_PERF_PARAM_CONTEXT_SWITCHES": "bool",
    "VIR_PERF_PARAM_CPU_CLOCK": "bool",
    "VIR_PERF_PARAM_CPU_CYCLES": "bool",
    "VIR_PERF_PARAM_CPU_MIGRATIONS": "bool",
    "VIR_PERF_PARAM_EMULATION_FAULTS": "bool",
    "VIR_PERF_PARAM_INSTRUCTIONS": "bool",
    "VIR_PERF_PARAM_MBML": "bool",
    "VIR_PERF_PARAM_MBMT": "bool",
    "VIR_PERF_PARAM_PAGE_FAULTS": "bool",
    "VIR_PERF_PARAM_PAGE_FAULTS_MAJ": "bool",
    "VIR_PERF_PARAM_PAGE_FAULTS_MIN": "bool",
    "VIR_PERF_PARAM_REF_CPU_CYCLES": "bool",
    "VIR_PERF_PARAM_STALLED_CYCLES_BACKEND": "bool",
    "VIR_PERF_PARAM_STALLED_CYCLES_FRONTEND": "bool",
    "VIR_PERF_PARAM_TASK_CLOCK": "bool",
}


def field_type(macro: Macro) -> str:
    """A field's Python type: the table first (it holds the exceptions), then the
    spec's documented kind; Any when neither knows."""
    if macro.name in FIELD_TYPES:
        return FIELD_TYPES[macro.name]
    return PARAM_TYPES[macro.param] if macro.param is not None else "Any"


def family_of(c_name: str) -> Family | None:
    return next((f for f in FAMILIES if c_name in f.functions), None)


def typed_dicts(api: Api) -> list[TypedDictSpec]:
    """One TypedDict per family with fields in the spec, fields sorted by key."""
    strings = [m for m in api.of(Macro) if m.params is None and m.value.startswith('"')]
    out = []
    for fam in FAMILIES:
        fields = {m.value[1:-1]: field_type(m)
                  for m in strings if m.name.startswith(fam.prefix)}
        if fields:
            out.append(TypedDictSpec(fam.name, tuple(sorted(fields.items()))))
    return out
