"""The inventory store (issue #5): history, identity, status, retention, schema, locking."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from factories import T0, host, obs, svc, sweep
from tinydb import TinyDB

from inventory import storage
from inventory.storage import AtomicJSONStorage, StoreError, locked, pack
from inventory.store import Inventory
from secposture.model.records import Attempt, AttemptStatus, ChangeKind, Reason, SweepResult
from secposture.scoring.score import score_findings

MAC = "02:00:00:00:00:0a"
NO_SCORE = score_findings([])


def week(n: int) -> dict[str, object]:
    return {"sweep_id": f"w{n}", "started": T0 + timedelta(days=7 * n)}


def commit(store: Inventory, s: SweepResult) -> list[ChangeKind]:
    return [c.kind for c in store.commit_sweep(s, [], NO_SCORE)]


@pytest.fixture
def store(tmp_path: Path) -> Inventory:
    return Inventory(tmp_path / "inv" / "store.json", keep_sweeps=3, stale_after_days=30)


def test_device_history_first_last_seen_ip_history_and_status(store: Inventory) -> None:
    # Given a PC seen in week 0, moved to a new IP in week 1, unseen in weeks 2 and 6
    commit(store, sweep(host("10.77.0.10", svc(22, "ssh"), mac=MAC), host("10.77.0.20"), **week(0)))
    commit(store, sweep(host("10.77.0.11", mac=MAC), host("10.77.0.20"), **week(1)))
    pc = store.device(MAC)
    assert pc is not None
    assert pc["first_seen"] == T0.isoformat()
    assert pc["last_seen"] == (T0 + timedelta(days=7)).isoformat()
    assert [h["ip"] for h in pc["ip_history"]] == ["10.77.0.10", "10.77.0.11"]
    assert pc["sweep_ids"] == ["w0", "w1"] and pc["times_seen"] == 2 and pc["status"] == "active"
    assert store.device("10.77.0.10") == pc  # an old IP still finds it
    # When it is missed by one sweep it is "missing"; after 30 days unseen it is "stale"
    commit(store, sweep(host("10.77.0.20"), **week(2)))
    assert store.device(MAC)["status"] == "missing"  # type: ignore[index]
    commit(store, sweep(host("10.77.0.20"), **week(6)))
    assert store.device(MAC)["status"] == "stale"  # type: ignore[index]
    # Then it is still one device, not two
    assert len(store.devices()) == 2


def test_sweep_record_has_times_profile_scopes_attempts_and_counts(store: Inventory) -> None:
    failed = Attempt(
        stage="ports", target="10.77.0.20", status=AttemptStatus.ERROR, reason=Reason.TIMEOUT
    )
    ok = Attempt(stage="ports", target="10.77.0.10", status=AttemptStatus.COMPLETED)
    s = sweep(host("10.77.0.10", svc(22, "ssh")), host("10.77.0.20", scanned=False),
              attempts=(ok, failed), **week(0))  # fmt: skip
    commit(store, s)
    (record,) = store.sweeps()
    assert record["status"] == "committed"
    assert record["started"] == T0.isoformat() and record["finished"] == T0.isoformat()
    assert record["profile"] == "standard" and record["scopes"] == ["10.77.0.0/24"]
    assert record["counts"] == {"hosts_found": 2, "hosts_scanned": 1, "services_open": 1,
                                "attempts_failed": 1}  # fmt: skip
    assert record["attempts"]["by_stage"] == {"ports": {"completed": 1, "error": 1}}
    assert [a["target"] for a in record["attempts"]["not_completed"]] == ["10.77.0.20"]
    assert record["complete"] is False and record["changes"] == 2


def test_observations_kept_for_last_n_sweeps_and_summaries_forever(store: Inventory) -> None:
    for n in range(5):
        s = sweep(host("10.77.0.10"), observations=(obs("http.title", "10.77.0.10", 80,
                  title=f"week {n}"),), **week(n))  # fmt: skip
        commit(store, s)
    assert [s["sweep_id"] for s in store.sweeps()] == ["w0", "w1", "w2", "w3", "w4"]
    assert store.sweep_record("w1") is None
    kept = store.sweep_record("w2")
    assert kept is not None and kept["result"]["observations"][0]["data"]["title"] == "week 2"
    latest = store.latest_result()
    assert latest is not None and latest.sweep_id == "w4"
    assert len(store.changes()) == 1  # the first sweep's new device; nothing changed since


def test_changes_are_stored_and_filtered_since_a_sweep(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10", svc(80, "http")), **week(0)))
    commit(store, sweep(host("10.77.0.10"), host("10.77.0.20"), **week(1)))
    commit(store, sweep(host("10.77.0.20"), **week(2)))
    since = [(c.sweep_id, c.kind) for c in store.changes(since="w0")]
    assert since == [
        ("w1", ChangeKind.PORT_CLOSED),
        ("w1", ChangeKind.NEW_DEVICE),
        ("w2", ChangeKind.MISSING_DEVICE),
    ]
    with pytest.raises(StoreError, match="no committed sweep 'nope'"):
        store.changes(since="nope")


def test_a_port_closed_while_the_last_scan_failed_is_still_reported(store: Inventory) -> None:
    # The baseline is the last completed scan of the device, not only the previous sweep.
    commit(store, sweep(host("10.77.0.10", svc(80, "http")), **week(0)))
    assert commit(store, sweep(host("10.77.0.10", scanned=False), **week(1))) == []
    assert commit(store, sweep(host("10.77.0.10"), **week(2))) == [ChangeKind.PORT_CLOSED]


def test_returning_device_is_not_new(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10", mac=MAC), **week(0)))
    commit(store, sweep(host("10.77.0.20"), **week(1)))
    assert commit(store, sweep(host("10.77.0.10", mac=MAC), **week(2))) == [
        ChangeKind.DEVICE_RETURNED,
        ChangeKind.MISSING_DEVICE,
    ]
    assert store.device(MAC)["status"] == "active"  # type: ignore[index]


def test_same_sweep_twice_is_refused_and_store_unchanged(store: Inventory) -> None:
    s = sweep(host("10.77.0.10"), **week(0))
    commit(store, s)
    before = store.path.read_bytes()
    with pytest.raises(StoreError, match="already in"):
        commit(store, s)
    assert store.path.read_bytes() == before


def test_file_is_plain_tinydb_json(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10", svc(22, "ssh"), hostname="máy-kế-toán"), **week(0)))
    db = TinyDB(store.path, storage=AtomicJSONStorage)
    assert {"meta", "sweeps", "sweep_data", "devices", "changes"} <= db.tables()
    assert db.table("devices").all()[0]["services"] == {"22/tcp": "ssh"}
    assert db.table("meta").get(doc_id=1)["schema_version"] == 2  # type: ignore[index]
    assert "máy-kế-toán" in store.path.read_text("utf-8")  # Vietnamese kept readable


def test_store_from_a_newer_secposture_is_refused_and_left_alone(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10"), **week(0)))
    data = json.loads(store.path.read_text())
    data["meta"]["1"]["schema_version"] = 99
    store.path.write_text(json.dumps(data))
    before = store.path.read_bytes()
    for action in (store.devices, store.migrate,
                   lambda: commit(store, sweep(host("10.77.0.10"), **week(1)))):  # fmt: skip
        with pytest.raises(StoreError, match="schema 99, newer than this secposture"):
            action()
    assert store.path.read_bytes() == before


def test_skeleton_store_is_migrated_to_the_current_schema(tmp_path: Path) -> None:
    # Given a store as the walking skeleton wrote it (schema 1)
    first = sweep(host("10.77.0.10", svc(22, "ssh", product="OpenSSH"), mac=MAC), **week(0))
    v1 = {
        "meta": {"1": {"schema_version": 1, "agency": "tn-xa-mau"}},
        "sweeps": {"1": {"sweep_id": "w0", "started": T0.isoformat(), "finished": None,
                         "profile": "standard", "scopes": ["10.77.0.0/24"], "complete": True,
                         "counts": first.counts.model_dump(), "score": {}, "changes": 1}},
        "sweep_data": {"1": {"sweep_id": "w0", "started": T0.isoformat(),
                             "result": first.model_dump(mode="json"), "findings": []}},
        "devices": {"1": {"key": f"mac:{MAC}", "ip": "10.77.0.10", "mac": MAC,
                          "first_seen": T0.isoformat(), "last_seen": T0.isoformat(),
                          "status": "active", "sweep_ids": ["w0"],
                          "ip_history": [{"ip": "10.77.0.10", "since": T0.isoformat()}],
                          "services": [svc(22, "ssh", product="OpenSSH").model_dump(mode="json")]}},
        "changes": {"1": {"sweep_id": "w0", "kind": "new_device", "device": f"mac:{MAC}",
                          "ip": "10.77.0.10"}},
    }  # fmt: skip
    store = Inventory(tmp_path / "old.json")
    store.path.write_text(json.dumps(v1))
    # When it is migrated
    assert store.migrate() == (1, 2)
    # Then history is intact and the next sweep compares against it
    assert store.sweep_record("w0")["result"]["sweep_id"] == "w0"  # type: ignore[index]
    assert store.device(MAC)["services"] == {"22/tcp": "ssh OpenSSH"}  # type: ignore[index]
    s = sweep(host("10.77.0.10", svc(22, "ssh", product="OpenSSH"), svc(23, "telnet"), mac=MAC),
              **week(1))  # fmt: skip
    assert commit(store, s) == [ChangeKind.PORT_OPENED]


def test_damaged_store_is_one_clear_error(store: Inventory) -> None:
    store.path.parent.mkdir(parents=True)
    store.path.write_bytes(b'{"meta": {"1": {"schema_ver')
    with pytest.raises(StoreError, match="not valid JSON"):
        store.devices()


def test_damaged_sweep_record_is_one_clear_error(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10"), **week(0)))
    data = json.loads(store.path.read_text())
    data["sweep_data"]["1"]["data"] = pack(b"{}")[:-8] + "!!!!"
    store.path.write_text(json.dumps(data))
    with pytest.raises(StoreError, match="damaged"):
        store.sweep_record("w0")


def test_orphan_temp_files_of_a_killed_writer_are_removed(store: Inventory) -> None:
    commit(store, sweep(host("10.77.0.10"), **week(0)))
    orphan = store.path.with_name(f".{store.path.name}.abc123.tmp")
    orphan.write_bytes(b'{"torn')
    commit(store, sweep(host("10.77.0.10"), **week(1)))
    assert not orphan.exists()


def test_interrupted_and_dead_running_sweeps_are_recorded(store: Inventory) -> None:
    # A sweep cut short by SIGTERM is marked by the agent; one whose process vanished is
    # found out at the next write.
    store.begin_sweep("w0", started=T0, profile="standard", scopes=["10.77.0.0/24"])
    assert store.sweeps()[0]["status"] == "running"
    store.interrupt_sweep("w0", "SIGTERM")
    store.begin_sweep("w1", started=T0, profile="standard", scopes=["10.77.0.0/24"])
    data = json.loads(store.path.read_text())
    data["sweeps"]["2"]["pid"] = 2**22 + 12345  # beyond pid_max: no such process
    store.path.write_text(json.dumps(data))
    commit(store, sweep(host("10.77.0.10"), **week(2)))
    assert [(s["sweep_id"], s["status"]) for s in store.sweeps()] == [
        ("w0", "interrupted"),
        ("w1", "interrupted"),
        ("w2", "committed"),
    ]
    assert store.committed()[0]["sweep_id"] == "w2"


def test_begun_sweep_is_replaced_by_its_commit(store: Inventory) -> None:
    store.begin_sweep("w0", started=T0, profile="standard", scopes=["10.77.0.0/24"])
    commit(store, sweep(host("10.77.0.10"), **week(0)))
    assert [(s["sweep_id"], s["status"]) for s in store.sweeps()] == [("w0", "committed")]


class _Clock:
    """Stands in for ``time`` in inventory.storage: a sleep moves it on at once."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_second_writer_waits_for_the_lock_then_fails_clearly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The wait is counted on a stand-in clock, not timed (issue #12: no wall clock in unit
    # tests). flock locks belong to an open file, so a second open in this process is refused
    # as another process's would be.
    path = tmp_path / "store.json"
    clock = _Clock()
    monkeypatch.setattr(storage, "time", clock)
    busy = rf"busy: another secposture process \(pid {os.getpid()}\)"
    with locked(path):
        with pytest.raises(StoreError, match=busy), locked(path, timeout_s=0.3):
            pass
        # It kept trying, backing off, for the whole timeout before it gave up
        assert len(clock.sleeps) > 1 and sum(clock.sleeps) >= 0.3
    tries = len(clock.sleeps)
    with locked(path, timeout_s=0.3):  # released: taken again at the first try
        pass
    assert len(clock.sleeps) == tries


def test_banner_with_a_lone_surrogate_is_stored_not_lost(store: Inventory) -> None:
    # Given a service banner no UTF-8 encoder accepts (a lone surrogate) and markup
    hostile = "evil\udcff<script>alert(1)</script>"
    s = sweep(host("10.77.0.10", svc(80, "http", product=hostile), hostname="h\ud800"), **week(0))
    # When it is committed, then it reads back as the same text, never lost or executed
    commit(store, s)
    assert store.device("10.77.0.10")["services"] == {"80/tcp": f"http {hostile}"}  # type: ignore[index]
    latest = store.latest_result()
    assert latest is not None and latest.hosts[0].hostname == "h\ud800"


def test_the_sweep_document_written_in_pieces_reads_back_whole(store: Inventory) -> None:
    """Issue #20: hosts, observations and findings are packed a thousand at a time; what is
    read back is the sweep and every finding, equal to what was committed."""
    from inventory import store as store_module
    from secposture.checks.engine import run_checks

    hosts = [
        host(f"10.77.{i // 250}.{i % 250 + 1}", svc(22, "ssh"), svc(23, "telnet"))
        for i in range(2_345)
    ]
    s = sweep(*hosts, observations=tuple(obs("ssh.algorithms", h.ip, 22, kex=["a"]) for h in hosts))
    findings = run_checks(s)
    assert len(findings) > 2 * store_module._PIECE
    store.commit_sweep(s, findings, score_findings(findings))
    record = store.sweep_record("s1")
    assert record is not None
    assert SweepResult.model_validate(record["result"]) == s
    assert len(record["findings"]) == len(findings)
    assert record["findings"][-1] == findings[-1].model_dump(mode="json")


def test_pack_takes_a_document_whole_or_in_pieces() -> None:
    from inventory.storage import unpack

    doc = b'{"a":[1,2,3],"b":"x"}'
    assert unpack(pack(doc)) == unpack(pack(iter([doc[:5], doc[5:12], doc[12:]])))
