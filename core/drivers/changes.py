"""Knowing that nothing changed since: a driver whose state changes only inside
its own entry points (the test driver: no thread or timer of its own) counts the
calls that may change it, so that a document formatted from its state can be
handed out again until the next such call (virDomainGetXMLDesc, called over and
over on domains nobody touches)."""

from __future__ import annotations

import functools
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
    """Calls of changing entry points begun and ended.  A reader holding the
    driver's lock sees the counts agree only when no change is under way.

    The counts move without a lock (two lock round trips cost suspend + resume
    a tenth of its time): an increment lost to a race can only leave the counts
    unequal, which turns reuse off, or still moves `done` (each change moves it at
    least once), which invalidates the document: never a stale one."""

    def __init__(self) -> None:
        self._started = 0
        self._done = 0
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
            self._started += 1
            try:
                return entry(*args)
            finally:
                self._done += 1
        return changing

    def stamp(self) -> Optional[int]:
        """With the driver's lock held: a value that stays the same until the next
        change, or None while one is under way."""
        return self._done if self._started == self._done else None
