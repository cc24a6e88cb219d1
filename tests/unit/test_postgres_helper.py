"""The tests' own PostgreSQL server (tests/helpers/postgres.py): a fresh database per test,
reached through SQLAlchemy and psycopg 3 over a Unix socket, and no TCP port at all."""

from __future__ import annotations

import os
from pathlib import Path

import sqlalchemy as sa
from postgres import PostgresServer


def _tcp_listening_inodes() -> set[str]:
    """The socket inodes of every TCP socket in the LISTEN state (IPv4 and IPv6)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        path = Path(table)
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A":  # TCP_LISTEN
                inodes.add(fields[9])
    return inodes


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in list(Path(f"/proc/{pid}/fd").iterdir()):
        try:
            target = os.readlink(fd)
        except FileNotFoundError:  # closed meanwhile (the listing's own descriptor, say)
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    return inodes


def test_a_fresh_database_over_a_unix_socket_only(
    postgres_server: PostgresServer, postgres_url: str
) -> None:
    assert postgres_url.startswith("postgresql+psycopg://postgres@/t")
    assert postgres_url.endswith(f"?host={postgres_server.socket_dir}")
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.text("create table device (mac text primary key, name text)"))
            conn.execute(
                sa.text("insert into device values (:mac, :name)"),
                [
                    {"mac": "00:1a:2b:3c:4d:5e", "name": "máy chủ xã"},
                    {"mac": "00:1a:2b:3c:4d:5f", "name": "printer"},
                ],
            )
        with engine.connect() as conn:
            rows = conn.execute(sa.text("select mac, name from device order by mac")).all()
            assert [tuple(r) for r in rows] == [
                ("00:1a:2b:3c:4d:5e", "máy chủ xã"),
                ("00:1a:2b:3c:4d:5f", "printer"),
            ]
            assert conn.execute(sa.text("select current_database()")).scalar() != "postgres"
            # The server listens on no address, and this connection came over the Unix socket.
            assert conn.execute(sa.text("show listen_addresses")).scalar() == ""
            assert conn.execute(sa.text("select inet_server_addr()")).scalar() is None
            assert conn.execute(sa.text("show fsync")).scalar() == "on"
    finally:
        engine.dispose()
    # And the postmaster holds no listening TCP socket (the kernel's view, not the server's).
    pid_file = postgres_server.data_dir / "postmaster.pid"
    postmaster = int(pid_file.read_text().split()[0])
    assert _socket_inodes(postmaster), "the postmaster should hold its Unix socket"
    assert not _socket_inodes(postmaster) & _tcp_listening_inodes()
    # Only its owner (and root) can reach the trusting socket.
    assert postgres_server.socket_dir.stat().st_mode & 0o077 == 0
