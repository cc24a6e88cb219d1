"""Every fixed sentence an evaluator writes as evidence or reason has its Vietnamese (issue #7).

The report is Vietnamese first; a check added with an English-only reason would show English in
it. The sentences are found in the source, so a new one cannot slip past this test."""

from __future__ import annotations

import ast
from pathlib import Path

from secposture.model.i18n import source_text

ROOT = Path(__file__).resolve().parents[3] / "secposture"
SOURCES = [*sorted((ROOT / "checks").rglob("*.py")), ROOT / "assess" / "selfassessment.py"]


def module_constants(path: Path) -> dict[str, str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        node.targets[0].id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
    }


# String constants of every source, since one module may use another's (e.g. NOT_SCANNED).
CONSTANTS = {k: v for p in SOURCES for k, v in module_constants(p).items()}


def fixed_sentences(path: Path) -> set[str]:
    """String literals (or string constants) passed as ``reason=`` or ``evidence=``."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    constants = CONSTANTS
    found: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        for kw in node.keywords:
            if kw.arg not in ("reason", "evidence"):
                continue
            if isinstance(kw.value, ast.Constant) and isinstance(kw.value.value, str):
                found.add(kw.value.value)
            elif isinstance(kw.value, ast.Name) and kw.value.id in constants:
                found.add(constants[kw.value.id])
    return found


def test_every_fixed_sentence_has_vietnamese() -> None:
    sentences = set().union(*(fixed_sentences(p) for p in SOURCES))
    assert len(sentences) > 20  # the collector really finds them
    assert (
        "port scan of this host did not complete" in sentences
    )  # shared via evaluators/services.py
    missing = sorted(s for s in sentences if s and source_text(s, "vi") == s)
    assert missing == []


def test_english_and_unknown_text_pass_through() -> None:
    assert source_text("no FTP service", "en") == "no FTP service"
    assert source_text("no FTP service", "vi") == "không có dịch vụ FTP"
    hostile = "<script>alert(1)</script>"
    assert source_text(hostile, "vi") == hostile
