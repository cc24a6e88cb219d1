"""The flat score of one sweep, as the inventory remembers it and every output shows it.

Computed by :func:`secposture.scoring.score.score_findings`; defined here so that the inventory
can store it without depending on the judge.
"""

from __future__ import annotations

from secposture.model.records import Record


class Score(Record):
    """The headline score over all findings, with its coverage and counts."""

    overall: float | None  # 0-100, None when nothing could be assessed
    coverage: float  # assessed / applicable, 0-1
    assessed: int
    applicable: int
    counts: dict[str, int]
