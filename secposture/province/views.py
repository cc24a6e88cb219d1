"""What a province or group page shows, built from the stored bundles' index rows.

Pure functions: rows in, view objects out. Each section is built in its own module
(:mod:`.summary`, :mod:`.ranking`, :mod:`.findings`, :mod:`.trend`), beside the view objects
it fills; this module puts them together into one :class:`AggregateView` per page. Every
number and every label is prepared there, so the templates only lay them out; the arithmetic
itself (tiers, medians, means) is :mod:`secposture.scoring.tiers`.
"""

from __future__ import annotations

from collections import Counter
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

# The province page counts its units by level, in this order: communes, wards and
# departments always, special zones and (pre-1/7/2025) districts only when there is one.
COUNTED_LEVELS = (Level.COMMUNE, Level.WARD, Level.SPECIAL_ZONE, Level.DEPARTMENT, Level.DISTRICT)
COUNTED_WHEN_ANY = frozenset({Level.SPECIAL_ZONE, Level.DISTRICT})


@dataclass(frozen=True, slots=True)
class GroupLine:
    """One row of the province page's table of groups."""

    name: str
    href: str
    units: int  # every level
    reported: str
    median: str


@dataclass(frozen=True, slots=True)
class AggregateView:
    """Everything one province or group page shows."""

    kind: str  # "province" or "group"
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
    groups: list[GroupLine]
    back_href: str | None


def build_view(
    scope: PageScope,
    *,
    catalogue: dict[str, CheckMeta],
    now: datetime,
    overdue_days: int,
    lang: str,
    t: Translate,
    groups: list[GroupLine] | None = None,
) -> AggregateView:
    """The province or group page for ``scope``."""
    lines = ranking(scope, lang, t)
    scores = scope.scores()
    reported = scope.reported()
    bars, gridlines = distribution(scores)
    facts = [
        Fact(t("agg.meta.generated"), format_time(now, lang)),
        Fact(t("agg.meta.units"), str(len(scope.units))),
        Fact(t("agg.meta.reported"), f"{reported}/{len(scope.units)}"),
    ]
    if scope.kind == "province":
        facts.append(Fact(t("agg.meta.by_level"), by_level(scope, t)))
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
        groups=groups or [],
        back_href=None if scope.kind == "province" else _home(scope),
    )


def group_line(scope: PageScope, href: str, lang: str) -> GroupLine:
    """One row of the province page's table of groups."""
    return GroupLine(
        name=scope.heading,
        href=href,
        units=len(scope.units),
        reported=f"{scope.reported()}/{len(scope.units)}",
        median=_median(scope.scores(), lang),
    )


def by_level(scope: PageScope, t: Translate) -> str:
    """How many units of each level the page covers: "82 xã · 14 phường · 25 sở, ngành"."""
    counts = Counter(u.level for u in scope.units)
    return " · ".join(
        t("agg.meta.level_count", count=counts[level], level=t(f"agg.level.{level.value}"))
        for level in COUNTED_LEVELS
        if counts[level] or level not in COUNTED_WHEN_ANY
    )


def _home(scope: PageScope) -> str:
    return "/" if scope.console else f"{scope.prefix}index.html"


def _median(scores: list[float], lang: str) -> str:
    median = median_score(scores)
    return "—" if median is None else number(median, lang)
