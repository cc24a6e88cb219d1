"""Crash-safe TinyDB storage and the inter-process lock around it.

TinyDB's JSONStorage rewrites its file in place, so a power cut mid-write leaves a torn file
(libraries.md B2). Here every write goes to a temporary file in the same folder, is fsynced,
renamed over the old file and the folder is fsynced: a reader sees the old or the new file,
never a mix. Writers take an exclusive lock on a file beside the store, so the scheduler daemon
and a CLI command never interleave their read-modify-write cycles.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import fcntl
import json
import os
import tempfile
import time
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson
from tinydb.storages import Storage

Tables = dict[str, dict[str, Any]]

# How long a writer waits for another writer (a weekly sweep's commit takes about a second).
LOCK_TIMEOUT_S = 120.0


class StoreError(Exception):
    """The store cannot be opened or written; phrased for the user."""


def atomic_write_bytes(
    path: Path, payload: bytes, *, durable: bool = True, sync_dir: bool = True
) -> None:
    """Write ``payload`` to ``path`` atomically: a reader sees the old file or the new one.

    ``durable`` fsyncs the data before the rename and, with ``sync_dir``, the folder after it,
    so the new file survives a power cut. A caller writing several files into one folder
    passes ``sync_dir=False`` for all but the last (one folder fsync covers every rename);
    output that can be written again, such as report pages, passes ``durable=False``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            if durable:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    if durable and sync_dir:
        fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make the names created, renamed or removed in ``folder`` survive a power cut."""
    dir_fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def remove_orphans(path: Path) -> list[Path]:
    """Delete temporary files a killed writer left beside ``path``; call under the lock."""
    removed = []
    for tmp in path.parent.glob(f".{path.name}.*.tmp"):
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
            removed.append(tmp)
    return removed


def read_tables(path: Path) -> Tables | None:
    """The store's tables, or None when there is no store yet."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StoreError(f"{path}: cannot read the store ({exc.strerror})") from None
    return decode_tables(raw, path)


def decode_tables(raw: bytes, path: Path) -> Tables | None:
    """The tables in a store file's bytes (``path`` names it in errors); None when empty."""
    if not raw.strip():
        return None
    try:
        data = _loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise StoreError(f"{path}: the store is not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise StoreError(f"{path}: the store is not a TinyDB file (top level is not an object)")
    return data


# orjson parses the store twice and writes it eight times as fast as the json module (bench/
# README.md); the json module is the fallback for text orjson refuses, such as a lone UTF-16
# surrogate in a banner, which it writes as an ASCII escape that both can read back.
def _loads(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        return json.loads(raw)


def encode_tables(data: Tables) -> bytes:
    """The store's bytes: compact JSON, UTF-8 (Vietnamese names stay readable)."""
    try:
        return orjson.dumps(data)
    except TypeError:  # orjson.JSONEncodeError is a TypeError
        return json.dumps(data, separators=(",", ":")).encode("ascii")


class AtomicJSONStorage(Storage):
    """TinyDB storage: whole-file JSON, replaced atomically on every write.

    Use it for queries (``TinyDB(path, storage=AtomicJSONStorage)``); writes through TinyDB's
    Table API bypass the store's lock and history, so the inventory writes through
    :class:`inventory.store.Inventory` only."""

    def __init__(self, path: str | Path, **_: Any) -> None:
        super().__init__()
        self.path = Path(path)

    def read(self) -> Tables | None:
        """The stored tables, or None when the file does not exist yet."""
        return read_tables(self.path)

    def write(self, data: Tables) -> None:
        """Replace the whole file atomically with ``data``."""
        atomic_write_bytes(self.path, encode_tables(data))

    def close(self) -> None:
        """Nothing to release: every write already closed its file."""
        pass


def pack(payload: bytes | Iterable[bytes]) -> str:
    """A large JSON document, whole or in pieces, as one compressed string field.

    A sweep's observations are a few megabytes of JSON; kept as parsed objects, twenty of them
    cost a gigabyte of memory and seconds to parse on every read. As one string each they are
    parsed only when asked for, and the file stays plain TinyDB JSON. Given in pieces, the
    document is compressed as they come and never stands whole in memory (a 10,000-host sweep
    is ~60 MB of JSON, issue #20)."""
    pieces = [payload] if isinstance(payload, bytes) else payload
    z = zlib.compressobj(6)
    out = [z.compress(piece) for piece in pieces]
    out.append(z.flush())
    return base64.b64encode(b"".join(out)).decode("ascii")


def unpack(blob: str) -> Any:
    """The JSON document :func:`pack` stored."""
    try:
        return _loads(zlib.decompress(base64.b64decode(blob)))
    except (ValueError, zlib.error) as exc:
        raise StoreError(f"a stored sweep record is damaged ({exc})") from None


@contextlib.contextmanager
def locked(path: Path, *, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold the store's writer lock: one writer at a time, across processes.

    The lock is a separate file so that replacing the store file never drops it. Readers need
    no lock: a writer replaces the whole file by rename, so a reader holds the old or the new
    one. The holder's pid is written into the lock file for the "busy" message."""
    lock_path = path.with_name(path.name + ".lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        _acquire(fd, lock_path, timeout_s)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, lock_path: Path, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    delay = 0.005
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES):
                raise StoreError(f"{lock_path}: cannot lock the store ({exc.strerror})") from None
        if time.monotonic() >= deadline:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            raise StoreError(
                f"the store is busy: another secposture process (pid {holder}) has been "
                f"writing it for over {timeout_s:.0f} s ({lock_path})"
            )
        time.sleep(delay)
        delay = min(delay * 2, 0.1)
