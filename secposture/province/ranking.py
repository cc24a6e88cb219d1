"""The ranking: every unit of a page, best score first, with its tier and latest sweep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secposture.model.records import Severity
from secposture.model.score import Cap
from secposture.province.hierarchy import Unit
from secposture.province.rows import PageScope, Row, Translate, score_of
from secposture.report.view.text import cap_reason, format_time, number
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
    capped: str  # why the score is held down (issue #13); empty when it is not
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

    def key(unit: Unit) -> tuple[int, float, int, str]:
        row = scope.latest(unit.id)
        score = score_of(row)
        state = 0 if score is not None else 1 if row is not None else 2
        # Equal scores (two units held at the same cap) are told apart by fewer open high
        # and critical findings: each check counts once in the score, every target here.
        return (state, -(score or 0.0), _serious(row), unit.name)

    lines = []
    rank = 0
    for unit in sorted(scope.units, key=key):
        row = scope.latest(unit.id)
        score = score_of(row)
        tier = tier_of(score)
        if score is not None:
            rank += 1
        serious = _serious(row)
        lines.append(
            UnitLine(
                id=unit.id,
                name=unit.name,
                level=unit.level.value,
                level_label=t(f"report.level.{unit.level.value}"),
                rank=rank if score is not None else None,
                score="—" if score is None else number(score, lang),
                capped=_capped(row, lang),
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


def _serious(row: Row | None) -> int:
    """Open high and critical findings of the unit's latest sweep."""
    if row is None:
        return 0
    return sum(n for c, n in row["failed"].items() if row["severity"][c] in SERIOUS)


def _capped(row: Row | None, lang: str) -> str:
    """The cap's reason as the unit's bundle carried it; bundles from before issue #13 have none."""
    cap = None if row is None else row["score"].get("cap")
    if not isinstance(cap, dict):
        return ""
    return cap_reason(Cap.model_validate(cap), lang)
