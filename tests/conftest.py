from __future__ import annotations

import itertools
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

# Shared test helpers (factories, recorded samples, the browser driver) import by bare name.
sys.path.insert(0, str(Path(__file__).parent / "helpers"))

if TYPE_CHECKING:
    from postgres import PostgresServer

_database_numbers = itertools.count(1)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One throw-away PostgreSQL server for the session (tests/helpers/postgres.py): a Unix
    socket in a temporary directory, no TCP."""
    from postgres import PostgresServer, postgres_available

    reason = postgres_available()
    if reason is not None:
        # Not a skip: issue #14's store must be shown on a real PostgreSQL, and `make test`
        # installs Debian's package (make labdeps), so its absence is a broken set-up.
        pytest.fail(f"PostgreSQL is needed for this test (make labdeps): {reason}")
    with PostgresServer() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer, request: pytest.FixtureRequest) -> Iterator[str]:
    """The SQLAlchemy URL of a fresh, empty database of its own for this test (dropped after
    it, even with connections still open)."""
    stem = re.sub(r"[^a-z0-9_]+", "_", request.node.name.lower())[:40]
    name = f"t{next(_database_numbers)}_{stem}".rstrip("_")
    url = postgres_server.create_database(name)
    yield url
    postgres_server.drop_database(name)
