"""Synthetic provinces and their signed bundles for the collector benchmarks (issue #8)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from secposture.bundle.envelope import sign_payload
from secposture.province.synthetic import SyntheticProvince, make_payload, make_province

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)


def province_of(units: int, hosts: tuple[int, int], seed: int = 8) -> SyntheticProvince:
    """Exactly ``units`` units in Tây Ninh's proportions (25 departments, 82 communes and
    14 wards of 121): two-tier, two groups, no succession (every unit reports)."""
    departments = max(1, round(units * 25 / 121))
    wards = max(1, round(units * 14 / 121))
    return make_province(
        communes=units - departments - wards,
        wards=wards,
        departments=departments,
        groups=2,
        succession=False,
        hosts=hosts,
        seed=seed,
    )


def weekly_bundles(province: SyntheticProvince, weeks: int) -> list[bytes]:
    """``weeks`` signed bundles per unit, oldest week first. Each unit's LAN is generated
    once and re-dated each week (a different sweep, so a different signed bundle)."""
    out: list[bytes] = []
    payloads = {u.id: make_payload(u, NOW - timedelta(weeks=weeks)) for u in province.units}
    for week in range(weeks):
        started = NOW - timedelta(weeks=weeks - 1 - week, hours=20)
        for unit in province.units:
            base = payloads[unit.id]
            sweep = base.sweep.model_copy(
                update={
                    "sweep_id": f"{unit.id}-{started:%Y%m%dT%H%M%SZ}-0000",
                    "started": started,
                    "finished": started + timedelta(minutes=20),
                }
            )
            out.append(sign_payload(base.model_copy(update={"sweep": sweep}), unit.key))
    return out


def write_config(province: SyntheticProvince, folder: Path, port: int = 8443) -> Path:
    """The collector TOML for ``province`` with its store in ``folder``."""
    data = province.config(str(folder / "store"), host="127.0.0.1", port=port)
    lines = ["[collector]"] + [f"{k} = {toml_value(v)}" for k, v in data["collector"].items()]
    lines += ["[province]"] + [f"{k} = {toml_value(v)}" for k, v in data["province"].items()]
    for table in ("group", "unit"):
        for entry in data.get(table, []):
            lines += [f"[[{table}]]"] + [f"{k} = {toml_value(v)}" for k, v in entry.items()]
    path = folder / "collector.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def toml_value(value: object) -> str:
    """``value`` as TOML: a date bare, anything else as JSON (which TOML reads the same)."""
    import json

    return value.isoformat() if isinstance(value, date) else json.dumps(value)
