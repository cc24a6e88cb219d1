"""Golden outputs (issue #12): one recorded sweep of the demo lab, judged and reported, compared
whole with the files beside this test, as ssh-audit compares each target's output with its
expected result. A change in any number or sentence of findings.json or of the report's visible
text shows up here and in review.

The sweep (``demo-sweep.json``) was recorded from ``make demo`` and the expected files were
written before the layout moves of issue #12; they must still match after them. After a change
that is meant to alter the output, write them anew with ``SECPOSTURE_GOLDEN=write`` and review
the diff.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import UTC, date, datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from secposture.config.loading import load_config
from secposture.job.assessment import assess, load_inputs
from secposture.model.records import SweepResult
from secposture.report.outputs.html import render_html
from secposture.report.outputs.json import findings_document
from secposture.report.view.context import ReportContext

HERE = Path(__file__).parent
GENERATED = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
WRITE = os.environ.get("SECPOSTURE_GOLDEN") == "write"


class _VisibleText(HTMLParser):
    """The text a reader sees: no script or style bodies, one line per run of text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data: str) -> None:
        if self._hidden:
            return
        text = " ".join(data.split())
        if text:
            self.lines.append(text)


def visible_lines(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return "\n".join(parser.lines) + "\n"


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    # Given the recorded demo sweep and the example agency with its answers and waivers
    work = tmp_path_factory.mktemp("golden")
    for name in ("agency.toml", "selfassessment.toml", "waivers.toml"):
        shutil.copy(HERE / name, work / name)
    config = load_config(work / "agency.toml")
    sweep = SweepResult.model_validate_json((HERE / "demo-sweep.json").read_text("utf-8"))
    # When it is judged and reported on a fixed day
    result = assess(sweep, config, inputs=load_inputs(config), today=TODAY)
    context = ReportContext(posture=result.posture)
    document = findings_document(
        sweep,
        result.findings,
        result.score,
        config.agency.id,
        generated=GENERATED,
        context=context,
    )
    outputs = {
        "findings.json": json.dumps(document, ensure_ascii=False, indent=2) + "\n",
    }
    for lang in ("vi", "en"):
        html = render_html(
            sweep,
            result.findings,
            result.score,
            config,
            lang,
            generated=GENERATED,
            context=context,
        )
        outputs[f"report.{lang}.txt"] = visible_lines(html)
    return outputs


@pytest.mark.parametrize("name", ["findings.json", "report.vi.txt", "report.en.txt"])
def test_output_matches_golden_file(judged: dict[str, str], name: str) -> None:
    # Then each output is exactly the reviewed golden file
    expected = HERE / "expected" / name
    if WRITE:
        expected.parent.mkdir(exist_ok=True)
        expected.write_text(judged[name], "utf-8")
    assert expected.exists(), f"{expected} is missing: write it with SECPOSTURE_GOLDEN=write"
    assert judged[name] == expected.read_text("utf-8")
