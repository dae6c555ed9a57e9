"""Knowing that nothing changed since: a driver whose state changes only inside
its own entry points (the test driver: no thread or timer of its own) counts the
calls that may change it, so that a document formatted from its state can be
handed out again until the next such call (virDomainGetXMLDesc, called over and
over on domains nobody touches)."""

from __future__ import annotations

import functools
import itertools
import re
from typing import Any, Callable, Optional

from .base import HypervisorDriver

# Entry points that only read: their names say so.  Any other entry point counts
# as a change (a wrong "change" costs a reformat, never a stale document).
_QUERY = re.compile(r"vir[A-Za-z]*?(Get|List|Lookup|NumOf|Is|Has)[A-Z]")


@functools.cache
def is_query(c_name: str) -> bool:
    return _QUERY.match(c_name) is not None


class ChangeCounter:
    """A version that every call of a changing entry point moves, after the call,
    to a value it never had before.

    No lock (two lock round trips would cost suspend + resume a tenth of its
    time): each new value comes from itertools.count, whose next() is atomic, so
    whichever store lands last still leaves a value no document was stamped with.
    A reader holding the driver's lock stamps a document with the version it saw
    before formatting; a change then in progress or later ends by moving the
    version, so the document is never handed out after that change."""

    def __init__(self) -> None:
        self._fresh = itertools.count(1)
        self.version = 0
        self.entries: dict[str, Callable[..., Any]] = {}

    def entry_point(self, driver: HypervisorDriver, c_name: str) -> Optional[Callable[..., Any]]:
        """The driver's entry point for `c_name`, counted if it may change anything
        (found once per name: this is on every call's path)."""
        entry = self.entries.get(c_name)
        if entry is None:
            entry = HypervisorDriver.entry_point(driver, c_name)
            if entry is None:
                return None
            if not is_query(c_name):
                entry = self._counted(entry)
            self.entries[c_name] = entry
        return entry

    def _counted(self, entry: Callable[..., Any]) -> Callable[..., Any]:
        def changing(*args: Any) -> Any:
            try:
                return entry(*args)
            finally:
                self.version = next(self._fresh)
        return changing
