"""A writer killed with SIGKILL at random points never damages the store (issue #5).

A child process commits sweeps in a loop and prints each sweep id once ``commit_sweep`` has
returned; the parent kills it at a random moment. Afterwards the store must open, through our
reader and through plain TinyDB, and every sweep the child reported must be in it.

Run as a script, this file is the child: ``python test_store_crash.py STORE PREFIX``.
"""

from __future__ import annotations

import random
import signal
import sys
from datetime import timedelta
from pathlib import Path

from kill_helpers import kill_at_random
from tinydb import TinyDB

from inventory.storage import AtomicJSONStorage
from inventory.store import Inventory

HERE = Path(__file__).resolve().parent
MIN_WRITES = 200
MIN_ROUNDS = 25
MIN_TORN = 3  # kills that provably landed inside a write (a temporary file was left)
MAX_ROUNDS = 200


def child(store_path: str, prefix: str) -> None:
    """Commit sweeps until killed; print each id after its commit returned."""
    sys.path.insert(0, str(HERE.parents[1] / "helpers"))
    from factories import T0, host, svc, sweep

    from secposture.scoring.score import score_findings

    store = Inventory(store_path, keep_sweeps=5)
    score = score_findings([])
    print("ready", flush=True)
    for i in range(10_000):
        # 120 hosts, one of which changes a port every sweep: a write takes some milliseconds,
        # so random kills land in the middle of writes too.
        hosts = [
            host(
                f"10.77.0.{n + 1}", svc(22, "ssh"), svc(80 + (i % 3 if n == i % 120 else 0), "http")
            )
            for n in range(120)
        ]
        sid = f"{prefix}-{i}"
        store.commit_sweep(sweep(*hosts, sweep_id=sid, started=T0 + timedelta(hours=i)), [], score)
        print(sid, flush=True)


def run_round(store_path: Path, prefix: str, rng: random.Random) -> list[str]:
    """Start a child, kill it at a random time after it is ready; return what it reported."""
    killed = kill_at_random(__file__, [str(store_path), prefix], rng, 0.4)
    # The child must have been killed by us, not have failed on its own.
    assert killed.ready and killed.returncode == -signal.SIGKILL, (killed.returncode, killed.err)
    return killed.out.split()


def test_sigkill_at_random_points_never_loses_a_committed_sweep(tmp_path: Path) -> None:
    store_path = tmp_path / "store.json"
    rng = random.Random(20261122)  # a fixed seed: a failure can be replayed
    reported: list[str] = []
    rounds = torn = 0
    orphans: set[Path] = set()
    while rounds < MAX_ROUNDS and (
        len(reported) < MIN_WRITES or rounds < MIN_ROUNDS or torn < MIN_TORN
    ):
        reported += run_round(store_path, f"r{rounds}", rng)
        rounds += 1
        # A temporary file left behind means the kill hit between mkstemp and rename.
        left = set(tmp_path.glob(".store.json.*.tmp"))
        torn += bool(left - orphans)
        orphans |= left
        # Then the store opens, both through the inventory and through plain TinyDB ...
        store = Inventory(store_path, keep_sweeps=5)
        committed = {s["sweep_id"] for s in store.committed()}
        TinyDB(store_path, storage=AtomicJSONStorage).tables()
        # ... and every sweep the child reported committed is in it
        missing = [sid for sid in reported if sid not in committed]
        assert not missing, f"round {rounds}: reported committed but lost: {missing}"
        # and the latest full sweep record reads back whole
        latest = store.latest_result()
        assert latest is not None and len(latest.hosts) == 120
    assert len(reported) >= MIN_WRITES and rounds >= MIN_ROUNDS
    assert torn >= MIN_TORN, f"only {torn} kills landed inside a write in {rounds} rounds"


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2])
