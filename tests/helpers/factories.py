"""Builders for hand-made sweeps (tests never need the network for these)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from secposture.config.loading import load_config
from secposture.config.sections import AgencyConfig
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


def timed_out(stage: str, target: str, detail: str = "host timeout after 300 s") -> Attempt:
    """A scanner step that ran out of time: the failed attempt most sweeps of a real LAN hold."""
    return Attempt(stage=stage, target=target, status="error", reason="timeout", detail=detail)


# An agency config as sections, for tests that merge in their own (agency_config).
AGENCY: dict[str, dict[str, object]] = {
    "agency": {"id": "tn-xa-mau", "name": "UBND xã Mẫu", "level": "commune"},
    "scan": {"scopes": ["10.77.0.0/24"]},
    "store": {"path": "var/inventory.json"},
    "report": {"dir": "out"},
}


def agency_config(tmp_path: Path, **sections: dict[str, object]) -> AgencyConfig:
    """AGENCY with ``sections`` merged over it, written to tmp_path/agency.toml and loaded."""
    lines = []
    for name, values in {**AGENCY, **sections}.items():
        lines.append(f"[{name}]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in values.items()]
    path = tmp_path / "agency.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return load_config(path)
