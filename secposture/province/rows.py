"""The stored index rows a province or group page reads, grouped per unit.

One index row per stored bundle (see :func:`secposture.province.store.summary_row`); the
latest row of each unit is its current posture, all rows together make the weekly trend. A
unit that succeeded others (communes merged on 1/7/2025) carries their rows too: its history
is its lineage's (:func:`lineage_history`), and its latest row is its own newest, else the
newest of its predecessors'.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from secposture.province.hierarchy import Hierarchy, Unit

Translate = Callable[..., str]  # a translator: key and parameters in, text out

Row = dict[str, Any]


@dataclass(frozen=True, slots=True)
class PageScope:
    """The units one page covers, with their stored rows (oldest first)."""

    heading: str
    kind: str  # "province" or "group"
    units: list[Unit]
    history: dict[str, list[Row]]  # by unit: its lineage's rows, oldest first
    prefix: str  # path from the page to the output root ("" or "../")
    console: bool = False  # links to the console's pages, not to files beside the page
    # latest() per unit, once: every section asks for it (60,000 times at 4,000 units)
    _latest: dict[str, Row | None] = field(default_factory=dict, compare=False, repr=False)

    def latest(self, unit_id: str) -> Row | None:
        """The unit's newest own row, else its predecessors' newest; None before any."""
        if unit_id in self._latest:
            return self._latest[unit_id]
        rows = self.history.get(unit_id)
        # Its own rows come last once it reports, so the walk is short.
        found = (
            next((r for r in reversed(rows) if r["agency"] == unit_id), rows[-1]) if rows else None
        )
        self._latest[unit_id] = found
        return found

    def scores(self) -> list[float]:
        """The latest overall score of every unit that has one."""
        return [s for s in (score_of(self.latest(u.id)) for u in self.units) if s is not None]

    def reported(self) -> int:
        """How many of the units have sent at least one bundle."""
        return sum(1 for u in self.units if self.latest(u.id) is not None)

    def href(self, unit_id: str) -> str | None:
        """The link from the page to the unit's latest report, None before its first."""
        row = self.latest(unit_id)  # a predecessor's, until the unit sends its own
        if row is None:
            return None
        if self.console:  # the unit's own page, which shows its lineage's history
            return f"/units/{unit_id}"
        return f"{self.prefix}agencies/{row['agency']}.html"


def score_of(row: Row | None) -> float | None:
    """The overall score of a row; None without a row or when nothing could be scored."""
    return None if row is None else row["score"]["overall"]


def group_rows(rows: Iterable[Row]) -> dict[str, list[Row]]:
    """Index rows by agency, oldest sweep first."""
    history: dict[str, list[Row]] = {}
    for row in sorted(rows, key=lambda r: r["started"]):
        history.setdefault(row["agency"], []).append(row)
    return history


def lineage_history(hierarchy: Hierarchy, own: dict[str, list[Row]]) -> dict[str, list[Row]]:
    """Each unit's history: the rows of every unit of its lineage (itself and the units
    merged into it), oldest first (its own last on a tie). ``own`` is :func:`group_rows`'s."""
    history: dict[str, list[Row]] = {}
    for unit_id in hierarchy.units:
        lineage = hierarchy.lineage(unit_id)
        if len(lineage) == 1:
            rows = own.get(unit_id, [])
        else:
            rows = sorted(
                (r for uid in lineage for r in own.get(uid, ())),
                key=lambda r: (r["started"], r["agency"] == unit_id, r["agency"]),
            )
        if rows:
            history[unit_id] = rows
    return history
