"""What the ``collector`` commands share: the config option, loading it, opening the store."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from secposture.cli.common import config_fail, config_option
from secposture.config.errors import ConfigError

if TYPE_CHECKING:
    from secposture.province.db.store import SqlStore
    from secposture.province.hierarchy import CollectorConfig

COLLECTOR_OPT = config_option(
    "Collector configuration file (TOML): store, listen address, the province's units "
    "and their public keys."
)


def load_collector(path: Path) -> CollectorConfig:
    """The collector config at ``path``; a bad one ends the command with exit 2."""
    from secposture.province.hierarchy import load_collector_config

    try:
        return load_collector_config(path)
    except ConfigError as exc:
        config_fail(exc)


def open_or_fail(config: CollectorConfig) -> SqlStore:
    """The collector's database, brought to the current schema; exit 2 when it cannot be."""
    from secposture.province.db.store import open_store

    try:
        return open_store(config)
    except ConfigError as exc:
        config_fail(exc)
