"""The one exception a configuration problem becomes, already phrased for the user."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem, already phrased for the user: ``key: reason``."""

    def __init__(self, key: str, reason: str, source: str | None = None) -> None:
        self.key = key
        self.reason = reason
        self.source = source
        where = f" ({source})" if source else ""
        super().__init__(f"{key}: {reason}{where}")
