"""Issue #13: Vietnamese terms as QCVN 12:2026/BCA writes them, in every text a user reads.

The Vietnamese of the message catalogue, the check catalogue, the framework files and the
templates is searched for the words the regulation does not use where it has its own term.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]

# What a text says instead of the regulation's term → the term (QCVN 12:2026/BCA wording).
AVOIDED = {
    r"\bmã độc\b": "phần mềm độc hại",
    r"\bAn ninh vật lý\b": "An toàn vật lý",
    r"\b[Bb]ằng chứng\b": "minh chứng",
    r"tấn công giả mạo \(man-in-the-middle\)|\bMITM\b": "tấn công xen giữa",
    r"Quản lý lỗ hổng(?! bảo mật)": "Quản lý lỗ hổng bảo mật",
}


def _vietnamese(value: object, where: str) -> Iterator[tuple[str, str]]:
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, str) and (key == "vi" or key.endswith("_vi")):
                yield where + "." + key, item
            else:
                yield from _vietnamese(item, f"{where}.{key}")
    elif isinstance(value, list):
        for n, item in enumerate(value):
            yield from _vietnamese(item, f"{where}[{n}]")


def vietnamese_texts() -> Iterator[tuple[str, str]]:
    data = resources.files("secposture").joinpath("data")
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            yield from _vietnamese(tomllib.loads(entry.read_text("utf-8")), entry.name)
    for entry in sorted(data.joinpath("frameworks").iterdir(), key=lambda e: e.name):
        yield from _vietnamese(tomllib.loads(entry.read_text("utf-8")), entry.name)
    for path in sorted((ROOT / "templates").rglob("*")):
        if path.is_file():
            yield str(path.relative_to(ROOT)), path.read_text("utf-8")


def test_texts_are_found() -> None:
    # the search must see the catalogue, the frameworks and the templates, or it proves nothing
    where = {w.split(".")[0] for w, _ in vietnamese_texts()}
    assert {"messages_report", "checks", "vn-baseline", "cis-v8-ig1"} <= where
    assert any(w.startswith("templates/") for w, _ in vietnamese_texts())


@pytest.mark.parametrize("pattern", sorted(AVOIDED))
def test_no_text_avoids_the_regulation_term(pattern: str) -> None:
    found = [w for w, text in vietnamese_texts() if re.search(pattern, text)]
    assert not found, f"say '{AVOIDED[pattern]}' in: {found}"
