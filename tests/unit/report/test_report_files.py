"""The agency report's files: the JSON documents' shapes, CSV safety, and atomic rewriting."""

from __future__ import annotations

import csv
import json
import os
import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hostile_report import (
    FORMULA,
    HOSTNAME,
    agency_config,
    finding,
    hostile_findings,
    hostile_sweep,
    write_hostile,
)

from secposture.model.records import (
    Status,
)
from secposture.report.outputs import ReportPaths, write_outputs
from secposture.report.outputs.base import REPORT_MODE
from secposture.report.outputs.csv import CSV_COLUMNS, findings_csv
from secposture.report.outputs.html import render_html
from secposture.report.outputs.json import findings_document, inventory_document
from secposture.scoring.score import score_findings


@pytest.fixture()
def written(tmp_path: Path) -> ReportPaths:
    return write_hostile(tmp_path)


def load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return document


# --- documents -----------------------------------------------------------------------------


def test_write_outputs_writes_the_documents_with_exactly_the_agreed_keys(
    written: ReportPaths,
) -> None:
    # Given a sweep with hosts, findings and a failed attempt, written to a report dir
    inventory = load(written.inventory_json)
    findings = load(written.findings_json)

    # Then every file exists and each document has exactly the keys other code relies on
    assert {p.name for p in written.html.parent.iterdir()} == {
        "report.html",
        "findings.json",
        "inventory.json",
        "findings.csv",
    }
    assert set(inventory) == {"agency", "sweep_id", "generated", "hosts"}
    assert {tuple(sorted(h)) for h in inventory["hosts"]} == {
        ("hostname", "ip", "mac", "services", "vendor")
    }
    services = [s for h in inventory["hosts"] for s in h["services"]]
    assert {tuple(sorted(s)) for s in services} == {
        ("name", "port", "product", "proto", "state", "version")
    }
    assert set(findings) == {
        "agency",
        "sweep_id",
        "generated",
        "score",
        "findings",
        "attempts",
        "posture",
    }
    assert findings["posture"] is None  # no framework posture was given to this report
    assert set(findings["score"]) == {"overall", "coverage", "assessed", "applicable", "raw", "cap"}
    assert {tuple(sorted(f)) for f in findings["findings"]} == {
        ("check_id", "evidence", "reason", "severity", "status", "target", "waiver")
    }
    assert {tuple(sorted(f["target"])) for f in findings["findings"]} == {("ip", "port", "proto")}
    assert [set(a) for a in findings["attempts"]] == [
        {"stage", "target", "status", "reason", "detail"}
    ]
    assert inventory["agency"] == findings["agency"] == "hb-xa-hoa-binh"
    assert inventory["generated"] == findings["generated"]
    assert datetime.fromisoformat(findings["generated"]).tzinfo is not None


def test_inventory_sorts_hosts_numerically_and_services_by_proto_then_port() -> None:
    document = inventory_document(hostile_sweep(), "hb-xa-hoa-binh")

    assert [h["ip"] for h in document["hosts"]] == [
        "192.168.1.1",
        "192.168.1.5",
        "192.168.1.20",
        "192.168.1.100",
    ]
    router = document["hosts"][0]
    assert [(s["proto"], s["port"]) for s in router["services"]] == [
        ("tcp", 23),
        ("tcp", 80),
        ("udp", 161),
    ]
    # Unknown is null, not an empty string
    assert document["hosts"][1] == {
        "ip": "192.168.1.5",
        "mac": "aa:bb:cc:00:00:05",
        "vendor": None,
        "hostname": None,
        "services": [],
    }
    assert router["services"][2]["product"] is None


def test_findings_document_lists_every_finding_the_score_and_only_failed_attempts() -> None:
    findings = hostile_findings()
    score = score_findings(findings)

    document = findings_document(hostile_sweep(), findings, score, "hb-xa-hoa-binh")

    assert len(document["findings"]) == len(findings)
    assert document["score"] == {
        "overall": score.overall,
        "coverage": score.coverage,
        "assessed": score.assessed,
        "applicable": score.applicable,
        "raw": score.raw,
        "cap": None if score.cap is None else score.cap.model_dump(mode="json"),
    }
    assert document["attempts"] == [
        {
            "stage": "portscan",
            "target": "192.168.1.5",
            "status": "error",
            "reason": "timeout",
            "detail": "host timeout after 300 s",
        }
    ]
    statuses = {(f["check_id"], f["target"]["ip"]): f["status"] for f in document["findings"]}
    assert statuses[("net.telnet_exposed", "192.168.1.5")] == "not_assessed"


def test_json_documents_replace_invalid_utf8_instead_of_failing(
    written: ReportPaths,
) -> None:
    hostnames = [h["hostname"] for h in load(written.inventory_json)["hosts"]]

    assert "bad\ufffd\ufffdutf8" in hostnames
    assert HOSTNAME in hostnames  # JSON keeps network text as it was, for machines


# --- CSV -----------------------------------------------------------------------------------


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def test_csv_has_one_row_per_finding_in_the_chosen_language(
    written: ReportPaths,
) -> None:
    rows = read_csv(written.findings_csv)

    assert written.findings_csv.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    assert list(rows[0]) == list(CSV_COLUMNS)
    assert len(rows) == len(hostile_findings())
    telnet = next(r for r in rows if r["check_id"] == "net.telnet_exposed" and r["port"] == "23")
    assert telnet["title"] == "Dịch vụ Telnet (không mã hóa) đang mở"
    assert telnet["remediation"].startswith("Tắt Telnet")
    assert telnet["status"] == "fail"
    assert telnet["severity"] == "high"
    assert telnet["proto"] == "tcp"


@pytest.mark.parametrize("evidence", [FORMULA, "+1+1", "-2+3", "@SUM(A1:A2)", "\t=1+1", "\r=1+1"])
def test_csv_cells_that_a_spreadsheet_would_run_are_forced_to_text(evidence: str) -> None:
    formula = finding("net.telnet_exposed", Status.FAIL, evidence=evidence, reason=evidence)

    rows = list(csv.DictReader(findings_csv([formula], "vi").splitlines()))

    for cell in (rows[0]["evidence"], rows[0]["reason"]):
        assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
        assert cell.startswith("'") or cell.startswith("[U+000D]")


def test_csv_leaves_ordinary_evidence_alone() -> None:
    plain = finding("net.telnet_exposed", Status.PASS, evidence="no telnet service")

    rows = list(csv.DictReader(findings_csv([plain], "en").splitlines()))

    assert rows[0]["evidence"] == "no telnet service"
    assert rows[0]["title"] == "Telnet (cleartext) service exposed"


# --- writing -------------------------------------------------------------------------------


def test_rewriting_replaces_files_and_leaves_no_temporary_files(tmp_path: Path) -> None:
    findings = hostile_findings()
    out = tmp_path / "out"
    config = agency_config(tmp_path)

    write_outputs(hostile_sweep(), findings, score_findings(findings), config, out)
    paths = write_outputs(hostile_sweep(), findings[:1], score_findings(findings[:1]), config, out)

    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "inventory.json",
        "report.html",
    ]
    assert len(load(paths.findings_json)["findings"]) == 1
    assert stat.S_IMODE(paths.html.stat().st_mode) == REPORT_MODE


def test_a_failed_write_keeps_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Given a report already written
    findings = hostile_findings()
    out = tmp_path / "out"
    config = agency_config(tmp_path)
    paths = write_outputs(hostile_sweep(), findings, score_findings(findings), config, out)
    before = paths.findings_json.read_bytes()

    # When the next write fails at the moment the new file would take its place
    def fail(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(OSError, match="disk full"):
        write_outputs(hostile_sweep(), [], score_findings([]), config, out)

    # Then the old file is intact and no temporary file is left behind
    assert paths.findings_json.read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == [
        "findings.csv",
        "findings.json",
        "inventory.json",
        "report.html",
    ]


def test_unknown_language_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="fr"):
        render_html(hostile_sweep(), [], score_findings([]), agency_config(tmp_path), "fr")
