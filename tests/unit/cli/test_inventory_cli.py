"""``secposture inventory list | show | diff | sweeps | export | migrate`` (issue #5)."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from factories import T0, agency_toml, host, svc, sweep

from inventory.store import Inventory
from secposture.cli import main
from secposture.model import exitcodes
from secposture.scoring.score import score_findings

MAC = "02:00:00:00:00:0a"
CONFIG = (
    agency_toml()
    + """[assets]
[[assets.approved]]
mac = "02:00:00:00:00:0a"
owner = "Văn phòng"
purpose = "máy chủ một cửa"
"""
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "agency.toml"
    path.write_text(CONFIG, encoding="utf-8")
    store = Inventory(tmp_path / "store.json")
    none = score_findings([])
    store.commit_sweep(
        sweep(host("10.77.0.10", svc(22, "ssh"), mac=MAC),
              host("10.77.0.20", svc(80, "http"), hostname="=cmd|' /C calc'!A0"), sweep_id="w1"),
        [], none,
    )  # fmt: skip
    store.commit_sweep(
        sweep(host("10.77.0.11", svc(22, "ssh"), svc(23, "telnet"), mac=MAC),
              sweep_id="w2", started=T0 + timedelta(days=7)),
        [], none,
    )  # fmt: skip
    return path


def run(*args: str) -> Result:
    return CliRunner().invoke(main, ["--lang", "en", "inventory", *args])


def test_list_shows_status_and_first_last_seen(config: Path) -> None:
    result = run("list", "-c", str(config))
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[1].split()[:3] == ["active", "10.77.0.11", MAC]
    assert "22/tcp,23/tcp" in lines[1]
    assert lines[2].split()[:2] == ["missing", "10.77.0.20"]
    assert "2 devices: 1 active, 1 missing, 0 stale" in result.output
    rows = json.loads(run("list", "-c", str(config), "--json", "--status", "missing").output)
    assert [r["ip"] for r in rows] == ["10.77.0.20"]


def test_show_by_old_ip_gives_history_services_approval_and_changes(config: Path) -> None:
    result = run("show", "10.77.0.10", "-c", str(config))
    assert result.exit_code == 0, result.output
    out = result.output
    assert f"Device mac:{MAC}" in out and "in 2 sweeps" in out
    assert "On the approved register" in out and "Văn phòng" in out
    assert "10.77.0.10" in out and "10.77.0.11" in out and "23/tcp     telnet" in out
    assert "IP changed" in out and "port opened" in out
    data = json.loads(run("show", MAC, "-c", str(config), "--json").output)
    assert data["approved"]["owner"] == "Văn phòng"
    assert [c["kind"] for c in data["changes"]] == ["new_device", "ip_changed", "port_opened"]


def test_show_unknown_host_is_one_line_exit_2(config: Path) -> None:
    result = run("show", "10.9.9.9", "-c", str(config))
    assert result.exit_code == exitcodes.USAGE
    assert result.output.strip().count("\n") == 0 and "No device matches" in result.output


def test_diff_latest_and_since(config: Path) -> None:
    latest = run("diff", "-c", str(config))
    assert latest.exit_code == 0
    assert "latest sweep w2" in latest.output
    assert "device missing" in latest.output and "10.77.0.20" in latest.output
    assert "port opened" in latest.output and "10.77.0.11:23/tcp" in latest.output
    since = json.loads(run("diff", "--since", "w1", "-c", str(config), "--json").output)
    assert {c["kind"] for c in since} == {"ip_changed", "port_opened", "missing_device"}
    bad = run("diff", "--since", "w9", "-c", str(config))
    assert bad.exit_code == exitcodes.USAGE and "no committed sweep 'w9'" in bad.output


def test_sweeps_lists_commit_order(config: Path) -> None:
    rows = json.loads(run("sweeps", "-c", str(config), "--json").output)
    assert [(r["sweep_id"], r["status"]) for r in rows] == [
        ("w1", "committed"),
        ("w2", "committed"),
    ]


def test_export_csv_neutralises_formulas_and_json_round_trips(config: Path, tmp_path: Path) -> None:
    out = tmp_path / "devices.csv"
    result = run("export", "--format", "csv", "--out", str(out), "-c", str(config))
    assert result.exit_code == 0, result.output
    text = out.read_text("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_ip = {r["ip"]: r for r in rows}
    assert by_ip["10.77.0.11"]["approved_owner"] == "Văn phòng"
    assert by_ip["10.77.0.20"]["hostname"].startswith("'=")  # hostile hostname stays text
    exported = json.loads(run("export", "--format", "json", "-c", str(config)).output)
    assert exported == Inventory(tmp_path / "store.json").devices()


def test_newer_store_is_refused_with_one_line_exit_4(config: Path, tmp_path: Path) -> None:
    store = tmp_path / "store.json"
    data = json.loads(store.read_text())
    data["meta"]["1"]["schema_version"] = 7
    store.write_text(json.dumps(data))
    result = run("list", "-c", str(config))
    assert result.exit_code == exitcodes.ENVIRONMENT
    assert "schema 7, newer than this secposture" in result.output
    assert "Traceback" not in result.output


def test_empty_store_says_so(tmp_path: Path) -> None:
    path = tmp_path / "agency.toml"
    path.write_text(CONFIG, encoding="utf-8")
    result = run("list", "-c", str(path))
    assert result.exit_code == 0 and "no sweep yet" in result.output
    assert run("diff", "-c", str(path)).exit_code == exitcodes.USAGE
