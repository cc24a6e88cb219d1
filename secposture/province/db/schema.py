"""The tables of the collector's database, in SQLAlchemy Core.

What the province queries, one row per thing: units and their groups, keys and successions
(the registry); bundles (the signed bytes, addressed by their SHA-256, never changed; pruned to
their summary after the retention age, except each unit's latest); one summary row per sweep;
one row per finding, per host seen and per change, indexed the way the console searches them.

Times are UTC ISO-8601 text of one fixed form (``2026-12-03T09:15:00.000000+00:00``), so that
text order is time order on every database; dates are ``YYYY-MM-DD``.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import BYTEA, JSONB

# Constraint names fixed, so that Alembic migrations can name them on every database.
metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Json = JSON().with_variant(JSONB(), "postgresql")
Bytes = LargeBinary().with_variant(BYTEA(), "postgresql")
UNIT_ID = String(64)
MOMENT = String(40)  # a UTC time, see the module's docstring
DAY = String(10)

units = Table(
    "units",
    metadata,
    Column("id", UNIT_ID, primary_key=True),
    Column("name", String(300), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent", UNIT_ID, nullable=True),  # None: directly under the province
    Column("added_at", MOMENT, nullable=False),
    Column("retired_on", DAY, nullable=True),  # no longer expected to report from this day
    Column("note", Text, nullable=False, default=""),
)

groups = Table(
    "groups",
    metadata,
    Column("id", UNIT_ID, primary_key=True),
    Column("name", String(300), nullable=False),
)

unit_groups = Table(
    "unit_groups",
    metadata,
    Column("unit_id", UNIT_ID, ForeignKey("units.id"), primary_key=True),
    Column("group_id", UNIT_ID, ForeignKey("groups.id"), primary_key=True),
)

unit_keys = Table(
    "unit_keys",
    metadata,
    Column("public_key", String(100), primary_key=True),  # "ed25519:…", one unit's only
    Column("unit_id", UNIT_ID, ForeignKey("units.id"), nullable=False, index=True),
    Column("added_at", MOMENT, nullable=False),
    Column("revoked_at", MOMENT, nullable=True),  # bundles refused from this moment on
)

successions = Table(
    "successions",
    metadata,
    Column("predecessor", UNIT_ID, ForeignKey("units.id"), primary_key=True),
    Column("successor", UNIT_ID, ForeignKey("units.id"), nullable=False, index=True),
    Column("effective", DAY, nullable=False),  # the predecessor's keys stop counting then
)

bundles = Table(
    "bundles",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the signed bytes
    Column("unit_id", UNIT_ID, nullable=False),
    Column("sweep_id", String(128), nullable=False),
    Column("size", Integer, nullable=False),
    Column("received", MOMENT, nullable=False),
    Column("source", String(300), nullable=False, default=""),
    # The signed bytes, zlib-compressed (JSON shrinks ~10 times: a tenth of the writes and of
    # the fsync at each ingest); the digest is of the bytes as sent. None once pruned.
    Column("data", Bytes, nullable=True),
    Column("pruned_at", MOMENT, nullable=True),
    UniqueConstraint("unit_id", "sweep_id"),
)

sweeps = Table(
    "sweeps",
    metadata,
    Column("unit_id", UNIT_ID, primary_key=True),
    Column("sweep_id", String(128), primary_key=True),
    Column("digest", String(64), ForeignKey("bundles.digest"), nullable=False),
    Column("started", MOMENT, nullable=False),
    Column("finished", MOMENT, nullable=True),
    Column("received", MOMENT, nullable=False),
    Column("complete", Boolean, nullable=False),
    Column("profile", String(32), nullable=False),
    Column("level", String(16), nullable=False),  # as the bundle said, "district" included
    Column("hosts", Integer, nullable=False),
    Column("services", Integer, nullable=False),
    Column("overall", Float, nullable=True),
    Column("coverage", Float, nullable=False),
    Column("score", Json, nullable=False),
    Column("pillars", Json, nullable=False),
    Column("failed", Json, nullable=False),  # check id → failed targets
    Column("checked", Json, nullable=False),  # check id → assessed targets
    Column("severity", Json, nullable=False),  # check id → severity of the failed check
    Index(None, "unit_id", "started"),
)

# Each unit's latest sweep, kept at ingest (issue #15): the console's searches join it by its
# key instead of working out "the newest per unit" over every sweep on each query, which on
# PostgreSQL at 4,000 units turned a 50 ms search into a 4 s one once the planner's estimate
# of that subquery went wrong. Same start: the greater sweep id, as the pages say.
latest_sweeps = Table(
    "latest_sweeps",
    metadata,
    Column("unit_id", UNIT_ID, primary_key=True),
    Column("sweep_id", String(128), nullable=False),
    Column("started", MOMENT, nullable=False),
)

findings = Table(
    "findings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", UNIT_ID, nullable=False),
    Column("sweep_id", String(128), nullable=False),
    # Not indexed alone (nor ip): every search joins each unit's latest sweep first and seeks
    # its rows by (unit, sweep, check); an index of its own only made SQLite read that check's
    # rows of every week held, and cost each ingest 1,300 more index entries.
    Column("check_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    # Not indexed alone: four values, searched with a check, a unit or a host beside it.
    Column("severity", String(16), nullable=False),
    Column("ip", String(300), nullable=False),  # searched by prefix (LIKE): no index helps
    Column("port", Integer, nullable=True),
    Column("proto", String(8), nullable=True),
    Column("evidence", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("waiver", Text, nullable=True),
    # With the check: "telnet in each unit's latest sweep" seeks each sweep's few rows
    # instead of reading that check's rows of every week (60 ms → 11 ms at Tây Ninh's size).
    Index(None, "unit_id", "sweep_id", "check_id"),
)

hosts = Table(
    "hosts",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", UNIT_ID, nullable=False),
    Column("sweep_id", String(128), nullable=False),
    Column("ip", String(64), nullable=False, index=True),
    Column("mac", String(32), nullable=True, index=True),
    Column("vendor", String(300), nullable=True),
    Column("hostname", String(300), nullable=True),
    Column("os", String(300), nullable=True),
    Column("device_type", String(32), nullable=True),
    Column("services", Json, nullable=False),  # [{port, proto, name, product, version}]
    Index(None, "unit_id", "sweep_id"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("unit_id", UNIT_ID, nullable=False),
    Column("sweep_id", String(128), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("device", String(300), nullable=False),
    Column("ip", String(64), nullable=False),
    Column("port", Integer, nullable=True),
    Column("proto", String(8), nullable=True),
    Column("before", Text, nullable=False),
    Column("after", Text, nullable=False),
    Index(None, "unit_id", "sweep_id"),
)

# -- the console's accounts (issue #15) --------------------------------------------------------

users = Table(
    "users",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("role", String(16), nullable=False),  # province | group | unit
    Column("group_id", UNIT_ID, nullable=True),  # the group a "group" user sees
    Column("unit_id", UNIT_ID, nullable=True),  # the unit a "unit" user sees
    Column("password_hash", String(200), nullable=False),  # Argon2id, never the password
    Column("disabled", Boolean, nullable=False, default=False),
    Column("failed_logins", Integer, nullable=False, default=0),
    Column("locked_until", MOMENT, nullable=True),
    Column("created_at", MOMENT, nullable=False),
    Column("password_set_at", MOMENT, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the cookie's secret
    Column("user_name", String(64), ForeignKey("users.name"), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_at", MOMENT, nullable=False),
    Column("seen_at", MOMENT, nullable=False),
    Column("expires_at", MOMENT, nullable=False),
)

api_tokens = Table(
    "api_tokens",
    metadata,
    Column("digest", String(64), primary_key=True),  # SHA-256 of the token, never the token
    Column("name", String(64), nullable=False, unique=True),
    Column("role", String(16), nullable=False),
    Column("group_id", UNIT_ID, nullable=True),
    Column("unit_id", UNIT_ID, nullable=True),
    Column("created_at", MOMENT, nullable=False),
    Column("revoked_at", MOMENT, nullable=True),
)

audit = Table(
    "audit",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", MOMENT, nullable=False, index=True),
    Column("who", String(64), nullable=False),  # a user, "token:<name>", or "-"
    Column("event", String(32), nullable=False),  # login, login_failed, export, token_use, …
    Column("detail", Text, nullable=False),
    Column("source", String(64), nullable=False),  # the client's address
)
