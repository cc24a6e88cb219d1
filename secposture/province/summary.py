"""The summary card of a page: how the units' scores are spread, in bars and in tiers."""

from __future__ import annotations

from dataclasses import dataclass

from secposture.province.rows import PageScope, Translate, score_of
from secposture.scoring.tiers import UNSCORED, decile_counts, decile_range, tier_bands, tier_counts

# Chart box of the distribution in SVG user units; the page scales it to its width.
CHART_W, CHART_H, PAD_L, PAD_B, PAD_T = 640.0, 200.0, 36.0, 28.0, 12.0


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


@dataclass(frozen=True, slots=True)
class TierCount:
    """How many units are in one tier."""

    id: str
    label: str
    count: int


def tiers(scope: PageScope, t: Translate) -> list[TierCount]:
    """How many reported units are in each tier, highest first, then the unscored."""
    counts = tier_counts(score_of(row) for u in scope.units if (row := scope.latest(u.id)))
    out = [
        TierCount(
            band.id,
            f"{t(f'agg.tier.{band.id}')} ({band.min:.0f}–{band.max:.0f})",
            counts.get(band.id, 0),
        )
        for band in tier_bands()
    ]
    out.append(TierCount(UNSCORED, t("agg.tier.unscored"), counts.get(UNSCORED, 0)))
    return out
