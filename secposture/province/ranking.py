"""The ranking: every unit of a page, best score first, with its tier and latest sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secposture.model.records import Severity
from secposture.province.hierarchy import Unit
from secposture.province.rows import PageScope, Translate, score_of
from secposture.report.view.text import format_time, number
from secposture.scoring.tiers import tier_of

SERIOUS = frozenset({Severity.HIGH.value, Severity.CRITICAL.value})


@dataclass(frozen=True, slots=True)
class UnitLine:
    """One unit's row of the ranking."""

    id: str
    name: str
    level: str
    level_label: str
    rank: int | None
    score: str  # "—" when nothing could be scored
    coverage: str
    tier: str
    tier_label: str
    hosts: str
    serious: int
    last_sweep: str
    incomplete: bool
    href: str | None  # the unit's latest report, None before its first bundle


def ranking(scope: PageScope, lang: str, t: Translate) -> list[UnitLine]:
    """The units best score first, then those without a score, then those never reported."""

    def key(unit: Unit) -> tuple[int, float, str]:
        score = score_of(scope.latest(unit.id))
        reported = scope.latest(unit.id) is not None
        return (0 if score is not None else 1 if reported else 2, -(score or 0.0), unit.name)

    lines = []
    rank = 0
    for unit in sorted(scope.units, key=key):
        row = scope.latest(unit.id)
        score = score_of(row)
        tier = tier_of(score)
        if score is not None:
            rank += 1
        serious = 0
        if row is not None:
            serious = sum(n for c, n in row["failed"].items() if row["severity"][c] in SERIOUS)
        lines.append(
            UnitLine(
                id=unit.id,
                name=unit.name,
                level=unit.level.value,
                level_label=t(f"report.level.{unit.level.value}"),
                rank=rank if score is not None else None,
                score="—" if score is None else number(score, lang),
                coverage="" if row is None else f"{int(row['score']['coverage'] * 100)}%",
                tier=tier if row is not None else "none",
                tier_label=t(f"agg.tier.{tier}") if row is not None else "",
                hosts="" if row is None else str(row["hosts"]),
                serious=serious,
                last_sweep=""
                if row is None
                else format_time(datetime.fromisoformat(row["started"]), lang),
                incomplete=row is not None and not row["complete"],
                href=scope.href(unit.id),
            )
        )
    return lines
