"""When a page's units swept: the weekly trend of their mean score, and who is overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from secposture.province.rows import PageScope, Translate, score_of
from secposture.report.view.charts import TrendChart, TrendInput, trend_chart
from secposture.report.view.text import VIETNAM_TIME, format_time, number
from secposture.scoring.tiers import mean_score

TREND_WEEKS = 12


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


def week_start(moment: datetime) -> datetime:
    """Midnight of the Monday that starts ``moment``'s week, in Vietnam time."""
    local = moment.astimezone(VIETNAM_TIME)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def trend(scope: PageScope, now: datetime, lang: str) -> Trend:
    """Mean latest-in-week score of the units that swept each week, last 12 weeks.

    A unit's history holds its predecessors' rows (communes merged into it): in a week it did
    not sweep itself it counts once, with the mean of its predecessors' latest-in-week
    scores."""
    last = week_start(now)
    weeks = [last - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    # week → unit → the agency whose rows they are (the unit or a predecessor) → its score
    per_week: dict[datetime, dict[str, dict[str, float | None]]] = {w: {} for w in weeks}
    for unit in scope.units:
        for row in scope.history.get(unit.id, ()):  # oldest first: the week's last one wins
            week = week_start(datetime.fromisoformat(row["started"]))
            if week in per_week:
                per_week[week].setdefault(unit.id, {})[row["agency"]] = score_of(row)
    inputs, lines = [], []
    for week in weeks:
        scores = [_unit_score(uid, by_agency) for uid, by_agency in per_week[week].items()]
        mean = mean_score([s for s in scores if s is not None])
        label = week.strftime("%d/%m") if lang == "vi" else week.strftime("%m-%d")
        # The province chart draws no coverage columns: a week's units differ in coverage.
        inputs.append(TrendInput(label, mean, coverage=0.0))
        lines.append(
            TrendWeek(label, "—" if mean is None else number(mean, lang), len(per_week[week]))
        )
    chart = trend_chart(inputs, [w.mean for w in lines])
    return Trend(chart, lines, scored=any(i.score is not None for i in inputs))


def _unit_score(unit_id: str, by_agency: dict[str, float | None]) -> float | None:
    """One unit's score for a week: its own when it swept, else its predecessors' mean."""
    if unit_id in by_agency:
        return by_agency[unit_id]
    return mean_score([s for s in by_agency.values() if s is not None])


@dataclass(frozen=True, slots=True)
class OverdueLine:
    """A unit whose last bundle is too old, or that never sent one."""

    name: str
    level_label: str
    last: str


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
