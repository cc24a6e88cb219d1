"""Framework files: the shipped ones, and a province's own that replace or add to them.

The shipped files live in ``secposture/data/frameworks/``. A province changes a framework
without touching code by putting a file with the same ``[framework] id`` in the folder named
by ``assessment.frameworks_dir``; a file with a new id adds a framework. Every file is validated
on load (see :mod:`secposture.frameworks.model`) and every check id it maps must exist in the
check catalogue, so a typo is a load error, never a requirement that silently scores nothing.

A file may say ``extends = "other-id"``: it starts from that framework's sections and
requirements (as loaded, so a province's replacement of the parent carries over) and adds its
own. Which frameworks an agency is scored against is :func:`applicable`'s decision.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from secposture.checks.catalogue import CheckMeta, load_catalogue
from secposture.config.datafile import validate_model
from secposture.config.errors import ConfigError
from secposture.config.loading import read_toml
from secposture.config.sections import AssessmentSection
from secposture.frameworks.model import Framework, FrameworkScope

# The order frameworks are shown in; any other shipped file follows, by id.
SHIPPED = ("gci", "vn-baseline", "vn-qcvn12", "cis-v8-ig1")

Raw = dict[str, Any]


def _ordered(frameworks: dict[str, Framework]) -> dict[str, Framework]:
    rank = {fid: i for i, fid in enumerate(SHIPPED)}
    ids = sorted(frameworks, key=lambda fid: (rank.get(fid, len(SHIPPED)), fid))
    return {fid: frameworks[fid] for fid in ids}


@cache
def shipped_frameworks() -> dict[str, Framework]:
    """The frameworks that ship with secposture, validated against the shipped catalogue."""
    return _ordered(_validated(_shipped_raw(), {}, {"catalogue": load_catalogue()}))


@cache
def _shipped_raw() -> dict[str, tuple[Raw, str]]:
    folder = resources.files("secposture").joinpath("data/frameworks")
    raw: dict[str, tuple[Raw, str]] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"secposture/data/frameworks/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text("utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError("framework", f"is not valid TOML: {exc}", source) from None
        _add_raw(raw, data, source)
    return raw


def load_frameworks(
    override_dir: Path | None = None,
    *,
    catalogue: dict[str, CheckMeta] | None = None,
    assessment: AssessmentSection | None = None,
) -> dict[str, Framework]:
    """The shipped frameworks, with a province's files from ``override_dir`` replacing
    same-id ones and adding new ones. Raises :class:`ConfigError` naming the file and key.

    A shipped framework built on one the province replaces (vn-qcvn12 on vn-baseline) is
    rebuilt on the province's version; given ``assessment``, only where it applies to that
    agency, so a province file that suits its ordinary agencies costs them nothing."""
    frameworks = dict(shipped_frameworks())
    if override_dir is None:
        return frameworks
    if not override_dir.is_dir():
        raise ConfigError("assessment.frameworks_dir", "is not a folder", str(override_dir))
    own: dict[str, tuple[Raw, str]] = {}
    for path in sorted(override_dir.glob("*.toml")):
        try:
            data = read_toml(path)
        except ConfigError as exc:
            raise ConfigError("framework", exc.reason, exc.source) from None
        _add_raw(own, data, str(path))
    # A shipped framework that extends a replaced one is rebuilt on the province's version.
    parents = {**_shipped_raw(), **own}
    rebuilt = {
        fid: entry
        for fid, entry in _shipped_raw().items()
        if fid not in own and _parent_id(entry[0]) in own
    }
    context = {"catalogue": catalogue or load_catalogue()}
    frameworks.update(_validated(own, parents, context))
    for fid, entry in rebuilt.items():
        parent_id = _parent_id(entry[0])
        assert parent_id is not None  # rebuilt holds only frameworks with a replaced parent
        if assessment is not None and not _applies(entry[0], assessment):
            del frameworks[fid]  # never scored for this agency: not built on the province's file
            continue
        try:
            frameworks.update(_validated({fid: entry}, parents, context))
        except ConfigError as exc:
            # The fault is the province's file, not the shipped one built on it: say so there.
            raise ConfigError(
                "framework.id",
                f"replaces '{parent_id}', on which the shipped '{fid}' is built, and '{fid}' "
                f"cannot be built on this version ({exc.key}: {exc.reason}); "
                f"put your own '{fid}' in this folder too",
                own[parent_id][1],
            ) from None
    return _ordered(frameworks)


def _applies(data: Raw, assessment: AssessmentSection) -> bool:
    info = data.get("framework")
    scope = info.get("applies_to") if isinstance(info, dict) else None
    if scope == FrameworkScope.ELECTRONIC_DOCUMENT_STORAGE.value:
        return assessment.stores_electronic_documents
    return True


def applicable(
    frameworks: Mapping[str, Framework], assessment: AssessmentSection
) -> dict[str, Framework]:
    """The frameworks this agency is scored against: every-agency profiles, and those whose
    regulation's own scope the agency's config says it is in."""
    return {
        fid: fw
        for fid, fw in frameworks.items()
        if fw.info.applies_to is FrameworkScope.EVERY_AGENCY
        or (
            fw.info.applies_to is FrameworkScope.ELECTRONIC_DOCUMENT_STORAGE
            and assessment.stores_electronic_documents
        )
    }


def frameworks_for(
    assessment: AssessmentSection, *, catalogue: dict[str, CheckMeta] | None = None
) -> dict[str, Framework]:
    """:func:`load_frameworks` with the agency's ``frameworks_dir``, then :func:`applicable`."""
    found = load_frameworks(assessment.frameworks_dir, catalogue=catalogue, assessment=assessment)
    return applicable(found, assessment)


def _parent_id(data: Raw) -> str | None:
    info = data.get("framework")
    parent = info.get("extends") if isinstance(info, dict) else None
    return parent if isinstance(parent, str) else None


def _add_raw(found: dict[str, tuple[Raw, str]], data: Raw, source: str) -> None:
    info = data.get("framework")
    fid = info.get("id") if isinstance(info, dict) else None
    if not isinstance(fid, str):
        # Validation names the missing key; keep the file under a name no id can take.
        fid = f"<{source}>"
    if fid in found:
        raise ConfigError(
            "framework.id", f"'{fid}' is defined twice ({found[fid][1]} and {source})", source
        )
    found[fid] = (data, source)


def _validated(
    raw: dict[str, tuple[Raw, str]],
    parents: dict[str, tuple[Raw, str]],
    context: dict[str, Any],
) -> dict[str, Framework]:
    known = {**parents, **raw}
    found: dict[str, Framework] = {}
    for fid, (data, source) in raw.items():
        found[fid] = validate_model(_extended(data, known, source), Framework, source, context)
    return found


def _extended(data: Raw, known: dict[str, tuple[Raw, str]], source: str) -> Raw:
    parent_id = _parent_id(data)
    if parent_id is None:
        return data
    if parent_id not in known:
        raise ConfigError("framework.extends", f"names unknown framework '{parent_id}'", source)
    parent, _ = known[parent_id]
    if _parent_id(parent) is not None:
        raise ConfigError(
            "framework.extends",
            f"'{parent_id}' itself extends another framework (one level only)",
            source,
        )
    merged = dict(data)
    for key in ("section", "requirement"):
        merged[key] = [*parent.get(key, []), *data.get(key, [])]
    return merged
