"""Text for the agency report: made safe once, formatted the way each language writes it.

Everything a report shows may have come off the network (banners, page titles, hostnames,
device configurations), so it passes here: lone surrogates (invalid UTF-8) are replaced so a
write never fails half-way, control and bidi characters are named instead of obeyed, and very
long strings are cut with a note saying how much is left.
"""

from __future__ import annotations

import ipaddress
import math
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Any

from secposture.model.i18n import t
from secposture.model.records import Target
from secposture.model.score import Cap

# Vietnam keeps one offset all year (no daylight saving), so a fixed zone is exact.
VIETNAM_TIME = timezone(timedelta(hours=7), "ICT")
# Longest network text shown in the page (evidence; names and titles): the JSON files keep
# the full text, and one hostile DHCP hostname cannot stretch the inventory over pages.
MAX_SHOWN = 2000
MAX_NAME = 256


@dataclass(frozen=True, slots=True)
class Fact:
    """A label and its value as shown (the report's header, counts, device facts; the
    province pages' headers)."""

    label: str
    value: str


_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: object) -> str:
    """``value`` as text that always encodes to UTF-8 (bytes decoded, lone surrogates replaced)."""
    if value is None:
        return ""
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    # Lone surrogates are what invalid UTF-8 becomes under surrogateescape.
    return _SURROGATE.sub("\ufffd", str(value))


def visible_text(value: object) -> str:
    """Text for a human reader: control and format characters (U+202E and other bidi
    overrides, zero-width characters, NUL) are shown as ``[U+XXXX]`` so a banner can neither
    hide nor reorder what the report says."""
    text = clean_text(value)
    if text.isprintable():
        return text
    shown: list[str] = []
    for char in text.replace("\r\n", "\n"):
        if char in "\t\n" or unicodedata.category(char) not in ("Cc", "Cf"):
            shown.append(char)
        else:
            shown.append(f"[U+{ord(char):04X}]")
    return "".join(shown)


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text: one starting with a formula character gets a
    leading apostrophe, since evidence, hostnames and vendors come off the network."""
    text = "" if value is None else visible_text(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def clean_tree(value: Any) -> Any:
    """``value`` (JSON-like) with every string passed through :func:`clean_text`."""
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {key: clean_tree(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [clean_tree(item) for item in value]
    return value


def shown(value: object, lang: str, limit: int = MAX_SHOWN) -> str:
    """Network text cut at ``limit`` characters, saying how many more the JSON files hold."""
    text = clean_text(value)
    if len(text) <= limit:
        return text
    return text[:limit] + t("report.truncated", lang, count=len(text) - limit)


# --- times, dates, numbers -----------------------------------------------------------------


def format_time(moment: datetime, lang: str) -> str:
    """``28/11/2026 09:00`` (Vietnam time) in Vietnamese, ``2026-11-28 02:00 UTC`` in English.

    A naive time is taken as UTC, which is how every model stores it."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    if lang == "vi":
        return moment.astimezone(VIETNAM_TIME).strftime("%d/%m/%Y %H:%M")
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def format_day(moment: datetime | date, lang: str) -> str:
    """A day as each language writes it: ``28/11/2026`` (in Vietnam) or ``2026-11-28`` (UTC).

    A plain date (an answer's or a waiver's) is shown as written; a time is first put in the
    zone the report's times are in, so a sweep at 23:30 UTC is dated the next day in Vietnam."""
    if isinstance(moment, datetime):
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        moment = moment.astimezone(VIETNAM_TIME if lang == "vi" else UTC).date()
    return moment.strftime("%d/%m/%Y" if lang == "vi" else "%Y-%m-%d")


def short_day(moment: datetime, lang: str) -> str:
    """A chart axis label: ``28/11`` or ``11-28``."""
    return format_day(moment, lang)[:5] if lang == "vi" else format_day(moment, lang)[5:]


def time_span(start: datetime, end: datetime | None, lang: str) -> str:
    """``28/11/2026 02:00 – 02:42``; the date is written once when both ends share it."""
    if end is None:
        return f"{format_time(start, lang)} – {t('report.meta.not_finished', lang)}"
    first, last = format_time(start, lang), format_time(end, lang)
    if first[:10] == last[:10]:  # same day: "dd/mm/yyyy HH:MM – HH:MM"
        if lang == "vi":
            return f"{first} – {last[11:16]}"
        return f"{first.removesuffix(' UTC')} – {last[11:]}"
    return f"{first} – {last}"


def number(value: float, lang: str) -> str:
    """One decimal at most, with the language's decimal mark: ``62,5`` / ``62.5``."""
    text = f"{value:.1f}".removesuffix(".0")
    if text == "-0":
        text = "0"
    return text.replace(".", ",") if lang == "vi" else text


def cap_reason(cap: Cap, lang: str) -> str:
    """Why a headline score is held down, in one line: "capped at 59: 1 High finding(s)
    open" (the province ranking and ``bundle verify``; the report says it at length)."""
    severity = t(f"report.severity.{cap.severity}", lang)
    return t("agg.capped", lang, at=number(cap.at, lang), targets=cap.targets, severity=severity)


def percent(fraction: float) -> str:
    """A share as a whole percentage, rounded down: 99.7% coverage must not read as 100%."""
    return f"{math.floor(round(fraction * 100, 6))}%"


# --- targets -------------------------------------------------------------------------------


@lru_cache(maxsize=1 << 16)  # a report sorts each address once per finding, three times over
def ip_key(ip: str) -> tuple[int, int, str]:
    """Sort key putting addresses in numeric order and anything else (an agency id) last."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return (99, 0, ip)
    return (address.version, int(address), "")


def target_key(target: Target) -> tuple[tuple[int, int, str], int, str]:
    """Sort key of a target: address numerically, then port and protocol."""
    return (ip_key(target.ip), -1 if target.port is None else target.port, target.proto or "")


def target_text(target: Target) -> str:
    """``192.168.1.1:23/tcp``, ``[fe80::1]:22/tcp`` or just the address."""
    if target.port is None:
        return target.ip
    host = f"[{target.ip}]" if ":" in target.ip else target.ip
    return f"{host}:{target.port}" + (f"/{target.proto}" if target.proto else "")
