"""The collector (issue #8), served for real by uvicorn on a free loopback port.

Every refusal must leave the store exactly as it was: the test compares every file of the
store before and after (the log file aside, which is where refusals are written).
"""

from __future__ import annotations

import json
import socket
import time
import types
import urllib.error
import urllib.request
import zlib
from pathlib import Path
from typing import Any

import pytest
from bundle_helpers import (
    AGENCY,
    agency_config,
    collector_config,
    free_port,
    make_key,
    running_collector,
    store_sweeps,
)
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import BundleError, canonical_json, sign_payload
from secposture.bundle.keys import create_key, public_key_text
from secposture.bundle.outbox import (
    MEDIA_TYPE,
    SENT,
    NotDelivered,
    after_sweep,
    outbox_dir,
    post_bundle,
    push_outbox,
    queue_sweeps,
)
from secposture.cli import main
from secposture.config.errors import ConfigError
from secposture.model.records import utcnow
from secposture.province.hierarchy import load_collector_config

OTHER = "tn-xa-khac"
LIMIT = 256 * 1024


def store_rows(config_path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the collector's database (issue #14: the store is SQL)."""
    from sqlalchemy import select

    from secposture.province.db.engine import database_url, open_database
    from secposture.province.db.schema import metadata

    config = load_collector_config(config_path)
    engine = open_database(database_url(config.collector.database_url(), config.collector.store))
    try:
        with engine.connect() as conn:
            return {
                name: sorted(tuple(map(repr, row)) for row in conn.execute(select(table)))
                for name, table in metadata.tables.items()
            }
    finally:
        engine.dispose()


def tokens(config_path: Path) -> tuple[str, str]:
    """A province-wide API token and one for AGENCY alone."""
    from secposture.province.accounts import Role, add_token
    from secposture.province.db.store import open_store

    store = open_store(load_collector_config(config_path))
    try:
        hierarchy = store.hierarchy
        every = add_token(store.engine, "tinh", Role.PROVINCE, hierarchy=hierarchy)
        mine = add_token(store.engine, "xa-mau", Role.UNIT, hierarchy=hierarchy, unit=AGENCY)
        return every, mine
    finally:
        store.engine.dispose()


def units_seen(url: str, token: str) -> list[dict[str, Any]]:
    request = urllib.request.Request(
        url + "/api/v1/units", headers={"Authorization": f"Bearer {token}"}
    )
    with urllib.request.urlopen(request, timeout=5) as reply:
        found: list[dict[str, Any]] = json.load(reply)["items"]
    return found


def stored_bundles(config_path: Path) -> dict[str, bytes]:
    """The signed bytes the collector holds, by sweep id."""
    from secposture.province.db.store import open_store

    store = open_store(load_collector_config(config_path))
    try:
        rows = store.rows()
        return {r["sweep_id"]: store.payload_bytes(r) for r in rows}
    finally:
        store.engine.dispose()


class Province:
    """An agency with two stored sweeps, a registered neighbour, and the collector config."""

    def __init__(self, tmp: Path, port: int | None = None) -> None:
        url = f"http://127.0.0.1:{port}" if port else None
        # The collector signs its receipts; the agency pins the public half (issue #17).
        self.receipt_key = tmp / "collector-keys" / "receipt.key"
        self.collector_key = public_key_text(create_key(self.receipt_key))
        self.config = agency_config(tmp / "agency", url, collector_key=self.collector_key)
        self.public = make_key(self.config)
        self.sweeps = store_sweeps(self.config, 2)
        self.other_key = Ed25519PrivateKey.generate()
        self.toml = collector_config(
            tmp,
            [
                {
                    "id": AGENCY,
                    "name": "UBND xã Mẫu",
                    "level": "commune",
                    "keys": [self.public],
                },
                {
                    "id": OTHER,
                    "name": "UBND xã Khác",
                    "level": "commune",
                    "keys": [public_key_text(self.other_key)],
                },
            ],
            max_bundle_bytes=LIMIT,
            receipt_key=f"file:{self.receipt_key}",
        )
        self.store_root = tmp / "collector"
        paths = queue_sweeps(self.config, self.sweeps)
        self.bundles = [p.read_bytes() for p in paths]


def upload(url: str, data: bytes) -> tuple[int, dict[str, Any]]:
    reply = post_bundle(url, data)
    return reply.status, {"reason": reply.reason, "detail": reply.detail}


def signed_by(key: Ed25519PrivateKey, data: bytes, **agency: str) -> bytes:
    """The bundle's payload (agency fields changed) signed with ``key``."""
    from secposture.bundle.model import BundlePayload

    doc = json.loads(data)
    doc["payload"]["agency"].update(agency)
    return sign_payload(BundlePayload.model_validate(doc["payload"]), key)


def raw_request(port: int, head: bytes, body: bytes = b"") -> tuple[bytes, float]:
    """Send a hand-written HTTP request; the reply's bytes and how long it took."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(head + body)
        reply = b""
        while b"\r\n\r\n" not in reply or not reply.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
    return reply, time.monotonic() - start


@pytest.fixture
def province(tmp_path: Path) -> Province:
    return Province(tmp_path)


def test_good_bundle_accepted_and_every_bad_one_refused_without_changing_the_store(
    province: Province, tmp_path: Path
) -> None:
    port = free_port()
    good, older = province.bundles[1], province.bundles[0]
    tampered = good.replace(b'"status":"fail"', b'"status":"pass"', 1)
    doc = json.loads(good)
    doc["payload"]["generator"] = "edited after signing"
    edited = canonical_json(doc)
    stranger = Ed25519PrivateKey.generate()
    with running_collector(province.toml, port) as url:
        # Given a good bundle, when it is uploaded, then it is stored
        status, body = upload(url, good)
        assert status == 201, body
        assert stored_bundles(province.toml)[province.sweeps[1]] == good
        before = store_rows(province.toml)

        # When bad bundles arrive, each is refused with its reason
        cases = {
            "tampered": (tampered, 403, "bad_signature"),
            "edited": (edited, 403, "bad_signature"),
            "unknown key": (signed_by(stranger, good), 403, "unknown_key"),
            # the same answer as an unknown key: the reply does not tell which units exist
            "unknown unit": (signed_by(stranger, good, id="tn-xa-la"), 403, "unknown_key"),
            "another unit's key": (signed_by(province.other_key, good), 403, "key_mismatch"),
            "replayed": (good, 409, "duplicate"),
            "truncated": (good[: len(good) // 3], 400, "malformed"),
            "unsigned": (canonical_json({**doc, "signature": None}), 401, "unsigned"),
            "oversized": (good + b" " * LIMIT, 413, "too_large"),
        }
        for name, (data, code, reason) in cases.items():
            status, body = upload(url, data)
            assert (status, body["reason"]) == (code, reason), name

        # A 10 GB Content-Length is refused from the headers, before any body is read
        head = (
            b"POST /api/v1/bundles HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Content-Type: " + MEDIA_TYPE.encode() + b"\r\n"
            b"Content-Length: 10737418240\r\n\r\n"
        )
        reply, took = raw_request(port, head, b"{" * 4096)
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
        assert b'"too_large"' in reply and took < 5
        # and so is a chunked upload that never says its length but keeps going
        chunk = b"%x\r\n%s\r\n" % (64 * 1024, b" " * 64 * 1024)
        reply, _ = raw_request(
            port,
            b"POST /api/v1/bundles HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
            chunk * 5 + b"0\r\n\r\n",
        )
        assert reply.startswith(b"HTTP/1.1 413"), reply[:200]

        # Then nothing stored changed
        assert store_rows(province.toml) == before

        # An older sweep is kept for the trend but does not replace the latest
        status, body = upload(url, older)
        assert status == 201
        # The units list is not for anyone who can reach the port (issue #15): a token
        with pytest.raises(urllib.error.HTTPError) as anonymous:
            urllib.request.urlopen(url + "/api/v1/units", timeout=5)
        assert anonymous.value.code == 401
        everything, mine = tokens(province.toml)
        units = {u["id"]: u for u in units_seen(url, everything)}
        assert units[AGENCY]["latest_sweep"] == province.sweeps[1]
        assert units[OTHER]["latest_sweep"] is None
        # and a unit's token lists that unit only
        assert [u["id"] for u in units_seen(url, mine)] == [AGENCY]

    # Every refusal is in the log with its reason; the log is not for every local user
    log_file = province.store_root / "collector.log"
    assert log_file.stat().st_mode & 0o777 == 0o640
    log = log_file.read_text("utf-8")
    for reason in (
        "bad_signature",
        "unknown_key",
        "key_mismatch",
        "duplicate",
        "malformed",
        "unsigned",
        "too_large",
    ):
        assert f"rejected bundle from 127.0.0.1: {reason}" in log, reason
    assert "it names no unit of the province" in log  # the log, not the reply, says which


def test_a_field_name_with_a_newline_cannot_forge_a_log_line(tmp_path: Path) -> None:
    """Issue #17: a field name holding a newline wrote a line of its own to collector.log."""
    port = free_port()
    province = Province(tmp_path, port)
    forged = "2026-12-03 08:00:00,000 INFO secposture.province accepted tn-xa-gia from 10.0.0.9"
    body = json.dumps(
        {"format": "secposture-bundle/1", "payload": {}, f"x\n{forged}\x1b[2J": 1}
    ).encode()
    with running_collector(province.toml, port) as url:
        status, reply = upload(url, body)
    assert status == 400 and reply["reason"] == "malformed"
    lines = (province.store_root / "collector.log").read_text("utf-8").splitlines()
    assert not any(line.startswith(forged[:30]) for line in lines)
    assert any("\\n2026-12-03 08:00:00" in line and "\\x1b" in line for line in lines)


def test_agent_keeps_its_bundle_while_the_collector_is_down_and_delivers_it_later(
    tmp_path: Path,
) -> None:
    port = free_port()
    province = Province(tmp_path, port)  # bundles for both sweeps are in the outbox
    config = province.config
    outbox = outbox_dir(config)
    # Given the collector is down, when the agent pushes after its sweep
    job = types.SimpleNamespace(sweep=types.SimpleNamespace(sweep_id=province.sweeps[1]))
    with pytest.raises(NotDelivered, match="wait in"):
        after_sweep(config, job)  # type: ignore[arg-type]
    # Then both bundles stay in the outbox with a next try set by back-off
    waiting = sorted(p.name for p in outbox.glob("*.bundle"))
    assert waiting == [f"{s}.bundle" for s in province.sweeps]
    state = json.loads((outbox / ".state.json").read_text())
    assert state[waiting[0]]["attempts"] == 1 and "unreachable" in state[waiting[0]]["last_error"]
    # and a push before that time does not hammer the link
    assert len(push_outbox(config).pending) == 2
    assert json.loads((outbox / ".state.json").read_text())[waiting[0]]["attempts"] == 1

    # When the collector comes back and the back-off time has come
    with running_collector(province.toml, port):
        due = max(p.next_try for p in push_outbox(config).pending)
        result = push_outbox(config, now=due)
    # Then every bundle is delivered, moved to sent/, and the collector has them
    assert sorted(result.delivered) == waiting and result.done
    assert not list(outbox.glob("*.bundle"))
    assert sorted(p.name for p in (outbox / SENT).glob("*.bundle")) == waiting
    stored = sorted(f"{sweep}.bundle" for sweep in stored_bundles(province.toml))
    assert stored == waiting


def test_a_refused_bundle_is_kept_in_rejected_with_its_reason(tmp_path: Path) -> None:
    port = free_port()
    province = Province(tmp_path, port)
    outbox = outbox_dir(province.config)
    bad = outbox / f"{province.sweeps[0]}.bundle"
    bad.write_bytes(bad.read_bytes().replace(b'"fail"', b'"pass"', 1))
    with running_collector(province.toml, port):
        result = push_outbox(province.config, force=True)
    assert result.delivered == (f"{province.sweeps[1]}.bundle",)
    assert [name for name, _ in result.rejected] == [bad.name]
    assert (outbox / "rejected" / bad.name).exists()
    assert "bad_signature" in (outbox / "rejected" / f"{bad.name}.reason").read_text()


def test_openapi_schema_documents_the_upload(province: Province) -> None:
    with running_collector(province.toml, free_port()) as url:
        with urllib.request.urlopen(url + "/api/v1/openapi.json", timeout=5) as reply:
            schema = json.load(reply)
        # the interactive docs would load scripts from a CDN: they are not served
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(url + "/docs", timeout=5)
    upload_op = schema["paths"]["/api/v1/bundles"]["post"]
    assert MEDIA_TYPE in upload_op["requestBody"]["content"]
    assert {"201", "400", "401", "403", "409", "413"} <= set(upload_op["responses"])
    assert "UploadReply" in schema["components"]["schemas"]


def test_a_bundle_altered_in_the_database_is_refused_when_read(province: Province) -> None:
    from sqlalchemy import update

    from secposture.province.db import schema
    from secposture.province.db.store import open_store

    store = open_store(load_collector_config(province.toml))
    for data in province.bundles:
        assert store.ingest(data, source="test").accepted
    # A replay is refused however the rows were read
    assert store.ingest(province.bundles[0], source="test").reason.value == "duplicate"  # type: ignore[union-attr]
    # Given someone with write access to the database changes a stored bundle's bytes
    row = store.rows()[0]
    with store.engine.begin() as conn:
        conn.execute(
            update(schema.bundles)
            .where(schema.bundles.c.digest == row["digest"])
            .values(data=zlib.compress(province.bundles[0].replace(b'"fail"', b'"pass"', 1)))
        )
    # Then it is refused when read, never shown
    with pytest.raises(BundleError, match="changed since it was stored"):
        store.payload(row)
    store.engine.dispose()


def test_collector_ingest_folder_cli(province: Province, tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.bundle").write_bytes(province.bundles[0])
    (inbox / "b.bundle").write_bytes(province.bundles[1].replace(b'"fail"', b'"pass"', 1))
    with open(inbox / "c.bundle", "wb") as huge:  # sparse: refused from its size alone
        huge.truncate(10 * 1024**3)
    runner = CliRunner()
    result = runner.invoke(
        main, ["--lang", "en", "collector", "ingest", str(inbox), "-c", str(province.toml)]
    )
    assert result.exit_code == 3, result.output
    assert "Accepted: a.bundle → tn-xa-mau" in result.stdout
    assert "Rejected: b.bundle: bad_signature" in result.stdout
    assert "Rejected: c.bundle: too_large" in result.stdout
    # a second run finds the good one already stored, which is not a failure
    (inbox / "b.bundle").unlink()
    (inbox / "c.bundle").unlink()
    result = runner.invoke(
        main, ["collector", "ingest", str(inbox), "-c", str(province.toml), "--json"]
    )
    assert result.exit_code == 0 and json.loads(result.stdout)[0]["reason"] == "duplicate"


@pytest.mark.parametrize(
    ("unit", "message"),
    [
        ({"id": "x-1", "name": "X", "level": "commune", "parent": "so-a"}, "cannot sit under"),
        ({"id": "x-1", "name": "X", "level": "commune", "parent": "nowhere"}, "not listed"),
        ({"id": "x-1", "name": "X", "level": "commune", "keys": ["ed25519:AAAA"]}, "32 bytes"),
        ({"id": "so-a", "name": "X", "level": "department"}, "listed twice"),
    ],
)
def test_collector_config_refuses_a_wrong_hierarchy(
    tmp_path: Path, unit: dict[str, object], message: str
) -> None:
    toml = collector_config(tmp_path, [{"id": "so-a", "name": "Sở A", "level": "department"}, unit])
    with pytest.raises(ConfigError, match=message):
        load_collector_config(toml)
    result = CliRunner().invoke(main, ["collector", "check", "-c", str(toml)])
    assert result.exit_code == 2 and message in result.stderr


def test_one_key_cannot_belong_to_two_units(tmp_path: Path) -> None:
    key = public_key_text(Ed25519PrivateKey.generate())
    toml = collector_config(
        tmp_path,
        [
            {
                "id": "xa-a",
                "name": "A",
                "level": "commune",
                "keys": [key],
            },
            {
                "id": "xa-b",
                "name": "B",
                "level": "commune",
                "keys": [key],
            },
        ],
    )
    with pytest.raises(ConfigError, match="registered for both xa-a and xa-b"):
        load_collector_config(toml)


# --- issue #17: a bundle leaves the outbox only on proof ------------------------------------


class _Impostor:
    """Something on the path that answers uploads without being the collector: a captive
    portal's page, a redirect, a forged refusal, a receipt signed by another key."""

    def __init__(self, port: int, answer: str, collector_key: Ed25519PrivateKey) -> None:
        import http.server
        import threading

        self.requests: list[tuple[str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *_args: object) -> None:
                pass

            def _send(self, status: int, ctype: str, body: bytes, **headers: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(body)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                outer.requests.append(("GET", self.path))
                self._send(200, "text/html", b"<html>Welcome to the hotel wifi</html>")

            def do_POST(self) -> None:
                data = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                outer.requests.append(("POST", self.path))
                if answer == "portal":
                    self._send(200, "text/html", b"<html>Please log in to the wifi</html>")
                elif answer == "redirect":
                    self._send(302, "text/html", b"", Location="/portal/login")
                elif answer == "forged_403":
                    forged = b'{"status":"rejected","reason":"bad_signature","detail":"x"}'
                    self._send(403, "application/json", forged)
                else:  # a well-formed reply and receipt, signed by the wrong key
                    from secposture.bundle.receipt import Receipt, bundle_digest, sign_receipt

                    receipt = Receipt(bundle_digest(data), "stored", AGENCY, "x",
                                      "2026-12-03T00:00:00+00:00", "tn-tinh")  # fmt: skip
                    doc = {"status": "accepted", "reason": None, "detail": "stored",
                           "agency": AGENCY, "sweep_id": "x",
                           "receipt": sign_receipt(receipt, collector_key)}  # fmt: skip
                    self._send(201, "application/json", json.dumps(doc).encode())

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> _Impostor:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.mark.parametrize("answer", ["portal", "redirect", "forged_403", "foreign_receipt"])
def test_a_reply_that_proves_nothing_leaves_the_bundle_queued_until_the_collector_has_it(
    tmp_path: Path, answer: str
) -> None:
    """Issue #17: a captive portal's 200 page, a 302 (never followed), a forged 403
    bad_signature and a receipt signed by another key each leave the bundle in the outbox
    with the reason shown; the real collector then stores it and its signed receipt moves
    it to sent/."""
    port = free_port()
    province = Province(tmp_path, port)
    outbox = outbox_dir(province.config)
    waiting = sorted(p.name for p in outbox.glob("*.bundle"))
    with _Impostor(port, answer, Ed25519PrivateKey.generate()) as impostor:
        result = push_outbox(province.config, force=True)
    assert result.delivered == () and result.rejected == ()
    assert sorted(p.name for p in outbox.glob("*.bundle")) == waiting  # nothing left the outbox
    assert not (outbox / SENT).exists() and not (outbox / "rejected").exists()
    assert ("GET", "/portal/login") not in impostor.requests  # the redirect was not followed
    reasons = " ".join(p.reason for p in result.pending)
    expected = {
        "portal": "not the collector's reply",
        "redirect": "not the collector's reply",
        "forged_403": "no receipt",
        "foreign_receipt": "not signed by the pinned collector key",
    }[answer]
    assert expected in reasons, reasons
    with running_collector(province.toml, port):
        delivered = push_outbox(province.config, force=True)
    assert sorted(delivered.delivered) == waiting and delivered.done
    assert sorted(f"{s}.bundle" for s in stored_bundles(province.toml)) == waiting


def test_cleartext_needs_saying_so_and_the_pinned_key_must_be_a_key(tmp_path: Path) -> None:
    from secposture.config.errors import ConfigError

    with pytest.raises(ConfigError, match="http:// sends the findings in clear"):
        agency_config(tmp_path, "http://10.0.0.5:8443", allow_cleartext=False)
    with pytest.raises(ConfigError, match="collector_key"):
        agency_config(tmp_path, "https://collector.example", collector_key="ed25519:ngan")
    assert agency_config(tmp_path, "https://collector.example").bundle is not None


def test_the_agent_delivers_between_sweeps_on_each_bundles_back_off_and_status_says_why(
    tmp_path: Path,
) -> None:
    """Issue #17: retries no longer wait for next week's sweep. The agent's delivery job
    (every few minutes) sends each bundle when its own back-off is due; `agent status`
    lists each waiting bundle with its reason and next try."""
    from secposture.agent import scheduler
    from secposture.agent.status import agent_status

    port = free_port()
    province = Province(tmp_path, port)
    config = province.config
    scheduler._AGENTS[AGENCY] = types.SimpleNamespace(config=config)  # type: ignore[assignment]
    try:
        scheduler.deliver_outbox(AGENCY)  # the collector is down
        status = agent_status(config, utcnow())
        assert status.outbox == 2 and len(status.waiting) == 2
        first, second = status.waiting
        assert "unreachable" in first.reason  # tried, and why it is still here
        assert second.reason == ""  # not tried while the link was down ("not sent yet")
        due = first.next_try
        assert due > utcnow()  # a back-off, not a hammering
        with running_collector(province.toml, port):
            scheduler.deliver_outbox(AGENCY)  # back: the untried one goes, the other waits
            (left,) = agent_status(config, utcnow()).waiting
            assert left.name == first.name and left.reason == first.reason
            scheduler.deliver_outbox(AGENCY, now=due)
        after = agent_status(config, utcnow())
        assert after.outbox == 0 and after.waiting == ()
        assert after.as_json()["waiting"] == []
    finally:
        scheduler._AGENTS.pop(AGENCY, None)
    assert sorted(stored_bundles(province.toml)) == sorted(province.sweeps)


POISON = {
    "huge-float": b'{"format":"secposture-bundle/1","payload":{"x":1e400},'
    b'"signature":{"alg":"ed25519","public_key":"k","value":"AA=="}}',
    "long-integer": b'{"format":"secposture-bundle/1","payload":{"x":' + b"9" * 5000 + b"}}",
    "lone-surrogate": b'{"format":"secposture-bundle/1","payload":{"x":"\\ud800"},'
    b'"signature":{"alg":"ed25519","public_key":"k","value":"' + b"A" * 86 + b'=="}}',
    "deep": b'{"format":"secposture-bundle/1","payload":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
}


def test_unsigned_junk_is_a_400_with_one_line_and_ingest_goes_on_past_it(tmp_path: Path) -> None:
    """Issue #17: `1e400`, a 5,000-digit integer, a lone surrogate or deep nesting gave a 500
    with a traceback, and stopped `collector ingest` at that file."""
    port = free_port()
    province = Province(tmp_path, port)
    with running_collector(province.toml, port) as url:
        for name, body in POISON.items():
            status, reply = upload(url, body)
            assert status == 400 and reply["reason"] == "malformed", (name, status, reply)
            assert "\n" not in reply["detail"], name
        assert upload(url, province.bundles[0])[0] == 201  # and the collector still serves
    log = (province.store_root / "collector.log").read_text()
    assert "Traceback" not in log and log.count("malformed") >= len(POISON)
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name, body in POISON.items():
        (inbox / f"0-{name}.bundle").write_bytes(body)
    (inbox / "z-good.bundle").write_bytes(province.bundles[1])
    result = CliRunner().invoke(
        main, ["--lang", "en", "collector", "ingest", str(inbox), "-c", str(province.toml)]
    )
    assert result.exit_code == 3 and "Traceback" not in result.output  # 3: some refused
    for name in POISON:
        assert f"Rejected: 0-{name}.bundle: malformed" in result.stdout, result.stdout
    assert "Accepted: z-good.bundle" in result.stdout


def test_uploads_held_open_cannot_grow_the_collector_past_its_budget(tmp_path: Path) -> None:
    """Issue #17: twenty unauthenticated uploads held open took the collector from 118 to
    455 MiB. Now what uploads in flight may buffer is bounded: past it an upload is told to
    come back (503, Retry-After), and once the slow ones go, uploads are accepted again."""
    from secposture.province.service import BUFFERED_BUNDLES

    port = free_port()
    province = Province(tmp_path, port)
    head = (
        b"POST /api/v1/bundles HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
        + MEDIA_TYPE.encode()
        + b"\r\nContent-Length: %d\r\n\r\n" % LIMIT
    )
    with running_collector(province.toml, port) as url:
        slow = []
        for _ in range(BUFFERED_BUNDLES):
            sock = socket.create_connection(("127.0.0.1", port), timeout=10)
            sock.sendall(head + b"{" * 1024)  # and then nothing more, for now
            slow.append(sock)
        deadline = time.monotonic() + 10
        while (status := upload(url, province.bundles[0])[0]) != 503:
            assert time.monotonic() < deadline, status  # the slow ones hold the budget
            time.sleep(0.1)
        reply = post_bundle(url, province.bundles[0])
        assert reply.status == 503 and reply.reason == "busy"
        for sock in slow:
            sock.close()
        while (status := upload(url, province.bundles[1])[0]) != 201:
            assert time.monotonic() < deadline + 10, status
            time.sleep(0.1)


def test_aggregate_shows_why_a_units_report_cannot_be_shown_and_builds_the_rest(
    province: Province, tmp_path: Path
) -> None:
    """Issue #17: one unit's stored bundle altered in the database stopped `aggregate` for
    the whole province. Now that unit's page says why, every other page is written, and the
    exit status (3) says not everything could be shown."""
    from sqlalchemy import update

    from secposture.province.db import schema
    from secposture.province.db.store import open_store

    store = open_store(load_collector_config(province.toml))
    for data in province.bundles:
        assert store.ingest(data, source="test").accepted
    latest = store.latest_rows()[AGENCY]
    with store.engine.begin() as conn:
        conn.execute(
            update(schema.bundles)
            .where(schema.bundles.c.digest == latest["digest"])
            .values(data=zlib.compress(b'{"da_bi": "sua"}'))
        )
    store.engine.dispose()
    out = tmp_path / "pages"
    result = CliRunner().invoke(main, ["aggregate", "-c", str(province.toml), "--out", str(out)])
    assert result.exit_code == 3, result.output
    assert "Traceback" not in result.output and AGENCY in result.stderr
    assert (out / "index.html").is_file()
    page = (out / "agencies" / f"{AGENCY}.html").read_text("utf-8")
    assert "Không hiển thị được báo cáo gần nhất" in page and "changed since it was stored" in page


def test_without_a_pinned_key_a_reply_naming_the_bundle_delivers_it_even_a_duplicate(
    tmp_path: Path,
) -> None:
    """Issue #17, an agency that has not pinned bundle.collector_key yet: the weaker proof is
    the collector's reply naming the bundle's unit and sweep, a 201 or an "already held"
    409 (its first reply was lost); a portal's page still proves nothing."""
    port = free_port()
    province = Province(tmp_path, port)
    config = agency_config(tmp_path / "agency", f"http://127.0.0.1:{port}")  # no collector_key
    outbox = outbox_dir(config)
    first, second = sorted(outbox.glob("*.bundle"))
    with _Impostor(port, "portal", Ed25519PrivateKey.generate()):
        assert push_outbox(config, force=True).delivered == ()
    with running_collector(province.toml, port) as url:
        assert upload(url, first.read_bytes())[0] == 201  # stored; this reply never arrived
        result = push_outbox(config, force=True)
    assert sorted(result.delivered) == [first.name, second.name] and result.done
