"""Province and group pages (issues #8, #14) from a synthetic province, also in real Chromium.

The province, two-tier as since 1/7/2025: 3 departments, 14 communes and 4 wards, all under
the province, in two groups (a former district's area of 7 communes and a ward; the
departments); four weekly sweeps per unit, one commune that never reported, one department
whose last bundle is three weeks old, and one bundle carrying hostile text where a check id
and evidence go. Then communes merged into one (its trend runs on from theirs) and a
district-era bundle (still read).
"""

from __future__ import annotations

import json
import re
import shutil
import statistics
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from secposture.bundle.envelope import sign_payload
from secposture.config.errors import ConfigError
from secposture.config.sections import Level
from secposture.model.records import Finding, Severity, Status, Target
from secposture.province.db.store import open_store
from secposture.province.hierarchy import (
    CollectorConfig,
    Unit,
    parse_collector_config,
)
from secposture.province.pages import AggregatePaths, write_aggregate
from secposture.province.rows import PageScope
from secposture.province.synthetic import (
    SyntheticProvince,
    add_district_era,
    make_payload,
    make_province,
)
from secposture.report.outputs.html import content_security_policy
from secposture.report.outputs.pdf import OFFLINE_FLAGS
from secposture.report.view.text import number

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 on Monday 30/11 in Vietnam
HOSTILE = '<img src=x onerror=alert(1)><script>document.title="PWNED"</script>'
SILENT = "xa-007"  # never reports (in the first group)
LATE = "so-03"  # last bundle three weeks ago
HOSTILE_UNIT = "so-02"  # one bundle carries hostile text (in the departments' group)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'"


def build(tmp: Path) -> tuple[SyntheticProvince, AggregatePaths, CollectorConfig]:
    # seed 6: among the 21 units, one (xa-002) clean enough that a cap holds its score down
    province = make_province(
        communes=14, wards=4, departments=3, groups=2, succession=False, hosts=(5, 30), seed=6
    )
    config = parse_collector_config(province.config(str(tmp / "store")))
    store = open_store(config)
    for week in range(4):
        for unit in province.units:
            if unit.id == SILENT or (unit.id == LATE and week > 0):
                continue
            payload = make_payload(unit, NOW - timedelta(weeks=3 - week, hours=20))
            if unit.id == HOSTILE_UNIT and week == 3:
                hostile = Finding(
                    check_id=HOSTILE,
                    status=Status.FAIL,
                    severity=Severity.HIGH,
                    target=Target(ip="10.0.0.10"),
                    evidence=HOSTILE,
                )
                payload = payload.model_copy(update={"findings": (*payload.findings, hostile)})
            assert store.ingest(sign_payload(payload, unit.key), source="test").accepted
    return province, write_aggregate(config, tmp / "out", lang="vi", now=NOW), config


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[SyntheticProvince, AggregatePaths]:
    province, paths, _ = build(tmp_path_factory.mktemp("province"))
    return province, paths


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def section(html: str, name: str) -> str:
    start = html.index(f'<section id="{name}"')
    return html[start : html.index("</section>", start)]


def test_province_page_ranks_counts_and_names_the_common_findings(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    _, paths = built
    html = paths.province.read_text("utf-8")
    assert CSP in html and "<script" not in html.replace("&lt;script", "")
    assert "20/21 đơn vị đã gửi kết quả" in text_of(section(html, "summary"))
    # the units counted by level: no special zone, no district (none in this province)
    facts = text_of(html[html.index('<dl class="facts">') : html.index("</dl>")])
    assert "Theo cấp 14 xã · 4 phường · 3 sở, ngành" in facts
    assert "đặc khu" not in facts and "huyện" not in facts
    # the ranking is by score, highest first, the silent commune last and unranked
    rows = re.findall(
        r'<td class="num strong">([0-9,—]+)(?:<br>.*?)?</td>', section(html, "ranking")
    )
    scores = [float(s.replace(",", ".")) for s in rows if s != "—"]
    assert len(scores) == 20 and scores == sorted(scores, reverse=True)
    assert rows[-1] == "—" and "UBND xã 7" in section(html, "ranking").rsplit("<tr", 1)[-1]
    # tier counts add up to the units that reported
    tiers = re.findall(r'<span class="count">(\d+)</span></li>', section(html, "summary"))
    assert sum(int(n) for n in tiers) == 20
    # the common findings say how many units fail, by level, and link to each
    findings = text_of(section(html, "findings"))
    assert re.search(r"\d+ đơn vị còn lỗi: Dịch vụ Telnet \(không mã hóa\) đang mở", findings)
    assert re.search(r"\d+ xã · \d+ phường · \d+ sở, ngành", findings)
    assert "huyện" not in findings
    # overdue: the commune that never reported and the department three weeks late
    overdue = text_of(section(html, "overdue"))
    assert "UBND xã 7" in overdue and "chưa từng gửi" in overdue
    assert "Sở số 3" in overdue and "ngày trước" in overdue
    assert "Sở số 1" not in overdue
    # four weeks of trend, then the heat maps by pillar and by check
    assert len(re.findall(r'<circle class="trend-dot"', html)) == 4
    assert "Theo trụ cột" in html and "Kỹ thuật" in section(html, "heatmap")


def test_group_pages_roll_up_their_units_and_every_link_resolves(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    _, paths = built
    assert [p.name for p in paths.groups] == ["cum-1.html", "khoi-so.html"]
    assert paths.districts == paths.groups  # the old name, until every caller is renamed
    assert {p.parent.name for p in paths.groups} == {"groups"}
    area = paths.groups[0].read_text("utf-8")
    assert "<h1>Cụm xã 1 (địa bàn huyện cũ)</h1>" in area
    assert "Tổng hợp an toàn thông tin theo nhóm đơn vị" in area
    ranking = text_of(section(area, "ranking"))
    assert "UBND xã 3" in ranking and "UBND phường 1" in ranking
    assert "UBND xã 8" not in ranking and "Sở số 1" not in ranking
    assert "UBND phường 2" not in ranking
    assert '<a href="../index.html">' in area
    assert "Vấn đề phổ biến trong nhóm" in area
    departments = text_of(section(paths.groups[1].read_text("utf-8"), "ranking"))
    assert all(f"Sở số {n}" in departments for n in (1, 2, 3)) and "UBND" not in departments
    # the province page lists the groups: units of every level, how many reported
    province = paths.province.read_text("utf-8")
    assert '<a href="#groups">Nhóm đơn vị</a>' in province
    groups = text_of(section(province, "groups"))
    assert "Các nhóm đơn vị" in groups and "Nhóm Số đơn vị" in groups
    assert "Cụm xã 1 (địa bàn huyện cũ) 8 7/8" in groups
    assert "Khối sở, ngành 3 3/3" in groups
    assert '<a href="groups/cum-1.html">' in province
    # every unit that reported has its latest report, and every link on every page resolves
    assert len(paths.agencies) == 20
    for page in [paths.province, *paths.groups]:
        for href in re.findall(r'href="([^"#]+)"', page.read_text("utf-8")):
            assert (page.parent / href).resolve().is_file(), (page.name, href)
    agency = (paths.province.parent / "agencies" / "xa-001.html").read_text("utf-8")
    # the agency copies carry the agency report's own policy (one script allowed by its hash)
    assert "UBND xã 1" in agency and str(escape(content_security_policy())) in agency


def test_hostile_text_from_a_signed_bundle_stays_text(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    _, paths = built
    for page in (
        paths.province,
        paths.groups[1],
        paths.province.parent / "agencies" / f"{HOSTILE_UNIT}.html",
    ):
        html = page.read_text("utf-8")
        assert "<img src=x" not in html and 'document.title="PWNED"' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_the_pages_written_again_from_the_database_are_the_same(tmp_path: Path) -> None:
    # Given the pages of a province (issue #14: read from the collector's database)
    _, paths, config = build(tmp_path)
    assert (config.collector.store / "collector.sqlite3").is_file()
    assert not (config.collector.store / "bundles").exists()  # no file store beside it
    # Then writing them again from the same database gives the same pages, byte for byte
    again = write_aggregate(config, tmp_path / "again", lang="vi", now=NOW)
    assert again.province.read_bytes() == paths.province.read_bytes()
    assert again.groups[0].read_bytes() == paths.groups[0].read_bytes()


# --- in a real browser ---------------------------------------------------------------------


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Headless Chromium that cannot reach anything: every host name resolves to nothing and
    any connection would go to a closed local port (the browser's own update and account
    checks included)."""
    assert CHROMIUM is not None
    return subprocess.run(
        [
            CHROMIUM,
            *OFFLINE_FLAGS,
            "--hide-scrollbars",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=True,
    )


def page_requests(netlog: Path) -> list[str]:
    """URLs of requests a page started (the browser's own carry 'not an origin')."""
    raw = netlog.read_text("utf-8").rstrip()
    if not raw.endswith("}"):  # a log cut short at exit lacks its closing brackets
        raw = raw.rstrip(",\n") + "]}"
    log = json.loads(raw)
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [
        e["params"]["url"]
        for e in log["events"]
        if e["type"] == start
        and "url" in e.get("params", {})
        and e["params"].get("initiator") != "not an origin"
    ]


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
@pytest.mark.parametrize("page", ["province", "group"])
def test_pages_in_headless_chromium_show_content_load_nothing_and_log_no_errors(
    built: tuple[SyntheticProvince, AggregatePaths], tmp_path: Path, page: str
) -> None:
    _, paths = built
    path = paths.province if page == "province" else paths.groups[0]
    netlog = tmp_path / "net.json"
    # When Chromium loads the page and serialises what it built
    run = chromium(tmp_path / "profile", f"--log-net-log={netlog}", "--dump-dom", path.as_uri())
    dom = run.stdout
    # Then the content is there, no script ran and no console message was logged
    heading = "Tỉnh Mẫu" if page == "province" else "Cụm xã 1 (địa bàn huyện cũ)"
    assert f"<h1>{heading}</h1>" in dom
    assert "Xếp hạng các đơn vị" in dom and "Vấn đề phổ biến" in dom
    assert "PWNED" not in dom.split("</title>")[0]
    assert not re.search(r"CONSOLE|Refused to", run.stderr), run.stderr[-2000:]
    # and the page asked for nothing over the network
    assert page_requests(netlog) == []
    # A screenshot for a person to look at
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"{page}-vi.png"
    shot.unlink(missing_ok=True)
    chromium(
        tmp_path / "profile2", f"--screenshot={shot}", "--window-size=1280,2400", path.as_uri()
    )
    assert shot.read_bytes().startswith(b"\x89PNG") and shot.stat().st_size > 50_000


@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed (apt-get install chromium)")
def test_the_request_check_sees_a_page_that_loads_something(tmp_path: Path) -> None:
    # Given a page without the CSP that fetches an image (the defect the check must catch)
    page = tmp_path / "leaky.html"
    page.write_text('<html><body><img src="http://collector.invalid/x.png"></body></html>')
    netlog = tmp_path / "net.json"
    chromium(tmp_path / "profile", f"--log-net-log={netlog}", "--dump-dom", page.as_uri())
    # Then its request is found (and went nowhere: the name resolves to nothing)
    assert page_requests(netlog) == ["http://collector.invalid/x.png"]


def test_the_ranking_shows_each_capped_score_with_its_reason_and_no_unqualified_gci(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    # Issue #13: one headline score per unit, with why it is held down
    _, paths = built
    pages = [paths.province, *paths.groups]
    ranking = text_of(section(paths.province.read_text("utf-8"), "ranking"))
    assert re.search(
        r"giới hạn ở \d+: \d+ phát hiện (Nghiêm trọng|Cao|nghiêm trọng|cao)", ranking, re.I
    )
    for page in pages:
        text = text_of(page.read_text("utf-8"))
        assert "Chỉ số GCI" not in text, page.name
    # each unit's own page (its latest report from its bundle) says why its score is capped
    capped = [p for p in paths.agencies if "Điểm bị giới hạn ở" in text_of(p.read_text("utf-8"))]
    assert capped, "no unit page shows a cap reason"
    for page in paths.agencies:
        assert "Chỉ số GCI" not in text_of(page.read_text("utf-8")), page.name


# --- communes merged on 1/7/2025, and data from before ------------------------------------

MERGED_NOW = datetime(2025, 7, 14, 3, 0, tzinfo=UTC)  # 10:00 on Monday 14/7/2025 in Vietnam
OLD = ("xa-cu-a", "xa-cu-b", "xa-cu-c")


def test_a_successors_trend_runs_on_from_the_communes_merged_into_it(tmp_path: Path) -> None:
    # Given xa-001, made on 1/7/2025 of three old communes, in the first group with a ward
    # that never reports
    province = make_province(
        communes=3, wards=1, departments=1, groups=2, succession=True, hosts=(5, 20)
    )
    successor = province.unit("xa-001")
    assert successor.succeeds == list(OLD) and successor.groups == ["cum-1"]
    data = province.config(str(tmp_path / "store"))
    # the old communes sent weeks 1-2 (before the merger took effect: accepted then) and the
    # new commune weeks 3-4; every other unit but the ward all four weeks
    config = parse_collector_config(data)
    store = open_store(config)
    scores: dict[int, list[float]] = {}
    for week in range(4):
        started = MERGED_NOW - timedelta(weeks=3 - week, hours=20)
        for unit in province.units:
            if unit.id == "phuong-01":
                continue
            if (unit.id in OLD and week >= 2) or (unit.id == "xa-001" and week < 2):
                continue
            payload = make_payload(unit, started)
            if unit.id in OLD or unit.id == "xa-001":
                scores.setdefault(week, []).append(payload.score.overall)
            arrived = started + timedelta(hours=1)
            outcome = store.ingest(sign_payload(payload, unit.key), source="test", now=arrived)
            assert outcome.accepted, outcome.detail
    # an old commune's bundle sent after the merger is refused: its keys no longer count
    late = make_payload(province.unit(OLD[0]), started)
    refused = store.ingest(sign_payload(late, province.unit(OLD[0]).key), source="t", now=started)
    assert refused.reason is not None and "merged into xa-001" in refused.detail
    assert started.date() > successor.succeeds_on > (MERGED_NOW - timedelta(weeks=2)).date()
    # When the pages are written
    paths = write_aggregate(config, tmp_path / "out", lang="vi", now=MERGED_NOW)
    # Then the group page's trend, xa-001's alone, has all four weeks: one unit each week,
    # the old communes' mean before the merger, xa-001's own after
    area = paths.groups[0].read_text("utf-8")
    table = section(area, "trend")
    means = re.findall(r'<td class="num">([^<]*)</td>', table.split("<tr>")[2])
    counts = re.findall(r'<td class="num">([^<]*)</td>', table.split("<tr>")[3])
    # (the twelve weeks end with this one, which has no sweep yet)
    assert counts == ["0"] * 7 + ["1"] * 4 + ["0"]
    expected = [number(statistics.fmean(scores[week]), "vi") for week in range(4)]
    assert means == ["—"] * 7 + expected + ["—"]
    assert len(re.findall(r'<circle class="trend-dot"', area)) == 4
    # and the old communes are no units of their own any more: not ranked, not overdue,
    # not counted; xa-001 is ranked on its own latest sweep
    for html in (area, paths.province.read_text("utf-8")):
        listed = text_of(section(html, "ranking")) + text_of(section(html, "overdue"))
        assert "xã cũ" not in listed
        assert "UBND xã 1" in text_of(section(html, "ranking"))
    province_html = paths.province.read_text("utf-8")
    assert "4/5 đơn vị đã gửi kết quả" in text_of(section(province_html, "summary"))
    overdue = text_of(section(province_html, "overdue"))
    assert "UBND phường 1" in overdue and "UBND xã 1" not in overdue
    assert '<a href="agencies/xa-001.html">UBND xã 1</a>' in province_html
    assert "Cụm xã 1 (địa bàn huyện cũ) 2 1/2" in text_of(section(province_html, "groups"))
    # while their own latest reports are still written
    assert {f"{u}.html" for u in OLD} <= {p.name for p in paths.agencies}


def test_a_successor_without_a_sweep_of_its_own_shows_its_predecessors_latest() -> None:
    row = {"agency": "xa-cu-b", "started": "2025-06-29T07:00:00+00:00", "score": {"overall": 61.0}}
    older = {**row, "agency": "xa-cu-a", "started": "2025-06-22T07:00:00+00:00"}
    unit = Unit("xa-001", "UBND xã 1", Level.COMMUNE, "tinh-mau", frozenset())
    scope = PageScope("Tỉnh Mẫu", "province", [unit], {"xa-001": [older, row]}, "")
    assert scope.latest("xa-001") is row and scope.reported() == 1
    assert scope.href("xa-001") == "agencies/xa-cu-b.html"  # the page that exists
    # its own sweep wins over a predecessor's even when that one is newer
    own = {**older, "agency": "xa-001"}
    scope = PageScope("Tỉnh Mẫu", "province", [unit], {"xa-001": [own, row]}, "")
    assert scope.latest("xa-001") is own and scope.href("xa-001") == "agencies/xa-001.html"


def test_a_district_era_bundle_is_still_read_and_shown(tmp_path: Path) -> None:
    # Given a province that still keeps a pre-reform district with two communes under it
    province = make_province(
        communes=2, wards=1, departments=1, groups=0, succession=False, hosts=(5, 20)
    )
    district, *communes = add_district_era(province, communes=2)
    assert district.level is Level.DISTRICT and {c.parent for c in communes} == {district.id}
    # a district is refused unless the config says the province still keeps one
    with pytest.raises(ConfigError, match="allow_district"):
        parse_collector_config(province.config(str(tmp_path / "store")))
    config = parse_collector_config(province.config(str(tmp_path / "store"), allow_district=True))
    store = open_store(config)
    for unit in province.units:
        payload = make_payload(unit, NOW - timedelta(hours=20))
        assert payload.agency.level == unit.level
        outcome = store.ingest(sign_payload(payload, unit.key), source="test")
        assert outcome.accepted, outcome.detail
    latest = store.latest_rows()[district.id]
    assert store.payload(latest).agency.level is Level.DISTRICT
    # When the pages are written
    paths = write_aggregate(config, tmp_path / "out", lang="vi", now=NOW)
    # Then the district is counted, ranked and named as a level from before 1/7/2025
    html = paths.province.read_text("utf-8")
    facts = text_of(html[html.index('<dl class="facts">') : html.index("</dl>")])
    assert "Theo cấp 4 xã · 1 phường · 1 sở, ngành · 1 huyện (trước 1/7/2025)" in facts
    ranking = text_of(section(html, "ranking"))
    assert "UBND huyện Cũ Cấp huyện (trước 1/7/2025)" in ranking
    assert "7/7 đơn vị đã gửi kết quả" in text_of(section(html, "summary"))
    # with its latest report, and a page rolling it up with its communes
    report = (paths.province.parent / "agencies" / f"{district.id}.html").read_text("utf-8")
    assert "UBND huyện Cũ" in report
    assert [p.name for p in paths.groups] == [f"{district.id}.html"]
    page = text_of(section(paths.groups[0].read_text("utf-8"), "ranking"))
    assert "UBND huyện Cũ" in page and "UBND xã 1, huyện Cũ" in page and "Sở số 1" not in page
