"""report.html in a real headless Chromium (Debian's), driven over the DevTools protocol.

The page is the report of a commune LAN recorded over six weeks, with hostile text wherever a
device chooses what the report shows (report_samples.PLACED). Chromium reports every console
message, uncaught exception, network request and dialog, so the tests can say: nothing ran,
nothing was fetched, nothing was logged; each payload is on screen as text; the summary fits
the first screen; the one script (sort and filter) works. Screenshots are kept in
tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from cdp_browser import Browser, have_chromium
from report_samples import PAYLOADS, PLACED, RTL, SSTI, StoredAgency, stored_agency

from secposture.report.outputs import ReportPaths, write_outputs

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FIRST_SCREEN = (1280, 800)

pytestmark = pytest.mark.skipif(
    not have_chromium(), reason="chromium is not installed (Debian: apt-get install -y chromium)"
)


@pytest.fixture(scope="module")
def agency(tmp_path_factory: pytest.TempPathFactory) -> StoredAgency:
    return stored_agency(tmp_path_factory.mktemp("agency"))


def written(agency: StoredAgency, folder: Path, lang: str) -> ReportPaths:
    result = agency.assessment
    return write_outputs(
        agency.sweep,
        result.findings,
        result.score,
        agency.config,
        folder,
        lang,
        context=agency.context,
    )


@pytest.fixture(scope="module")
def report_vi(agency: StoredAgency, tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    return written(agency, tmp_path_factory.mktemp("vi"), "vi")


@pytest.fixture()
def browser(tmp_path: Path) -> Iterator[Browser]:
    with Browser(tmp_path / "profile", width=FIRST_SCREEN[0], height=FIRST_SCREEN[1]) as b:
        yield b


def test_hostile_text_runs_nothing_fetches_nothing_and_is_shown_as_text(
    report_vi: ReportPaths, browser: Browser
) -> None:
    # When Chromium loads the report
    url = report_vi.html.as_uri()
    browser.load(url)

    # Then no payload ran: no marker, no dialog, no console message, no exception
    assert browser.evaluate("typeof window.__pwned") == "undefined"
    assert browser.dialogs() == []
    assert browser.console_errors() == []
    assert (
        browser.evaluate("document.title")
        == "Báo cáo an toàn thông tin mạng nội bộ · UBND xã Hòa Bình"
    )
    # nothing was fetched but the page itself
    assert browser.requests() == [url]
    # no payload made an element or an attribute: no image, frame, link or handler anywhere,
    # one script (ours, allowed by its hash) and the two charts' SVGs
    counts = browser.evaluate(
        "({img: document.querySelectorAll("
        "   'img, iframe, object, embed, a[href^=javascript]').length,"
        " script: document.scripts.length, svg: document.querySelectorAll('svg').length,"
        " style: document.querySelectorAll('style').length,"
        " handlers: [...document.querySelectorAll('*')].filter(e => [...e.attributes]"
        "   .some(a => a.name.startsWith('on'))).length})"
    )
    assert counts == {"img": 0, "script": 1, "svg": 2, "style": 1, "handlers": 0}
    # and each payload, wherever the device put it, is on screen word for word
    text = browser.evaluate("document.body.innerText")
    for where, payload in PLACED.items():
        assert payload in text, where
    for payload in PAYLOADS:
        assert payload in text
    assert "49" not in text.split(SSTI)[0][-3:]  # template syntax is not evaluated
    # the bidi override is named, not obeyed
    assert RTL not in text and "invoice[U+202E]gpj.exe" in text


def test_the_summary_fits_the_first_screen(
    agency: StoredAgency, report_vi: ReportPaths, browser: Browser, tmp_path: Path
) -> None:
    # When the Vietnamese report opens in a 1280×800 window
    browser.load(report_vi.html.as_uri())

    # Then score, index, pillars, the five fixes, the trend and the counts are all on screen
    boxes = browser.evaluate(
        "Object.fromEntries(['#summary .score-value', '#summary .index-line',"
        " '#summary .pillars svg', '#summary .fix-list', '#summary .trend svg',"
        " '#summary .sev-counts', '#summary .stats-inline'].map(s => {"
        "  const r = document.querySelector(s).getBoundingClientRect();"
        "  return [s, [r.left, r.top, r.right, r.bottom]]; }))"
    )
    width, height = FIRST_SCREEN
    for selector, (left, top, right, bottom) in boxes.items():
        assert 0 <= left < right <= width, selector
        assert 0 <= top < bottom <= height, selector
    assert browser.evaluate("document.querySelectorAll('#summary .fix-list li').length") == 5
    assert browser.evaluate("document.querySelector('#summary .score-value').innerText") == (
        f"{agency.assessment.score.overall:.1f}".replace(".", ",") + "/100"
    )
    # A screenshot for a person to look at
    ARTIFACTS.mkdir(exist_ok=True)
    shot = browser.screenshot(ARTIFACTS / "report-vi.png")
    assert shot.read_bytes().startswith(PNG_SIGNATURE)
    assert shot.stat().st_size > 50_000  # a blank 1280×800 page compresses to far less
    browser.screenshot(ARTIFACTS / "report-vi-full.png", full_page=True)


def test_the_english_summary_fits_the_first_screen_too(
    agency: StoredAgency, browser: Browser, tmp_path: Path
) -> None:
    paths = written(agency, tmp_path / "en", "en")

    browser.load(paths.html.as_uri())

    assert browser.console_errors() == []
    bottom = browser.evaluate(
        "Math.max(...['.fix-list', '.trend svg', '.stats-inline', '.pillars svg'].map("
        "s => document.querySelector('#summary ' + s).getBoundingClientRect().bottom))"
    )
    assert bottom <= FIRST_SCREEN[1]
    text = browser.evaluate("document.querySelector('#summary').textContent")
    assert "Five fixes that raise the score most" in text
    ARTIFACTS.mkdir(exist_ok=True)
    browser.screenshot(ARTIFACTS / "report-en.png")


def test_the_inventory_filters_and_sorts_with_the_page_script(
    report_vi: ReportPaths, browser: Browser
) -> None:
    browser.load(report_vi.html.as_uri())
    rows = "[...document.querySelectorAll('#inventory-table tbody tr')]"
    visible = f"{rows}.filter(r => !r.hidden).map(r => r.cells[0].innerText)"
    total = browser.evaluate(f"{rows}.length")
    assert browser.evaluate("document.documentElement.classList.contains('js')")

    # When the reader types part of a vendor name in the filter
    browser.evaluate(
        "(() => { const f = document.getElementById('inventory-filter');"
        " f.value = 'dell'; f.dispatchEvent(new Event('input')); })()"
    )
    # Then only the Dell machines stay, and the count says so
    assert browser.evaluate(visible) == ["192.168.1.20", "192.168.1.100"]
    assert browser.evaluate("document.getElementById('inventory-count').innerText") == (
        f"đang hiện 2/{total} thiết bị"
    )

    # When the filter holds markup, it is only a string to look for
    browser.evaluate(
        "(() => { const f = document.getElementById('inventory-filter');"
        " f.value = '<script>window.__pwned'; f.dispatchEvent(new Event('input')); })()"
    )
    assert browser.evaluate(visible) == ["192.168.1.1", "192.168.1.2"]  # title, SSH banner
    assert browser.evaluate("typeof window.__pwned") == "undefined"

    # When the filter is cleared and the reader sorts by IP twice (numeric, not text order)
    browser.evaluate(
        "(() => { const f = document.getElementById('inventory-filter');"
        " f.value = ''; f.dispatchEvent(new Event('input')); })()"
    )
    header = "document.querySelector('#inventory-table thead th button')"
    browser.evaluate(f"{header}.click()")
    ascending = browser.evaluate(visible)
    browser.evaluate(f"{header}.click()")
    descending = browser.evaluate(visible)
    assert ascending[:3] == ["192.168.1.1", "192.168.1.2", "192.168.1.10"]
    assert descending == list(reversed(ascending))
    assert (
        browser.evaluate(
            "document.querySelector('#inventory-table thead th').getAttribute('aria-sort')"
        )
        == "descending"
    )
    assert browser.console_errors() == []


def test_the_checks_catch_a_page_that_breaks_the_rules(tmp_path: Path, browser: Browser) -> None:
    # Given pages that do what the report must never do: fetch, handle events inline, alert
    leaky = tmp_path / "leaky.html"
    leaky.write_text(
        '<html><body><img src="http://collector.invalid/x.png">'
        "<script>window.__pwned = 1; alert('x')</script></body></html>",
        encoding="utf-8",
    )
    blocked = tmp_path / "blocked.html"
    blocked.write_text(
        '<html><head><meta http-equiv="Content-Security-Policy" content="default-src \'none\'">'
        '</head><body><img src="data:," onerror="window.__pwned = 1"></body></html>',
        encoding="utf-8",
    )

    # Then each breach is seen by the same checks the report passes
    browser.load(leaky.as_uri())
    assert "http://collector.invalid/x.png" in browser.requests()
    assert browser.dialogs() == ["x"]
    assert browser.evaluate("window.__pwned") == 1
    browser.load(blocked.as_uri())
    assert any("Content Security Policy" in e for e in browser.console_errors())
    assert browser.evaluate("typeof window.__pwned") == "undefined"


def test_report_command_prints_a_pdf_with_chromium(agency: StoredAgency, tmp_path: Path) -> None:
    # When the stored agency's report is re-rendered with --pdf
    config = agency.config.source
    assert config is not None
    out = tmp_path / "out"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "secposture",
            "report",
            "-c",
            str(config),
            "--pdf",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
        env={**os.environ, "SECPOSTURE_LANG": "vi"},
    )

    # Then it exits 3 (the stored sweep was incomplete, and the report says so) with a PDF
    assert run.returncode == 3, run.stderr
    pdf = (out / "report.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type\s*/Page(?!s)", pdf)) >= 2  # several A4 pages
    assert not list(out.glob(".report.pdf.*"))  # no temporary file left behind
    assert oct((out / "report.pdf").stat().st_mode & 0o777) == "0o640"
