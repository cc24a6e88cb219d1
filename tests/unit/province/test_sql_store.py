"""The collector's SQL store (issue #14), the same tests on SQLite and on a real PostgreSQL
server the test session starts (tests/helpers/postgres.py): accepted, duplicate, conflict,
revoked keys and merged units refused from their moment on, the province's rows in one query,
retention, and a units CSV whose bad row names its row and column and changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import Engine, func, select

from secposture.bundle.envelope import RejectReason, sign_payload
from secposture.bundle.keys import public_key_text
from secposture.config.sections import Level
from secposture.province.db import schema as t
from secposture.province.db.engine import database_url, open_database
from secposture.province.db.registry import (
    CsvRowError,
    NewUnit,
    RegistryError,
    add_key,
    add_unit,
    import_units_csv,
    retire_unit,
    revoke_key,
)
from secposture.province.db.store import SqlStore
from secposture.province.hierarchy import CollectorConfig, parse_collector_config
from secposture.province.synthetic import SyntheticUnit, make_payload

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


def unit(uid: str, level: Level = Level.COMMUNE, hosts: int = 6) -> SyntheticUnit:
    return SyntheticUnit(
        id=uid,
        name=f"UBND {uid}",
        level=level,
        parent="tn-tinh",
        key=Ed25519PrivateKey.generate(),
        hosts=hosts,
        hygiene=0.6,
    )


UNITS = {u.id: u for u in (unit("xa-moi"), unit("xa-cu-a"), unit("phuong-1", Level.WARD))}


def config_of(store: Path, database: str | None) -> CollectorConfig:
    data: dict[str, Any] = {
        "collector": {"store": str(store), **({"database": database} if database else {})},
        "province": {"id": "tn-tinh", "name": "Tỉnh Tây Ninh"},
        "group": [{"id": "cum-1", "name": "Cụm 1 (địa bàn huyện cũ)"}],
        "unit": [
            {"id": "xa-cu-a", "name": "UBND xã cũ A", "level": "commune",
             "keys": [UNITS["xa-cu-a"].public_key]},
            {"id": "xa-moi", "name": "UBND xã Mới", "level": "commune", "groups": ["cum-1"],
             "succeeds": ["xa-cu-a"], "succeeds_on": "2025-07-01",
             "keys": [UNITS["xa-moi"].public_key]},
            {"id": "phuong-1", "name": "UBND phường 1", "level": "ward",
             "keys": [UNITS["phuong-1"].public_key]},
        ],
    }  # fmt: skip
    return parse_collector_config(data)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[CollectorConfig, Engine]]:
    database = None
    if request.param == "postgresql":
        database = request.getfixturevalue("postgres_url")
    config = config_of(tmp_path / "store", database)
    engine = open_database(database_url(config.collector.database_url(), config.collector.store))
    yield config, engine
    engine.dispose()


def bundle(uid: str, started: datetime, seed: int = 0) -> bytes:
    u = UNITS[uid]
    return sign_payload(make_payload(u, started, seed), u.key)


def test_a_bundle_is_stored_once_with_its_findings_and_hosts(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    config, engine = backend
    store = SqlStore(engine, config)
    data = bundle("xa-moi", T0)
    first = store.ingest(data, source="test", now=T0 + timedelta(hours=1))
    assert first.accepted and first.latest
    # The same bytes again are a duplicate, other bytes for the same sweep a conflict
    again = store.ingest(data, source="test", now=T0 + timedelta(hours=2))
    assert again.reason is RejectReason.DUPLICATE
    u = UNITS["xa-moi"]
    changed = make_payload(u, T0).model_copy(update={"generator": "another build"})
    assert store.ingest(sign_payload(changed, u.key), source="t").reason is RejectReason.CONFLICT
    # An older sweep is stored but does not become the latest
    older = store.ingest(bundle("xa-moi", T0 - timedelta(weeks=1)), source="test")
    assert older.accepted and not older.latest
    rows = store.rows()
    assert [r["agency"] for r in rows] == ["xa-moi", "xa-moi"]
    assert rows[0]["started"] < rows[1]["started"]
    latest = store.latest_rows()["xa-moi"]
    payload = store.payload(latest)
    assert payload.sweep.sweep_id == first.sweep_id
    with engine.connect() as conn:
        stored = conn.scalar(select(func.count()).select_from(t.findings).where(
            t.findings.c.sweep_id == first.sweep_id))  # fmt: skip
        hosts = conn.scalar(select(func.count()).select_from(t.hosts).where(
            t.hosts.c.sweep_id == first.sweep_id))  # fmt: skip
    assert stored == len(payload.findings) > 0 and hosts == len(payload.hosts) == 6
    assert latest["score"]["overall"] == payload.score.overall


def test_the_registry_is_seeded_from_the_config_once(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    config, engine = backend
    SqlStore(engine, config)
    SqlStore(engine, config)  # a second process, or a restart: nothing added twice
    hierarchy = SqlStore(engine, config).hierarchy
    assert sorted(hierarchy.units) == ["phuong-1", "xa-cu-a", "xa-moi"]
    assert hierarchy.units["phuong-1"].level is Level.WARD
    assert hierarchy.members("cum-1")[0].id == "xa-moi"
    assert hierarchy.lineage("xa-moi") == ["xa-moi", "xa-cu-a"]
    assert {u.id for u in hierarchy.current()} == {"xa-moi", "phuong-1"}
    # A unit retired from a day is expected to report until then, not after
    retire_unit(engine, "phuong-1", date(2026, 12, 31))
    hierarchy = SqlStore(engine, config).hierarchy
    assert "phuong-1" in {u.id for u in hierarchy.current(date(2026, 12, 30))}
    assert "phuong-1" not in {u.id for u in hierarchy.current(date(2026, 12, 31))}
    with pytest.raises(RegistryError, match="not registered"):
        retire_unit(engine, "xa-khong-co", date(2026, 12, 31))


def test_a_merged_units_keys_are_refused_from_the_succession_on(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    config, engine = backend
    store = SqlStore(engine, config)
    before = datetime(2025, 6, 23, 2, 0, tzinfo=UTC)
    # Given an old commune's bundle made and sent before the merger: it is kept
    assert store.ingest(bundle("xa-cu-a", before), source="t", now=before).accepted
    # Then after 1/7/2025 its key no longer counts
    late = store.ingest(bundle("xa-cu-a", T0), source="t", now=T0)
    assert late.reason is RejectReason.UNKNOWN_KEY and "merged into xa-moi" in late.detail
    assert [r["agency"] for r in store.rows()] == ["xa-cu-a"]


def test_a_revoked_key_is_refused_from_its_revocation_on_and_rotation_keeps_history(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    config, engine = backend
    store = SqlStore(engine, config)
    old = UNITS["phuong-1"]
    assert store.ingest(bundle("phuong-1", T0), source="t", now=T0).accepted
    # Given a new key added and the old one revoked a day later
    new_key = Ed25519PrivateKey.generate()
    add_key(engine, "phuong-1", public_key_text(new_key), T0)
    assert revoke_key(engine, old.public_key, T0 + timedelta(days=1)) == "phuong-1"
    with pytest.raises(RegistryError, match="already revoked"):
        revoke_key(engine, old.public_key, T0 + timedelta(days=2))
    # Then the old key's bundle is refused after that moment, the new key's accepted
    week = T0 + timedelta(weeks=1)
    refused = store.ingest(bundle("phuong-1", week), source="t", now=week)
    assert refused.reason is RejectReason.UNKNOWN_KEY and "revoked" in refused.detail
    fresh = sign_payload(make_payload(old, week), new_key)
    assert store.ingest(fresh, source="t", now=week).accepted
    assert len(store.rows()) == 2  # the first bundle, signed before the revocation, stays


def test_retention_drops_old_bytes_but_keeps_summaries_and_each_units_latest(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    config, engine = backend
    store = SqlStore(engine, config)
    for week in range(3):
        at = T0 + timedelta(weeks=week)
        assert store.ingest(bundle("phuong-1", at), source="t", now=at).accepted
    pruned = store.prune(keep_days=10, now=T0 + timedelta(weeks=2, days=1))
    assert pruned == 1  # week 0; week 1 is younger than 10 days, week 2 the latest
    rows = store.rows()
    assert len(rows) == 3  # every summary stays
    with pytest.raises(Exception, match="pruned"):
        store.payload(rows[0])
    assert store.payload(rows[-1]).sweep.sweep_id == rows[-1]["sweep_id"]


CSV_HEADER = "id,name,level,group,parent,key\n"


def test_units_import_of_a_bad_row_names_row_and_column_and_changes_nothing(
    backend: tuple[CollectorConfig, Engine], tmp_path: Path
) -> None:
    config, engine = backend
    SqlStore(engine, config)
    key = public_key_text(Ed25519PrivateKey.generate())
    good = f"xa-002,UBND xã Hai,commune,cum-1,,{key}\nphuong-02,UBND phường Hai,ward,,,\n"
    bad_rows = {
        "level": ("xa-003,UBND xã Ba,huyen,,,\n", "level"),
        "district": ("xa-003,UBND xã Ba,district,,,\n", "level"),
        "key": ("xa-003,UBND xã Ba,commune,,,ed25519:xyz\n", "key"),
        "dup": ("xa-002,UBND xã Hai lần hai,commune,,,\n", "id"),
        "parent": ("xa-003,UBND xã Ba,commune,,huyen-x,\n", "parent"),
    }
    with engine.connect() as conn:
        before = conn.scalar(select(func.count()).select_from(t.units))
    for name, (row, column) in bad_rows.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(CSV_HEADER + good + row, encoding="utf-8")
        with pytest.raises(CsvRowError) as err:
            import_units_csv(engine, path, province_id="tn-tinh", allow_district=False, now=T0)
        assert (err.value.row, err.value.column) == (4, column), name
        assert f"row 4, column {column}" in str(err.value) and "\n" not in str(err.value)
        with engine.connect() as conn:
            assert conn.scalar(select(func.count()).select_from(t.units)) == before, name
    # A spreadsheet's CSV (UTF-8 with BOM) with good rows only is taken whole
    path = tmp_path / "good.csv"
    path.write_bytes((CSV_HEADER + good).encode("utf-8-sig"))
    added = import_units_csv(engine, path, province_id="tn-tinh", allow_district=False, now=T0)
    assert added == 2
    hierarchy = SqlStore(engine, config).hierarchy
    assert hierarchy.units["phuong-02"].level is Level.WARD
    assert hierarchy.unit_for_key(key).id == "xa-002"  # type: ignore[union-attr]
    # and one unit by hand; a district only where the province still keeps one
    add_unit(engine, NewUnit("so-tttt", "Sở Thông tin", Level.DEPARTMENT), province_id="tn-tinh",
             allow_district=False, now=T0)  # fmt: skip
    with pytest.raises(RegistryError, match="dissolved on 1/7/2025"):
        add_unit(engine, NewUnit("huyen-a", "UBND huyện A", Level.DISTRICT),
                 province_id="tn-tinh", allow_district=False, now=T0)  # fmt: skip
    assert date(2025, 7, 1)  # the reform date the messages name


def test_a_file_store_made_by_the_previous_code_moves_into_the_database_without_loss(
    backend: tuple[CollectorConfig, Engine], tmp_path: Path
) -> None:
    from secposture.province.hierarchy import Hierarchy
    from secposture.province.store import CollectorStore

    config, engine = backend
    # Given a file store (bundles/<unit>/*.bundle and their indexes) holding three units'
    # weeks, among them the old commune's bundle from before its merger
    old_root = tmp_path / "file-store"
    files = CollectorStore(old_root, Hierarchy.from_config(config), max_bytes=2**24)
    sent = [bundle("xa-cu-a", datetime(2025, 6, 23, 2, tzinfo=UTC))] + [
        bundle(uid, T0 + timedelta(weeks=w)) for w in range(3) for uid in ("xa-moi", "phuong-1")
    ]
    for data in sent:
        assert files.ingest(data, source="test").accepted
    before = {(r["agency"], r["sweep_id"], r["digest"]) for r in files.rows()}
    # When it is migrated, twice (a second run is harmless)
    store = SqlStore(engine, config)
    from secposture.province.db.store import migrate_file_store

    first = migrate_file_store(store, old_root)
    second = migrate_file_store(store, old_root)
    # Then every bundle is in the database with the same bytes, none refused
    assert (first.moved, first.already, first.refused) == (len(sent), 0, [])
    assert (second.moved, second.already, second.refused) == (0, len(sent), [])
    after = {(r["agency"], r["sweep_id"], r["digest"]) for r in store.rows()}
    assert after == before
    for row in store.rows():
        assert store.payload(row) == files.payload(
            next(r for r in files.rows() if r["digest"] == row["digest"])
        )


def test_the_migrations_build_exactly_the_tables_the_code_declares(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from secposture.province.db.engine import upgrade
    from secposture.province.db.schema import metadata

    _, engine = backend
    upgrade(engine)  # a second run (another process starting) changes nothing
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []


MERGER_WEEKS = [datetime(2025, 6, 16, 2, tzinfo=UTC) + timedelta(weeks=w) for w in range(4)]


def test_tay_ninh_as_it_is_since_the_reform_ingests_and_aggregates(
    backend: tuple[CollectorConfig, Engine], tmp_path: Path
) -> None:
    """Issue #14's province: 96 commune-level units (82 communes, 14 wards), 25 departments,
    two groups, three old communes merged into xa-001 on 1/7/2025, four weeks around it."""
    from secposture.province.pages import write_aggregate
    from secposture.province.synthetic import make_province

    config, engine = backend
    province = make_province(hosts=(2, 4))
    levels = [u.level for u in province.units if u.id not in ("xa-cu-a", "xa-cu-b", "xa-cu-c")]
    assert (levels.count(Level.COMMUNE), levels.count(Level.WARD)) == (82, 14)
    assert levels.count(Level.DEPARTMENT) == 25 and len(province.groups) == 2
    data = province.config(str(config.collector.store))
    if config.collector.database:
        data["collector"]["database"] = config.collector.database
    tay_ninh = parse_collector_config(data)
    store = SqlStore(engine, tay_ninh)
    old = {"xa-cu-a", "xa-cu-b", "xa-cu-c"}
    for week, started in enumerate(MERGER_WEEKS):
        for unit in province.units:
            if (unit.id in old and week >= 2) or (unit.id == "xa-001" and week < 2):
                continue  # the old communes swept before the merger, the new one after
            outcome = store.ingest(
                sign_payload(make_payload(unit, started), unit.key),
                source="test",
                now=started + timedelta(hours=2),
            )
            assert outcome.accepted, (unit.id, outcome.detail)
    # The successor's history holds its predecessors' two weeks and its own two
    hierarchy = store.hierarchy
    assert sorted(hierarchy.lineage("xa-001")) == sorted(["xa-001", *old])
    weeks = {r["started"][:10] for r in store.rows(hierarchy.lineage("xa-001"))}
    assert len(weeks) == 4
    assert len([u for u in hierarchy.current()]) == 121  # the merged communes report no more
    # When the pages are written from this database
    paths = write_aggregate(
        tay_ninh, tmp_path / "out", lang="vi", now=MERGER_WEEKS[-1] + timedelta(days=1)
    )
    page = paths.province.read_text("utf-8")
    assert "121/121 đơn vị đã gửi kết quả" in page
    assert len(paths.groups) == 2 and len(paths.agencies) == 124
    # and xa-001's report trend runs through its predecessors' sweeps: 2 + 3 × 2 of them
    report = (tmp_path / "out" / "agencies" / "xa-001.html").read_text("utf-8")
    assert "8 lượt quét gần nhất" in report
    # with the posture the bundle carries: the province's copy is the agency's full report
    assert "Chưa có kết quả theo khung đánh giá" not in report
    assert "Không có dữ liệu điểm theo trụ cột" not in report
    assert "Không có dữ liệu thay đổi" not in report


def test_the_registry_commands_keep_the_units_and_their_keys(tmp_path: Path) -> None:
    """``secposture collector units …`` on the default SQLite store, as a province officer
    runs them: a CSV import with a bad row changes nothing (exit 2, one line naming row and
    column), the good one registers; a key is rotated and revoked; list and show say so."""
    import json

    from click.testing import CliRunner

    from secposture.cli import main

    config_path = tmp_path / "collector.toml"
    config_path.write_text(
        '[collector]\nstore = "store"\n[province]\nid = "tn-tinh"\nname = "Tỉnh Tây Ninh"\n'
        '[[group]]\nid = "khoi-so"\nname = "Khối sở, ngành"\n',
        encoding="utf-8",
    )
    old_key = public_key_text(Ed25519PrivateKey.generate())
    rows = f"so-01,Sở Nội vụ,department,khoi-so,,{old_key}\nphuong-01,UBND phường 1,ward,,,\n"
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV_HEADER + rows + "xa-01,UBND xã 1,commune,,,ed25519:xx\n", "utf-8")
    run = CliRunner().invoke
    refused = run(main, ["collector", "units", "import", str(bad), "-c", str(config_path)])
    assert refused.exit_code == 2 and "row 4, column key" in refused.output
    assert "Traceback" not in refused.output and len(refused.output.strip().splitlines()) == 1
    listed = run(main, ["collector", "units", "list", "--json", "-c", str(config_path)])
    assert json.loads(listed.output) == []
    good = tmp_path / "units.csv"
    good.write_text(CSV_HEADER + rows, "utf-8")
    assert (
        run(main, ["collector", "units", "import", str(good), "-c", str(config_path)]).exit_code
        == 0
    )
    new_key = public_key_text(Ed25519PrivateKey.generate())
    assert (
        run(
            main, ["collector", "units", "keys", "add", "so-01", new_key, "-c", str(config_path)]
        ).exit_code
        == 0
    )
    revoked = run(main, ["collector", "units", "keys", "revoke", old_key, "-c", str(config_path)])
    assert revoked.exit_code == 0, revoked.output
    listed = run(main, ["collector", "units", "list", "--json", "-c", str(config_path)])
    units = {u["id"]: u for u in json.loads(listed.output)}
    assert units["so-01"]["keys"] == 2 and units["so-01"]["keys_accepted"] == 1
    assert units["so-01"]["groups"] == ["khoi-so"] and units["phuong-01"]["level"] == "ward"
    shown = json.loads(
        run(main, ["collector", "units", "show", "so-01", "--json", "-c", str(config_path)]).output
    )
    assert [k["revoked_at"] is not None for k in shown["keys"]] == [True, False]
    retired = run(main, ["collector", "units", "retire", "phuong-01", "--on", "2026-12-31",
                         "-c", str(config_path)])  # fmt: skip
    assert retired.exit_code == 0
    status = run(main, ["collector", "store", "status", "--json", "-c", str(config_path)])
    assert json.loads(status.output)["units"] == 2


def test_each_units_latest_sweep_follows_one_rule_in_the_reply_the_pages_and_the_searches(
    backend: tuple[CollectorConfig, Engine],
) -> None:
    """Issue #15 (and #17's "two sweeps with the same start disagree"): same start, the
    greater sweep id is the latest, whatever the order they arrive in; an older one never
    is; the console's searches read exactly that sweep; and the migration that made the
    table fills it from the sweeps already held by the same rule."""
    from alembic import command
    from alembic.config import Config

    from secposture.province.console.queries import FindingQuery, search_findings
    from secposture.province.db.engine import MIGRATIONS

    config, engine = backend
    store = SqlStore(engine, config)
    first = store.ingest(bundle("phuong-1", T0, seed=1), source="test")
    greater = store.ingest(bundle("phuong-1", T0, seed=2), source="test")  # same start
    smaller = store.ingest(bundle("phuong-1", T0, seed=0), source="test")
    older = store.ingest(bundle("phuong-1", T0 - timedelta(weeks=1), seed=9), source="test")
    assert [first.latest, greater.latest, smaller.latest, older.latest] == [
        True, True, False, False,
    ]  # fmt: skip
    assert store.latest_rows()["phuong-1"]["sweep_id"] == greater.sweep_id
    found = search_findings(engine, None, FindingQuery(status=""), limit=10_000)
    assert found and {f["sweep_id"] for f in found} == {greater.sweep_id}
    # the table rebuilt by its migration from the sweeps held
    alembic = Config()
    alembic.set_main_option("script_location", str(MIGRATIONS))
    with engine.begin() as conn:
        alembic.attributes["connection"] = conn
        command.downgrade(alembic, "0002")
        command.upgrade(alembic, "head")
    assert store.latest_rows()["phuong-1"]["sweep_id"] == greater.sweep_id


def test_sqlite_gets_planner_statistics_once_it_holds_sweeps_and_again_as_they_grow(
    tmp_path: Path,
) -> None:
    """Issue #15: without statistics SQLite read a one-check search through the check's
    index over every week held (170 ms at Tây Ninh's size instead of 20)."""
    from secposture.province.db.engine import refresh_statistics

    config = config_of(tmp_path / "store", None)
    engine = open_database(database_url(None, config.collector.store))
    store = SqlStore(engine, config)
    assert refresh_statistics(engine) is False  # empty: nothing true to learn
    store.ingest(bundle("phuong-1", T0), source="test")
    assert refresh_statistics(engine) is True
    assert refresh_statistics(engine) is False  # fresh enough
    for week in range(1, 3):
        store.ingest(bundle("phuong-1", T0 + timedelta(weeks=week)), source="test")
    assert refresh_statistics(engine) is True  # three sweeps where the statistics saw one
    engine.dispose()


def test_a_signed_bundle_is_trusted_for_its_signer_not_its_meaning(
    backend: tuple[CollectorConfig, Engine], tmp_path: Path
) -> None:
    """Issue #17: a compromised or buggy agency's signed bundle with a sweep started in
    2999, a naive time or a scope that is not a network is refused with one line; an absurd
    score is replaced by the one the province computes from the findings (the agency's kept
    beside it, the mismatch marked); and the province pages still build."""
    from secposture.model.score import Score
    from secposture.province.pages import write_aggregate

    config, engine = backend
    store = SqlStore(engine, config)
    u = UNITS["phuong-1"]
    now = T0 + timedelta(hours=1)
    base = make_payload(u, T0)

    def signed(**sweep: Any) -> bytes:
        payload = base.model_copy(update={"sweep": base.sweep.model_copy(update=sweep)})
        return sign_payload(payload, u.key)

    future = store.ingest(signed(sweep_id="phuong-1-future", started=datetime(2999, 12, 31,
                                 tzinfo=UTC)), source="t", now=now)  # fmt: skip
    assert future.reason is RejectReason.MALFORMED and "agency's clock" in future.detail
    naive = store.ingest(signed(sweep_id="phuong-1-naive", started=datetime(2026, 11, 2, 1)),
                         source="t", now=now)  # fmt: skip
    assert naive.reason is RejectReason.MALFORMED and "timezone" in naive.detail
    scope = store.ingest(signed(sweep_id="phuong-1-scope", scopes=("khong-phai-mang",)),
                         source="t", now=now)  # fmt: skip
    assert scope.reason is RejectReason.MALFORMED and "not a network" in scope.detail
    absurd = Score(overall=1e308, coverage=-5, assessed=1, applicable=1, counts={})
    boasted = sign_payload(base.model_copy(update={"score": absurd}), u.key)
    accepted = store.ingest(boasted, source="t", now=now)
    assert accepted.accepted
    row = store.latest_rows()["phuong-1"]
    assert row["score"]["overall"] is not None and 0 <= row["score"]["overall"] <= 100
    assert 0 <= row["score"]["coverage"] <= 1
    assert row["score"]["claimed"] == {"overall": "1e+308", "coverage": "-5"}
    assert row["score"]["mismatch"] is True
    paths = write_aggregate(config, tmp_path / "pages", now=now)
    assert paths.province.is_file() and "1e+308" not in paths.province.read_text()
