"""User-facing text in Vietnamese and English, from one catalogue.

The catalogue is every ``data/messages*.toml`` file: ``[key] vi = "…" en = "…"``. Splitting it
into files by area keeps it easy to review; a key defined twice is an error.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources

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


def source_text(text: str, lang: str) -> str:
    """A fixed English sentence from an evaluator, in ``lang`` where the catalogue has it.

    Evidence and reasons are written in English at the source (they also go to JSON for
    scripts); the report shows the Vietnamese of the fixed ones. Text with values in it, and
    anything that came off the network, is shown as written."""
    if lang == "vi":
        return _source_texts().get(text, text)
    return text
