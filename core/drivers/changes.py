"""Knowing that nothing changed since: a driver whose state changes only inside
its own entry points (the test driver: no thread or timer of its own) counts the
calls that may change it, so that a document formatted from its state can be
handed out again until the next such call (virDomainGetXMLDesc, called over and
over on domains nobody touches)."""

from __future__ import annotations

import functools
import re
import threading
from typing import Any, Callable, Optional

# Entry points that only read: their names say so.  Any other entry point counts
# as a change (a wrong "change" costs a reformat, never a stale document).
_QUERY = re.compile(r"vir[A-Za-z]*?(Get|List|Lookup|NumOf|Is|Has)[A-Z]")


@functools.cache
def is_query(c_name: str) -> bool:
    return _QUERY.match(c_name) is not None


class ChangeCounter:
    """Calls of changing entry points begun and ended.  Both counts move under
    the driver's lock, so a reader holding that lock sees them agree only when no
    change is under way."""

    def __init__(self, lock: threading.RLock) -> None:
        self._lock = lock
        self._started = 0
        self._done = 0
        self._wrapped: dict[str, Callable[..., Any]] = {}

    def counted(self, c_name: str, entry: Callable[..., Any]) -> Callable[..., Any]:
        """`entry`, counted if it may change anything."""
        if is_query(c_name):
            return entry
        wrapped = self._wrapped.get(c_name)
        if wrapped is None:
            wrapped = self._wrapped[c_name] = self._wrap(entry)
        return wrapped

    def _wrap(self, entry: Callable[..., Any]) -> Callable[..., Any]:
        lock = self._lock

        def changing(*args: Any) -> Any:
            with lock:
                self._started += 1
            try:
                return entry(*args)
            finally:
                with lock:
                    self._done += 1
        return changing

    def stamp(self) -> Optional[int]:
        """With the driver's lock held: a value that stays the same until the next
        change, or None while one is under way."""
        return self._done if self._started == self._done else None
