"""Findings of one run share their Targets and texts (issue #20: bounded memory)."""

from __future__ import annotations

from factories import host, svc, sweep

from secposture.checks.engine import run_checks


def test_findings_about_one_target_share_it_and_equal_texts_are_one_string() -> None:
    s = sweep(*(host(f"10.77.0.{i}", svc(22, "ssh"), svc(23, "telnet")) for i in range(1, 40)))
    findings = run_checks(s)
    by_target: dict[tuple[str, int | None, str | None], object] = {}
    for f in findings:
        key = (f.target.ip, f.target.port, f.target.proto)
        assert by_target.setdefault(key, f.target) is f.target
    telnet = [f for f in findings if f.check_id == "net.telnet_exposed"]
    assert len(telnet) == 39 and len({id(f.evidence) for f in telnet}) < 39
    assert [f.target.ip for f in telnet] == [f"10.77.0.{i}" for i in range(1, 40)]
