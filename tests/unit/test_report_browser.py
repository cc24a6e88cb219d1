"""report.html in a real headless Chromium: hostile text stays text, nothing runs, it renders.

Uses Chromium's own command line (--dump-dom, --screenshot), no driver library. The screenshot
is kept in tests/artifacts/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from test_report import IMG, PWNED, SSTI, XSS, Page, agency_config, hostile_findings, hostile_sweep

from secposture.report import ReportPaths, write_outputs
from secposture.scoring import score_findings

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (Debian: apt-get install -y chromium)"
)


def chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with everything that could reach the network turned off."""
    assert CHROMIUM is not None
    command = [
        CHROMIUM,
        "--headless",
        "--no-sandbox",  # tests may run as root in a container
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> ReportPaths:
    tmp = tmp_path_factory.mktemp("report")
    findings = hostile_findings()
    return write_outputs(
        hostile_sweep(),
        findings,
        score_findings(findings),
        agency_config(tmp),
        tmp / "out",
        lang="vi",
    )


def test_chromium_shows_hostile_text_as_text_and_runs_nothing(
    written: ReportPaths, tmp_path: Path
) -> None:
    # When Chromium loads the report and serialises the DOM it built
    dom = chromium(tmp_path / "profile", "--dump-dom", written.html.as_uri()).stdout
    page = Page(dom)

    # Then the payloads are text nodes, read back exactly as they arrived...
    for payload in (XSS, IMG, SSTI, PWNED):
        assert payload in page.text
    # ...no element came from them, and no script changed the document
    assert not any(tag in ("script", "img", "iframe", "svg") for tag, _ in page.tags)
    assert '<img src="x"' not in dom
    assert not any(attrs.get("id") == "pwned" for _, attrs in page.tags)
    assert "PWNED" not in dom.split("</title>")[0]
    assert "Báo cáo an toàn thông tin mạng nội bộ · UBND xã Hòa Bình" in dom
    # and the summary a reader looks for first is there
    assert "Điểm 44,4/100 · độ bao phủ 83%" in page.section("summary")


def test_chromium_renders_a_screenshot_of_the_vietnamese_report(
    written: ReportPaths, tmp_path: Path
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report-vi.png"
    shot.unlink(missing_ok=True)

    chromium(
        tmp_path / "profile",
        f"--screenshot={shot}",
        "--window-size=1280,900",
        written.html.as_uri(),
    )

    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    assert len(data) > 20_000  # a blank 1280x900 page compresses to far less
