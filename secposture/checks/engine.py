"""Runs the check catalogue over a sweep: evaluators are registered per check id."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from secposture.checks.catalogue import load_catalogue
from secposture.models import Finding, Host, Severity, Status, SweepResult, Target


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


def evaluator(check_id: str) -> Callable[[HostEvaluator], HostEvaluator]:
    """Register a host evaluator for a catalogue id (the id must exist in the data)."""

    def register(func: HostEvaluator) -> HostEvaluator:
        if check_id in _REGISTRY:
            raise ValueError(f"evaluator for {check_id} registered twice")
        _REGISTRY[check_id] = func
        return func

    return register


def registered() -> dict[str, HostEvaluator]:
    # Importing the evaluator modules fills the registry; done here, not at package import,
    # so that loading the catalogue alone stays cheap.
    from secposture.checks import network  # noqa: F401

    return dict(_REGISTRY)


def run_checks(sweep: SweepResult) -> list[Finding]:
    """Evaluate every registered host check on every host of the sweep."""
    catalogue = load_catalogue()
    findings: list[Finding] = []
    for check_id, func in sorted(registered().items()):
        meta = catalogue[check_id]
        for host in sweep.hosts:
            findings.extend(_findings(check_id, meta.severity, host, func(host, sweep)))
    return findings


def _findings(
    check_id: str, severity: Severity, host: Host, verdicts: Iterable[Verdict]
) -> Iterator[Finding]:
    for v in verdicts:
        yield Finding(
            check_id=check_id,
            status=v.status,
            severity=severity,
            target=Target(ip=host.ip, port=v.port, proto=v.proto),
            evidence=v.evidence,
            reason=v.reason,
        )
