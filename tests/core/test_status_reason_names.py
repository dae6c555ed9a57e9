"""The reasons a running domain's status file records, spelled as libvirt
9.0's status files spell them (its virDomain*Reason string tables, in enum
order), and read back, older pyvirt spellings included."""

from __future__ import annotations

import pytest

from pyvirt import domainstate as ds
from pyvirt.drivers.qemu import status

S = ds.DomainState
LIBVIRT = {
    S.VIR_DOMAIN_RUNNING: ["unknown", "booted", "migrated", "restored", "from snapshot",
                           "unpaused", "migration canceled", "save canceled", "wakeup",
                           "crashed", "post-copy", "post-copy failed"],
    S.VIR_DOMAIN_PAUSED: ["unknown", "user", "migration", "save", "dump", "ioerror",
                          "watchdog", "from snapshot", "shutdown", "snapshot", "panicked",
                          "starting up", "post-copy", "post-copy failed"],
    S.VIR_DOMAIN_SHUTDOWN: ["unknown", "user"],
    S.VIR_DOMAIN_SHUTOFF: ["unknown", "shutdown", "destroyed", "crashed", "migrated", "saved",
                           "failed", "from snapshot", "daemon"],
    S.VIR_DOMAIN_CRASHED: ["unknown", "panicked"],
}


@pytest.mark.parametrize("state", list(LIBVIRT), ids=lambda s: status.state_name(s))
def test_reason_names_are_libvirts_and_read_back(state) -> None:
    names = [status.reason_name(state, reason) for reason in range(len(LIBVIRT[state]))]
    assert names == LIBVIRT[state]
    assert [status._parse_reason(state, name) for name in names] == list(range(len(names)))


def test_older_spellings_still_read() -> None:
    assert status._parse_reason(S.VIR_DOMAIN_PAUSED, "postcopy failed") == \
        ds.DomainPausedReason.VIR_DOMAIN_PAUSED_POSTCOPY_FAILED
    assert status._parse_reason(S.VIR_DOMAIN_RUNNING, "postcopy") == \
        ds.DomainRunningReason.VIR_DOMAIN_RUNNING_POSTCOPY
