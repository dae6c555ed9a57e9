"""VIR_MIGRATE_TLS: QEMU encrypts the migration stream itself, with x509
credentials from qemu.conf's migrate_tls_x509_cert_dir (qemuconf.py).

QMP as libvirt 9.0 sends it (traced on two libvirtd, see tests/qemu/
test_qemu_migration_tls.py):

    both  object-del objlibvirt_migrate_tls0         (a leftover; errors ignored)
    both  object-add tls-creds-x509 dir=..., endpoint server (destination) or
          client (source), verify-peer: migrate_tls_x509_verify on the
          destination, always on the source
    dst   migrate-set-parameters tls-creds, tls-hostname ""   before migrate-incoming
    src   migrate-set-parameters tls-creds, tls-hostname HOST (+ max-bandwidth)
    end   migrate-set-parameters tls-creds "", tls-hostname "", then
          object-del of the credentials and of their secret
          (destination after Finish, source after a failed migration)

QEMU then refuses a peer whose certificate does not verify, and the
migration fails with QEMU's words ("Certificate does not match the hostname
X", "The certificate hasn't got a known issuer").
"""

from __future__ import annotations

import contextlib
from typing import Optional

from ... import errors, migration as mig
from ...errors import ErrorDomain, ErrorNumber
from .qemuconf import QemuConfig
from .tuning import Call

ALIAS = "objlibvirt_migrate_tls0"
SECRET_ALIAS = "libvirt_migrate-secret0"   # a key password's; deleted even if never made


def check_forced(config: QemuConfig, flags: int) -> None:
    """migrate_tls_force: both Begin and Prepare refuse a plain migration."""
    if (config.migrate_tls_force and not flags & mig.VIR_MIGRATE_TLS
            and not flags & mig.VIR_MIGRATE_TUNNELLED):
        raise errors.report(ErrorNumber.VIR_ERR_OPERATION_INVALID, ErrorDomain.VIR_FROM_QEMU,
                            "this libvirtd instance allows migration only with "
                            "VIR_MIGRATE_TLS flag")


def enable(call: Call, config: QemuConfig, server: bool,
           hostname: Optional[str]) -> dict[str, str]:
    """Load the credentials into QEMU; the migration parameters that use them."""
    with contextlib.suppress(errors.VirtError):
        call("object-del", {"id": ALIAS})
    call("object-add", {"qom-type": "tls-creds-x509", "id": ALIAS,
                        "dir": config.migrate_tls_x509_cert_dir,
                        "endpoint": "server" if server else "client",
                        "verify-peer": config.migrate_tls_x509_verify if server else True})
    return {"tls-creds": ALIAS, "tls-hostname": "" if server else (hostname or "")}


def source_hostname(params: mig.MigrationParams, uri_host: Optional[str]) -> Optional[str]:
    """The name the destination's certificate must carry: tls.destination, else
    the host of the migration URI."""
    return params.tls_destination or uri_host


def reset(call: Call) -> None:
    """Forget the credentials once the migration is over (best effort, as libvirt)."""
    with contextlib.suppress(errors.VirtError):
        call("migrate-set-parameters", {"tls-creds": "", "tls-hostname": ""})
    for alias in (ALIAS, SECRET_ALIAS):
        with contextlib.suppress(errors.VirtError):
            call("object-del", {"id": alias})
