"""What changed on the LAN since the previous sweep: counts by kind, then the changes."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from secposture.model.i18n import t
from secposture.model.records import Change
from secposture.report.view.text import MAX_NAME, Fact, ip_key, shown

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Changes listed one by one; a first sweep of a big LAN adds every device, and the counts by
# kind above the table already say how many there are.
MAX_CHANGES = 300


@dataclass(frozen=True, slots=True)
class ChangeRow:
    """One change: a device or port that appeared, went, or now answers differently."""

    kind: str
    kind_label: str
    ip: str
    port: str
    before: str
    after: str


@dataclass(frozen=True, slots=True)
class ChangesView:
    """The changes section: counts by kind, the first ``MAX_CHANGES`` rows, how many more."""

    counts: list[Fact]
    rows: list[ChangeRow]
    hidden: int


def changes_view(changes: Iterable[Change], lang: str) -> ChangesView:
    """The changes by kind, then address and port."""
    found = sorted(changes, key=lambda c: (c.kind.value, ip_key(c.ip), c.port or -1))
    counts: dict[str, int] = {}
    for change in found:
        counts[change.kind.value] = counts.get(change.kind.value, 0) + 1
    rows = [
        ChangeRow(
            kind=c.kind.value,
            kind_label=t(f"report.change.{c.kind.value}", lang),
            ip=shown(c.ip, lang, MAX_NAME),
            port="" if c.port is None else f"{c.port}/{c.proto or 'tcp'}",
            before=_change_text(c.before, lang),
            after=_change_text(c.after, lang),
        )
        for c in found[:MAX_CHANGES]
    ]
    return ChangesView(
        counts=[Fact(t(f"report.change.{kind}", lang), str(n)) for kind, n in counts.items()],
        rows=rows,
        hidden=max(0, len(found) - MAX_CHANGES),
    )


def _change_text(value: str, lang: str) -> str:
    # A configuration change is recorded as two SHA-256 digests: a reader needs only to see
    # that they differ, and the device section shows what changed.
    if _SHA256.fullmatch(value):
        return f"sha256 {value[:12]}…"
    return shown(value, lang, MAX_NAME)
