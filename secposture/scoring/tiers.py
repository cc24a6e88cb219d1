"""The numbers the province and group pages show about many units' scores.

Pure arithmetic over 0-100 posture scores: which tier a score falls in, the median and the
mean of a group, how many units score in each tenth of the scale, and how far a share of
what falls short is from none. The tiers are this tool's own grouping, read from
``data/aggregate_tiers.toml`` (not the ITU GCI tiers).
"""

from __future__ import annotations

import statistics
import tomllib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources

UNSCORED = "unscored"
DECILES = 10
# Upper limits (exclusive) of the colour steps 1-3 of a share in percent; 0 % is step 0.
SHARE_STEPS = (10.0, 25.0, 45.0)


@dataclass(frozen=True, slots=True)
class TierBand:
    """One tier: its id, the lowest score it admits and the highest whole score it spans."""

    id: str
    min: float
    max: float  # one below the next tier's minimum; 100 for the highest tier


@cache
def tier_bands() -> tuple[TierBand, ...]:
    """The score bands of data/aggregate_tiers.toml, highest first."""
    raw = resources.files("secposture").joinpath("data/aggregate_tiers.toml").read_text("utf-8")
    found = [(str(b["id"]), float(b["min"])) for b in tomllib.loads(raw)["band"]]
    found.sort(key=lambda band: -band[1])
    return tuple(
        TierBand(name, low, found[i - 1][1] - 1 if i else 100.0)
        for i, (name, low) in enumerate(found)
    )


def tier_of(score: float | None) -> str:
    """The id of the tier ``score`` falls in; ``"unscored"`` when there is no score."""
    if score is None:
        return UNSCORED
    return next(b.id for b in tier_bands() if score >= b.min)


def tier_counts(scores: Iterable[float | None]) -> Counter[str]:
    """How many of ``scores`` fall in each tier (``None`` counts as unscored)."""
    return Counter(tier_of(score) for score in scores)


def median_score(scores: Sequence[float]) -> float | None:
    """The median of ``scores``, or None when there are none."""
    return statistics.median(scores) if scores else None


def mean_score(scores: Sequence[float]) -> float | None:
    """The mean of ``scores``, or None when there are none."""
    return statistics.fmean(scores) if scores else None


def decile(score: float) -> int:
    """Which tenth of the scale ``score`` is in: 0 for 0-9 … 9 for 90-100 (100 joins 90s)."""
    return min(int(score // 10), DECILES - 1)


def decile_counts(scores: Iterable[float]) -> list[int]:
    """How many of ``scores`` are in each tenth of the scale, 0-9 first."""
    counts = Counter(decile(score) for score in scores)
    return [counts.get(band, 0) for band in range(DECILES)]


def decile_range(band: int) -> tuple[int, int]:
    """The lowest and highest whole score of tenth ``band``."""
    return band * 10, (band * 10 + 9 if band < DECILES - 1 else 100)


def share_percent(part: int, whole: int) -> float | None:
    """``part`` of ``whole`` in percent; None when ``whole`` is 0 (nothing to share)."""
    return 100.0 * part / whole if whole else None


def share_step(share: float) -> int:
    """Step 0-4 of a share in percent of what falls short: none, a few, some, many, most."""
    if share <= 0:
        return 0
    return next((i for i, limit in enumerate(SHARE_STEPS, 1) if share < limit), 4)
