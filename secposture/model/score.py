"""The flat score of one sweep, as the inventory remembers it and every output shows it.

Computed by :func:`secposture.scoring.score.score_findings`; defined here so that the inventory
can store it without depending on the judge.
"""

from __future__ import annotations

from secposture.model.records import Record


class Cap(Record):
    """Why the headline score is held down: the open findings of one severity."""

    severity: str  # critical | high
    at: float  # the highest the score may show while they are open
    checks: int  # checks with an open finding of this severity
    targets: int  # open findings of this severity (one per target)


class Score(Record):
    """The headline score, with its coverage and counts (issue #13: one number per unit).

    ``overall`` is per check, each check as good as its worst target, and capped while a
    critical or high finding is open (``raw`` is the value before the cap, ``cap`` the
    reason). Stored sweeps from before issue #13 have neither and read as uncapped."""

    overall: float | None  # 0-100, None when nothing could be assessed
    coverage: float  # assessed / applicable findings, 0-1
    assessed: int
    applicable: int
    counts: dict[str, int]
    raw: float | None = None  # before the cap
    cap: Cap | None = None
