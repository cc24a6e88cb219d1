"""Builders for hand-made sweeps (tests never need the network for these)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from secposture.model.records import Attempt, Host, Observation, Service, SweepResult

T0 = datetime(2026, 11, 22, 19, 0, tzinfo=UTC)


def agency_toml(store: str = "store.json", report: str = "out") -> str:
    """The smallest agency config: the commune tn-xa-mau and one /24; tests append sections."""
    return (
        '[agency]\nid = "tn-xa-mau"\nname = "UBND xã Mẫu"\nlevel = "commune"\n'
        '[scan]\nscopes = ["10.77.0.0/24"]\n'
        f'[store]\npath = "{store}"\n[report]\ndir = "{report}"\n'
    )


def svc(port: int, name: str, proto: str = "tcp", **kw: Any) -> Service:
    return Service(port=port, proto=proto, name=name, **kw)


def host(
    ip: str, *services: Service, scanned: bool = True, udp: tuple[int, ...] = (161,), **kw: Any
) -> Host:
    return Host(
        ip=ip, services=services, ports_scanned=scanned, udp_scanned=udp if scanned else (), **kw
    )


def obs(
    kind: str, ip: str, port: int | None = None, proto: str = "tcp", **data: Any
) -> Observation:
    return Observation(kind=kind, ip=ip, port=port, proto=proto, source="test", data=data)


def sweep(
    *hosts: Host,
    observations: tuple[Observation, ...] = (),
    attempts: tuple[Attempt, ...] = (),
    sweep_id: str = "s1",
    started: datetime = T0,
) -> SweepResult:
    return SweepResult(
        sweep_id=sweep_id,
        agency_id="tn-xa-mau",
        profile="standard",
        scopes=("10.77.0.0/24",),
        started=started,
        finished=started,
        hosts=hosts,
        observations=observations,
        attempts=attempts,
        complete=not any(a.status.value == "error" for a in attempts),
    )
