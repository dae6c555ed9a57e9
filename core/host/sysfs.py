"""The sysfs folders the host readers look in, and the one way they list
the numbered entries there (nodeN, cpuN, indexN)."""

from __future__ import annotations

import os
from pathlib import Path

SYSTEM = Path("/sys/devices/system")


def numbered(folder: Path, prefix: str) -> list[int]:
    """The N of folder/prefixN entries, sorted; none when `folder` cannot be listed."""
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(int(n[len(prefix):]) for n in names
                  if n.startswith(prefix) and n[len(prefix):].isdigit())
