"""The console's web application: server-rendered pages and a read-only JSON API.

Every page and API call but ``/api/v1/health`` needs a session (pages) or a token (API); a
viewer asking for a unit or group outside its scope gets 404, the same as for one that does
not exist, so the reply does not tell which there are. Forms carry a CSRF token (the
session's, or for the login form a double-submit cookie); cookies are HttpOnly and SameSite
Strict, and Secure behind TLS. No page loads anything from elsewhere, none needs JavaScript,
and the Content-Security-Policy forbids scripts outright (the agency report's page allows
its one sorting script, by hash).
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Awaitable, Callable, Iterable, Iterator
from dataclasses import replace
from importlib import resources
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from secposture import __version__
from secposture.bundle.envelope import BundleError
from secposture.model.i18n import t
from secposture.model.records import utcnow
from secposture.province.accounts import (
    LoginRefused,
    Role,
    Viewer,
    audit,
    csrf_matches,
    login,
    logout,
    session_viewer,
    token_viewer,
)
from secposture.province.console.api import api_page, href, limit_of, number, pager, units_page
from secposture.province.console.queries import (
    FindingQuery,
    InventoryQuery,
    export_findings,
    search_findings,
    search_inventory,
)
from secposture.province.console.registry import registry_lines
from secposture.province.console.views import (
    History,
    RankPage,
    group_scopes,
    scope_view,
    visible_groups,
)
from secposture.province.db.engine import refresh_statistics
from secposture.province.db.store import BundlePruned, SqlStore, open_store
from secposture.province.hierarchy import CollectorConfig, Hierarchy
from secposture.province.render import agency_report
from secposture.report.outputs.html import content_security_policy, environment, translator
from secposture.report.view.text import spreadsheet_cell

SESSION_COOKIE = "sp_session"
LOGIN_COOKIE = "sp_login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
# The console's own rules, after the report's shared style sheet and the province pages'.
CONSOLE_STYLE = """
.bar{background:var(--accent);color:#fff;padding:8px 24px;display:flex;flex-wrap:wrap;
gap:6px 18px;align-items:center;font-size:14px}
.bar a,.bar button{color:#fff}.bar nav{border:0;padding:0}.bar nav a{color:#fff}
.bar .who{margin-left:auto;opacity:.9}.bar form{display:inline;margin:0}
.bar button{background:transparent;border:1px solid #fff;border-radius:4px;cursor:pointer;
font:inherit;padding:1px 8px}
form.search{display:flex;flex-wrap:wrap;gap:8px 14px;align-items:flex-end;margin-bottom:12px}
form.search label{display:flex;flex-direction:column;font-size:13px;color:var(--muted)}
form.search input,form.search select{font:inherit;padding:3px 6px;min-width:9rem}
.pager{display:flex;gap:18px;margin:8px 0}.bad{color:var(--high)}
table.grid td,table.grid th{vertical-align:top}
@media print{.bar,form.search,.pager,.csv{display:none}}
"""


class _NotSignedIn(Exception):
    """A page asked for without a live session: the answer is the login page."""


def _session(request: Request) -> tuple[Viewer, str]:
    """The viewer of the request's session cookie and the session's CSRF token."""
    secret = request.cookies.get(SESSION_COOKIE)
    found = session_viewer(request.app.state.engine, secret) if secret else None
    if found is None:
        raise _NotSignedIn
    return found


# Every page but the login form: who is asking, and the token its forms carry.
Session = Annotated[tuple[Viewer, str], Depends(_session)]


def console_style() -> str:
    """The style sheet of every console page: the report's look, served as one file."""
    folder = resources.files("templates")
    shared = (folder / "_shared" / "_styles.html.j2").read_text(encoding="utf-8")
    province = (folder / "province" / "_styles.html.j2").read_text(encoding="utf-8")
    # The files are Jinja includes; their only template syntax is their leading comment.
    text = "\n".join(_without_comment(part) for part in (shared, province))
    return text + CONSOLE_STYLE


def _without_comment(text: str) -> str:
    if text.startswith("{#"):
        text = text[text.index("#}") + 2 :]
    return text


def create_console(config: CollectorConfig, *, secure_cookies: bool = False) -> FastAPI:
    """The console for the province the config names (its database is the collector's)."""
    store = open_store(config)
    engine = store.engine
    refresh_statistics(engine)  # and again as the sweeps grow (History)
    history = History(store)
    default_lang = config.collector.lang.value
    overdue_days = config.collector.overdue_after_days
    style_text = console_style()
    app = FastAPI(
        title="secposture console",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.state.engine = engine

    @app.exception_handler(_NotSignedIn)
    def not_signed_in(request: Request, exc: _NotSignedIn) -> Response:
        return to_login()

    @app.middleware("http")
    async def headers(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        response = await call_next(request)
        response.headers["Content-Security-Policy"] = getattr(request.state, "csp", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Cache-Control"] = "no-store"
        return response

    def lang_of(request: Request) -> str:
        wanted = request.query_params.get("lang") or request.cookies.get("sp_lang")
        return wanted if wanted in ("vi", "en") else default_lang

    def page(request: Request, name: str, status: int = 200, **values: Any) -> HTMLResponse:
        lang = lang_of(request)
        html = (
            environment()
            .get_template(f"console/{name}.html.j2")
            .render(
                lang=lang,
                t=translator(lang),
                version=__version__,
                # The language switch keeps the page and its query: a search in Vietnamese
                # reads the same results in English.
                lang_vi=href(request, lang="vi", offset=None),
                lang_en=href(request, lang="en", offset=None),
                **values,
            )
        )
        response = HTMLResponse(html, status_code=status)
        if request.query_params.get("lang") in ("vi", "en"):
            response.set_cookie("sp_lang", lang, httponly=True, samesite="strict",
                                secure=secure_cookies)  # fmt: skip
        return response

    def source(request: Request) -> str:
        return request.client.host if request.client else "?"

    def signed_in(request: Request) -> tuple[Viewer, str] | None:
        secret = request.cookies.get(SESSION_COOKIE)
        return session_viewer(engine, secret) if secret else None

    def api_viewer(request: Request) -> Viewer | None:
        scheme, _, secret = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() == "bearer" and secret.strip():
            what = f"{request.method} {request.url.path}?{request.url.query}"
            return token_viewer(engine, secret.strip(), source=source(request), what=what)
        found = signed_in(request)
        return found[0] if found else None

    def to_login() -> RedirectResponse:
        return RedirectResponse("/login", status_code=303)

    def missing(request: Request, viewer: Viewer, csrf: str, what: str) -> HTMLResponse:
        audit(engine, viewer.name, "refused", what[:80], source(request))
        return page(request, "missing", status=404, viewer=viewer, csrf=csrf)

    @app.get("/static/console.css")
    def style() -> Response:
        return Response(style_text, media_type="text/css")

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # -- signing in and out ----------------------------------------------------------------
    def login_page(request: Request, failed: bool) -> Response:
        token = secrets.token_urlsafe(24)
        response = page(request, "login", status=401, csrf=token, failed=failed)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies, max_age=900)  # fmt: skip
        return response

    @app.get("/login")
    def login_form(request: Request) -> Response:
        return login_page(request, failed=False)

    @app.post("/login")
    async def login_post(request: Request) -> Response:
        form = await request.form()
        given = str(form.get("csrf", ""))
        if not csrf_matches(request.cookies.get(LOGIN_COOKIE, ""), given) or not given:
            audit(engine, "-", "csrf_refused", "POST /login", source(request))
            return Response(t("console.csrf", lang_of(request)), status_code=403)
        try:
            secret, _ = login(
                engine, str(form.get("name", "")), str(form.get("password", "")),
                source=source(request),
            )  # fmt: skip
        except LoginRefused:
            return login_page(request, failed=True)
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(SESSION_COOKIE, secret, httponly=True, samesite="strict",
                            secure=secure_cookies)  # fmt: skip
        response.delete_cookie(LOGIN_COOKIE)
        return response

    @app.post("/logout")
    async def logout_post(request: Request) -> Response:
        found = signed_in(request)
        if found is None:
            return to_login()
        form = await request.form()
        if not csrf_matches(found[1], str(form.get("csrf", ""))):
            return Response(t("console.csrf", lang_of(request)), status_code=403)
        logout(engine, request.cookies.get(SESSION_COOKIE, ""), source=source(request))
        response = to_login()
        response.delete_cookie(SESSION_COOKIE)
        return response

    # -- pages -------------------------------------------------------------------------------
    @app.get("/")
    def overview(request: Request, session: Session) -> Response:
        """The viewer's whole scope: the province for a province account, the group for a
        group account, the one unit for a unit account."""
        viewer, csrf = session
        now = utcnow()
        hierarchy = store.hierarchy
        visible = viewer.units(hierarchy)
        rows = history.of(hierarchy)
        units = [u for u in hierarchy.current(now.date()) if u.id in visible]
        groups = visible_groups(hierarchy, visible, now)
        heading = _heading(viewer, hierarchy)
        shown = scope_view(
            heading, "province", units, rows, now=now, overdue_days=overdue_days,
            lang=lang_of(request), groups=group_scopes(groups, rows),
            rank_offset=number(request, "rank"),
        )  # fmt: skip
        return page(request, "overview", viewer=viewer, csrf=csrf, view=shown.view,
                    ranks=_rank_links(request, shown.ranks), unnamed=shown.unnamed)  # fmt: skip

    @app.get("/groups/{group_id}")
    def group_page(request: Request, group_id: str, session: Session) -> Response:
        viewer, csrf = session
        now = utcnow()
        hierarchy = store.hierarchy
        groups = visible_groups(hierarchy, viewer.units(hierarchy), now)
        group = next((g for g in groups if g.id == group_id), None)
        if group is None:
            return missing(request, viewer, csrf, f"group {group_id}")
        shown = scope_view(
            group.name, "group", group.units, history.of(hierarchy), now=now,
            overdue_days=overdue_days, lang=lang_of(request), rank_offset=number(request, "rank"),
        )  # fmt: skip
        return page(request, "group", viewer=viewer, csrf=csrf, view=shown.view, group=group,
                    ranks=_rank_links(request, shown.ranks), unnamed=shown.unnamed)  # fmt: skip

    @app.get("/units/{unit_id}")
    def unit_page(request: Request, unit_id: str, session: Session) -> Response:
        viewer, csrf = session
        hierarchy = store.hierarchy
        if unit_id not in viewer.units(hierarchy) or unit_id not in hierarchy.units:
            return missing(request, viewer, csrf, f"unit {unit_id}")
        unit = hierarchy.units[unit_id]
        rows = store.rows(hierarchy.lineage(unit_id))
        return page(request, "unit", viewer=viewer, csrf=csrf, unit=unit,
                    rows=list(reversed(rows)), registry=registry_lines(hierarchy, {unit_id}),
                    groups={g: hierarchy.groups.get(g, g) for g in unit.groups})  # fmt: skip

    @app.get("/units/{unit_id}/report")
    def unit_report(request: Request, unit_id: str, session: Session) -> Response:
        """The unit's latest full report, as the agency's own: findings, devices, changes,
        posture, self-assessment answers and waivers with their evidence references."""
        viewer, csrf = session
        hierarchy = store.hierarchy
        rows = store.rows(hierarchy.lineage(unit_id)) if unit_id in hierarchy.units else []
        if unit_id not in viewer.units(hierarchy) or not rows:
            return missing(request, viewer, csrf, f"report {unit_id}")
        own = [r for r in rows if r["agency"] == unit_id] or rows
        try:
            payload = store.payload(own[-1])
        except (BundleError, ValueError) as exc:  # ValueError: pydantic's, a model refusal
            # Its bytes changed since they were stored, or retention pruned them: say so,
            # and what still holds (the summary row, the history), instead of a server error.
            audit(engine, viewer.name, "unreadable", str(exc)[:200], source(request))
            return page(request, "unreadable", status=409, viewer=viewer, csrf=csrf,
                        unit=hierarchy.units[unit_id], row=own[-1],
                        pruned=isinstance(exc, BundlePruned))  # fmt: skip
        html = agency_report(payload, lang_of(request), utcnow(), rows)
        # The report's own policy (the middleware sets it): its one hashed script, the
        # inventory table's sorting, and its inline styles.
        request.state.csp = content_security_policy()
        return HTMLResponse(html)

    @app.get("/findings")
    def findings_page(request: Request, session: Session) -> Response:
        viewer, csrf = session
        hierarchy = store.hierarchy
        query = _finding_query(request)
        if request.query_params.get("format") == "csv":
            audit(engine, viewer.name, "export", f"findings {request.url.query}"[:500],
                  source(request))  # fmt: skip
            # Every matching row, streamed: a meeting's list is not cut at a page.
            units = _scope(hierarchy, viewer, query.unit, query.group)
            exported: Iterable[tuple[Any, ...]] = (
                () if units is not None and not units
                else export_findings(engine, units, replace(query, offset=0), CSV_COLUMNS)
            )  # fmt: skip
            return _csv(exported)
        size = limit_of(request)
        rows = _findings_for(store, hierarchy, viewer, query, size + 1)
        return page(request, "findings", viewer=viewer, csrf=csrf, query=query,
                    rows=rows[:size], pager=pager(request, query.offset, len(rows), size),
                    groups=_group_choices(hierarchy, viewer),
                    csv_href=href(request, format="csv", offset=None))  # fmt: skip

    @app.get("/inventory")
    def inventory_page(request: Request, session: Session) -> Response:
        viewer, csrf = session
        hierarchy = store.hierarchy
        query = _inventory_query(request)
        size = limit_of(request)
        rows = _inventory_for(store, hierarchy, viewer, query, size + 1)
        return page(request, "inventory", viewer=viewer, csrf=csrf, query=query,
                    rows=rows[:size], pager=pager(request, query.offset, len(rows), size),
                    groups=_group_choices(hierarchy, viewer))  # fmt: skip

    @app.get("/registry")
    def registry_page(request: Request, session: Session) -> Response:
        """The unit registry, read-only: what the collector accepts bundles from."""
        viewer, csrf = session
        hierarchy = store.hierarchy
        lines = registry_lines(hierarchy, viewer.units(hierarchy))
        return page(request, "registry", viewer=viewer, csrf=csrf, lines=lines,
                    groups=hierarchy.groups)  # fmt: skip

    # -- the read-only API -------------------------------------------------------------------
    @app.get("/api/v1/units")
    def api_units(request: Request) -> Response:
        viewer = api_viewer(request)
        if viewer is None:
            return _unauthorized()
        return units_page(request, store, viewer)

    @app.get("/api/v1/findings")
    def api_findings(request: Request) -> Response:
        viewer = api_viewer(request)
        if viewer is None:
            return _unauthorized()
        query = _finding_query(request)
        size = limit_of(request)
        rows = _findings_for(store, store.hierarchy, viewer, query, size + 1)
        return api_page(request, rows, query.offset, size)

    @app.get("/api/v1/inventory")
    def api_inventory(request: Request) -> Response:
        viewer = api_viewer(request)
        if viewer is None:
            return _unauthorized()
        query = _inventory_query(request)
        size = limit_of(request)
        rows = _inventory_for(store, store.hierarchy, viewer, query, size + 1)
        return api_page(request, rows, query.offset, size)

    return app


def _rank_links(request: Request, ranks: RankPage) -> dict[str, Any]:
    """The ranking's page links (empty when every unit fits on one page)."""

    def at(offset: int | None) -> str | None:
        return None if offset is None else href(request, rank=str(offset)) + "#ranking"

    return {
        "first": ranks.offset + 1,
        "last": min(ranks.offset + ranks.size, ranks.total),
        "total": ranks.total,
        "previous": at(ranks.previous),
        "next": at(ranks.next),
    }


def _heading(viewer: Viewer, hierarchy: Hierarchy) -> str:
    if viewer.group_id and viewer.group_id in hierarchy.groups:
        return hierarchy.groups[viewer.group_id]
    if viewer.unit_id and viewer.unit_id in hierarchy.units:
        return hierarchy.units[viewer.unit_id].name
    return hierarchy.province_name


def _finding_query(request: Request) -> FindingQuery:
    q = request.query_params
    return FindingQuery(
        check=q.get("check", "")[:64],
        severity=q.get("severity", "")[:16],
        status=q.get("status", "fail")[:16],
        unit=q.get("unit", "")[:64],
        group=q.get("group", "")[:64],
        host=q.get("host", "")[:64],
        text=q.get("q", "")[:200],
        offset=number(request, "offset"),
    )


def _inventory_query(request: Request) -> InventoryQuery:
    q = request.query_params
    return InventoryQuery(
        ip=q.get("ip", "")[:64],
        mac=q.get("mac", "")[:32],
        unit=q.get("unit", "")[:64],
        group=q.get("group", "")[:64],
        device_type=q.get("type", "")[:32],
        os=q.get("os", "")[:100],
        service=q.get("service", "")[:100],
        text=q.get("q", "")[:200],
        offset=number(request, "offset"),
    )


def _scope(hierarchy: Hierarchy, viewer: Viewer, unit: str, group: str) -> set[str] | None:
    """The units a search covers: the viewer's, narrowed to one unit or one group; None for
    every unit (a province viewer, not narrowed). Outside the viewer's scope that is
    nothing, not an error that says the unit exists."""
    if viewer.role is Role.PROVINCE and not unit and not group:
        return None
    visible = viewer.units(hierarchy)
    if unit:
        visible &= set(hierarchy.lineage(unit)) if unit in hierarchy.units else set()
    if group:
        members = {old for u in hierarchy.members(group) for old in hierarchy.lineage(u.id)}
        visible &= members
    return visible


def _findings_for(
    store: SqlStore, hierarchy: Hierarchy, viewer: Viewer, query: FindingQuery, limit: int
) -> list[dict[str, Any]]:
    units = _scope(hierarchy, viewer, query.unit, query.group)
    if units is not None and not units:
        return []
    return search_findings(store.engine, units, query, limit)


def _inventory_for(
    store: SqlStore, hierarchy: Hierarchy, viewer: Viewer, query: InventoryQuery, limit: int
) -> list[dict[str, Any]]:
    units = _scope(hierarchy, viewer, query.unit, query.group)
    if units is not None and not units:
        return []
    return search_inventory(store.engine, units, query, limit)


def _group_choices(hierarchy: Hierarchy, viewer: Viewer) -> dict[str, str]:
    """The groups a search may be narrowed to: those with a unit the viewer may see."""
    visible = viewer.units(hierarchy)
    return {
        gid: name
        for gid, name in hierarchy.groups.items()
        if any(u.id in visible for u in hierarchy.members(gid))
    }


CSV_COLUMNS = ("unit_id", "check_id", "status", "severity", "ip", "port", "proto", "evidence",
               "reason", "waiver")  # fmt: skip
# What came off a LAN or out of a bundle's free text: a spreadsheet must show it as text. The
# others are a unit id, enums and a number, which the bundle's model already held to a form.
CSV_FREE_TEXT = frozenset({"check_id", "ip", "evidence", "reason", "waiver"})


def _csv(rows: Iterable[tuple[Any, ...]]) -> Response:
    """The rows as a CSV download, written as they are read."""
    free = [c in CSV_FREE_TEXT for c in CSV_COLUMNS]

    def lines() -> Iterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        buffer.write("\ufeff")  # a BOM, so that Excel opens the UTF-8 as UTF-8
        writer.writerow(CSV_COLUMNS)
        for n, row in enumerate(rows, start=1):
            writer.writerow(
                [
                    spreadsheet_cell(v) if text else ("" if v is None else v)
                    for v, text in zip(row, free, strict=True)
                ]
            )
            if n % 2000 == 0:
                yield buffer.getvalue().encode("utf-8")
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode("utf-8")

    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="findings.csv"'},
    )


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"detail": "a session or a read-only API token is needed"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="secposture"'},
    )
