"""The weekly trend of a page: the mean latest-in-week score over the last twelve weeks."""

from __future__ import annotations

from datetime import datetime, timedelta

from secposture.province.render import VIETNAM_TIME, number
from secposture.province.rows import PageScope, score_of
from secposture.province.views import Trend, TrendWeek
from secposture.report.view.charts import TrendInput, trend_chart
from secposture.scoring.tiers import mean_score

TREND_WEEKS = 12


def week_start(moment: datetime) -> datetime:
    """Midnight of the Monday that starts ``moment``'s week, in Vietnam time."""
    local = moment.astimezone(VIETNAM_TIME)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def trend(scope: PageScope, now: datetime, lang: str) -> Trend:
    """Mean latest-in-week score of the units that swept each week, last 12 weeks."""
    last = week_start(now)
    weeks = [last - timedelta(weeks=TREND_WEEKS - 1 - i) for i in range(TREND_WEEKS)]
    per_week: dict[datetime, dict[str, float | None]] = {w: {} for w in weeks}
    for unit in scope.units:
        for row in scope.history.get(unit.id, ()):  # oldest first: the week's last one wins
            week = week_start(datetime.fromisoformat(row["started"]))
            if week in per_week:
                per_week[week][unit.id] = score_of(row)
    inputs, lines = [], []
    for week in weeks:
        mean = mean_score([s for s in per_week[week].values() if s is not None])
        label = week.strftime("%d/%m") if lang == "vi" else week.strftime("%m-%d")
        # The province chart draws no coverage columns: a week's units differ in coverage.
        inputs.append(TrendInput(label, mean, coverage=0.0))
        lines.append(
            TrendWeek(label, "—" if mean is None else number(mean, lang), len(per_week[week]))
        )
    chart = trend_chart(inputs, [w.mean for w in lines])
    return Trend(chart, lines, scored=any(i.score is not None for i in inputs))
