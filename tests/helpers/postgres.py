"""A throw-away PostgreSQL server for tests, from Debian's packages (postgresql).

The server listens on a Unix socket in its own temporary directory and on no TCP port
(``listen_addresses = ''``), trusts whoever reaches that socket (the directory is 0700, so only
its owner and root can), and is deleted with its data when stopped. PostgreSQL refuses to run
as root: when the tests run as root, initdb and the server run as the ``postgres`` system user
(created by the Debian package), which owns the temporary directory.

    with PostgresServer() as server:
        engine = sqlalchemy.create_engine(server.create_database("t1"))
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import quote

import psycopg
from psycopg import sql

# Debian installs each major version's programs here; the newest complete one is used.
DEBIAN_BINDIRS = "/usr/lib/postgresql"
PROGRAMS = ("initdb", "pg_ctl", "postgres")
# The system user the server runs as when the tests run as root.
SYSTEM_USER = "postgres"
# The server's bootstrap superuser, whom the URLs name (trust authentication, no password).
SUPERUSER = "postgres"
PORT = 5432  # only names the socket file (.s.PGSQL.5432) in the private socket directory
READY_TIMEOUT_S = 30.0
# A Unix socket's path (sun_path) holds at most 107 bytes, ".s.PGSQL.5432" included.
MAX_SOCKET_DIR = 107 - len(f"/.s.PGSQL.{PORT}")
_DB_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


def find_bindir() -> Path | None:
    """The directory holding initdb, pg_ctl and postgres, or None."""
    candidates: list[Path] = []
    debian = Path(DEBIAN_BINDIRS)
    if debian.is_dir():
        versions = [p for p in debian.iterdir() if p.name.replace(".", "").isdigit()]
        versions.sort(key=lambda p: [int(part) for part in p.name.split(".")], reverse=True)
        candidates += [p / "bin" for p in versions]
    on_path = shutil.which("initdb")
    if on_path is not None:
        candidates.append(Path(on_path).resolve().parent)
    for bindir in candidates:
        if all(os.access(bindir / program, os.X_OK) for program in PROGRAMS):
            return bindir
    return None


def postgres_available() -> str | None:
    """Why a test PostgreSQL server cannot run here, or None when it can."""
    if find_bindir() is None:
        return (
            f"PostgreSQL's {', '.join(PROGRAMS)} are not installed "
            "(Debian: apt-get install -y postgresql, or make labdeps)"
        )
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SYSTEM_USER)
        except KeyError:
            return f"running as root, and there is no {SYSTEM_USER!r} user to run PostgreSQL as"
    return None


def _url(socket_dir: Path, dbname: str) -> str:
    return f"postgresql+psycopg://{SUPERUSER}@/{dbname}?host={quote(str(socket_dir), safe='/')}"


class PostgresServer:
    """One PostgreSQL server in a temporary directory; ``start()`` it, ``stop()`` it (or use
    it as a context manager). ``url`` is the SQLAlchemy URL of its ``postgres`` database."""

    def __init__(self, base: Path | str | None = None) -> None:
        self._base = Path(base) if base is not None else None
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self.root: Path | None = None

    # -- where things are ----------------------------------------------------------------------

    def _require_root(self) -> Path:
        if self.root is None:
            raise RuntimeError("the PostgreSQL server is not started")
        return self.root

    @property
    def socket_dir(self) -> Path:
        return self._require_root()

    @property
    def data_dir(self) -> Path:
        return self._require_root() / "data"

    @property
    def log_path(self) -> Path:
        return self._require_root() / "server.log"

    @property
    def user(self) -> str:
        return SUPERUSER

    @property
    def url(self) -> str:
        return _url(self.socket_dir, "postgres")

    def url_for(self, dbname: str) -> str:
        return _url(self.socket_dir, dbname)

    # -- running programs as the server's user -------------------------------------------------

    def _as_server_user(self) -> dict[str, Any]:
        """subprocess arguments that run a program as the unprivileged server user."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        if os.geteuid() != 0:
            return {"env": env}
        entry = pwd.getpwnam(SYSTEM_USER)
        env.update(HOME=str(self._require_root()), USER=entry.pw_name, LOGNAME=entry.pw_name)
        return {"env": env, "user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}

    def _run(self, args: list[str], timeout: float = 60) -> None:
        proc = subprocess.run(
            args,
            cwd=self._require_root(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **self._as_server_user(),
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{' '.join(args)} exited with {proc.returncode}:\n{proc.stdout}{proc.stderr}"
            )

    # -- life cycle ----------------------------------------------------------------------------

    def start(self) -> PostgresServer:
        if self.root is not None:
            raise RuntimeError("the PostgreSQL server is already started")
        reason = postgres_available()
        if reason is not None:
            raise RuntimeError(reason)
        bindir = find_bindir()
        assert bindir is not None
        self.root = Path(tempfile.mkdtemp(prefix="secposture-pg-", dir=self._base))
        try:
            self._start(bindir)
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self, bindir: Path) -> None:
        root = self._require_root()
        if len(str(root)) > MAX_SOCKET_DIR:
            raise RuntimeError(f"{root} is too long for a Unix socket's directory")
        if os.geteuid() == 0:
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(root, entry.pw_uid, entry.pw_gid)
        os.chmod(root, 0o700)
        self._run(
            [
                str(bindir / "initdb"),
                f"--pgdata={self.data_dir}",
                f"--username={SUPERUSER}",
                "--auth=trust",
                "--no-sync",  # initdb's own files; the server itself runs with fsync on
                "--encoding=UTF8",
                "--locale=C.UTF-8",
                "--no-instructions",
            ]
        )
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write(
                "\n# secposture tests: a Unix socket in a private directory, no TCP at all\n"
                "listen_addresses = ''\n"
                f"unix_socket_directories = '{root}'\n"
                f"port = {PORT}\n"
                "max_connections = 50\n"
                "fsync = on\n"
                "synchronous_commit = on\n"
            )
        # The postmaster is our child (not pg_ctl's daemon): if it dies while starting, we see
        # it at once, and a Ctrl-C that stops pytest stops it too.
        self._log = self.log_path.open("ab")
        self._proc = subprocess.Popen(
            [str(bindir / "postgres"), "-D", str(self.data_dir)],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            **self._as_server_user(),
        )
        self._wait_ready()

    def _wait_ready(self) -> None:
        assert self._proc is not None
        deadline = time.monotonic() + READY_TIMEOUT_S
        last: Exception | None = None
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(
                    f"PostgreSQL exited with {self._proc.returncode} while starting; "
                    f"{self._log_tail()}"
                )
            try:
                with psycopg.connect(self._conninfo("postgres"), connect_timeout=2) as conn:
                    conn.execute("select 1")
                return
            except psycopg.OperationalError as exc:
                last = exc
                time.sleep(0.02)
        raise RuntimeError(
            f"PostgreSQL was not ready after {READY_TIMEOUT_S:.0f} s ({last}); {self._log_tail()}"
        )

    def _log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError as exc:
            return f"no server log ({exc})"
        tail = "\n".join(text.splitlines()[-lines:])
        return f"the server log ends:\n{tail}"

    def stop(self) -> None:
        """Stop the server at once (no checkpoint: its data is deleted) and remove its
        directory. Safe to call twice, or after a failed start."""
        if self.root is None:
            return
        try:
            if self._proc is not None and self._proc.poll() is None:
                bindir = find_bindir()
                assert bindir is not None
                try:
                    stop = ["stop", "-D", str(self.data_dir), "-m", "immediate", "-w", "-t", "30"]
                    self._run([str(bindir / "pg_ctl"), *stop])
                finally:
                    try:
                        self._proc.wait(timeout=10)
                    except subprocess.TimeoutExpired:
                        self._proc.kill()
                        self._proc.wait(timeout=10)
        finally:
            self._proc = None
            if self._log is not None:
                self._log.close()
                self._log = None
            root, self.root = self.root, None
            shutil.rmtree(root, ignore_errors=True)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- databases -----------------------------------------------------------------------------

    def _conninfo(self, dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host=str(self.socket_dir), port=PORT, user=SUPERUSER, dbname=dbname
        )

    def create_database(self, name: str) -> str:
        """Create the empty database ``name`` (lower-case letters, digits, underscores) and
        return its SQLAlchemy URL."""
        if not _DB_NAME.fullmatch(name):
            raise ValueError(f"{name!r} is not a plain PostgreSQL database name")
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url_for(name)

    def drop_database(self, name: str) -> None:
        """Drop the database ``name``, closing whatever connections to it remain."""
        with psycopg.connect(self._conninfo("postgres"), autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
