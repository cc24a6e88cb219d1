"""Framework files: the shipped ones, and a province's own that replace or add to them.

The shipped files live in ``secposture/data/frameworks/``. A province changes a framework
without touching code by putting a file with the same ``[framework] id`` in the folder named
by ``assessment.frameworks_dir``; a file with a new id adds a framework. Every file is validated
on load (see :mod:`secposture.frameworks.model`) and every check id it maps must exist in the
check catalogue, so a typo is a load error, never a requirement that silently scores nothing.
"""

from __future__ import annotations

import tomllib
from functools import cache
from importlib import resources
from pathlib import Path

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.config.datafile import load_model, validate_model
from secposture.config.errors import ConfigError
from secposture.frameworks.model import Framework

# The order frameworks are shown in; any other shipped file follows, by id.
SHIPPED = ("gci", "vn-baseline", "cis-v8-ig1")


def _ordered(frameworks: dict[str, Framework]) -> dict[str, Framework]:
    rank = {fid: i for i, fid in enumerate(SHIPPED)}
    ids = sorted(frameworks, key=lambda fid: (rank.get(fid, len(SHIPPED)), fid))
    return {fid: frameworks[fid] for fid in ids}


def _add(found: dict[str, Framework], where: dict[str, str], fw: Framework, source: str) -> None:
    if fw.id in found:
        raise ConfigError(
            "framework.id", f"'{fw.id}' is defined twice ({where[fw.id]} and {source})", source
        )
    found[fw.id] = fw
    where[fw.id] = source


@cache
def shipped_frameworks() -> dict[str, Framework]:
    """The frameworks that ship with secposture, validated against the shipped catalogue."""
    context = {"catalogue": load_catalogue()}
    folder = resources.files("secposture").joinpath("data/frameworks")
    found: dict[str, Framework] = {}
    where: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"secposture/data/frameworks/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("framework", f"is not valid TOML: {exc}", source) from None
        _add(found, where, validate_model(data, Framework, source, context), source)
    return _ordered(found)


def load_frameworks(
    override_dir: Path | None = None, *, catalogue: dict[str, CheckMeta] | None = None
) -> dict[str, Framework]:
    """The shipped frameworks, with a province's files from ``override_dir`` replacing
    same-id ones and adding new ones. Raises :class:`ConfigError` naming the file and key."""
    frameworks = dict(shipped_frameworks())
    if override_dir is None:
        return frameworks
    if not override_dir.is_dir():
        raise ConfigError("assessment.frameworks_dir", "is not a folder", str(override_dir))
    context = {"catalogue": catalogue or load_catalogue()}
    own: dict[str, Framework] = {}
    where: dict[str, str] = {}
    for path in sorted(override_dir.glob("*.toml")):
        _add(own, where, load_model(path, "framework", Framework, context), str(path))
    frameworks.update(own)
    return _ordered(frameworks)
