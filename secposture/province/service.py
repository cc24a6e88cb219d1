"""The collector's HTTP service (FastAPI, served by uvicorn), with its OpenAPI schema.

Only one thing comes in: a bundle, as the raw bytes of its file. Its signature is its
credential: a bundle is stored only when a key registered for the unit it names signed it.
The size limit is enforced before the body is read (a 10 GB Content-Length is refused from
the headers alone) and again while streaming, for uploads that do not declare a length.
"""

from __future__ import annotations

import asyncio
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from secposture import __version__
from secposture.bundle.envelope import RejectReason
from secposture.bundle.keys import KeyProblem, load_private_key
from secposture.bundle.outbox import MEDIA_TYPE, UPLOAD_PATH
from secposture.bundle.receipt import DUPLICATE, STORED, Receipt, bundle_digest, sign_receipt
from secposture.config.errors import ConfigError
from secposture.model.records import utcnow
from secposture.province.accounts import Viewer, token_viewer
from secposture.province.console.api import UnitsPage, units_page
from secposture.province.db.store import open_store
from secposture.province.hierarchy import CollectorConfig
from secposture.province.store import IngestOutcome, log

LOG_FILE = "collector.log"
BUFFERED_BUNDLES = 8  # uploads of the largest allowed size held in memory at once
RETRY_AFTER_S = 30
STATUS: dict[RejectReason, int] = {
    RejectReason.TOO_LARGE: 413,
    RejectReason.MALFORMED: 400,
    RejectReason.UNSUPPORTED_FORMAT: 400,
    RejectReason.UNSIGNED: 401,
    RejectReason.BAD_SIGNATURE: 403,
    RejectReason.UNKNOWN_KEY: 403,
    RejectReason.UNKNOWN_UNIT: 403,
    RejectReason.KEY_MISMATCH: 403,
    RejectReason.DUPLICATE: 409,
    RejectReason.CONFLICT: 409,
}


class UploadReply(BaseModel):
    """The collector's answer to an upload."""

    status: str  # "accepted" or "rejected"
    reason: RejectReason | None = None
    detail: str
    agency: str | None = None
    sweep_id: str | None = None
    latest: bool = False
    # Issue #17: the collector's signed statement of what became of these bytes; the agent
    # lets a bundle leave its outbox only on one that verifies under its pinned key.
    receipt: dict[str, str] | None = None


Signer = Callable[[IngestOutcome, bytes], dict[str, str]] | None


class ByteBudget:
    """Bytes the uploads in flight may hold. The event loop is one thread: no lock needed."""

    def __init__(self, total: int) -> None:
        self.free = total

    def take(self, wanted: int) -> bool:
        if wanted > self.free:
            return False
        self.free -= wanted
        return True

    def give(self, wanted: int) -> None:
        self.free += wanted


def _busy(source: str) -> JSONResponse:
    log.warning("busy: upload from %s told to retry in %d s", source, RETRY_AFTER_S)
    return JSONResponse(
        {"status": "busy", "reason": "busy", "detail": "too many uploads at once: retry later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_S), "Connection": "close"},
    )


def _reply(outcome: IngestOutcome, receipt: dict[str, str] | None = None) -> JSONResponse:
    body = {**outcome.as_dict(), "receipt": receipt}
    if outcome.accepted or outcome.reason is None:
        return JSONResponse(body, status_code=201)
    headers = {"Connection": "close"} if outcome.reason is RejectReason.TOO_LARGE else None
    return JSONResponse(body, status_code=STATUS[outcome.reason], headers=headers)


def _refuse(reason: RejectReason, detail: str, source: str) -> JSONResponse:
    log.warning("rejected bundle from %s: %s: %s", source, reason.value, detail)
    return _reply(IngestOutcome(False, reason, detail))


def receipt_signer(config: CollectorConfig) -> Signer:
    """What signs the upload replies: the collector's receipt key, when the config names one
    (``[collector] receipt_key``); ConfigError (one line) when it cannot be read."""
    ref = config.collector.receipt_key
    if ref is None:
        return None
    try:
        key = load_private_key(ref)
    except KeyProblem as exc:
        raise ConfigError("collector.receipt_key", str(exc)) from None
    province = config.province.id

    def sign(outcome: IngestOutcome, data: bytes) -> dict[str, str]:
        if outcome.accepted:
            result = STORED
        elif outcome.reason is RejectReason.DUPLICATE:
            result = DUPLICATE
        else:
            result = outcome.reason.value if outcome.reason else "refused"
        receipt = Receipt(
            digest=bundle_digest(data),
            outcome=result,
            unit=outcome.agency_id,
            sweep_id=outcome.sweep_id,
            received=utcnow().isoformat(),
            province=province,
        )
        return sign_receipt(receipt, key)

    return sign


def create_app(config: CollectorConfig) -> FastAPI:
    """The collector's ASGI application for one province."""
    section = config.collector
    store = open_store(config)
    signer = receipt_signer(config)
    limit = section.max_bundle_bytes
    budget = ByteBudget(BUFFERED_BUNDLES * limit)
    verifying = asyncio.Semaphore(max(2, os.cpu_count() or 2))
    app = FastAPI(
        title="secposture collector",
        version=__version__,
        summary=f"Signed posture bundles of the units of {config.province.name}",
        # The interactive docs pages load scripts from a CDN; the schema alone is served.
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    rejections = {
        code: {
            "model": UploadReply,
            "description": ", ".join(r.value for r, c in STATUS.items() if c == code),
        }
        for code in sorted(set(STATUS.values()))
    }

    @app.post(
        UPLOAD_PATH,
        status_code=201,
        response_model=UploadReply,
        responses=rejections,  # type: ignore[arg-type]
        summary="Upload one signed bundle (the raw bytes of a .bundle file)",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
            }
        },
    )
    async def upload_bundle(request: Request) -> JSONResponse:
        source = request.client.host if request.client else "?"
        declared = request.headers.get("content-length")
        if declared is not None:
            if not declared.isdigit():
                return _refuse(RejectReason.MALFORMED, "Content-Length is not a number", source)
            if int(declared) > limit:
                return _refuse(
                    RejectReason.TOO_LARGE,
                    f"Content-Length {declared} exceeds the {limit}-byte limit",
                    source,
                )
        # Issue #17: what the uploads in flight may hold in memory at once, and how many are
        # verified at a time. Past the budget an upload is told to come back (503 with
        # Retry-After: the agent's outbox retries) instead of growing the collector's memory.
        wanted = int(declared) if declared is not None else limit
        if not budget.take(wanted):
            return _busy(source)
        try:
            body = bytearray()
            async for chunk in request.stream():
                body += chunk
                if len(body) > limit:
                    return _refuse(
                        RejectReason.TOO_LARGE, f"body exceeds the {limit}-byte limit", source
                    )
            data = bytes(body)
            del body
            async with verifying:
                outcome = await run_in_threadpool(store.ingest, data, source=source)
        finally:
            budget.give(wanted)
        return _reply(outcome, signer(outcome, data) if signer else None)

    @app.get("/api/v1/health", summary="Is the collector up")
    def health() -> dict[str, str]:
        return {"status": "ok", "version": __version__}

    @app.get(
        "/api/v1/units",
        response_model=UnitsPage,
        summary="Each unit's latest sweep, one page (a read-only API token, "
        "'Authorization: Bearer …'; the console answers the same)",
        responses={401: {"description": "no token, or one not valid"}},
    )
    def units(request: Request) -> Any:
        # Issue #15: nothing is read without a credential; a token sees its scope only.
        viewer = _bearer(request, store.engine)
        if viewer is None:
            return JSONResponse(
                {"detail": "a read-only API token is needed ('secposture collector tokens add')"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="secposture"'},
            )
        return units_page(request, store, viewer)

    return app


def _bearer(request: Request, engine: Engine) -> Viewer | None:
    """The viewer of the request's ``Authorization: Bearer`` token, or None."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        return None
    source = request.client.host if request.client else "?"
    what = f"{request.method} {request.url.path}"
    return token_viewer(engine, secret.strip(), source=source, what=what)


LOG_MODE = 0o640  # the log names units, addresses and refusals: not for every local user


class _OneLine(logging.Formatter):
    """Each record on one line: a bundle's text (a field name holding a newline, an escape
    sequence) is written escaped, so it can neither forge a line nor drive a terminal."""

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        return "".join(
            ch if ch.isprintable() or ch == " " else ch.encode("unicode_escape").decode("ascii")
            for ch in text
        )


def configure_logging(store_root: Path) -> None:
    """Collector events to stderr and to ``collector.log`` in the store (who sent what, and
    every refusal with its reason), one escaped line per event, the file mode 0640."""
    store_root.mkdir(parents=True, exist_ok=True)
    path = store_root / LOG_FILE
    path.touch(mode=LOG_MODE, exist_ok=True)
    path.chmod(LOG_MODE)  # also a log left world-readable by an earlier version
    formatter = _OneLine("%(asctime)s %(levelname)s %(name)s %(message)s")
    for handler in (
        logging.StreamHandler(sys.stderr),
        logging.FileHandler(path, encoding="utf-8"),
    ):
        handler.setFormatter(formatter)
        log.addHandler(handler)
    log.setLevel(logging.INFO)


def serve(config: CollectorConfig, *, host: str | None = None, port: int | None = None) -> None:
    """Run the collector until interrupted; TLS when the config names a certificate."""
    import uvicorn

    section = config.collector
    configure_logging(section.store)
    uvicorn.run(
        create_app(config),
        host=host or section.host,
        port=port or section.port,
        ssl_certfile=str(section.tls_cert) if section.tls_cert else None,
        ssl_keyfile=str(section.tls_key) if section.tls_key else None,
        server_header=False,
        timeout_keep_alive=5,
        log_level="warning",
    )
