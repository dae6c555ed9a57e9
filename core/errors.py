"""libvirt's error model: codes, domains, levels and message wording.

The tree is flat, as libvirt's is: every failure is one :class:`VirtError`
carrying the fields of libvirt's ``virError``::

    VirtError(Exception)
      code    ErrorNumber   what went wrong      (VIR_ERR_NO_DOMAIN, ...)
      domain  ErrorDomain   which layer said so  (VIR_FROM_TEST, ...)
      level   ErrorLevel    VIR_ERR_ERROR for everything we raise
      message str           the formatted text, prefix per code + detail
      str1..3, int1, int2   the extra fields libvirt fills in

Each error code maps to exactly one entry of ``_MESSAGES``: the bare text
used when a failure has no detail, and the format used when it has one
(taken from the behaviour of libvirt 9.0).  Raise through the helpers:

    report(code, domain, detail)     virReportError: "<prefix>: <detail>"
    invalid_arg(domain, fn, arg, m)  virReportInvalidArg: raw message
    check_flags(flags, allowed, fn)  "unsupported flags (0x..) in function fn"
    no_support(fn)                   VIR_ERR_NO_SUPPORT naming the public API
"""

from __future__ import annotations

import enum
from typing import Optional


class ErrorLevel(enum.IntEnum):
    VIR_ERR_NONE = 0
    VIR_ERR_WARNING = 1
    VIR_ERR_ERROR = 2


class ErrorDomain(enum.IntEnum):
    VIR_FROM_NONE = 0
    VIR_FROM_XEN = 1
    VIR_FROM_XEND = 2
    VIR_FROM_XENSTORE = 3
    VIR_FROM_SEXPR = 4
    VIR_FROM_XML = 5
    VIR_FROM_DOM = 6
    VIR_FROM_RPC = 7
    VIR_FROM_PROXY = 8
    VIR_FROM_CONF = 9
    VIR_FROM_QEMU = 10
    VIR_FROM_NET = 11
    VIR_FROM_TEST = 12
    VIR_FROM_REMOTE = 13
    VIR_FROM_OPENVZ = 14
    VIR_FROM_XENXM = 15
    VIR_FROM_STATS_LINUX = 16
    VIR_FROM_LXC = 17
    VIR_FROM_STORAGE = 18
    VIR_FROM_NETWORK = 19
    VIR_FROM_DOMAIN = 20
    VIR_FROM_UML = 21
    VIR_FROM_NODEDEV = 22
    VIR_FROM_XEN_INOTIFY = 23
    VIR_FROM_SECURITY = 24
    VIR_FROM_VBOX = 25
    VIR_FROM_INTERFACE = 26
    VIR_FROM_ONE = 27
    VIR_FROM_ESX = 28
    VIR_FROM_PHYP = 29
    VIR_FROM_SECRET = 30
    VIR_FROM_CPU = 31
    VIR_FROM_XENAPI = 32
    VIR_FROM_NWFILTER = 33
    VIR_FROM_HOOK = 34
    VIR_FROM_DOMAIN_SNAPSHOT = 35
    VIR_FROM_AUDIT = 36
    VIR_FROM_SYSINFO = 37
    VIR_FROM_STREAMS = 38
    VIR_FROM_VMWARE = 39
    VIR_FROM_EVENT = 40
    VIR_FROM_LIBXL = 41
    VIR_FROM_LOCKING = 42
    VIR_FROM_HYPERV = 43
    VIR_FROM_CAPABILITIES = 44
    VIR_FROM_URI = 45
    VIR_FROM_AUTH = 46
    VIR_FROM_DBUS = 47
    VIR_FROM_PARALLELS = 48
    VIR_FROM_DEVICE = 49
    VIR_FROM_SSH = 50
    VIR_FROM_LOCKSPACE = 51
    VIR_FROM_INITCTL = 52
    VIR_FROM_IDENTITY = 53
    VIR_FROM_CGROUP = 54
    VIR_FROM_ACCESS = 55
    VIR_FROM_SYSTEMD = 56
    VIR_FROM_BHYVE = 57
    VIR_FROM_CRYPTO = 58
    VIR_FROM_FIREWALL = 59
    VIR_FROM_POLKIT = 60
    VIR_FROM_THREAD = 61
    VIR_FROM_ADMIN = 62
    VIR_FROM_LOGGING = 63
    VIR_FROM_XENXL = 64
    VIR_FROM_PERF = 65
    VIR_FROM_LIBSSH = 66
    VIR_FROM_RESCTRL = 67
    VIR_FROM_FIREWALLD = 68
    VIR_FROM_DOMAIN_CHECKPOINT = 69
    VIR_FROM_TPM = 70
    VIR_FROM_BPF = 71
    VIR_FROM_CH = 72

class ErrorNumber(enum.IntEnum):
    VIR_ERR_OK = 0
    VIR_ERR_INTERNAL_ERROR = 1
    VIR_ERR_NO_MEMORY = 2
    VIR_ERR_NO_SUPPORT = 3
    VIR_ERR_UNKNOWN_HOST = 4
    VIR_ERR_NO_CONNECT = 5
    VIR_ERR_INVALID_CONN = 6
    VIR_ERR_INVALID_DOMAIN = 7
    VIR_ERR_INVALID_ARG = 8
    VIR_ERR_OPERATION_FAILED = 9
    VIR_ERR_GET_FAILED = 10
    VIR_ERR_POST_FAILED = 11
    VIR_ERR_HTTP_ERROR = 12
    VIR_ERR_SEXPR_SERIAL = 13
    VIR_ERR_NO_XEN = 14
    VIR_ERR_XEN_CALL = 15
    VIR_ERR_OS_TYPE = 16
    VIR_ERR_NO_KERNEL = 17
    VIR_ERR_NO_ROOT = 18
    VIR_ERR_NO_SOURCE = 19
    VIR_ERR_NO_TARGET = 20
    VIR_ERR_NO_NAME = 21
    VIR_ERR_NO_OS = 22
    VIR_ERR_NO_DEVICE = 23
    VIR_ERR_NO_XENSTORE = 24
    VIR_ERR_DRIVER_FULL = 25
    VIR_ERR_CALL_FAILED = 26
    VIR_ERR_XML_ERROR = 27
    VIR_ERR_DOM_EXIST = 28
    VIR_ERR_OPERATION_DENIED = 29
    VIR_ERR_OPEN_FAILED = 30
    VIR_ERR_READ_FAILED = 31
    VIR_ERR_PARSE_FAILED = 32
    VIR_ERR_CONF_SYNTAX = 33
    VIR_ERR_WRITE_FAILED = 34
    VIR_ERR_XML_DETAIL = 35
    VIR_ERR_INVALID_NETWORK = 36
    VIR_ERR_NETWORK_EXIST = 37
    VIR_ERR_SYSTEM_ERROR = 38
    VIR_ERR_RPC = 39
    VIR_ERR_GNUTLS_ERROR = 40
    VIR_WAR_NO_NETWORK = 41
    VIR_ERR_NO_DOMAIN = 42
    VIR_ERR_NO_NETWORK = 43
    VIR_ERR_INVALID_MAC = 44
    VIR_ERR_AUTH_FAILED = 45
    VIR_ERR_INVALID_STORAGE_POOL = 46
    VIR_ERR_INVALID_STORAGE_VOL = 47
    VIR_WAR_NO_STORAGE = 48
    VIR_ERR_NO_STORAGE_POOL = 49
    VIR_ERR_NO_STORAGE_VOL = 50
    VIR_WAR_NO_NODE = 51
    VIR_ERR_INVALID_NODE_DEVICE = 52
    VIR_ERR_NO_NODE_DEVICE = 53
    VIR_ERR_NO_SECURITY_MODEL = 54
    VIR_ERR_OPERATION_INVALID = 55
    VIR_WAR_NO_INTERFACE = 56
    VIR_ERR_NO_INTERFACE = 57
    VIR_ERR_INVALID_INTERFACE = 58
    VIR_ERR_MULTIPLE_INTERFACES = 59
    VIR_WAR_NO_NWFILTER = 60
    VIR_ERR_INVALID_NWFILTER = 61
    VIR_ERR_NO_NWFILTER = 62
    VIR_ERR_BUILD_FIREWALL = 63
    VIR_WAR_NO_SECRET = 64
    VIR_ERR_INVALID_SECRET = 65
    VIR_ERR_NO_SECRET = 66
    VIR_ERR_CONFIG_UNSUPPORTED = 67
    VIR_ERR_OPERATION_TIMEOUT = 68
    VIR_ERR_MIGRATE_PERSIST_FAILED = 69
    VIR_ERR_HOOK_SCRIPT_FAILED = 70
    VIR_ERR_INVALID_DOMAIN_SNAPSHOT = 71
    VIR_ERR_NO_DOMAIN_SNAPSHOT = 72
    VIR_ERR_INVALID_STREAM = 73
    VIR_ERR_ARGUMENT_UNSUPPORTED = 74
    VIR_ERR_STORAGE_PROBE_FAILED = 75
    VIR_ERR_STORAGE_POOL_BUILT = 76
    VIR_ERR_SNAPSHOT_REVERT_RISKY = 77
    VIR_ERR_OPERATION_ABORTED = 78
    VIR_ERR_AUTH_CANCELLED = 79
    VIR_ERR_NO_DOMAIN_METADATA = 80
    VIR_ERR_MIGRATE_UNSAFE = 81
    VIR_ERR_OVERFLOW = 82
    VIR_ERR_BLOCK_COPY_ACTIVE = 83
    VIR_ERR_OPERATION_UNSUPPORTED = 84
    VIR_ERR_SSH = 85
    VIR_ERR_AGENT_UNRESPONSIVE = 86
    VIR_ERR_RESOURCE_BUSY = 87
    VIR_ERR_ACCESS_DENIED = 88
    VIR_ERR_DBUS_SERVICE = 89
    VIR_ERR_STORAGE_VOL_EXIST = 90
    VIR_ERR_CPU_INCOMPATIBLE = 91
    VIR_ERR_XML_INVALID_SCHEMA = 92
    VIR_ERR_MIGRATE_FINISH_OK = 93
    VIR_ERR_AUTH_UNAVAILABLE = 94
    VIR_ERR_NO_SERVER = 95
    VIR_ERR_NO_CLIENT = 96
    VIR_ERR_AGENT_UNSYNCED = 97
    VIR_ERR_LIBSSH = 98
    VIR_ERR_DEVICE_MISSING = 99
    VIR_ERR_INVALID_NWFILTER_BINDING = 100
    VIR_ERR_NO_NWFILTER_BINDING = 101
    VIR_ERR_INVALID_DOMAIN_CHECKPOINT = 102
    VIR_ERR_NO_DOMAIN_CHECKPOINT = 103
    VIR_ERR_NO_DOMAIN_BACKUP = 104
    VIR_ERR_INVALID_NETWORK_PORT = 105
    VIR_ERR_NETWORK_PORT_EXIST = 106
    VIR_ERR_NO_NETWORK_PORT = 107
    VIR_ERR_NO_HOSTNAME = 108
    VIR_ERR_CHECKPOINT_INCONSISTENT = 109
    VIR_ERR_MULTIPLE_DOMAINS = 110

_MESSAGES: dict[int, tuple[str, str]] = {
    ErrorNumber.VIR_ERR_INTERNAL_ERROR: ('internal error', 'internal error: %s'),
    ErrorNumber.VIR_ERR_NO_MEMORY: ('out of memory', 'out of memory: %s'),
    ErrorNumber.VIR_ERR_NO_SUPPORT: ('this function is not supported by the connection driver', 'this function is not supported by the connection driver: %s'),
    ErrorNumber.VIR_ERR_UNKNOWN_HOST: ('unknown host', 'unknown host %s'),
    ErrorNumber.VIR_ERR_NO_CONNECT: ('no connection driver available', 'no connection driver available for %s'),
    ErrorNumber.VIR_ERR_INVALID_CONN: ('invalid connection pointer in', 'invalid connection pointer in %s'),
    ErrorNumber.VIR_ERR_INVALID_DOMAIN: ('invalid domain pointer in', 'invalid domain pointer in %s'),
    ErrorNumber.VIR_ERR_INVALID_ARG: ('invalid argument', 'invalid argument: %s'),
    ErrorNumber.VIR_ERR_OPERATION_FAILED: ('operation failed', 'operation failed: %s'),
    ErrorNumber.VIR_ERR_GET_FAILED: ('GET operation failed', 'GET operation failed: %s'),
    ErrorNumber.VIR_ERR_POST_FAILED: ('POST operation failed', 'POST operation failed: %s'),
    ErrorNumber.VIR_ERR_HTTP_ERROR: ('got unknown HTTP error code', 'got unknown HTTP error code %s'),
    ErrorNumber.VIR_ERR_SEXPR_SERIAL: ('failed to serialize S-Expr', 'failed to serialize S-Expr: %s'),
    ErrorNumber.VIR_ERR_NO_XEN: ('could not use Xen hypervisor entry', 'could not use Xen hypervisor entry %s'),
    ErrorNumber.VIR_ERR_XEN_CALL: ('failed Xen syscall', 'failed Xen syscall %s'),
    ErrorNumber.VIR_ERR_OS_TYPE: ('unknown OS type', 'unknown OS type %s'),
    ErrorNumber.VIR_ERR_NO_KERNEL: ('missing kernel information', 'missing kernel information: %s'),
    ErrorNumber.VIR_ERR_NO_ROOT: ('missing root device information', 'missing root device information in %s'),
    ErrorNumber.VIR_ERR_NO_SOURCE: ('missing source information for device', 'missing source information for device %s'),
    ErrorNumber.VIR_ERR_NO_TARGET: ('missing target information for device', 'missing target information for device %s'),
    ErrorNumber.VIR_ERR_NO_NAME: ('missing name information', 'missing name information in %s'),
    ErrorNumber.VIR_ERR_NO_OS: ('missing operating system information', 'missing operating system information for %s'),
    ErrorNumber.VIR_ERR_NO_DEVICE: ('missing devices information', 'missing devices information for %s'),
    ErrorNumber.VIR_ERR_NO_XENSTORE: ('could not connect to Xen Store', 'could not connect to Xen Store %s'),
    ErrorNumber.VIR_ERR_DRIVER_FULL: ('too many drivers registered', 'too many drivers registered in %s'),
    ErrorNumber.VIR_ERR_CALL_FAILED: ('library call failed', 'library call failed: %s'),
    ErrorNumber.VIR_ERR_XML_ERROR: ('XML description is invalid or not well formed', 'XML error: %s'),
    ErrorNumber.VIR_ERR_DOM_EXIST: ('this domain exists already', 'domain %s exists already'),
    ErrorNumber.VIR_ERR_OPERATION_DENIED: ('operation forbidden for read only access', 'operation forbidden: %s'),
    ErrorNumber.VIR_ERR_OPEN_FAILED: ('failed to open configuration file', 'failed to open configuration file %s'),
    ErrorNumber.VIR_ERR_READ_FAILED: ('failed to read configuration file', 'failed to read configuration file %s'),
    ErrorNumber.VIR_ERR_PARSE_FAILED: ('failed to parse configuration file', 'failed to parse configuration file %s'),
    ErrorNumber.VIR_ERR_CONF_SYNTAX: ('configuration file syntax error', 'configuration file syntax error: %s'),
    ErrorNumber.VIR_ERR_WRITE_FAILED: ('failed to write configuration file', 'failed to write configuration file: %s'),
    ErrorNumber.VIR_ERR_XML_DETAIL: ('parser error', '%s'),
    ErrorNumber.VIR_ERR_INVALID_NETWORK: ('invalid network pointer in', 'invalid network pointer in %s'),
    ErrorNumber.VIR_ERR_NETWORK_EXIST: ('this network exists already', 'network %s exists already'),
    ErrorNumber.VIR_ERR_SYSTEM_ERROR: ('system call error', '%s'),
    ErrorNumber.VIR_ERR_RPC: ('RPC error', '%s'),
    ErrorNumber.VIR_ERR_GNUTLS_ERROR: ('GNUTLS call error', '%s'),
    ErrorNumber.VIR_WAR_NO_NETWORK: ('Failed to find the network', 'Failed to find the network: %s'),
    ErrorNumber.VIR_ERR_NO_DOMAIN: ('Domain not found', 'Domain not found: %s'),
    ErrorNumber.VIR_ERR_NO_NETWORK: ('Network not found', 'Network not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_MAC: ('invalid MAC address', 'invalid MAC address: %s'),
    ErrorNumber.VIR_ERR_AUTH_FAILED: ('authentication failed', 'authentication failed: %s'),
    ErrorNumber.VIR_ERR_INVALID_STORAGE_POOL: ('invalid storage pool pointer in', 'invalid storage pool pointer in %s'),
    ErrorNumber.VIR_ERR_INVALID_STORAGE_VOL: ('invalid storage volume pointer in', 'invalid storage volume pointer in %s'),
    ErrorNumber.VIR_WAR_NO_STORAGE: ('Failed to find a storage driver', 'Failed to find a storage driver: %s'),
    ErrorNumber.VIR_ERR_NO_STORAGE_POOL: ('Storage pool not found', 'Storage pool not found: %s'),
    ErrorNumber.VIR_ERR_NO_STORAGE_VOL: ('Storage volume not found', 'Storage volume not found: %s'),
    ErrorNumber.VIR_WAR_NO_NODE: ('Failed to find a node driver', 'Failed to find a node driver: %s'),
    ErrorNumber.VIR_ERR_INVALID_NODE_DEVICE: ('invalid node device pointer', 'invalid node device pointer in %s'),
    ErrorNumber.VIR_ERR_NO_NODE_DEVICE: ('Node device not found', 'Node device not found: %s'),
    ErrorNumber.VIR_ERR_NO_SECURITY_MODEL: ('Security model not found', 'Security model not found: %s'),
    ErrorNumber.VIR_ERR_OPERATION_INVALID: ('Requested operation is not valid', 'Requested operation is not valid: %s'),
    ErrorNumber.VIR_WAR_NO_INTERFACE: ('Failed to find the interface', 'Failed to find the interface: %s'),
    ErrorNumber.VIR_ERR_NO_INTERFACE: ('Interface not found', 'Interface not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_INTERFACE: ('invalid interface pointer in', 'invalid interface pointer in %s'),
    ErrorNumber.VIR_ERR_MULTIPLE_INTERFACES: ('multiple matching interfaces found', 'multiple matching interfaces found: %s'),
    ErrorNumber.VIR_WAR_NO_NWFILTER: ('Failed to start the nwfilter driver', 'Failed to start the nwfilter driver: %s'),
    ErrorNumber.VIR_ERR_INVALID_NWFILTER: ('Invalid network filter', 'Invalid network filter: %s'),
    ErrorNumber.VIR_ERR_NO_NWFILTER: ('Network filter not found', 'Network filter not found: %s'),
    ErrorNumber.VIR_ERR_BUILD_FIREWALL: ('Error while building firewall', 'Error while building firewall: %s'),
    ErrorNumber.VIR_WAR_NO_SECRET: ('Failed to find a secret storage driver', 'Failed to find a secret storage driver: %s'),
    ErrorNumber.VIR_ERR_INVALID_SECRET: ('Invalid secret', 'Invalid secret: %s'),
    ErrorNumber.VIR_ERR_NO_SECRET: ('Secret not found', 'Secret not found: %s'),
    ErrorNumber.VIR_ERR_CONFIG_UNSUPPORTED: ('unsupported configuration', 'unsupported configuration: %s'),
    ErrorNumber.VIR_ERR_OPERATION_TIMEOUT: ('Timed out during operation', 'Timed out during operation: %s'),
    ErrorNumber.VIR_ERR_MIGRATE_PERSIST_FAILED: ('Failed to make domain persistent after migration', 'Failed to make domain persistent after migration: %s'),
    ErrorNumber.VIR_ERR_HOOK_SCRIPT_FAILED: ('Hook script execution failed', 'Hook script execution failed: %s'),
    ErrorNumber.VIR_ERR_INVALID_DOMAIN_SNAPSHOT: ('Invalid domain snapshot', 'Invalid domain snapshot: %s'),
    ErrorNumber.VIR_ERR_NO_DOMAIN_SNAPSHOT: ('Domain snapshot not found', 'Domain snapshot not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_STREAM: ('invalid stream pointer', 'invalid stream pointer in %s'),
    ErrorNumber.VIR_ERR_ARGUMENT_UNSUPPORTED: ('argument unsupported', 'argument unsupported: %s'),
    ErrorNumber.VIR_ERR_STORAGE_PROBE_FAILED: ('Storage pool probe failed', 'Storage pool probe failed: %s'),
    ErrorNumber.VIR_ERR_STORAGE_POOL_BUILT: ('Storage pool already built', 'Storage pool already built: %s'),
    ErrorNumber.VIR_ERR_SNAPSHOT_REVERT_RISKY: ('revert requires force', 'revert requires force: %s'),
    ErrorNumber.VIR_ERR_OPERATION_ABORTED: ('operation aborted', 'operation aborted: %s'),
    ErrorNumber.VIR_ERR_AUTH_CANCELLED: ('authentication cancelled', 'authentication cancelled: %s'),
    ErrorNumber.VIR_ERR_NO_DOMAIN_METADATA: ('metadata not found', 'metadata not found: %s'),
    ErrorNumber.VIR_ERR_MIGRATE_UNSAFE: ('Unsafe migration', 'Unsafe migration: %s'),
    ErrorNumber.VIR_ERR_OVERFLOW: ('numerical overflow', 'numerical overflow: %s'),
    ErrorNumber.VIR_ERR_BLOCK_COPY_ACTIVE: ('block copy still active', 'block copy still active: %s'),
    ErrorNumber.VIR_ERR_OPERATION_UNSUPPORTED: ('Operation not supported', 'Operation not supported: %s'),
    ErrorNumber.VIR_ERR_SSH: ('SSH transport error', 'SSH transport error: %s'),
    ErrorNumber.VIR_ERR_AGENT_UNRESPONSIVE: ('Guest agent is not responding', 'Guest agent is not responding: %s'),
    ErrorNumber.VIR_ERR_RESOURCE_BUSY: ('resource busy', 'resource busy: %s'),
    ErrorNumber.VIR_ERR_ACCESS_DENIED: ('access denied', 'access denied: %s'),
    ErrorNumber.VIR_ERR_DBUS_SERVICE: ('error from service', 'error from service: %s'),
    ErrorNumber.VIR_ERR_STORAGE_VOL_EXIST: ('this storage volume exists already', 'storage volume %s exists already'),
    ErrorNumber.VIR_ERR_CPU_INCOMPATIBLE: ('the CPU is incompatible with host CPU', 'the CPU is incompatible with host CPU: %s'),
    ErrorNumber.VIR_ERR_XML_INVALID_SCHEMA: ('XML document failed to validate against schema', 'XML document failed to validate against schema: %s'),
    ErrorNumber.VIR_ERR_MIGRATE_FINISH_OK: ('migration successfully aborted', 'migration successfully aborted: %s'),
    ErrorNumber.VIR_ERR_AUTH_UNAVAILABLE: ('authentication unavailable', 'authentication unavailable: %s'),
    ErrorNumber.VIR_ERR_NO_SERVER: ('Server not found', 'Server not found: %s'),
    ErrorNumber.VIR_ERR_NO_CLIENT: ('Client not found', 'Client not found: %s'),
    ErrorNumber.VIR_ERR_AGENT_UNSYNCED: ('guest agent replied with wrong id to guest-sync command', 'guest agent replied with wrong id to guest-sync command: %s'),
    ErrorNumber.VIR_ERR_LIBSSH: ('libssh transport error', 'libssh transport error: %s'),
    ErrorNumber.VIR_ERR_DEVICE_MISSING: ('device not found', 'device not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_NWFILTER_BINDING: ('Invalid network filter binding', 'Invalid network filter binding: %s'),
    ErrorNumber.VIR_ERR_NO_NWFILTER_BINDING: ('Network filter binding not found', 'Network filter binding not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_DOMAIN_CHECKPOINT: ('Invalid domain checkpoint', 'Invalid domain checkpoint: %s'),
    ErrorNumber.VIR_ERR_NO_DOMAIN_CHECKPOINT: ('Domain checkpoint not found', 'Domain checkpoint not found: %s'),
    ErrorNumber.VIR_ERR_NO_DOMAIN_BACKUP: ('Domain backup job id not found', 'Domain backup job id not found: %s'),
    ErrorNumber.VIR_ERR_INVALID_NETWORK_PORT: ('Invalid network port pointer', 'Invalid network port pointer: %s'),
    ErrorNumber.VIR_ERR_NETWORK_PORT_EXIST: ('this network port exists already', 'network port %s exists already'),
    ErrorNumber.VIR_ERR_NO_NETWORK_PORT: ('network port not found', 'network port not found: %s'),
    ErrorNumber.VIR_ERR_NO_HOSTNAME: ('no hostname found', 'no hostname found: %s'),
    ErrorNumber.VIR_ERR_CHECKPOINT_INCONSISTENT: ('checkpoint inconsistent', 'checkpoint inconsistent: %s'),
    ErrorNumber.VIR_ERR_MULTIPLE_DOMAINS: ('multiple matching domains found', 'multiple matching domains found: %s'),
}


class VirtError(Exception):
    """One libvirt error; the fields mirror the C struct virError."""

    def __init__(self, code: int, domain: int, message: str,
                 level: int = ErrorLevel.VIR_ERR_ERROR,
                 str1: Optional[str] = None, str2: Optional[str] = None,
                 str3: Optional[str] = None, int1: int = -1, int2: int = -1) -> None:
        super().__init__(message)
        self.code = ErrorNumber(code) if code in _CODES else code
        self.domain = ErrorDomain(domain) if domain in _DOMAINS else domain
        self.message = message
        self.level = ErrorLevel(level)
        self.str1 = str1
        self.str2 = str2
        self.str3 = str3
        self.int1 = int1
        self.int2 = int2

    def __repr__(self) -> str:
        return (f"VirtError(code={int(self.code)}, domain={int(self.domain)}, "
                f"message={self.message!r})")


_CODES = frozenset(int(c) for c in ErrorNumber)
_DOMAINS = frozenset(int(d) for d in ErrorDomain)


def error_message(code: int, detail: Optional[str] = None) -> str:
    """The text libvirt shows for `code`, with or without a detail."""
    bare, fmt = _MESSAGES.get(code, ("unknown error", "%s"))
    return bare if detail is None else fmt.replace("%s", detail, 1)


def report(code: int, domain: int, detail: Optional[str] = None) -> VirtError:
    """Build the error libvirt's virReportError would record."""
    bare, fmt = _MESSAGES.get(code, ("unknown error", "%s"))
    if detail is None:
        return VirtError(code, domain, bare, str1=bare)
    return VirtError(code, domain, fmt.replace("%s", detail, 1),
                     str1=fmt, str2=detail)


def invalid_arg(domain: int, funcname: str, argname: str, message: str) -> VirtError:
    """virReportInvalidArg: the message is shown as is, without a prefix."""
    return VirtError(ErrorNumber.VIR_ERR_INVALID_ARG, domain, message,
                     str1=funcname, str2=argname, int1=0, int2=0)


def check_flags(flags: int, allowed: int, funcname: str,
                domain: int = ErrorDomain.VIR_FROM_TEST) -> None:
    """Reject any bit of `flags` outside `allowed`, as virCheckFlags does."""
    unknown = flags & ~allowed
    if unknown:
        raise invalid_arg(domain, funcname, "flags",
                          f"unsupported flags ({unknown:#x}) in function {funcname}")


def no_support(funcname: str, domain: int = ErrorDomain.VIR_FROM_DOMAIN) -> VirtError:
    """The error for a public API the connection's driver does not implement."""
    return report(ErrorNumber.VIR_ERR_NO_SUPPORT, domain, funcname)


def operation_denied(funcname: str, domain: int = ErrorDomain.VIR_FROM_DOMAIN) -> VirtError:
    """A read-only connection called a function that changes state."""
    return report(ErrorNumber.VIR_ERR_OPERATION_DENIED, domain,
                  f"read only access prevents {funcname}")
