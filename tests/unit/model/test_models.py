"""Stored models round-trip exactly through JSON (issue #2)."""

from __future__ import annotations

import pytest
from factories import host, obs, svc, sweep, timed_out
from pydantic import ValidationError

from secposture.checks import run_checks
from secposture.model.records import (
    Change,
    ChangeKind,
    Finding,
    SweepResult,
    device_key,
)
from secposture.model.score import Score
from secposture.scoring.score import score_findings


def test_sweep_result_round_trips() -> None:
    s = sweep(
        host(
            "10.77.0.30",
            svc(23, "telnet", product="Linux telnetd", cpe=("cpe:/o:linux",)),
            mac="02:aa:bb:cc:dd:ee",
            vendor=None,
            hostname="router",
        ),
        observations=(obs("http.title", "10.77.0.30", 80, title="<b>x</b>"),),
        attempts=(timed_out("ports", "10.77.0.9", "slow"),),
    )
    again = SweepResult.model_validate_json(s.model_dump_json())
    assert again == s
    assert again.complete is False


def test_findings_score_and_change_round_trip() -> None:
    findings = run_checks(sweep(host("10.77.0.30", svc(23, "telnet"))))
    for f in findings:
        assert Finding.model_validate_json(f.model_dump_json()) == f
    score = score_findings(findings)
    assert Score.model_validate_json(score.model_dump_json()) == score
    c = Change(
        sweep_id="s",
        kind=ChangeKind.PORT_CLOSED,
        device="ip:1.2.3.4",
        ip="1.2.3.4",
        port=23,
        proto="tcp",
        before="telnet",
    )
    assert Change.model_validate_json(c.model_dump_json()) == c


def test_unknown_fields_are_refused() -> None:
    with pytest.raises(ValidationError):
        Finding.model_validate(
            {
                "check_id": "x",
                "status": "pass",
                "severity": "low",
                "target": {"ip": "1.1.1.1"},
                "password": "hunter2",
            }
        )


def test_device_identity_prefers_mac() -> None:
    assert device_key(host("10.0.0.1", mac="02:AA:00:00:00:01")) == "mac:02:aa:00:00:00:01"
    assert device_key(host("10.0.0.1")) == "ip:10.0.0.1"
