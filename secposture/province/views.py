"""What a province or district page shows, built from the stored bundles' index rows.

Pure functions: rows in, view objects out. Each section is built in its own module
(:mod:`.summary`, :mod:`.ranking`, :mod:`.findings`, :mod:`.trend`), beside the view objects
it fills; this module puts them together into one :class:`AggregateView` per page. Every
number and every label is prepared there, so the templates only lay them out; the arithmetic
itself (tiers, medians, means) is :mod:`secposture.scoring.tiers`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from secposture.checks.catalogue import CheckMeta
from secposture.config.sections import Level
from secposture.province.findings import (
    CommonFinding,
    Heat,
    check_heat,
    common_findings,
    pillar_heat,
)
from secposture.province.ranking import UnitLine, ranking
from secposture.province.rows import PageScope, Translate
from secposture.province.summary import Bar, TierCount, distribution, tiers
from secposture.province.trend import OverdueLine, Trend, overdue, trend
from secposture.report.view.text import Fact, format_time, number
from secposture.scoring.tiers import median_score


@dataclass(frozen=True, slots=True)
class DistrictLine:
    """One row of the province page's district table."""

    name: str
    href: str
    communes: int
    reported: str
    median: str


@dataclass(frozen=True, slots=True)
class AggregateView:
    """Everything one province or district page shows."""

    kind: str  # "province" or "district"
    heading: str
    facts: list[Fact]
    reported: int
    total: int
    median: str
    bars: list[Bar]
    bar_gridlines: list[tuple[float, str]]
    tiers: list[TierCount]
    ranking: list[UnitLine]
    pillars: Heat | None  # GCI pillars, when the bundles carry a posture
    heat: Heat
    findings: list[CommonFinding]
    trend: Trend
    overdue: list[OverdueLine]
    districts: list[DistrictLine]
    back_href: str | None


def build_view(
    scope: PageScope,
    *,
    catalogue: dict[str, CheckMeta],
    now: datetime,
    overdue_days: int,
    lang: str,
    t: Translate,
    districts: list[DistrictLine] | None = None,
) -> AggregateView:
    """The province or district page for ``scope``."""
    lines = ranking(scope, lang, t)
    scores = scope.scores()
    reported = scope.reported()
    bars, gridlines = distribution(scores)
    facts = [
        Fact(t("agg.meta.generated"), format_time(now, lang)),
        Fact(t("agg.meta.units"), str(len(scope.units))),
        Fact(t("agg.meta.reported"), f"{reported}/{len(scope.units)}"),
    ]
    return AggregateView(
        kind=scope.kind,
        heading=scope.heading,
        facts=facts,
        reported=reported,
        total=len(scope.units),
        median=_median(scores, lang),
        bars=bars,
        bar_gridlines=gridlines,
        tiers=tiers(scope, t),
        ranking=lines,
        pillars=pillar_heat(scope, lines, lang),
        heat=check_heat(scope, lines, catalogue, lang),
        findings=common_findings(scope, catalogue, lang, t),
        trend=trend(scope, now, lang),
        overdue=overdue(scope, now, overdue_days, lang, t),
        districts=districts or [],
        back_href=None if scope.kind == "province" else f"{scope.prefix}index.html",
    )


def district_line(scope: PageScope, href: str, lang: str) -> DistrictLine:
    """One row of the province page's district table."""
    return DistrictLine(
        name=scope.heading,
        href=href,
        communes=sum(1 for u in scope.units if u.level is Level.COMMUNE),
        reported=f"{scope.reported()}/{len(scope.units)}",
        median=_median(scope.scores(), lang),
    )


def _median(scores: list[float], lang: str) -> str:
    median = median_score(scores)
    return "—" if median is None else number(median, lang)
