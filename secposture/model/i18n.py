"""User-facing text in Vietnamese and English, from one catalogue.

The catalogue is every ``data/messages*.toml`` file: ``[key] vi = "…" en = "…"``. Splitting it
into files by area keeps it easy to review; a key defined twice is an error.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from string import Formatter

LANGS = ("vi", "en")


class CatalogueKeyError(KeyError):
    """A message key that the message catalogue does not have."""


@cache
def messages() -> dict[str, dict[str, str]]:
    """All message keys with both languages; validated once."""
    merged: dict[str, dict[str, str]] = {}
    data_dir = resources.files("secposture").joinpath("data")
    for entry in sorted(data_dir.iterdir(), key=lambda e: e.name):
        if not (entry.name.startswith("messages") and entry.name.endswith(".toml")):
            continue
        for key, texts in tomllib.loads(entry.read_text("utf-8")).items():
            if key in merged:
                raise ValueError(f"message key {key!r} defined twice ({entry.name})")
            missing = [lang for lang in LANGS if not texts.get(lang)]
            if missing:
                raise ValueError(f"message key {key!r} lacks {missing} ({entry.name})")
            merged[key] = texts
    return merged


def t(key: str, lang: str = "vi", /, **params: object) -> str:
    """The text for ``key`` in ``lang``, with ``{name}`` placeholders filled in."""
    try:
        text = messages()[key][lang if lang in LANGS else "vi"]
    except KeyError:
        raise CatalogueKeyError(key) from None
    return text.format(**params) if params else text


@cache
def _source_texts() -> dict[str, str]:
    raw = resources.files("secposture").joinpath("data/source_text.vi.toml").read_text("utf-8")
    return {str(k): str(v) for k, v in tomllib.loads(raw).items()}


def said(template: str, /, **values: object) -> str:
    """An evaluator's English sentence: ``template`` (a literal, the message id) filled in.

    The English text is what JSON, CSV and bundles keep; :func:`source_text` reads the
    template back out of it to show the Vietnamese. ``template`` must be a literal written in
    the call, so the test of the catalogue can find it; each placeholder is a bare ``{name}``.
    """
    return template.format(**values)


LIST_SEPARATOR = "; "


@dataclass(frozen=True, slots=True)
class _Template:
    pattern: re.Pattern[str]
    vi: str
    literal: int  # how many characters of a sentence its own words cover


def _compile(english: str, vi: str) -> _Template:
    """The regular expression that reads the values of ``english`` back out of a sentence."""
    parts: list[str] = []
    names: list[str] = []
    for literal, name, spec, conversion in Formatter().parse(english):
        parts.append(re.escape(literal))
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion or name in names:
            raise ValueError(f"source_text.vi.toml: {english!r}: placeholders are bare {{name}}")
        names.append(name)
        parts.append(f"(?P<{name}>.+?)")
    wanted = {name for _, name, _, _ in Formatter().parse(vi) if name is not None}
    if wanted != set(names):
        raise ValueError(f"source_text.vi.toml: {english!r}: the Vietnamese has other placeholders")
    literal = "".join(literal for literal, *_ in Formatter().parse(english))
    return _Template(re.compile("".join(parts), re.DOTALL), vi, len(literal))


@cache
def _templates() -> tuple[_Template, ...]:
    return tuple(_compile(en, vi) for en, vi in _source_texts().items() if "{" in en)


@lru_cache(maxsize=65536)
def _vietnamese(text: str) -> tuple[str, int]:
    """The Vietnamese of ``text`` and how many of its characters the catalogue's own words
    covered. Where several templates read a sentence (a device's "{name}: {text}" prefix, a
    template whose first value could swallow that prefix), the reading that translates the
    most wins, so the choice never depends on the order of the catalogue."""
    exact = _source_texts().get(text)
    if exact is not None:
        return exact, len(text)
    best, covered = text, 0
    for template in _templates():
        match = template.pattern.fullmatch(text)
        if match is None:
            continue
        # A value may itself be a sentence (the check's words after a device's "name: ");
        # values that are not one (ports, banners, names) come back unchanged.
        values = {k: _vietnamese(v) for k, v in match.groupdict().items()}
        score = template.literal + sum(n for _, n in values.values())
        if score > covered:
            best, covered = template.vi.format(**{k: v for k, (v, _) in values.items()}), score
    if LIST_SEPARATOR in text:
        # Sentences joined by "; " (one per weak secret, per management line): each its own.
        parts = [_vietnamese(part) for part in text.split(LIST_SEPARATOR)]
        score = sum(n for _, n in parts)
        if score > covered:
            best, covered = LIST_SEPARATOR.join(v for v, _ in parts), score
    return best, covered


def source_text(text: str, lang: str) -> str:
    """An evaluator's English sentence in ``lang``, where the catalogue has its template.

    Evidence and reasons are written in English at the source (they also go to JSON for
    scripts, and stored sweeps and bundles keep them): the English sentence, or its template
    with ``{name}`` placeholders, is the message id, the gettext way. Values go across as they
    were, so text that came off the network is shown as written, never read as a template."""
    return _vietnamese(text)[0] if lang == "vi" and text else text
