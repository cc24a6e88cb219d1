"""The approved asset register checks (issue #5): asset.unknown_device, asset.missing_approved."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from factories import T0, host, sweep

from inventory.facts import inventory_facts
from inventory.store import Inventory
from secposture.checks import load_catalogue
from secposture.checks.engine import run_inventory_checks
from secposture.checks.table import inventory_evaluators
from secposture.config.sections import AssetsSection
from secposture.model.records import Attempt, AttemptStatus, Finding, Reason, Status, SweepResult
from secposture.scoring.score import score_findings

SERVER_MAC = "02:00:00:00:00:0a"
REGISTER = AssetsSection.model_validate(
    {
        "missing_after_days": 14,
        "approved": [
            {"mac": SERVER_MAC, "owner": "Văn phòng", "purpose": "máy chủ một cửa"},
            {"ip": "10.77.0.40", "owner": "Kế toán", "purpose": "máy in", "name": "printer"},
        ],
    }
)


def check(
    store: Inventory, s: SweepResult, register: AssetsSection | None = REGISTER
) -> dict[tuple[str, str], Finding]:
    findings = run_inventory_checks(inventory_facts(store, s, register))
    return {(f.check_id, f.target.ip): f for f in findings}


def days(n: int) -> dict[str, object]:
    return {"sweep_id": f"d{n}", "started": T0 + timedelta(days=n)}


@pytest.fixture
def store(tmp_path: Path) -> Inventory:
    return Inventory(tmp_path / "store.json")


def test_both_checks_are_catalogued_in_both_languages() -> None:
    catalogue = load_catalogue()
    assert set(inventory_evaluators()) == {"asset.unknown_device", "asset.missing_approved"}
    for check_id in inventory_evaluators():
        meta = catalogue[check_id]
        assert meta.evaluates.value == "inventory" and meta.title_vi and meta.title_en


def test_device_not_on_the_register_fails_and_approved_ones_pass(store: Inventory) -> None:
    s = sweep(
        host("10.77.0.10", mac=SERVER_MAC),
        host("10.77.0.40"),
        host("10.77.0.66", mac="02:00:00:00:00:66", vendor="Raspberry Pi"),
        **days(0),
    )
    f = check(store, s)
    assert f["asset.unknown_device", "10.77.0.10"].status is Status.PASS
    assert "Văn phòng" in f["asset.unknown_device", "10.77.0.10"].evidence
    assert f["asset.unknown_device", "10.77.0.40"].status is Status.PASS
    stranger = f["asset.unknown_device", "10.77.0.66"]
    assert stranger.status is Status.FAIL and stranger.severity.value == "medium"
    assert "02:00:00:00:00:66" in stranger.evidence and "Raspberry Pi" in stranger.evidence


def test_another_mac_on_an_approved_ip_listed_with_its_mac_is_unknown(store: Inventory) -> None:
    register = AssetsSection.model_validate(
        {"approved": [{"mac": SERVER_MAC, "ip": "10.77.0.10", "owner": "a", "purpose": "b"}]}
    )
    f = check(store, sweep(host("10.77.0.10", mac="02:00:00:00:00:99"), **days(0)), register)
    assert f["asset.unknown_device", "10.77.0.10"].status is Status.FAIL


def test_host_without_mac_cannot_be_judged_against_mac_only_entries(store: Inventory) -> None:
    f = check(store, sweep(host("10.77.5.5"), **days(0)))
    assert f["asset.unknown_device", "10.77.5.5"].status is Status.NOT_ASSESSED


def test_without_a_register_both_checks_are_not_assessed_never_pass(store: Inventory) -> None:
    s = sweep(host("10.77.0.10"), **days(0))
    f = check(store, s, register=None)
    assert {x.status for x in f.values()} == {Status.NOT_ASSESSED}
    assert all("no approved asset register" in x.reason for x in f.values())


def test_approved_device_missing_for_n_days_fails(store: Inventory) -> None:
    # Given the server and the printer were both seen on day 0
    first = sweep(host("10.77.0.10", mac=SERVER_MAC), host("10.77.0.40"), **days(0))
    store.commit_sweep(first, [], score_findings([]))
    # When only the printer is seen on day 7, then on day 20
    f7 = check(store, sweep(host("10.77.0.40"), **days(7)))
    store.commit_sweep(sweep(host("10.77.0.40"), **days(7)), [], score_findings([]))
    f20 = check(store, sweep(host("10.77.0.40"), **days(20)))
    # Then the server passes at 7 days unseen (limit 14) and fails at 20
    assert f7["asset.missing_approved", "10.77.0.10"].status is Status.PASS
    late = f20["asset.missing_approved", "10.77.0.10"]
    assert late.status is Status.FAIL and "20 days ago" in late.evidence
    assert f20["asset.missing_approved", "10.77.0.40"].status is Status.PASS


def test_never_seen_approved_device_is_not_assessed_until_history_covers_n_days(
    store: Inventory,
) -> None:
    store.commit_sweep(sweep(host("10.77.0.40"), **days(0)), [], score_findings([]))
    early = check(store, sweep(host("10.77.0.40"), **days(3)))
    assert early["asset.missing_approved", SERVER_MAC].status is Status.NOT_ASSESSED
    late = check(store, sweep(host("10.77.0.40"), **days(15)))
    assert late["asset.missing_approved", SERVER_MAC].status is Status.FAIL
    assert "never seen" in late["asset.missing_approved", SERVER_MAC].evidence


def test_failed_discovery_is_not_evidence_of_a_missing_device(store: Inventory) -> None:
    store.commit_sweep(sweep(host("10.77.0.40"), **days(0)), [], score_findings([]))
    failed = Attempt(
        stage="discovery.arp", target="10.77.0.0/24", status=AttemptStatus.ERROR,
        reason=Reason.PRIVILEGE_REQUIRED,
    )  # fmt: skip
    f = check(store, sweep(attempts=(failed,), **days(30)))
    assert f["asset.missing_approved", "10.77.0.40"].status is Status.NOT_ASSESSED
