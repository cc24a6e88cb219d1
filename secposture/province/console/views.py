"""The console's province and group pages: the aggregate view of the static pages, built for
the units one viewer may see, from rows read again only when the database changed.

Every sweep's summary row (the history the ranking, the trend and the overdue list need) is
read once and kept until a bundle arrives or one is removed: the stamp that says so is one
count and one maximum over the sweeps table, so the 4,000-unit overview does not read 12,000
rows on every request. The registry is read on every request (about 40 ms at 4,000 units),
so a unit retired, a key revoked or a group added shows at once.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import func, select

from secposture.checks.catalogue import load_catalogue
from secposture.province.db import schema as t
from secposture.province.db.engine import refresh_statistics
from secposture.province.db.store import Row, SqlStore
from secposture.province.findings import Heat
from secposture.province.hierarchy import Hierarchy, Unit
from secposture.province.pages import page_groups
from secposture.province.rows import PageScope, group_rows, lineage_history
from secposture.province.views import AggregateView, GroupLine, build_view, group_line
from secposture.report.outputs.html import translator

# Ranking rows on one page of the console's overview: Tây Ninh's 121 units on one page; at
# 4,000 units the ranking and its heat maps are paged instead of one 4 MB page.
RANK_ROWS = 150
# Units named under each common finding; the rest are one link away (the findings search).
AFFECTED_SHOWN = 25


@dataclass(frozen=True, slots=True)
class GroupPage:
    """A group the viewer may open: its id, heading and the units expected to report."""

    id: str
    name: str
    units: list[Unit]


class History:
    """Every stored sweep's summary row by unit, re-read when the sweeps table changed."""

    def __init__(self, store: SqlStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self._stamp: tuple[int, str | None] | None = None
        self._own: dict[str, list[Row]] = {}

    def _current_stamp(self) -> tuple[int, str | None]:
        sweeps = t.sweeps
        with self._store.engine.connect() as conn:
            found = conn.execute(
                select(func.count(), func.max(sweeps.c.received)).select_from(sweeps)
            ).one()
        return int(found[0]), found[1]

    def own(self) -> dict[str, list[Row]]:
        """Each unit's own rows, oldest sweep first."""
        stamp = self._current_stamp()
        with self._lock:  # one reader re-reads; the others wait for its result
            if stamp != self._stamp:
                refresh_statistics(self._store.engine)  # the searches' plans, as it grows
                self._own = group_rows(self._store.rows())
                self._stamp = stamp
            return self._own

    def of(self, hierarchy: Hierarchy) -> dict[str, list[Row]]:
        """Each registered unit's lineage history (its own rows and its predecessors')."""
        own = {u: rows for u, rows in self.own().items() if u in hierarchy.units}
        return lineage_history(hierarchy, own)


def visible_groups(hierarchy: Hierarchy, visible: set[str], on: datetime) -> list[GroupPage]:
    """The group pages whose every unit the viewer may see (a group user: its own group)."""
    out = []
    for group_id, name, units in page_groups(hierarchy, on.date()):
        if units and all(u.id in visible for u in units):
            out.append(GroupPage(group_id, name, sorted(units, key=lambda u: u.id)))
    return out


@dataclass(frozen=True, slots=True)
class RankPage:
    """Which rows of the ranking (and of the heat maps, in the same order) a page shows."""

    offset: int
    total: int
    size: int = RANK_ROWS

    @property
    def previous(self) -> int | None:
        return max(0, self.offset - self.size) if self.offset else None

    @property
    def next(self) -> int | None:
        return self.offset + self.size if self.offset + self.size < self.total else None


@dataclass(frozen=True, slots=True)
class ConsoleView:
    """A province or group page of the console: the view, the ranking's page, and how many
    affected units each common finding does not name (by check id)."""

    view: AggregateView
    ranks: RankPage
    unnamed: dict[str, int]


def scope_view(
    heading: str,
    kind: str,
    units: list[Unit],
    history: dict[str, list[Row]],
    *,
    now: datetime,
    overdue_days: int,
    lang: str,
    groups: list[tuple[GroupPage, PageScope]] | None = None,
    rank_offset: int = 0,
) -> ConsoleView:
    """The aggregate view of ``units``, its links to the console's own pages; the ranking
    and the heat maps cut to one page of :data:`RANK_ROWS` from ``rank_offset``, and each
    common finding naming its :data:`AFFECTED_SHOWN` units with the most targets. Every
    figure (bands, common findings, trend, overdue) still counts every unit."""
    scope = PageScope(heading, kind, sorted(units, key=lambda u: u.id), history, "/", True)
    lines: list[GroupLine] = [
        group_line(group_scope, f"/groups/{group.id}", lang) for group, group_scope in groups or []
    ]
    view = build_view(
        scope,
        catalogue=load_catalogue(),
        now=now,
        overdue_days=overdue_days,
        lang=lang,
        t=translator(lang),
        groups=lines,
    )
    shown = RankPage(min(rank_offset, max(0, len(view.ranking) - 1)), len(view.ranking))
    cut = slice(shown.offset, shown.offset + shown.size)
    hidden = {f.check_id: len(f.units) - AFFECTED_SHOWN for f in view.findings}
    view = replace(
        view,
        ranking=view.ranking[cut],
        heat=_cut(view.heat, cut),
        pillars=_cut(view.pillars, cut) if view.pillars else None,
        findings=[replace(f, units=f.units[:AFFECTED_SHOWN]) for f in view.findings],
    )
    return ConsoleView(view, shown, {c: n for c, n in hidden.items() if n > 0})


def _cut(heat: Heat, rows: slice) -> Heat:
    return Heat(heat.columns, heat.column_ids, heat.rows[rows])


def group_scopes(
    groups: list[GroupPage], history: dict[str, list[Row]]
) -> list[tuple[GroupPage, PageScope]]:
    """Each group with the scope its line in the groups table is counted over."""
    return [(g, PageScope(g.name, "group", g.units, history, "/", True)) for g in groups]
