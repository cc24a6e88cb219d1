"""Two writers and one reader on one store at once (issue #5): no error, no lost sweep, and the
reader never sees half of a sweep.

Run as a script, this file is a child: ``python test_store_concurrency.py write STORE NAME N``
commits N sweeps; ``… read STORE`` reads until told to stop and prints what it checked.
"""

from __future__ import annotations

import signal
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from paths import child_env

from inventory.store import Inventory

HERE = Path(__file__).resolve().parent
ROUNDS = 100


def writer(store_path: str, name: str, rounds: int) -> None:
    sys.path.insert(0, str(HERE.parents[1] / "helpers"))
    from factories import T0, host, svc, sweep

    from secposture.scoring.score import score_findings

    store = Inventory(store_path, keep_sweeps=10)
    score = score_findings([])
    for i in range(rounds):
        # Each writer's sweeps see its own host plus a shared one whose service flips.
        s = sweep(
            host(f"10.77.0.{1 if name == 'a' else 2}"),
            host("10.77.0.100", svc(80 if i % 2 else 443, "http")),
            sweep_id=f"{name}-{i}",
            started=T0 + timedelta(minutes=i),
        )
        store.commit_sweep(s, [], score)
        print(s.sweep_id, flush=True)


def reader(store_path: str) -> None:
    """Read until SIGTERM; every read must be a whole store state."""
    stop = False

    def on_term(*_: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, on_term)
    store = Inventory(store_path)
    reads, last = 0, 0
    while not stop:
        if not store.path.exists():
            continue
        data = store.read()
        committed = [s["sweep_id"] for s in store.committed(data)]
        ids = set(committed)
        # never fewer sweeps than before, and no sweep's changes or devices without its record
        assert len(committed) >= last, (len(committed), last)
        assert {c.sweep_id for c in store.changes(data=data)} <= ids
        assert all(set(d["sweep_ids"]) <= ids for d in store.devices(data))
        for s in store.committed(data):
            assert s["changes"] == sum(
                1 for c in data["changes"].values() if c["sweep_id"] == s["sweep_id"]
            )
        last = len(committed)
        reads += 1
    print(f"reads {reads} last {last}", flush=True)


def test_two_writers_and_a_reader_lose_nothing(tmp_path: Path) -> None:
    store_path = tmp_path / "store.json"
    env = child_env()

    def spawn(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, __file__, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )

    # Given a reader polling the store and two writers committing 100 sweeps each
    read = spawn("read", str(store_path))
    writers = [spawn("write", str(store_path), name, str(ROUNDS)) for name in ("a", "b")]
    outputs = [w.communicate(timeout=300) for w in writers]
    read.send_signal(signal.SIGTERM)
    read_out, read_err = read.communicate(timeout=60)
    # Then no process failed ...
    for w, (_, err) in zip(writers, outputs, strict=True):
        assert w.returncode == 0, err
    assert read.returncode == 0, read_err
    # ... the reader really read while they wrote ...
    reads = int(read_out.split()[1])
    assert reads >= ROUNDS, read_out
    # ... and every sweep either writer reported is in the store, with its changes
    reported = [sid for out, _ in outputs for sid in out.split()]
    assert len(reported) == 2 * ROUNDS
    store = Inventory(store_path)
    committed = [s["sweep_id"] for s in store.committed()]
    assert sorted(committed) == sorted(reported)
    flips = [c for c in store.changes() if c.ip == "10.77.0.100"]
    assert flips, "the shared host's service flips must have been recorded"


if __name__ == "__main__":
    if sys.argv[1] == "write":
        writer(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    else:
        reader(sys.argv[2])
