"""Open the collector's database and bring it to the current schema.

SQLite by default: one file in the collector's store folder, nothing to install, in WAL mode
with ``synchronous = FULL`` so that a bundle the collector answered "accepted" for survives a
killed process and a power cut. PostgreSQL when ``[collector] database`` names one
(``postgresql+psycopg://…``): several collector processes, on one machine or several, then
serve one database, and nothing that matters lives on one collector's disk.

Every open runs the Alembic migrations up to the newest revision, under a lock (an advisory
lock on PostgreSQL, a file lock on SQLite), so two processes starting together do not both
create the tables.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError

from inventory.storage import locked
from secposture.config.errors import ConfigError

SQLITE_FILE = "collector.sqlite3"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
# Any number, the same in every collector process: the key of PostgreSQL's advisory lock.
MIGRATION_LOCK = 0x5EC905


def database_url(database: str | None, store: Path) -> str:
    """The URL to open: ``database`` when the config names one, else SQLite in ``store``."""
    if database:
        return database
    return f"sqlite:///{store / SQLITE_FILE}"


def open_database(url: str) -> Engine:
    """An engine on ``url`` whose schema is current; ConfigError when it cannot be opened."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError("collector.database", "is not a database URL") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise ConfigError("collector.database", "must be a sqlite:// or postgresql+psycopg:// URL")
    sqlite = parsed.get_backend_name() == "sqlite"
    options: dict[str, Any] = {}
    if sqlite:
        # One connection per thread (uvicorn's worker threads); waits, not errors, while another
        # process holds the write lock.
        options["connect_args"] = {"timeout": 30, "check_same_thread": False}
    else:
        options.update(pool_pre_ping=True, pool_size=8, max_overflow=8)
    engine = create_engine(parsed, **options)
    if sqlite:
        if parsed.database:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    try:
        upgrade(engine, sqlite_file=Path(parsed.database) if sqlite and parsed.database else None)
    except OperationalError as exc:
        engine.dispose()
        first = str(exc.orig).strip().splitlines()[0] if exc.orig else type(exc).__name__
        raise ConfigError("collector.database", f"cannot be opened: {first}") from None
    return engine


def refresh_statistics(engine: Engine, *, grown: float = 2.0) -> bool:
    """Give SQLite's query planner statistics when it has none, or when the sweeps have grown
    ``grown``-fold since it was given them; whether it did. Without them it reads "telnet in
    each unit's latest sweep" through the check's index over every week held (170 ms at Tây
    Ninh's size, 20 ms with them). Approximate (``analysis_limit``), so a few hundred MB take
    a moment. PostgreSQL's autovacuum keeps its own statistics: nothing to do there."""
    if engine.dialect.name != "sqlite":
        return False
    with engine.begin() as conn:
        sweeps = conn.exec_driver_sql("SELECT count(*) FROM sweeps").scalar() or 0
        if not sweeps:
            return False  # an empty store teaches the planner nothing true
        known = conn.exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'"
        ).scalar()
        stat = (
            conn.exec_driver_sql("SELECT stat FROM sqlite_stat1 WHERE tbl = 'sweeps'").scalar()
            if known
            else None
        )
        if stat and sweeps <= grown * max(int(str(stat).split()[0]), 1):
            return False
        conn.exec_driver_sql("PRAGMA analysis_limit = 1000")
        conn.exec_driver_sql("ANALYZE")
    return True


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = FULL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.execute("PRAGMA busy_timeout = 30000")
    # 64 MiB of page cache instead of 2: every bundle adds ~1,300 finding rows to four indexes,
    # and with the default cache the ingest of 1,000 bundles slowed as they grew.
    cursor.execute("PRAGMA cache_size = -65536")
    # Checkpoint every 8,000 pages (32 MiB of WAL) instead of 1,000: each checkpoint fsyncs
    # the database file, and at the default one came every few bundles (a millisecond of
    # every ingest). The WAL file is cut back to 64 MiB after each.
    cursor.execute("PRAGMA wal_autocheckpoint = 8000")
    cursor.execute("PRAGMA journal_size_limit = 67108864")
    cursor.close()


def upgrade(engine: Engine, *, sqlite_file: Path | None = None) -> None:
    """Run the migrations up to the newest revision, one process at a time."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    postgres = engine.dialect.name == "postgresql"
    with contextlib.ExitStack() as held:
        if sqlite_file is not None and not postgres:
            held.enter_context(locked(sqlite_file.parent / f".{sqlite_file.name}.migrate"))
        conn = held.enter_context(engine.begin())
        if postgres:  # held until the transaction ends
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
        config.attributes["connection"] = conn
        command.upgrade(config, "head")
