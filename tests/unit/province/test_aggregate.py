"""Province and district pages (issue #8) from a synthetic province, also in real Chromium.

The province: 3 departments, 3 districts of 7 communes each; four weekly sweeps per unit,
one commune that never reported, one department whose last bundle is three weeks old, and one
bundle carrying hostile text where a check id and evidence go.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from markupsafe import escape

from secposture.bundle.envelope import sign_payload
from secposture.model.records import Finding, Severity, Status, Target
from secposture.province.hierarchy import CollectorConfig, Hierarchy, parse_collector_config
from secposture.province.pages import AggregatePaths, write_aggregate
from secposture.province.store import CollectorStore
from secposture.province.synthetic import SyntheticProvince, make_payload, make_province
from secposture.report.outputs.html import content_security_policy
from secposture.report.outputs.pdf import OFFLINE_FLAGS

NOW = datetime(2026, 11, 30, 3, 0, tzinfo=UTC)  # 10:00 on Monday 30/11 in Vietnam
HOSTILE = '<img src=x onerror=alert(1)><script>document.title="PWNED"</script>'
SILENT = "xa-01-07"  # never reports
LATE = "so-03"  # last bundle three weeks ago
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src 'none'"


def build(tmp: Path) -> tuple[SyntheticProvince, AggregatePaths, CollectorConfig]:
    province = make_province(districts=3, communes_per_district=7, departments=3, hosts=(5, 30))
    config = parse_collector_config(province.config(str(tmp / "store")))
    store = CollectorStore(config.collector.store, Hierarchy(config), max_bytes=2**24)
    for week in range(4):
        for unit in province.units:
            if unit.id == SILENT or (unit.id == LATE and week > 0):
                continue
            payload = make_payload(unit, NOW - timedelta(weeks=3 - week, hours=20))
            if unit.id == "xa-02-01" and week == 3:
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
    assert "26/27 đơn vị đã gửi kết quả" in text_of(section(html, "summary"))
    # the ranking is by score, highest first, the silent commune last and unranked
    rows = re.findall(
        r'<td class="num strong">([0-9,—]+)(?:<br>.*?)?</td>', section(html, "ranking")
    )
    scores = [float(s.replace(",", ".")) for s in rows if s != "—"]
    assert len(scores) == 26 and scores == sorted(scores, reverse=True)
    assert rows[-1] == "—" and "UBND xã 1.7" in section(html, "ranking").rsplit("<tr", 1)[-1]
    # tier counts add up to the units that reported
    tiers = re.findall(r'<span class="count">(\d+)</span></li>', section(html, "summary"))
    assert sum(int(n) for n in tiers) == 26
    # the common findings say how many units fail, by level, and link to each
    findings = text_of(section(html, "findings"))
    assert re.search(r"\d+ đơn vị còn lỗi: Dịch vụ Telnet \(không mã hóa\) đang mở", findings)
    assert re.search(r"\d+ xã · \d+ huyện · \d+ sở, ngành", findings)
    # overdue: the commune that never reported and the department three weeks late
    overdue = text_of(section(html, "overdue"))
    assert "UBND xã 1.7" in overdue and "chưa từng gửi" in overdue
    assert "Sở số 3" in overdue and "ngày trước" in overdue
    assert "Sở số 1" not in overdue
    # four weeks of trend, then the heat maps by pillar and by check
    assert len(re.findall(r'<circle class="trend-dot"', html)) == 4
    assert "Theo trụ cột" in html and "Kỹ thuật" in section(html, "heatmap")


def test_district_pages_roll_up_their_communes_and_every_link_resolves(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    _, paths = built
    assert [p.name for p in paths.districts] == ["huyen-01.html", "huyen-02.html", "huyen-03.html"]
    district = paths.districts[0].read_text("utf-8")
    ranking = text_of(section(district, "ranking"))
    assert "UBND huyện 1" in ranking and "UBND xã 1.3" in ranking
    assert "UBND xã 2.1" not in ranking and "Sở số 1" not in ranking
    assert '<a href="../index.html">' in district
    # every unit that reported has its latest report, and every link on every page resolves
    assert len(paths.agencies) == 26
    for page in [paths.province, *paths.districts]:
        for href in re.findall(r'href="([^"#]+)"', page.read_text("utf-8")):
            assert (page.parent / href).resolve().is_file(), (page.name, href)
    agency = (paths.province.parent / "agencies" / "xa-01-01.html").read_text("utf-8")
    # the agency copies carry the agency report's own policy (one script allowed by its hash)
    assert "UBND xã 1.1" in agency and str(escape(content_security_policy())) in agency


def test_hostile_text_from_a_signed_bundle_stays_text(
    built: tuple[SyntheticProvince, AggregatePaths],
) -> None:
    _, paths = built
    for page in (
        paths.province,
        paths.districts[1],
        paths.province.parent / "agencies" / "xa-02-01.html",
    ):
        html = page.read_text("utf-8")
        assert "<img src=x" not in html and 'document.title="PWNED"' not in html
        assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_losing_the_index_rebuilds_the_same_pages(tmp_path: Path) -> None:
    # Given the pages of a province, when the collector's index is lost (every agency's)
    _, paths, config = build(tmp_path)
    indexes = list((config.collector.store / "bundles").glob("*/index.json"))
    assert len(indexes) == 26
    for index in indexes:
        index.unlink()
    # Then the pages rebuilt from the bundle files alone are the same, byte for byte
    again = write_aggregate(config, tmp_path / "again", lang="vi", now=NOW)
    assert again.province.read_bytes() == paths.province.read_bytes()
    assert again.districts[2].read_bytes() == paths.districts[2].read_bytes()


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
@pytest.mark.parametrize("page", ["province", "district"])
def test_pages_in_headless_chromium_show_content_load_nothing_and_log_no_errors(
    built: tuple[SyntheticProvince, AggregatePaths], tmp_path: Path, page: str
) -> None:
    _, paths = built
    path = paths.province if page == "province" else paths.districts[0]
    netlog = tmp_path / "net.json"
    # When Chromium loads the page and serialises what it built
    run = chromium(tmp_path / "profile", f"--log-net-log={netlog}", "--dump-dom", path.as_uri())
    dom = run.stdout
    # Then the content is there, no script ran and no console message was logged
    heading = "Tỉnh Mẫu" if page == "province" else "UBND huyện 1"
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
    pages = [paths.province, *paths.districts]
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
