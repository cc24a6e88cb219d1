"""The numbers of the province pages (issue #12): tiers, deciles and heat steps at their edges."""

from __future__ import annotations

from itertools import pairwise

from secposture.scoring.tiers import (
    decile_counts,
    decile_range,
    median_score,
    share_percent,
    share_step,
    tier_bands,
    tier_of,
)


def test_tiers_span_the_scale_highest_first_without_gaps() -> None:
    bands = tier_bands()
    assert bands[0].max == 100 and bands[-1].min == 0
    assert all(lower.max == higher.min - 1 for higher, lower in pairwise(bands))
    assert [tier_of(s) for s in (100, 80, 79.9, 60, 40, 39.9, 0, None)] == [
        "strong", "strong", "fair", "fair", "weak", "critical", "critical", "unscored",
    ]  # fmt: skip


def test_a_hundred_joins_the_nineties_and_an_empty_group_has_no_median() -> None:
    assert decile_counts([0, 9.9, 10, 90, 100]) == [2, 1, 0, 0, 0, 0, 0, 0, 0, 2]
    assert decile_range(0) == (0, 9) and decile_range(9) == (90, 100)
    assert median_score([]) is None and median_score([40.0, 60.0, 90.0]) == 60.0


def test_heat_steps_and_a_share_of_nothing() -> None:
    assert share_percent(1, 0) is None and share_percent(1, 4) == 25.0
    assert [share_step(s) for s in (0, 0.1, 9.9, 10, 24.9, 25, 44.9, 45, 100)] == [
        0, 1, 1, 2, 2, 3, 3, 4, 4,
    ]  # fmt: skip
