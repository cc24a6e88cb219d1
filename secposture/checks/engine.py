"""Runs the check catalogue over a sweep: every evaluator of the table, on every target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.checks.registry import Verdict
from secposture.checks.table import device_evaluators, host_evaluators, inventory_evaluators
from secposture.model.device_facts import FACTS_KIND, DeviceFacts
from secposture.model.records import AttemptStatus, Finding, Status, SweepResult, Target

if TYPE_CHECKING:
    from inventory.facts import InventoryFacts

# The attempts of the config audit (scanners/devices) carry this stage.
DEVICE_STAGE = "device"

DeviceTarget = DeviceFacts | str  # the facts, or why the device was not read


def run_checks(sweep: SweepResult) -> list[Finding]:
    """Evaluate every registered host check on every host, and every device check on every
    network device, of the sweep."""
    catalogue = load_catalogue()
    findings = [
        finding
        for check_id, evaluate in host_evaluators().items()
        for host in sweep.hosts
        for finding in _findings(catalogue[check_id], host.ip, evaluate(host, sweep))
    ]
    return findings + run_device_checks(sweep)


def run_inventory_checks(facts: InventoryFacts) -> list[Finding]:
    """Evaluate every inventory-wide check on the facts the store gives for one sweep."""
    catalogue = load_catalogue()
    return [
        finding
        for check_id, evaluate in inventory_evaluators().items()
        for ip, verdict in evaluate(facts)
        for finding in _findings(catalogue[check_id], ip, [verdict])
    ]


def run_device_checks(sweep: SweepResult) -> list[Finding]:
    """Every device check on every device the config audit read, tried or was told about.

    A device is a target whether or not discovery saw it, and one whose configuration could not
    be read gets ``not_assessed`` with the reason, never a pass.
    """
    targets = sorted(device_targets(sweep).items())
    catalogue = load_catalogue()
    return [
        finding
        for check_id, evaluate in device_evaluators().items()
        for ip, target in targets
        for finding in _findings(
            catalogue[check_id],
            ip,
            [Verdict(Status.NOT_ASSESSED, reason=target)]
            if isinstance(target, str)
            else evaluate(target, sweep),
        )
    ]


def device_targets(sweep: SweepResult) -> dict[str, DeviceTarget]:
    """Every device the config audit knows of in this sweep: its facts, or the reason (an
    attempt's ``reason: detail``) why it could not be assessed."""
    targets: dict[str, DeviceTarget] = {}
    for attempt in sweep.attempts:
        if attempt.stage == DEVICE_STAGE and attempt.status is not AttemptStatus.COMPLETED:
            reason = attempt.reason.value if attempt.reason else attempt.status.value
            targets[attempt.target] = f"{reason}: {attempt.detail}"
    for obs in sweep.observations:
        if obs.kind != FACTS_KIND:
            continue
        try:
            targets[obs.ip] = DeviceFacts.model_validate(obs.data["facts"])
        except (KeyError, ValidationError):
            targets[obs.ip] = "parse_error: the stored device facts could not be read"
    return targets


# Every finding about the same (ip, port, proto) shares one Target: a host's dozen checks
# would otherwise make a dozen equal records (issue #20: a 10,000-host import in bounded memory).
_TARGETS: dict[tuple[str, int | None, str | None], Target] = {}
_TARGETS_KEPT = 100_000  # beyond this the cache starts again: one sweep's targets, not all


def _target(ip: str, port: int | None, proto: str | None) -> Target:
    key = (ip, port, proto)
    found = _TARGETS.get(key)
    if found is None:
        if len(_TARGETS) >= _TARGETS_KEPT:
            _TARGETS.clear()
        found = _TARGETS[key] = Target(ip=ip, port=port, proto=proto)
    return found


def _findings(meta: CheckMeta, ip: str, verdicts: Iterable[Verdict]) -> Iterable[Finding]:
    for v in verdicts:
        yield Finding(
            check_id=meta.id,
            status=v.status,
            severity=meta.severity,
            target=_target(ip, v.port, v.proto),
            evidence=v.evidence,
            reason=v.reason,
        )
