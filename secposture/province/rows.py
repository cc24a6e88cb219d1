"""The stored index rows a province or district page reads, grouped per unit.

One index row per stored bundle (see :func:`secposture.province.store.summary_row`); the
latest row of each unit is its current posture, all rows together make the weekly trend.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from secposture.province.hierarchy import Unit

Translate = Callable[..., str]  # a translator: key and parameters in, text out

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PageScope:
    """The units one page covers, with their stored rows (oldest first)."""

    heading: str
    kind: str  # "province" or "district"
    units: list[Unit]
    history: dict[str, list[Row]]
    prefix: str  # path from the page to the output root ("" or "../")

    def latest(self, unit_id: str) -> Row | None:
        """The unit's newest row, None before its first bundle."""
        rows = self.history.get(unit_id)
        return rows[-1] if rows else None

    def scores(self) -> list[float]:
        """The latest overall score of every unit that has one."""
        return [s for s in (score_of(self.latest(u.id)) for u in self.units) if s is not None]

    def reported(self) -> int:
        """How many of the units have sent at least one bundle."""
        return sum(1 for u in self.units if self.latest(u.id) is not None)

    def href(self, unit_id: str) -> str | None:
        """The link from the page to the unit's latest report, None before its first."""
        return f"{self.prefix}agencies/{unit_id}.html" if self.latest(unit_id) else None


def score_of(row: Row | None) -> float | None:
    """The overall score of a row; None without a row or when nothing could be scored."""
    return None if row is None else row["score"]["overall"]


def group_rows(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Index rows by agency, oldest sweep first."""
    history: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r["started"]):
        history.setdefault(row["agency"], []).append(row)
    return history
