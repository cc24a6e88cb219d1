"""The console's JSON API in pages, and the page links of its searches.

Every list the API answers is one page, ``{"items": [...], "offset", "limit", "next"}``:
``next`` is the address of the following page, None after the last, so a script follows it
without knowing how paging works. The upload endpoint's ``/api/v1/units`` answers the same.
"""

from __future__ import annotations

import urllib.parse
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from secposture.province.accounts import Viewer
from secposture.province.console.queries import PAGE
from secposture.province.db.store import SqlStore

MAX_LIMIT = 1000  # rows per API call at most


class UnitStatus(BaseModel):
    """One unit and its latest stored sweep, as ``/api/v1/units`` lists it."""

    id: str
    name: str
    level: str
    parent: str
    groups: list[str]
    latest_sweep: str | None
    latest_started: str | None
    score: float | None
    cap: dict[str, Any] | None  # {"at": 39, "severity": "critical", …} while capped


class UnitsPage(BaseModel):
    """One page of ``/api/v1/units``."""

    items: list[UnitStatus]
    offset: int
    limit: int
    next: str | None


def unit_statuses(store: SqlStore, viewer: Viewer) -> list[UnitStatus]:
    """The units expected to report that ``viewer`` may see, by id, with their latest sweep."""
    hierarchy = store.hierarchy
    visible = viewer.units(hierarchy)
    latest = store.latest_rows()
    out = []
    for unit in sorted(hierarchy.current(), key=lambda u: u.id):
        if unit.id not in visible:
            continue
        row = latest.get(unit.id)
        out.append(
            UnitStatus(
                id=unit.id,
                name=unit.name,
                level=unit.level.value,
                parent=unit.parent,
                groups=list(unit.groups),
                latest_sweep=row["sweep_id"] if row else None,
                latest_started=row["started"] if row else None,
                score=row["score"]["overall"] if row else None,
                cap=row["score"].get("cap") if row else None,
            )
        )
    return out


def units_page(request: Request, store: SqlStore, viewer: Viewer) -> JSONResponse:
    """One page of the units ``viewer`` may see."""
    offset, size = number(request, "offset"), limit_of(request)
    units = [u.model_dump() for u in unit_statuses(store, viewer)]
    return api_page(request, units[offset : offset + size + 1], offset, size)


def href(request: Request, **changes: str | None) -> str:
    """This page's address with some query parameters changed (None: removed)."""
    params = [(k, v) for k, v in request.query_params.multi_items() if k not in changes]
    params += [(k, v) for k, v in changes.items() if v is not None]
    query = urllib.parse.urlencode(params)
    return f"{request.url.path}?{query}" if query else request.url.path


def pager(request: Request, offset: int, fetched: int, size: int) -> dict[str, Any]:
    """The previous and next page links of a search that asked for one row more than a
    page: that row tells whether there is a next page."""
    return {
        "first": offset + 1 if fetched else 0,
        "last": offset + min(fetched, size),
        "previous": href(request, offset=str(max(0, offset - size))) if offset else None,
        "next": href(request, offset=str(offset + size)) if fetched > size else None,
    }


def api_page(request: Request, rows: list[dict[str, Any]], offset: int, size: int) -> JSONResponse:
    """One page of an API answer, with the address of the next one (None at the end)."""
    more = len(rows) > size
    return JSONResponse(
        {
            "items": rows[:size],
            "offset": offset,
            "limit": size,
            "next": href(request, offset=str(offset + size)) if more else None,
        }
    )


def limit_of(request: Request) -> int:
    """Rows per page: ``limit`` (1 to 1,000) when a script asks, else the console's page."""
    return min(max(number(request, "limit") or PAGE, 1), MAX_LIMIT)


def number(request: Request, name: str) -> int:
    value = request.query_params.get(name, "0")
    return int(value) if value.isdigit() and len(value) < 9 else 0
