"""The console's web application: server-rendered pages and a read-only JSON API.

Every page and API call but ``/api/v1/health`` needs a session (pages) or a token (API); a
viewer asking for a unit outside its scope gets 404, the same as for a unit that does not
exist, so the reply does not tell which units there are. Forms carry a CSRF token (the
session's, or for the login form a double-submit cookie); cookies are HttpOnly and SameSite
Strict, and Secure behind TLS. No page loads anything from elsewhere, none needs JavaScript,
and the Content-Security-Policy forbids scripts outright.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from secposture import __version__
from secposture.model.i18n import t
from secposture.model.records import utcnow
from secposture.province.accounts import (
    LoginRefused,
    Viewer,
    audit,
    csrf_matches,
    login,
    logout,
    session_viewer,
    token_viewer,
)
from secposture.province.console.queries import (
    FindingQuery,
    InventoryQuery,
    search_findings,
    search_inventory,
)
from secposture.province.db.store import SqlStore, open_store
from secposture.province.hierarchy import CollectorConfig
from secposture.province.render import agency_report
from secposture.report.outputs.html import content_security_policy, environment, translator
from secposture.report.view.text import spreadsheet_cell

SESSION_COOKIE = "sp_session"
LOGIN_COOKIE = "sp_login"
CSP = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
STYLE = """
body{font-family:system-ui,sans-serif;margin:0;color:#1b2733;background:#f4f6f9}
header{background:#1f3a5f;color:#fff;padding:.6rem 1.2rem;display:flex;gap:1.2rem;
align-items:center}
header a{color:#fff}main{padding:1rem 1.2rem;max-width:80rem}
table{border-collapse:collapse;width:100%;background:#fff}th,td{border:1px solid #d5dbe3;
padding:.3rem .5rem;text-align:left;vertical-align:top;font-size:.9rem}th{background:#e9eef5}
form.inline{display:inline}label{margin-right:.6rem}.muted{color:#5b6b7b}.bad{color:#a11}
@media print{header form,nav,.search{display:none}}
"""


def create_console(config: CollectorConfig, *, secure_cookies: bool = False) -> FastAPI:
    """The console for the province the config names (its database is the collector's)."""
    store = open_store(config)
    engine = store.engine
    default_lang = config.collector.lang.value
    app = FastAPI(
        title="secposture console",
        version=__version__,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

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
            .render(lang=lang, t=translator(lang), version=__version__, **values)
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

    @app.get("/static/console.css")
    def style() -> Response:
        return Response(STYLE, media_type="text/css")

    @app.get("/api/v1/health")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    # -- signing in and out ----------------------------------------------------------------
    @app.get("/login")
    def login_form(request: Request) -> HTMLResponse:
        token = secrets.token_urlsafe(24)
        response = page(request, "login", status=401, csrf=token, failed=False)
        response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                            secure=secure_cookies, max_age=900)  # fmt: skip
        return response

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
            token = secrets.token_urlsafe(24)
            response: Response = page(request, "login", status=401, csrf=token, failed=True)
            response.set_cookie(LOGIN_COOKIE, token, httponly=True, samesite="strict",
                                secure=secure_cookies, max_age=900)  # fmt: skip
            return response
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
    def overview(request: Request) -> Response:
        found = signed_in(request)
        if found is None:
            return to_login()
        viewer, csrf = found
        hierarchy = store.hierarchy
        visible = viewer.units(hierarchy)
        latest = store.latest_rows()
        units = sorted(
            (u for u in hierarchy.current() if u.id in visible),
            key=lambda u: (_score(latest.get(u.id)) is None, _score(latest.get(u.id)) or 0, u.id),
        )
        return page(request, "overview", viewer=viewer, csrf=csrf, units=units, latest=latest,
                    province=hierarchy.province_name)  # fmt: skip

    @app.get("/units/{unit_id}")
    def unit_page(request: Request, unit_id: str) -> Response:
        found = signed_in(request)
        if found is None:
            return to_login()
        viewer, csrf = found
        hierarchy = store.hierarchy
        if unit_id not in viewer.units(hierarchy) or unit_id not in hierarchy.units:
            audit(engine, viewer.name, "refused", f"unit {unit_id[:64]}", source(request))
            return page(request, "missing", status=404, viewer=viewer, csrf=csrf)
        rows = store.rows(hierarchy.lineage(unit_id))
        return page(request, "unit", viewer=viewer, csrf=csrf, unit=hierarchy.units[unit_id],
                    rows=list(reversed(rows)))  # fmt: skip

    @app.get("/units/{unit_id}/report")
    def unit_report(request: Request, unit_id: str) -> Response:
        """The unit's latest full report, as the agency's own: findings, devices, changes,
        posture, self-assessment answers and waivers with their evidence references."""
        found = signed_in(request)
        if found is None:
            return to_login()
        viewer, csrf = found
        hierarchy = store.hierarchy
        rows = store.rows(hierarchy.lineage(unit_id)) if unit_id in hierarchy.units else []
        if unit_id not in viewer.units(hierarchy) or not rows:
            audit(engine, viewer.name, "refused", f"report {unit_id[:64]}", source(request))
            return page(request, "missing", status=404, viewer=viewer, csrf=csrf)
        own = [r for r in rows if r["agency"] == unit_id] or rows
        html = agency_report(store.payload(own[-1]), lang_of(request), utcnow(), rows)
        # The report's own policy (the middleware sets it): its one hashed script, the
        # inventory table's sorting, and its inline styles.
        request.state.csp = content_security_policy()
        return HTMLResponse(html)

    @app.get("/findings")
    def findings_page(request: Request) -> Response:
        found = signed_in(request)
        if found is None:
            return to_login()
        viewer, csrf = found
        query = _finding_query(request)
        rows = _findings_for(store, viewer, query)
        if request.query_params.get("format") == "csv":
            audit(engine, viewer.name, "export", f"findings {request.url.query}"[:500],
                  source(request))  # fmt: skip
            return _csv(rows)
        return page(request, "findings", viewer=viewer, csrf=csrf, query=query, rows=rows,
                    csv_href=f"/findings?{request.url.query}&format=csv")  # fmt: skip

    @app.get("/inventory")
    def inventory_page(request: Request) -> Response:
        found = signed_in(request)
        if found is None:
            return to_login()
        viewer, csrf = found
        query = _inventory_query(request)
        rows = search_inventory(engine, viewer.units(store.hierarchy), query)
        return page(request, "inventory", viewer=viewer, csrf=csrf, query=query, rows=rows)

    # -- the read-only API -------------------------------------------------------------------
    @app.get("/api/v1/findings")
    def api_findings(request: Request) -> Response:
        viewer = api_viewer(request)
        if viewer is None:
            return _unauthorized()
        return JSONResponse(_findings_for(store, viewer, _finding_query(request)))

    @app.get("/api/v1/inventory")
    def api_inventory(request: Request) -> Response:
        viewer = api_viewer(request)
        if viewer is None:
            return _unauthorized()
        rows = search_inventory(engine, viewer.units(store.hierarchy), _inventory_query(request))
        return JSONResponse(rows)

    return app


def _score(row: dict[str, Any] | None) -> float | None:
    return None if row is None else row["score"]["overall"]


def _number(request: Request, name: str) -> int:
    value = request.query_params.get(name, "0")
    return int(value) if value.isdigit() and len(value) < 9 else 0


def _finding_query(request: Request) -> FindingQuery:
    q = request.query_params
    return FindingQuery(
        check=q.get("check", "")[:64],
        severity=q.get("severity", "")[:16],
        status=q.get("status", "fail")[:16],
        unit=q.get("unit", "")[:64],
        host=q.get("host", "")[:64],
        text=q.get("q", "")[:200],
        offset=_number(request, "offset"),
    )


def _inventory_query(request: Request) -> InventoryQuery:
    q = request.query_params
    return InventoryQuery(
        ip=q.get("ip", "")[:64],
        mac=q.get("mac", "")[:32],
        unit=q.get("unit", "")[:64],
        text=q.get("q", "")[:200],
        offset=_number(request, "offset"),
    )


def _findings_for(store: SqlStore, viewer: Viewer, query: FindingQuery) -> list[dict[str, Any]]:
    visible = viewer.units(store.hierarchy)
    if query.unit and query.unit not in visible:
        return []  # outside the scope: nothing, not an error that says it exists
    return search_findings(store.engine, visible, query)


def _csv(rows: list[dict[str, Any]]) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    columns = ["unit_id", "check_id", "status", "severity", "ip", "port", "proto", "evidence"]
    writer.writerow(columns)
    for row in rows:
        writer.writerow([spreadsheet_cell("" if row[c] is None else str(row[c])) for c in columns])
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="findings.csv"'},
    )


def _unauthorized() -> JSONResponse:
    return JSONResponse(
        {"detail": "a session or a read-only API token is needed"},
        status_code=401,
        headers={"WWW-Authenticate": 'Bearer realm="secposture"'},
    )
