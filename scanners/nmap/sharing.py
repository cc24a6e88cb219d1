"""Equal values read from a report kept once: the thousandth host's "OpenSSH" is the first's.

A LAN is many copies of few builds: on a 10,000-host report the product names, versions, script
outputs and algorithm lists repeat host after host, and kept as read each is a new object (the
strings alone were 12 MB of the import's memory, issue #20). Records are frozen and their
evidence is only read, so handing every host the same object is safe. The table is bounded:
when full it starts again, costing only sharing, never correctness.
"""

from __future__ import annotations

from typing import Any, TypeVar

MAX_KEPT = 100_000
MAX_LENGTH = 4096  # longer values are rarely repeated: not worth a table entry

_kept: dict[Any, Any] = {}
T = TypeVar("T")


def shared(value: T) -> T:
    """The first value equal to ``value`` seen (strings, and lists of strings); else itself."""
    if isinstance(value, str):
        key: Any = value
        if len(value) > MAX_LENGTH:
            return value
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        key = ("list", *value)
    else:
        return value
    found: T | None = _kept.get(key)
    if found is None:
        if len(_kept) >= MAX_KEPT:
            _kept.clear()
        kept: Any = [shared(item) for item in value] if isinstance(value, list) else value
        found = _kept[key] = kept
    return found
