"""What every per-service host check shares: the host must have been port-scanned, and must run
the service, before the service itself is judged.

A check says ``not_assessed`` when the port scan did not complete (never ``pass`` for want of
evidence) and gives its own ``absent`` verdict when the host has no such service; otherwise each
service found gets one verdict from the check's judgement, stamped with the service's port.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from secposture.checks.registry import HostEvaluator, Verdict, evaluator
from secposture.model.records import Host, Observation, Service, Status, SweepResult

# The reason every host evaluator gives when the host's port scan did not complete.
NOT_SCANNED = "port scan of this host did not complete"

Find = Callable[[Host, SweepResult], Sequence[Service]]
Judgement = Callable[[Service, Host, SweepResult], Verdict]
ProbeJudgement = Callable[[Observation, Service, SweepResult], Verdict]


def per_service(check_id: str, find: Find, absent: Verdict) -> Callable[[Judgement], HostEvaluator]:
    """Register a host check for ``check_id`` that judges each service ``find`` returns."""

    def register(judge: Judgement) -> HostEvaluator:
        def evaluate(host: Host, sweep: SweepResult) -> Iterator[Verdict]:
            if not host.ports_scanned:
                yield Verdict(Status.NOT_ASSESSED, reason=NOT_SCANNED)
                return
            found = find(host, sweep)
            if not found:
                yield absent
                return
            for service in found:
                v = judge(service, host, sweep)
                yield Verdict(v.status, service.port, service.proto, v.evidence, v.reason)

        evaluate.__name__ = judge.__name__
        evaluate.__doc__ = judge.__doc__
        return evaluator(check_id)(evaluate)

    return register


def probed(kind: str, unprobed: Verdict) -> Callable[[ProbeJudgement], Judgement]:
    """Make a judgement of one probe's observation of the service's port into a judgement of
    the service; a port the probe did not report on gets ``unprobed``, never a pass."""

    def wrap(judge: ProbeJudgement) -> Judgement:
        def judge_service(service: Service, host: Host, sweep: SweepResult) -> Verdict:
            obs = by_port(sweep, host, kind).get(service.port)
            return unprobed if obs is None else judge(obs, service, sweep)

        judge_service.__name__ = judge.__name__
        judge_service.__doc__ = judge.__doc__
        return judge_service

    return wrap


def open_tcp(host: Host) -> list[Service]:
    """The host's open TCP services, in the order the scan listed them."""
    return list(host.open_services("tcp"))


def serving(is_it: Callable[[Service], bool]) -> Callable[[Host, SweepResult], list[Service]]:
    """A ``find`` for :func:`per_service`: the open TCP services that ``is_it`` recognises."""

    def find(host: Host, sweep: SweepResult) -> list[Service]:
        return [s for s in open_tcp(host) if is_it(s)]

    return find


def named(*names: str, port: int) -> Callable[[Service], bool]:
    """Recognise a service by nmap's name for it, or by its usual port when nmap named none."""

    def is_it(service: Service) -> bool:
        return service.name in names or (not service.name and service.port == port)

    return is_it


def by_port(sweep: SweepResult, host: Host, kind: str) -> dict[int | None, Observation]:
    """The host's observations of one kind, by the port they are about."""
    return {o.port: o for o in sweep.observations_for(host.ip, kind)}


def product_of(service: Service) -> str:
    """Product and version as nmap named them, e.g. ``"OpenSSH 9.6"``; empty when unnamed."""
    return " ".join(p for p in (service.product, service.version) if p)
