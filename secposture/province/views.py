"""What the province and district pages show, every value as text ready to lay out.

The builders (:mod:`~secposture.province.aggregate` and the section modules beside it) fill
these; the templates only place them, so a template never computes a number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from secposture.report.view.charts import TrendChart
from secposture.report.view.page import Fact

Translate = Callable[..., str]


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


@dataclass(frozen=True, slots=True)
class Bar:
    """One bar of the score distribution, in the chart's SVG user units."""

    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True, slots=True)
class TierCount:
    """How many units are in one tier."""

    id: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell of a heat map."""

    text: str
    level: str  # css class: h0 (none) … h4 (many), na (no report)


@dataclass(frozen=True, slots=True)
class HeatRow:
    """One unit's row of a heat map."""

    name: str
    href: str | None
    cells: list[HeatCell]


@dataclass(frozen=True, slots=True)
class Heat:
    """A heat map: units down, checks or pillars across."""

    columns: list[str]
    column_ids: list[str]
    rows: list[HeatRow]


@dataclass(frozen=True, slots=True)
class AffectedUnit:
    """A unit failing a common finding, with how many of its targets fail."""

    name: str
    href: str | None
    targets: str


@dataclass(frozen=True, slots=True)
class CommonFinding:
    """A check many units fail, with the units failing it."""

    check_id: str
    title: str
    severity: str
    severity_label: str
    headline: str
    levels: str
    units: list[AffectedUnit]


@dataclass(frozen=True, slots=True)
class TrendWeek:
    """One week of the trend: its label, the mean score as text, how many units swept."""

    label: str
    mean: str  # "—" when no unit swept with a score that week
    count: int


@dataclass(frozen=True, slots=True)
class Trend:
    """The weekly trend: the chart and, in the same order, the weeks it draws."""

    chart: TrendChart
    weeks: list[TrendWeek]  # every week of the window, with or without data
    scored: bool  # at least one week has a mean score


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """A unit whose last bundle is too old, or that never sent one."""

    name: str
    level_label: str
    last: str


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
