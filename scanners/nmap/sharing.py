"""Equal values read from a report kept once: the thousandth host's "OpenSSH" is the first's.

A LAN is many copies of few builds: on a 10,000-host report the product names, versions, script
outputs and algorithm lists repeat host after host, and kept as read each is a new object (the
strings alone were 12 MB of the import's memory, issue #20). Records are frozen and their
evidence is only read, so handing every host the same object is safe. The table is bounded:
when full it starts again, costing only sharing, never correctness.
"""

from __future__ import annotations

from typing import Any, TypeVar

MAX_KEPT = 100_000  # entries
MAX_CHARS = 8_000_000  # characters kept in all: a long-running agent holds the table
MAX_LENGTH = 4096  # longer values are rarely repeated: not worth a table entry

_kept: dict[Any, Any] = {}
_chars = 0
T = TypeVar("T")


def shared(value: T) -> T:
    """The first value equal to ``value`` seen (strings, and lists of strings); else itself."""
    global _chars
    if isinstance(value, str):
        key: Any = value
        size = len(value)
        if size > MAX_LENGTH:
            return value
    elif isinstance(value, list) and all(isinstance(item, str) for item in value):
        key = ("list", *value)
        size = sum(map(len, value))
    else:
        return value
    found: T | None = _kept.get(key)
    if found is None:
        if len(_kept) >= MAX_KEPT or _chars + size > MAX_CHARS:
            _kept.clear()
            _chars = 0
        kept: Any = [shared(item) for item in value] if isinstance(value, list) else value
        found = _kept[key] = kept
        _chars += size
    return found
