"""The console's province view at more units than one page holds (issue #15): the ranking
and its heat maps in pages, each common finding naming its units with the most targets and
counting the rest, every figure still over every unit. In process, on SQLite."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from secposture.bundle.envelope import sign_payload
from secposture.province.console.views import (
    AFFECTED_SHOWN,
    RANK_ROWS,
    ConsoleView,
    History,
    scope_view,
)
from secposture.province.db.store import open_store
from secposture.province.hierarchy import parse_collector_config
from secposture.province.synthetic import make_payload, make_province

NOW = datetime(2026, 12, 1, 3, tzinfo=UTC)


@pytest.fixture(scope="module")
def views(tmp_path_factory: pytest.TempPathFactory) -> list[ConsoleView]:
    province = make_province(communes=170, wards=14, departments=25, groups=2,
                             succession=False, hosts=(1, 3))  # fmt: skip
    folder = tmp_path_factory.mktemp("views")
    store = open_store(parse_collector_config(province.config(str(folder / "store"))))
    for unit in province.units[:-9]:  # nine units never report
        payload = make_payload(unit, datetime(2026, 11, 30, 1, tzinfo=UTC))
        assert store.ingest(sign_payload(payload, unit.key), source="test").accepted
    hierarchy = store.hierarchy
    history = History(store).of(hierarchy)
    units = list(hierarchy.current(NOW.date()))
    assert len(units) == 209

    def page(offset: int) -> ConsoleView:
        return scope_view("Tỉnh", "province", units, history, now=NOW, overdue_days=14,
                          lang="vi", rank_offset=offset)  # fmt: skip

    return [page(offset) for offset in (0, RANK_ROWS, 10_000)]


def test_the_ranking_and_its_heat_maps_come_in_pages(views: list[ConsoleView]) -> None:
    first, second, beyond = views
    assert [len(v.view.ranking) for v in views] == [RANK_ROWS, 209 - RANK_ROWS, 1]
    assert first.ranks.next == RANK_ROWS and first.ranks.previous is None
    assert second.ranks.next is None and second.ranks.previous == 0
    assert beyond.ranks.offset == 208  # past the end: the last row, not an empty page
    assert first.view.ranking[0].rank == 1 and second.view.ranking[0].rank == RANK_ROWS + 1
    for v in views:  # the heat maps' rows are the ranking page's units, in its order
        names = [line.name for line in v.view.ranking]
        assert [row.name for row in v.view.heat.rows] == names
        assert v.view.pillars is None or [r.name for r in v.view.pillars.rows] == names
    # the figures count every unit, whichever page
    assert first.view.total == second.view.total == 209
    assert first.view.reported == 200 and first.view.tiers == second.view.tiers
    assert len(first.view.overdue) == 9


def test_a_common_finding_names_its_worst_units_and_counts_the_rest(
    views: list[ConsoleView],
) -> None:
    view, unnamed = views[0].view, views[0].unnamed
    assert view.findings
    for finding in view.findings:
        assert len(finding.units) <= AFFECTED_SHOWN
        affected = int(finding.headline.split()[0])  # "180 đơn vị: …"
        if affected > AFFECTED_SHOWN:
            assert unnamed[finding.check_id] == affected - AFFECTED_SHOWN
        else:
            assert finding.check_id not in unnamed
    assert unnamed  # with 200 reporting units, some finding has more than can be named
