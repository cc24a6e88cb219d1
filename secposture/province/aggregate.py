"""Province and district views over the stored bundles' index rows.

Pure functions: rows in, view objects out, every number and every label prepared here so
the templates only lay them out. One index row per stored bundle (see
:func:`secposture.province.store.summary_row`); the latest row of each unit is its current
posture, all rows together make the weekly trend.
"""

from __future__ import annotations

import statistics
import tomllib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from importlib import resources
from typing import Any

from secposture.checks.catalogue import CheckMeta
from secposture.config.sections import Level
from secposture.model.records import Severity
from secposture.province.hierarchy import Unit
from secposture.report.view.text import VIETNAM_TIME, format_time, number

Row = dict[str, Any]
Translate = Callable[..., str]

TREND_WEEKS = 12
HEAT_COLUMNS = 8
TOP_FINDINGS = 10
SERIOUS = frozenset({Severity.HIGH.value, Severity.CRITICAL.value})
# Chart boxes in SVG user units; the page scales them to its width.
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 640.0, 200.0, 36.0, 28.0, 12.0


@dataclass(frozen=True, slots=True)
class TierBand:
    id: str
    min: float


@cache
def tier_bands() -> tuple[TierBand, ...]:
    """The score bands of data/aggregate_tiers.toml, highest first."""
    raw = resources.files("secposture").joinpath("data/aggregate_tiers.toml").read_text("utf-8")
    bands = [TierBand(str(b["id"]), float(b["min"])) for b in tomllib.loads(raw)["band"]]
    return tuple(sorted(bands, key=lambda b: -b.min))


def tier_of(score: float | None) -> str:
    if score is None:
        return "unscored"
    return next(b.id for b in tier_bands() if score >= b.min)


# --- view objects --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Fact:
    label: str
    value: str


@dataclass(frozen=True, slots=True)
class UnitLine:
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
    label: str
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True, slots=True)
class TierCount:
    id: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class HeatCell:
    text: str
    level: str  # css class: h0 (none) … h4 (many), na (no report)


@dataclass(frozen=True, slots=True)
class HeatRow:
    name: str
    href: str | None
    cells: list[HeatCell]


@dataclass(frozen=True, slots=True)
class Heat:
    columns: list[str]
    column_ids: list[str]
    rows: list[HeatRow]


@dataclass(frozen=True, slots=True)
class AffectedUnit:
    name: str
    href: str | None
    targets: str


@dataclass(frozen=True, slots=True)
class CommonFinding:
    check_id: str
    title: str
    severity: str
    severity_label: str
    headline: str
    levels: str
    units: list[AffectedUnit]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    week: str
    mean: str
    count: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Trend:
    points: list[TrendPoint]
    line: str  # SVG polyline points
    weeks: list[TrendPoint]  # every week of the window, with or without data
    gridlines: list[tuple[float, str]]


@dataclass(frozen=True, slots=True)
class OverdueLine:
    name: str
    level_label: str
    last: str


@dataclass(frozen=True, slots=True)
class DistrictLine:
    name: str
    href: str
    communes: int
    reported: str
    median: str


@dataclass(frozen=True, slots=True)
class AggregateView:
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


# --- building ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scope:
    """The units one page covers, with their stored rows (oldest first)."""

    heading: str
    kind: str
    units: list[Unit]
    history: dict[str, list[Row]]
    prefix: str  # path from the page to the output root ("" or "../")

    def latest(self, unit_id: str) -> Row | None:
        rows = self.history.get(unit_id)
        return rows[-1] if rows else None


def _score(row: Row | None) -> float | None:
    return None if row is None else row["score"]["overall"]


def build_view(
    scope: Scope,
    *,
    catalogue: dict[str, CheckMeta],
    now: datetime,
    overdue_days: int,
    lang: str,
    t: Translate,
    districts: list[DistrictLine] | None = None,
) -> AggregateView:
    """The province or district page for ``scope``."""
    ranking = _ranking(scope, lang, t)
    scores = [s for s in (_score(scope.latest(u.id)) for u in scope.units) if s is not None]
    reported = sum(1 for u in scope.units if scope.latest(u.id) is not None)
    bars, gridlines = _distribution(scores)
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
        median=number(statistics.median(scores), lang) if scores else "—",
        bars=bars,
        bar_gridlines=gridlines,
        tiers=_tiers(scope, t),
        ranking=ranking,
        pillars=_pillar_heat(scope, ranking, lang),
        heat=_heat(scope, ranking, catalogue, lang),
        findings=_findings(scope, catalogue, lang, t),
        trend=_trend(scope, now, lang),
        overdue=_overdue(scope, now, overdue_days, lang, t),
        districts=districts or [],
        back_href=None if scope.kind == "province" else f"{scope.prefix}index.html",
    )


def _href(scope: Scope, unit_id: str) -> str | None:
    return f"{scope.prefix}agencies/{unit_id}.html" if scope.latest(unit_id) else None


def _ranking(scope: Scope, lang: str, t: Translate) -> list[UnitLine]:
    def key(unit: Unit) -> tuple[int, float, str]:
        score = _score(scope.latest(unit.id))
        reported = scope.latest(unit.id) is not None
        return (0 if score is not None else 1 if reported else 2, -(score or 0.0), unit.name)

    lines = []
    rank = 0
    for unit in sorted(scope.units, key=key):
        row = scope.latest(unit.id)
        score = _score(row)
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
                href=_href(scope, unit.id),
            )
        )
    return lines


def _distribution(scores: list[float]) -> tuple[list[Bar], list[tuple[float, str]]]:
    """Ten bars, 0-9 … 90-100, of how many units scored in each band."""
    counts = Counter(min(int(s // 10), 9) for s in scores)
    tallest = max(counts.values(), default=0) or 1
    plot_w, plot_h = CHART_W - PAD_L, CHART_H - PAD_B - PAD_T
    step = plot_w / 10
    bars = []
    for band in range(10):
        count = counts.get(band, 0)
        height = plot_h * count / tallest
        label = f"{band * 10}–{band * 10 + 9}" if band < 9 else "90–100"
        x = PAD_L + band * step + step * 0.12
        bars.append(
            Bar(
                label,
                count,
                round(x, 1),
                round(PAD_T + plot_h - height, 1),
                round(step * 0.76, 1),
                round(height, 1),
                round(x + step * 0.38, 1),
            )
        )
    ticks = sorted({0, tallest // 2, tallest})
    gridlines = [(round(PAD_T + plot_h - plot_h * n / tallest, 1), str(n)) for n in ticks]
    return bars, gridlines


def _tiers(scope: Scope, t: Translate) -> list[TierCount]:
    counts = Counter(tier_of(_score(scope.latest(u.id))) for u in scope.units if scope.latest(u.id))
    bands = list(tier_bands())
    out = []
    for i, band in enumerate(bands):
        upper = f"–{bands[i - 1].min - 1:.0f}" if i else "–100"
        label = f"{t(f'agg.tier.{band.id}')} ({band.min:.0f}{upper})"
        out.append(TierCount(band.id, label, counts.get(band.id, 0)))
    out.append(TierCount("unscored", t("agg.tier.unscored"), counts.get("unscored", 0)))
    return out


def _title(check_id: str, catalogue: dict[str, CheckMeta], lang: str) -> str:
    meta = catalogue.get(check_id)
    return meta.title(lang) if meta else check_id


def _failing(scope: Scope) -> dict[str, list[tuple[Unit, int]]]:
    """Each failed check with the units (and their failed-target counts) failing it."""
    failing: dict[str, list[tuple[Unit, int]]] = {}
    for unit in scope.units:
        row = scope.latest(unit.id)
        for check_id, targets in row["failed"].items() if row else ():
            failing.setdefault(check_id, []).append((unit, targets))
    return failing


def _severity_rank(check_id: str, catalogue: dict[str, CheckMeta]) -> int:
    meta = catalogue.get(check_id)
    return meta.severity.rank if meta else 0


def _findings(
    scope: Scope, catalogue: dict[str, CheckMeta], lang: str, t: Translate
) -> list[CommonFinding]:
    failing = _failing(scope)
    order = sorted(failing, key=lambda c: (-len(failing[c]), -_severity_rank(c, catalogue), c))[
        :TOP_FINDINGS
    ]
    out = []
    for check_id in order:
        units = sorted(failing[check_id], key=lambda ut: (-ut[1], ut[0].name))
        by_level = Counter(u.level for u, _ in units)
        levels = " · ".join(
            t("agg.findings.levels", count=by_level[level], level=t(f"agg.level.{level.value}"))
            for level in (Level.COMMUNE, Level.DISTRICT, Level.DEPARTMENT)
            if by_level.get(level)
        )
        meta = catalogue.get(check_id)
        severity = meta.severity.value if meta else Severity.INFO.value
        title = _title(check_id, catalogue, lang)
        out.append(
            CommonFinding(
                check_id=check_id,
                title=title,
                severity=severity,
                severity_label=t(f"report.severity.{severity}"),
                headline=t("agg.findings.headline", count=len(units), title=title),
                levels=levels,
                units=[
                    AffectedUnit(u.name, _href(scope, u.id), t("agg.findings.targets", count=n))
                    for u, n in units
                ],
            )
        )
    return out


def _heat(
    scope: Scope, ranking: list[UnitLine], catalogue: dict[str, CheckMeta], lang: str
) -> Heat:
    """Units × the most common failed checks, each cell the share of the unit's assessed
    targets that fail (a share, so a 200-host department and a 20-host commune compare)."""
    failing = _failing(scope)
    columns = sorted(failing, key=lambda c: (-len(failing[c]), -_severity_rank(c, catalogue), c))[
        :HEAT_COLUMNS
    ]
    rows = []
    for line in ranking:
        row = scope.latest(line.id)
        cells = []
        for check_id in columns:
            if row is None:
                cells.append(HeatCell("", "na"))
                continue
            failed = int(row["failed"].get(check_id, 0))
            checked = int(row["checked"].get(check_id, 0))
            if checked == 0:
                cells.append(HeatCell("", "na"))
                continue
            share = 100.0 * failed / checked
            cells.append(HeatCell(f"{share:.0f}%", _heat_level(share)))
        rows.append(HeatRow(line.name, line.href, cells))
    return Heat([_title(c, catalogue, lang) for c in columns], columns, rows)


def _pillar_heat(scope: Scope, ranking: list[UnitLine], lang: str) -> Heat | None:
    """Units × GCI pillars, each cell the unit's pillar score in percent."""
    first = next(
        (row["pillars"] for line in ranking if (row := scope.latest(line.id)) and row["pillars"]),
        None,
    )
    if first is None:
        return None
    ids = [p["id"] for p in first]
    titles = [p["title_vi"] if lang == "vi" else p["title_en"] for p in first]
    rows = []
    for line in ranking:
        row = scope.latest(line.id)
        percent = {p["id"]: p["percent"] for p in row["pillars"]} if row else {}
        cells = []
        for pillar in ids:
            value = percent.get(pillar)
            if value is None:
                cells.append(HeatCell("", "na"))
            else:
                cells.append(HeatCell(number(value, lang), _heat_level(100.0 - value)))
        rows.append(HeatRow(line.name, line.href, cells))
    return Heat(titles, ids, rows)


def _heat_level(share: float) -> str:
    """Colour step of a share of what falls short (failed targets, or points missing from
    a pillar): none, a few, some, many, most."""
    if share <= 0:
        return "h0"
    for limit, level in ((10.0, "h1"), (25.0, "h2"), (45.0, "h3")):
        if share < limit:
            return level
    return "h4"


def _week_start(moment: datetime) -> datetime:
    local = moment.astimezone(VIETNAM_TIME)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def _trend(scope: Scope, now: datetime, lang: str) -> Trend:
    """Mean latest-in-week score of the units that swept each week, last 12 weeks."""
    last = _week_start(now)
    weeks = [last - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    per_week: dict[datetime, dict[str, float | None]] = {w: {} for w in weeks}
    for unit in scope.units:
        for row in scope.history.get(unit.id, ()):  # oldest first: the week's last one wins
            week = _week_start(datetime.fromisoformat(row["started"]))
            if week in per_week:
                per_week[week][unit.id] = _score(row)
    plot_w, plot_h = CHART_W - PAD_L, CHART_H - PAD_B - PAD_T
    step = plot_w / TREND_WEEKS
    all_weeks: list[TrendPoint] = []
    for i, week in enumerate(weeks):
        scored = [s for s in per_week[week].values() if s is not None]
        mean = statistics.fmean(scored) if scored else None
        label = week.strftime("%d/%m") if lang == "vi" else week.strftime("%m-%d")
        x = round(PAD_L + step * i + step / 2, 1)
        y = round(PAD_T + plot_h * (1 - (mean or 0) / 100), 1)
        all_weeks.append(
            TrendPoint(
                label,
                "—" if mean is None else number(mean, lang),
                len(per_week[week]),
                x,
                y if mean is not None else -1.0,
            )
        )
    points = [p for p in all_weeks if p.y >= 0]
    gridlines = [(round(PAD_T + plot_h * (1 - v / 100), 1), str(v)) for v in (0, 50, 100)]
    return Trend(points, " ".join(f"{p.x},{p.y}" for p in points), all_weeks, gridlines)


def _overdue(scope: Scope, now: datetime, days: int, lang: str, t: Translate) -> list[OverdueLine]:
    cutoff = now - timedelta(days=days)
    out = []
    for unit in sorted(scope.units, key=lambda u: u.name):
        row = scope.latest(unit.id)
        if row is None:
            out.append(
                OverdueLine(
                    unit.name, t(f"report.level.{unit.level.value}"), t("agg.overdue.never")
                )
            )
            continue
        started = datetime.fromisoformat(row["started"])
        if started < cutoff:
            ago = t("agg.overdue.days", days=(now - started).days)
            out.append(
                OverdueLine(
                    unit.name,
                    t(f"report.level.{unit.level.value}"),
                    f"{format_time(started, lang)} ({ago})",
                )
            )
    return out


def district_line(scope: Scope, href: str, lang: str) -> DistrictLine:
    """One row of the province page's district table."""
    scores = [s for s in (_score(scope.latest(u.id)) for u in scope.units) if s is not None]
    reported = sum(1 for u in scope.units if scope.latest(u.id))
    return DistrictLine(
        name=scope.heading,
        href=href,
        communes=sum(1 for u in scope.units if u.level is Level.COMMUNE),
        reported=f"{reported}/{len(scope.units)}",
        median=number(statistics.median(scores), lang) if scores else "—",
    )


def group_rows(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Index rows by agency, oldest sweep first."""
    history: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r["started"]):
        history.setdefault(row["agency"], []).append(row)
    return history
