"""Geometry of the report's two inline SVG charts: pillar scores and the score trend.

Numbers in, shapes out: the template only draws what is computed here, so the charts are
tested without a browser and a template never computes a score. Coordinates are in the SVG's
own user units; the page scales the whole chart.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

# Pillar chart: one row per pillar, the label left, the bar, the value right.
PILLAR_WIDTH = 480
PILLAR_ROW = 30
PILLAR_LABEL = 160
PILLAR_BAR = 210
PILLAR_BAR_HEIGHT = 14

# Trend chart: scores 0-100 over the last sweeps, coverage as faint columns behind.
TREND_WIDTH = 420
TREND_HEIGHT = 150
TREND_LEFT = 30  # room for the 0/50/100 axis labels
TREND_RIGHT = 12
TREND_TOP = 12
TREND_BOTTOM = 26  # room for the date labels
TREND_SWEEPS = 12


@dataclass(frozen=True, slots=True)
class PillarInput:
    """One pillar to draw: its label, its share and the text at the bar's end."""

    label: str
    percent: float | None  # 0-100; None when the pillar has no score
    value: str  # what to print at the bar's end: "13,9/20" or why there is no score
    provisional: bool = False


@dataclass(frozen=True, slots=True)
class PillarBar:
    """One drawn row of the pillar chart."""

    label: str
    value: str
    scored: bool
    provisional: bool
    y: float  # top of the row
    bar_y: float
    text_y: float  # baseline of the row's texts
    width: float  # filled part of the bar


@dataclass(frozen=True, slots=True)
class PillarChart:
    """The pillar chart's geometry, one bar per pillar."""

    width: int
    height: int
    label_width: int
    bar_x: int
    bar_width: int
    bar_height: int
    value_x: int
    bars: list[PillarBar]


def pillar_chart(pillars: Sequence[PillarInput]) -> PillarChart:
    """Horizontal bars, one per pillar, in the order given."""
    bars = []
    for i, pillar in enumerate(pillars):
        y = i * PILLAR_ROW
        percent = 0.0 if pillar.percent is None else min(max(pillar.percent, 0.0), 100.0)
        bars.append(
            PillarBar(
                label=pillar.label,
                value=pillar.value,
                scored=pillar.percent is not None,
                provisional=pillar.provisional,
                y=y,
                bar_y=y + (PILLAR_ROW - PILLAR_BAR_HEIGHT) / 2,
                text_y=y + PILLAR_ROW / 2 + 5,
                width=round(PILLAR_BAR * percent / 100.0, 1),
            )
        )
    return PillarChart(
        width=PILLAR_WIDTH,
        height=max(len(bars), 1) * PILLAR_ROW,
        label_width=PILLAR_LABEL,
        bar_x=PILLAR_LABEL,
        bar_width=PILLAR_BAR,
        bar_height=PILLAR_BAR_HEIGHT,
        value_x=PILLAR_LABEL + PILLAR_BAR + 8,
        bars=bars,
    )


@dataclass(frozen=True, slots=True)
class TrendInput:
    """One sweep to draw in the trend: its date, score and coverage."""

    label: str  # the sweep's date as the reader writes it
    score: float | None
    coverage: float  # 0-1


@dataclass(frozen=True, slots=True)
class TrendChart:
    """The trend chart's geometry: points, the score line, the grid."""

    width: int
    height: int
    left: int
    right: int
    axis_x: int  # right edge of the axis labels
    label_y: int  # baseline of the date labels
    bottom: float  # y of the 0 line
    column: float  # width of one coverage column
    points: list[TrendPoint]
    lines: list[str]  # SVG path data, one per run of scored sweeps
    grid: list[GridLine]


@dataclass(frozen=True, slots=True)
class TrendPoint:
    """One point of a score trend: what it says and where it sits in the chart.

    :func:`trend_chart` fills every field; a simpler chart (the province pages' weekly mean)
    needs only the first five."""

    label: str  # the sweep's (or week's) date as the reader writes it
    value: str  # the score as text; "—" when there is none
    x: float
    y: float | None  # None: no score (nothing assessed, no unit reported)
    count: int = 1  # sweeps or units behind the point
    value_y: float = 0.0  # baseline of the score printed above the point
    show_label: bool = True
    column_x: float = 0.0  # left edge of the coverage column
    coverage_y: float = 0.0
    coverage_height: float = 0.0


@dataclass(frozen=True, slots=True)
class GridLine:
    """A horizontal line of the trend chart (0, 50, 100) and its label."""

    y: float
    label_y: float
    label: str


def trend_chart(sweeps: Sequence[TrendInput], value: Sequence[str]) -> TrendChart:
    """Scores of the given sweeps (oldest first) as a line; ``value`` is each score as text."""
    plot_h = TREND_HEIGHT - TREND_TOP - TREND_BOTTOM
    plot_w = TREND_WIDTH - TREND_LEFT - TREND_RIGHT
    base = TREND_TOP + plot_h
    n = len(sweeps)
    step = plot_w / n if n else plot_w
    # Label at most about six dates so they never overlap; the newest is always labelled.
    every = max(1, -(-n // 6))
    column = round(step * 0.6, 1)
    points = []
    for i, sweep in enumerate(sweeps):
        x = round(TREND_LEFT + step * (i + 0.5), 1)
        y = None if sweep.score is None else round(base - plot_h * _clamp(sweep.score) / 100, 1)
        coverage_h = round(plot_h * min(max(sweep.coverage, 0.0), 1.0), 1)
        points.append(
            TrendPoint(
                x=x,
                y=y,
                value_y=(y if y is not None else base) - 8,
                label=sweep.label,
                value=value[i],
                show_label=(n - 1 - i) % every == 0,
                column_x=round(x - column / 2, 1),
                coverage_y=round(base - coverage_h, 1),
                coverage_height=coverage_h,
            )
        )
    grid = []
    for level in (0, 50, 100):
        line_y = round(base - plot_h * level / 100, 1)
        grid.append(GridLine(y=line_y, label_y=line_y + 4, label=str(level)))
    return TrendChart(
        width=TREND_WIDTH,
        height=TREND_HEIGHT,
        left=TREND_LEFT,
        right=TREND_WIDTH - TREND_RIGHT,
        axis_x=TREND_LEFT - 6,
        label_y=TREND_HEIGHT - 8,
        bottom=base,
        column=column,
        points=points,
        lines=_runs(points),
        grid=grid,
    )


def _clamp(score: float) -> float:
    return min(max(score, 0.0), 100.0)


def _runs(points: Sequence[TrendPoint]) -> list[str]:
    """Path data joining consecutive scored sweeps; a sweep without a score breaks the line."""
    paths: list[str] = []
    current: list[str] = []
    for point in points:
        if point.y is None:
            if len(current) > 1:
                paths.append(" ".join(current))
            current = []
            continue
        current.append(f"{'M' if not current else 'L'}{point.x},{point.y}")
    if len(current) > 1:
        paths.append(" ".join(current))
    return paths
