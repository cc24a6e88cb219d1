"""The collector store's per-agency indexes (issue #8): rebuilt from the bundle files whenever
they do not account for them, seen fresh by every process, and whole after a SIGKILL.

Run as a script, this file is the child of the kill test:
``python test_collector_store.py CONFIG INBOX START``.
"""

from __future__ import annotations

import random
import shutil
import signal
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from kill_helpers import kill_at_random
from tinydb import TinyDB

from inventory.storage import AtomicJSONStorage
from secposture.bundle.envelope import sign_payload
from secposture.province.hierarchy import (
    CollectorConfig,
    Hierarchy,
    load_collector_config,
    parse_collector_config,
)
from secposture.province.store import CollectorStore
from secposture.province.synthetic import SyntheticProvince, make_payload, make_province

T0 = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
MIN_ROUNDS = 12
MIN_TORN = 3  # kills that provably landed inside a store (a temporary file or unlisted file)
MAX_ROUNDS = 60
WEEKS = 32  # of bundles per unit in the kill test: more than the rounds get through


def small_province(units: int = 4) -> SyntheticProvince:
    return make_province(
        communes=units - 2, wards=1, departments=1, groups=0, succession=False, hosts=(3, 6)
    )


def bundles_of(province: SyntheticProvince, weeks: int) -> list[bytes]:
    """``weeks`` signed bundles per unit, week by week."""
    return [
        sign_payload(make_payload(unit, T0 + timedelta(weeks=w)), unit.key)
        for w in range(weeks)
        for unit in province.units
    ]


def open_store(config: CollectorConfig) -> CollectorStore:
    """A store as a fresh process would open it (no index held in memory yet)."""
    return CollectorStore(config.collector.store, Hierarchy.from_config(config), max_bytes=2**24)


def stored(store: CollectorStore) -> set[tuple[str, str]]:
    return {(r["agency"], r["sweep_id"]) for r in store.rows()}


def on_disk(root: Path) -> set[tuple[str, str]]:
    return {
        (p.parent.name, p.name.removesuffix(".bundle"))
        for p in (root / "bundles").glob("*/*.bundle")
    }


@pytest.fixture
def province_store(tmp_path: Path) -> tuple[SyntheticProvince, CollectorConfig]:
    province = small_province()
    return province, parse_collector_config(province.config(str(tmp_path / "store")))


def test_a_file_its_index_does_not_list_is_indexed_on_the_next_read(
    province_store: tuple[SyntheticProvince, CollectorConfig],
) -> None:
    province, config = province_store
    first, second = bundles_of(province, 2)[:: len(province.units)][:2]  # one unit, two weeks
    store = open_store(config)
    assert store.ingest(first, source="test").accepted
    [row] = store.rows()
    folder = config.collector.store / "bundles" / row["agency"]
    # Given a crash between writing a bundle file and its index row
    name = f"{row['agency']}-{(T0 + timedelta(weeks=1)):%Y%m%dT%H%M%SZ}-0000.bundle"
    (folder / name).write_bytes(second)
    # Then a fresh reader indexes the file, and a replay of it is a duplicate
    again = open_store(config)
    assert len(again.rows()) == 2
    outcome = again.ingest(second, source="test")
    assert not outcome.accepted and outcome.reason is not None
    assert outcome.reason.value == "duplicate"
    # A file that does not verify is listed as unindexed, and not rebuilt on every read
    (folder / "forged.bundle").write_bytes(second.replace(b'"pass"', b'"fail"', 1))
    assert len(open_store(config).rows()) == 2
    stamp = (folder / "index.json").stat().st_mtime_ns
    assert len(open_store(config).rows()) == 2
    assert (folder / "index.json").stat().st_mtime_ns == stamp


def test_what_another_process_stored_is_seen_by_a_store_already_open(
    province_store: tuple[SyntheticProvince, CollectorConfig],
) -> None:
    province, config = province_store
    bundles = bundles_of(province, 2)
    server, other = open_store(config), open_store(config)  # e.g. serve and 'ingest DIR'
    for data in bundles[: len(province.units)]:
        assert server.ingest(data, source="api").accepted
    assert len(server.rows()) == len(province.units)  # read and kept in memory
    # When another process stores the next week's bundles
    for data in bundles[len(province.units) :]:
        assert other.ingest(data, source="folder").accepted
    # Then the first one sees them, and refuses them as duplicates
    assert len(server.rows()) == len(bundles)
    outcome = server.ingest(bundles[-1], source="api")
    assert outcome.reason is not None and outcome.reason.value == "duplicate"
    # and the newest week is each unit's latest
    latest = server.latest_rows()
    assert {r["started"] for r in latest.values()} == {(T0 + timedelta(weeks=1)).isoformat()}


# --- killed mid-write ------------------------------------------------------------------------


def child(config_path: str, inbox: str, start: str) -> None:
    """Ingest the inbox's bundles from number ``start`` on; print each number once stored."""
    config = load_collector_config(config_path)
    store = open_store(config)
    files = sorted(Path(inbox).glob("*.bundle"))
    print("ready", flush=True)
    for n in range(int(start), len(files)):
        outcome = store.ingest(files[n].read_bytes(), source="crash-test")
        if not outcome.accepted and (outcome.reason is None or outcome.reason.value != "duplicate"):
            print(f"refused {n} {outcome.detail}", flush=True)
            return
        print(n, flush=True)
    print("done", flush=True)


def run_round(config: Path, inbox: Path, start: int, rng: random.Random) -> list[str]:
    """Start a child at bundle ``start``, kill it at a random moment; what it printed."""
    killed = kill_at_random(__file__, [str(config), str(inbox), str(start)], rng, 0.3)
    lines = killed.out.split("\n")
    assert killed.ready and not any(line.startswith("refused") for line in lines), killed.err
    assert killed.returncode == -signal.SIGKILL or "done" in lines, killed
    return [line for line in lines if line.isdigit()]


def unlisted(root: Path) -> bool:
    """A bundle file its agency's index does not list: a kill between the two writes."""
    for folder in (root / "bundles").glob("*"):
        index = folder / "index.json"
        listed = index.read_bytes().count(b'"file":') if index.exists() else 0
        if listed != len(list(folder.glob("*.bundle"))):
            return True
    return False


def test_sigkill_at_random_points_never_loses_a_stored_bundle(tmp_path: Path) -> None:
    province = small_province(6)
    config_path = tmp_path / "collector.toml"
    lines = [
        "[collector]",
        f'store = "{tmp_path / "store"}"',
        "[province]",
        f'id = "{province.id}"',
        f'name = "{province.name}"',
    ]
    for unit in province.units:
        lines += [
            "[[unit]]",
            f'id = "{unit.id}"',
            f'name = "{unit.name}"',
            f'level = "{unit.level.value}"',
            f'parent = "{unit.parent}"',
            f'keys = ["{unit.public_key}"]',
        ]
    config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = load_collector_config(config_path)
    root = config.collector.store
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    bundles = bundles_of(province, WEEKS)
    for n, data in enumerate(bundles):
        (inbox / f"{n:04d}.bundle").write_bytes(data)
    sweeps = [
        (u.id, f"{u.id}-{T0 + timedelta(weeks=w):%Y%m%dT%H%M%SZ}-0000")
        for w in range(WEEKS)
        for u in province.units
    ]

    rng = random.Random(20261208)  # a fixed seed: a failure can be replayed
    acknowledged: set[tuple[str, str]] = set()
    temporary: set[Path] = set()  # left by earlier kills (the next store in a folder clears)
    rounds = torn = start = 0
    while rounds < MAX_ROUNDS and (rounds < MIN_ROUNDS or torn < MIN_TORN):
        if start == len(bundles):  # all stored (a fast machine): go on into an empty store
            shutil.rmtree(root)
            acknowledged, temporary, start = set(), set(), 0
        done = run_round(config_path, inbox, start, rng)
        rounds += 1
        acknowledged |= {sweeps[int(n)] for n in done}
        # the next round retries the bundle the kill may have cut short
        start = int(done[-1]) + 1 if done else start
        # a new temporary file, or a file not in its index: the kill landed inside a store
        left = set(root.glob("bundles/*/.*.tmp"))
        torn += bool(left - temporary) or unlisted(root)
        temporary |= left
        # Then the store opens, and holds exactly the files on disk, every acknowledged one
        # among them (a file stored but not acknowledged is a retry's duplicate, not a loss)
        store = open_store(config)
        held = stored(store)
        assert held == on_disk(root), f"round {rounds}: index and files disagree"
        assert acknowledged <= held, f"round {rounds}: lost {sorted(acknowledged - held)}"
        # and every agency's index opens with plain TinyDB, listing its rows
        for folder in (root / "bundles").glob("*"):
            with TinyDB(folder / "index.json", storage=AtomicJSONStorage) as db:
                assert len(db.table("bundles")) == len(list(folder.glob("*.bundle")))
    assert torn >= MIN_TORN, f"only {torn} kills landed inside a store in {rounds} rounds"


if __name__ == "__main__":
    child(sys.argv[1], sys.argv[2], sys.argv[3])
