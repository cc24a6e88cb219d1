"""Runs the check catalogue over a sweep: evaluators are registered per check id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar

from secposture.checks.catalogue import load_catalogue
from secposture.model.records import Finding, Host, Severity, Status, SweepResult, Target

if TYPE_CHECKING:
    from inventory.facts import InventoryFacts
    from secposture.model.device_facts import DeviceFacts


# The reason every host evaluator gives when the host's port scan did not complete.
NOT_SCANNED = "port scan of this host did not complete"


@dataclass(frozen=True, slots=True)
class Verdict:
    """What an evaluator says about one target; the engine adds check id and severity."""

    status: Status
    port: int | None = None
    proto: str | None = None
    evidence: str = ""
    reason: str = ""


HostEvaluator = Callable[[Host, SweepResult], Iterable[Verdict]]
_REGISTRY: dict[str, HostEvaluator] = {}


E = TypeVar("E")


def _register_in(registry: dict[str, E], check_id: str) -> Callable[[E], E]:
    def register(func: E) -> E:
        if check_id in registry:
            raise ValueError(f"evaluator for {check_id} registered twice")
        registry[check_id] = func
        return func

    return register


def evaluator(check_id: str) -> Callable[[HostEvaluator], HostEvaluator]:
    """Register a host evaluator for a catalogue id (the id must exist in the data)."""
    return _register_in(_REGISTRY, check_id)


def registered() -> dict[str, HostEvaluator]:
    # Importing the evaluator modules fills the registry; done here, not at package import,
    # so that loading the catalogue alone stays cheap.
    from secposture.checks.evaluators import network  # noqa: F401

    return dict(_REGISTRY)


def run_checks(sweep: SweepResult) -> list[Finding]:
    """Evaluate every registered host check on every host, and every device check on every
    network device, of the sweep."""
    catalogue = load_catalogue()
    findings: list[Finding] = []
    for check_id, func in sorted(registered().items()):
        meta = catalogue[check_id]
        for host in sweep.hosts:
            findings.extend(_findings(check_id, meta.severity, host.ip, func(host, sweep)))
    return findings + run_device_checks(sweep)


def _findings(
    check_id: str, severity: Severity, ip: str, verdicts: Iterable[Verdict]
) -> Iterator[Finding]:
    for v in verdicts:
        yield Finding(
            check_id=check_id,
            status=v.status,
            severity=severity,
            target=Target(ip=ip, port=v.port, proto=v.proto),
            evidence=v.evidence,
            reason=v.reason,
        )


# Checks over the whole inventory (the approved register, devices over weeks) see every device
# at once, not one host of one sweep; each verdict names the IP it is about.
InventoryEvaluator = Callable[["InventoryFacts"], Iterable[tuple[str, Verdict]]]
_INVENTORY_REGISTRY: dict[str, InventoryEvaluator] = {}


def inventory_evaluator(check_id: str) -> Callable[[InventoryEvaluator], InventoryEvaluator]:
    """Register an inventory-wide evaluator for a catalogue id."""
    return _register_in(_INVENTORY_REGISTRY, check_id)


def registered_inventory() -> dict[str, InventoryEvaluator]:
    import secposture.checks.evaluators.inventory  # noqa: F401 - fills the registry

    return dict(_INVENTORY_REGISTRY)


def run_inventory_checks(facts: InventoryFacts) -> list[Finding]:
    """Evaluate every inventory-wide check on the facts the store gives for one sweep."""
    catalogue = load_catalogue()
    findings: list[Finding] = []
    for check_id, func in sorted(registered_inventory().items()):
        severity = catalogue[check_id].severity
        for ip, verdict in func(facts):
            findings.extend(_findings(check_id, severity, ip, [verdict]))
    return findings


# Checks over a network device's configuration (issue #4) see its facts, not a host: a device
# is a target whether or not discovery saw it, and one whose configuration could not be read
# gets not_assessed with the reason, never a pass.
DeviceEvaluator = Callable[["DeviceFacts", SweepResult], Iterable[Verdict]]
_DEVICE_REGISTRY: dict[str, DeviceEvaluator] = {}


def device_evaluator(check_id: str) -> Callable[[DeviceEvaluator], DeviceEvaluator]:
    """Register a network-device evaluator for a catalogue id."""
    return _register_in(_DEVICE_REGISTRY, check_id)


def registered_device() -> dict[str, DeviceEvaluator]:
    import secposture.checks.evaluators.device  # noqa: F401 - fills the registry

    return dict(_DEVICE_REGISTRY)


def run_device_checks(sweep: SweepResult) -> list[Finding]:
    """Every device check on every device the config audit read, tried or was told about."""
    from secposture.checks.evaluators.device import device_targets

    targets = device_targets(sweep)
    if not targets:
        return []
    catalogue = load_catalogue()
    findings: list[Finding] = []
    for check_id, func in sorted(registered_device().items()):
        severity = catalogue[check_id].severity
        for ip, target in sorted(targets.items()):
            verdicts = (
                [Verdict(Status.NOT_ASSESSED, reason=target)]
                if isinstance(target, str)
                else func(target, sweep)
            )
            findings.extend(_findings(check_id, severity, ip, verdicts))
    return findings
