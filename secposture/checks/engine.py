"""Runs the check catalogue over a sweep: every evaluator of the table, on every target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.checks.registry import CheckOptions, Verdict
from secposture.checks.table import device_evaluators, host_evaluators, inventory_evaluators
from secposture.model.device_facts import FACTS_KIND, DeviceFacts
from secposture.model.i18n import said
from secposture.model.records import AttemptStatus, Finding, Status, SweepResult, Target

if TYPE_CHECKING:
    from inventory.facts import InventoryFacts

# The attempts of the config audit (scanners/devices) carry this stage.
DEVICE_STAGE = "device"

DeviceTarget = DeviceFacts | str  # the facts, or why the device was not read


def run_checks(sweep: SweepResult, options: CheckOptions | None = None) -> list[Finding]:
    """Evaluate every registered host check on every host, and every device check on every
    network device, of the sweep; ``options`` carries what the agency's files add."""
    catalogue = load_catalogue()
    shared = _Shared()
    findings: list[Finding] = []
    for check_id, evaluate in host_evaluators().items():
        meta = catalogue[check_id]
        for host in sweep.hosts:
            # One list extended per host: a 10,000-host sweep makes 118,000 findings, and a
            # generator per (check, host) was a tenth of their cost (issue #20).
            findings += _findings(meta, host.ip, evaluate(host, sweep), shared)
    return findings + run_device_checks(sweep, options)


def run_inventory_checks(facts: InventoryFacts) -> list[Finding]:
    """Evaluate every inventory-wide check on the facts the store gives for one sweep."""
    catalogue = load_catalogue()
    shared = _Shared()
    return [
        finding
        for check_id, evaluate in inventory_evaluators().items()
        for ip, verdict in evaluate(facts)
        for finding in _findings(catalogue[check_id], ip, [verdict], shared)
    ]


def run_device_checks(sweep: SweepResult, options: CheckOptions | None = None) -> list[Finding]:
    """Every device check on every device the config audit read, tried or was told about.

    A device is a target whether or not discovery saw it, and one whose configuration could not
    be read gets ``not_assessed`` with the reason, never a pass.
    """
    devices = sorted(device_targets(sweep).items())
    options = options if options is not None else CheckOptions()
    catalogue = load_catalogue()
    shared = _Shared()
    return [
        finding
        for check_id, evaluate in device_evaluators().items()
        for ip, target in devices
        for finding in _findings(
            catalogue[check_id],
            ip,
            [Verdict(Status.NOT_ASSESSED, reason=target)]
            if isinstance(target, str)
            else evaluate(target, sweep, options),
            shared,
        )
    ]


def device_targets(sweep: SweepResult) -> dict[str, DeviceTarget]:
    """Every device the config audit knows of in this sweep: its facts, or the reason (an
    attempt's ``reason: detail``) why it could not be assessed."""
    targets: dict[str, DeviceTarget] = {}
    for attempt in sweep.attempts:
        if attempt.stage == DEVICE_STAGE and attempt.status is not AttemptStatus.COMPLETED:
            reason = attempt.reason.value if attempt.reason else attempt.status.value
            targets[attempt.target] = said("{name}: {text}", name=reason, text=attempt.detail)
    for obs in sweep.observations:
        if obs.kind != FACTS_KIND:
            continue
        try:
            targets[obs.ip] = DeviceFacts.model_validate(obs.data["facts"])
        except (KeyError, ValidationError):
            targets[obs.ip] = "parse_error: the stored device facts could not be read"
    return targets


class _Shared:
    """What the findings of one run share instead of each keeping its own equal copy: one
    Target per (ip, port, proto), one string per distinct evidence or reason text. A host's
    dozen checks would otherwise make a dozen equal Targets, and ten thousand hosts the same
    sentence ten thousand times (issue #20: a 10,000-host import in bounded memory)."""

    def __init__(self) -> None:
        self.targets: dict[tuple[str, int | None, str | None], Target] = {}
        self.texts: dict[str, str] = {}

    def target(self, ip: str, port: int | None, proto: str | None) -> Target:
        key = (ip, port, proto)
        found = self.targets.get(key)
        if found is None:
            found = self.targets[key] = Target(ip=ip, port=port, proto=proto)
        return found

    def text(self, value: str) -> str:
        return self.texts.setdefault(value, value)


def _findings(
    meta: CheckMeta, ip: str, verdicts: Iterable[Verdict], shared: _Shared
) -> list[Finding]:
    return [
        Finding(
            check_id=meta.id,
            status=v.status,
            severity=meta.severity,
            target=shared.target(ip, v.port, v.proto),
            evidence=shared.text(v.evidence),
            reason=shared.text(v.reason),
        )
        for v in verdicts
    ]
