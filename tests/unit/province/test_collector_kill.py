"""A collector killed (SIGKILL) during a burst of uploads has lost no bundle it answered
"accepted" to, on SQLite and on PostgreSQL (issue #14): 20 rounds each, the collector served
for real by uvicorn in a subprocess on a loopback port, three clients uploading at once.
Since issue #17 "accepted" is what the agent acts on: a reply whose receipt verifies under
the pinned collector key as stored (the agent then deletes the bundle from its outbox)."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from bundle_helpers import free_port
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import sign_payload
from secposture.bundle.keys import create_key, public_key_text
from secposture.bundle.outbox import post_bundle, proof
from secposture.config.sections import Level
from secposture.province.db.engine import database_url, open_database
from secposture.province.db.store import SqlStore
from secposture.province.hierarchy import load_collector_config
from secposture.province.synthetic import SyntheticUnit, make_payload

ROUNDS = 20
CLIENTS = 3
T0 = datetime(2024, 1, 1, 1, 0, tzinfo=UTC)  # 120 weeks on is still in the past
UNITS = [
    SyntheticUnit(f"xa-{n:02d}", f"UBND xã {n}", Level.COMMUNE, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.5)
    for n in range(1, 7)
]  # fmt: skip
WEEKS = 120  # more bundles than the rounds get through


def write_config(tmp: Path, database: str | None) -> Path:
    lines = ["[collector]", f'store = "{tmp / "store"}"',
             f'receipt_key = "file:{tmp / "receipt.key"}"']  # fmt: skip
    if database:
        lines.append(f'database = "{database}"')
    lines += ["[province]", 'id = "tn-tinh"', 'name = "Tỉnh Tây Ninh"']
    for u in UNITS:
        lines += ["[[unit]]", f'id = "{u.id}"', f'name = "{u.name}"', 'level = "commune"',
                  f'keys = ["{u.public_key}"]']  # fmt: skip
    path = tmp / "collector.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def start(config: Path, port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "secposture", "collector", "serve", "-c", str(config),
         "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_PROXY": "*"},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                raise AssertionError(f"collector did not start: {err[-2000:]}") from None
            time.sleep(0.05)


def upload(port: int, data: bytes, pinned: str) -> str | None:
    """What the agent would make of the reply ("delivered", "pending", "rejected"), or None
    when the connection broke (the collector was killed)."""
    reply = post_bundle(f"http://127.0.0.1:{port}", data)
    if reply.status == 0:
        return None
    assert reply.status in (201, 409, 503), (reply.status, reply.reason)
    return proof(reply, data, pinned)[0]


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_collector_loses_no_bundle_it_accepted(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    database = request.getfixturevalue("postgres_url") if backend == "postgresql" else None
    config_path = write_config(tmp_path, database)
    pinned = public_key_text(create_key(tmp_path / "receipt.key"))
    config = load_collector_config(config_path)
    payloads = [make_payload(u, T0 + timedelta(weeks=w)) for w in range(WEEKS) for u in UNITS]
    bundles = [sign_payload(p, u.key) for p, u in zip(payloads, UNITS * WEEKS, strict=True)]
    ids = [(p.agency.id, p.sweep.sweep_id) for p in payloads]
    rng = random.Random(20261203)  # a fixed seed: a failure can be replayed
    accepted: set[int] = set()
    cut = 0  # rounds whose kill broke an upload in flight
    lock = threading.Lock()
    errors: list[BaseException] = []
    for round_no in range(1, ROUNDS + 1):
        port = free_port()
        proc = start(config_path, port)
        pending = [n for n in range(len(bundles)) if n not in accepted]  # more than it gets to
        broke: list[int] = []

        def client(mine: list[int], port: int = port, broke: list[int] = broke) -> None:
            try:
                deliver(mine, port, broke)
            except BaseException as exc:  # a thread's failure must fail the test
                errors.append(exc)

        def deliver(mine: list[int], port: int, broke: list[int]) -> None:
            for n in mine:
                outcome = upload(port, bundles[n], pinned)
                if outcome is None:
                    broke.append(n)
                    return
                if outcome == "delivered":  # the agent deletes it from its outbox now
                    with lock:
                        accepted.add(n)

        threads = [
            threading.Thread(target=client, args=(pending[i::CLIENTS],)) for i in range(CLIENTS)
        ]
        for thread in threads:
            thread.start()
        time.sleep(rng.uniform(0.05, 0.6))
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        for thread in threads:
            thread.join(20)
        assert not errors, f"round {round_no}: {errors[0]!r}"
        cut += bool(broke)
        # Then the store opens, and every bundle it answered "accepted" to is there
        engine = open_database(
            database_url(config.collector.database_url(), config.collector.store)
        )
        try:
            held = {(r["agency"], r["sweep_id"]) for r in SqlStore(engine, config).rows()}
        finally:
            engine.dispose()
        lost = {ids[n] for n in accepted} - held
        assert not lost, f"round {round_no}: lost {sorted(lost)}"
    assert accepted, "no upload was ever accepted"
    assert cut >= ROUNDS // 2, f"only {cut} of {ROUNDS} kills landed during an upload"
