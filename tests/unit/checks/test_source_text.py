"""Every sentence an evaluator writes as evidence or reason has its Vietnamese (issues #7, #13).

The report is Vietnamese first; a check added with an English-only reason would show English in
it. Fixed sentences (``reason="…"``) and templates (``said("… {name} …", name=…)``) are found in
the source, so a new one cannot slip past this test."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from secposture.model.i18n import source_text

ROOT = Path(__file__).resolve().parents[3]
SOURCES = [
    *sorted((ROOT / "secposture" / "checks").rglob("*.py")),
    ROOT / "secposture" / "assess" / "selfassessment.py",
    ROOT / "scanners" / "device_type.py",
    ROOT / "scanners" / "devices" / "gear.py",  # why an unlisted host was not audited
    ROOT / "scanners" / "devices" / "collect.py",  # why a listed device could not be read
]


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


def _texts(node: ast.expr | None) -> list[str]:
    """The sentences an expression can be: a literal, a known constant, or either branch of
    ``a if c else b``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Name) and node.id in CONSTANTS:
        return [CONSTANTS[node.id]]
    if isinstance(node, ast.IfExp):
        return _texts(node.body) + _texts(node.orelse)
    if isinstance(node, ast.BoolOp):  # value or "fallback sentence"
        return [t for v in node.values for t in _texts(v)]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "str":
        return [t for a in node.args for t in _texts(a)]
    return []


# Helpers that take a sentence positionally (device.py's "host: …" prefix and friends).
SENTENCE_TAKERS = {"_said", "_secrets_check", "_servers", "Judgement", "Verdict", "_Refused",
                   "refused", "failed", "skipped", "_timed_out"}  # fmt: skip
# Local variables that hold a sentence before it is given to a Verdict.
SENTENCE_NAMES = {"evidence", "reason", "words", "text", "held", "first"}


def sentences(path: Path) -> tuple[set[str], set[str]]:
    """Fixed sentences given as ``reason=``/``evidence=``, to a sentence-taking helper, or
    returned (a device-type reason, a timeout problem), and the templates of ``said`` (with the
    ``{servers}`` sentences device.py fills in itself)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    fixed: set[str] = set()
    templates: set[str] = {v for v in module_constants(path).values() if "{" in v}
    for node in ast.walk(tree):
        if isinstance(node, ast.Return) and node.value is not None:
            value = node.value
            parts = value.elts if isinstance(value, ast.Tuple) else [value]
            fixed.update(t for part in parts for t in _texts(part))
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id in SENTENCE_NAMES for t in node.targets
        ):
            fixed.update(_texts(node.value))
        if not isinstance(node, ast.Call):
            continue
        name = node.func.id if isinstance(node.func, ast.Name) else ""
        if name == "said":
            first = _texts(node.args[0]) if node.args else []
            assert len(first) == 1, f"{path.name}:{node.lineno}: said() needs a literal"
            templates.add(first[0])
        if name in SENTENCE_TAKERS:
            fixed.update(t for arg in node.args for t in _texts(arg))
        for kw in node.keywords:
            if kw.arg in ("reason", "evidence"):
                fixed.update(_texts(kw.value))
    # A one-word constant (a stage name such as "device") is an id, not a sentence.
    return {f for f in fixed if "{" not in f and " " in f}, templates - {""}


FIXED = set().union(*(sentences(p)[0] for p in SOURCES))
TEMPLATES = set().union(*(sentences(p)[1] for p in SOURCES))


def test_every_fixed_sentence_has_vietnamese() -> None:
    assert len(FIXED) > 20  # the collector really finds them
    assert "port scan of this host did not complete" in FIXED  # shared via services.py
    missing = sorted(s for s in FIXED if s and source_text(s, "vi") == s)
    assert missing == []


def test_every_template_has_vietnamese() -> None:
    assert len(TEMPLATES) > 30
    assert "telnet open on {port} ({banner})" in TEMPLATES
    samples = {t: t.format_map(_Sample()) for t in TEMPLATES}
    # The same in both languages: only their values are translated.
    structural = {"{name}: {text}", "SNMP sysDescr: {descr}"}
    missing = sorted(
        t for t, text in samples.items() if source_text(text, "vi") == text and t not in structural
    )
    assert missing == []


class _Sample(dict[str, str]):
    """Fills each placeholder with a value no template reads as a sentence of its own."""

    def __missing__(self, key: str) -> str:
        return f"X{key}9"


@pytest.mark.parametrize(
    ("english", "vietnamese"),
    [
        ("telnet open on 23/tcp (Linux telnetd)", "Telnet mở ở cổng 23/tcp (Linux telnetd)"),
        (
            "sw1: default community configured: public, private",
            "sw1: có community mặc định: public, private",
        ),
        (
            "sw1: enable password stored plaintext; user admin: password stored reversible",
            "sw1: enable password được lưu ở dạng rõ; tài khoản admin: password được lưu ở dạng "
            "mã hóa giải ngược được",
        ),
    ],
)
def test_values_go_across_and_sentences_nest(english: str, vietnamese: str) -> None:
    assert source_text(english, "vi") == vietnamese


def test_english_and_unknown_text_pass_through() -> None:
    assert source_text("no FTP service", "en") == "no FTP service"
    assert source_text("no FTP service", "vi") == "không có dịch vụ FTP"
    hostile = "<script>alert(1)</script>"
    assert source_text(hostile, "vi") == hostile
    # A banner that looks like a placeholder is a value, never a template.
    assert source_text("telnet open on 23/tcp ({__class__})", "vi") == (
        "Telnet mở ở cổng 23/tcp ({__class__})"
    )
