"""Where each unit stands: the ranking, the tiers, the score distribution, who is overdue."""

from __future__ import annotations

from datetime import datetime, timedelta

from secposture.model.records import Severity
from secposture.province.hierarchy import Unit
from secposture.province.render import format_time, number
from secposture.province.rows import PageScope, score_of
from secposture.province.views import Bar, OverdueLine, TierCount, Translate, UnitLine
from secposture.scoring.tiers import (
    UNSCORED,
    decile_counts,
    decile_range,
    tier_counts,
    tier_of,
    tier_spans,
)

SERIOUS = frozenset({Severity.HIGH.value, Severity.CRITICAL.value})
# Chart box of the distribution in SVG user units; the page scales it to its width.
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 640.0, 200.0, 36.0, 28.0, 12.0


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


def distribution(scores: list[float]) -> tuple[list[Bar], list[tuple[float, str]]]:
    """Ten bars, 0-9 … 90-100, of how many units scored in each band."""
    counts = decile_counts(scores)
    tallest = max(counts) or 1
    plot_w, plot_h = CHART_W - PAD_L, CHART_H - PAD_B - PAD_T
    step = plot_w / len(counts)
    bars = []
    for band, count in enumerate(counts):
        height = plot_h * count / tallest
        low, high = decile_range(band)
        x = PAD_L + band * step + step * 0.12
        bars.append(
            Bar(
                label=f"{low}–{high}",
                count=count,
                x=round(x, 1),
                y=round(PAD_T + plot_h - height, 1),
                width=round(step * 0.76, 1),
                height=round(height, 1),
                label_x=round(x + step * 0.38, 1),
            )
        )
    ticks = sorted({0, tallest // 2, tallest})
    gridlines = [(round(PAD_T + plot_h - plot_h * n / tallest, 1), str(n)) for n in ticks]
    return bars, gridlines


def tiers(scope: PageScope, t: Translate) -> list[TierCount]:
    """How many reported units are in each tier, highest first, then the unscored."""
    counts = tier_counts(score_of(row) for u in scope.units if (row := scope.latest(u.id)))
    out = [
        TierCount(
            span.id,
            f"{t(f'agg.tier.{span.id}')} ({span.low:.0f}–{span.high:.0f})",
            counts.get(span.id, 0),
        )
        for span in tier_spans()
    ]
    out.append(TierCount(UNSCORED, t("agg.tier.unscored"), counts.get(UNSCORED, 0)))
    return out


def overdue(
    scope: PageScope, now: datetime, days: int, lang: str, t: Translate
) -> list[OverdueLine]:
    """The units that never reported, or whose last sweep is older than ``days``, by name."""
    cutoff = now - timedelta(days=days)
    out = []
    for unit in sorted(scope.units, key=lambda u: u.name):
        level = t(f"report.level.{unit.level.value}")
        row = scope.latest(unit.id)
        if row is None:
            out.append(OverdueLine(unit.name, level, t("agg.overdue.never")))
            continue
        started = datetime.fromisoformat(row["started"])
        if started < cutoff:
            ago = t("agg.overdue.days", days=(now - started).days)
            out.append(OverdueLine(unit.name, level, f"{format_time(started, lang)} ({ago})"))
    return out
