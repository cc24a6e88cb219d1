"""The agency's outbox: bundles wait here until the collector has them.

A commune's link may be down for days, so a bundle leaves the outbox only on proof that the
collector stored it (or already had it): a receipt signed by the collector's key, which the
agency pins as ``[bundle] collector_key`` (:mod:`secposture.bundle.receipt`). Without a
pinned key the weaker proof is a JSON reply naming the bundle's unit and sweep. A captive
portal's ``200 text/html``, a redirect (never followed) or a forged refusal proves nothing
and leaves the bundle queued. Until then each push that fails sets the next try further out
(exponential back-off with jitter, so 200 agencies do not all call back at once when the
collector returns). A bundle the collector refuses for good (bad signature, malformed, too
large), in a receipt that verifies, moves to ``rejected/`` with the reason beside it: kept,
never retried. An unverified refusal is only a reason shown beside a bundle still queued.
"""

from __future__ import annotations

import json
import random
import ssl
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from inventory.storage import atomic_write_bytes, locked
from inventory.store import Inventory
from secposture import __version__
from secposture.bundle.envelope import RejectReason
from secposture.bundle.export import (
    SUFFIX,
    bundle_name,
    bundle_section,
    export_sweep,
    exportable_sweeps,
    write_bundle,
)
from secposture.bundle.keys import load_private_key
from secposture.bundle.receipt import DELIVERED, ReceiptRefused, verify_receipt
from secposture.config.errors import ConfigError
from secposture.config.sections import AgencyConfig
from secposture.model.records import utcnow

if TYPE_CHECKING:
    from secposture.job.pipeline import JobResult

MEDIA_TYPE = "application/vnd.secposture.bundle+json"
UPLOAD_PATH = "/api/v1/bundles"
STATE_FILE = ".state.json"
SENT = "sent"
REJECTED = "rejected"
BASE_DELAY_S = 60.0
MAX_DELAY_S = 6 * 3600.0
TIMEOUT_S = 60.0
# Refusals the province can cure by registering the agency or its key: keep trying.
CURABLE = frozenset({RejectReason.UNKNOWN_KEY.value, RejectReason.UNKNOWN_UNIT.value})
REFUSALS = frozenset(r.value for r in RejectReason)


@dataclass(frozen=True, slots=True)
class CollectorReply:
    """The reply to one upload, whoever sent it; status 0 when nothing could be reached."""

    status: int
    reason: str
    detail: str
    doc: dict[str, Any] = field(default_factory=dict)  # the JSON body, {} when not JSON

    @classmethod
    def from_body(cls, status: int, body: bytes) -> CollectorReply:
        """The reply from its HTTP status and JSON body (a body that is not JSON says nothing)."""
        try:
            doc: Any = json.loads(body)
        except ValueError:
            doc = {}
        if not isinstance(doc, dict):
            doc = {}
        reason = str(doc.get("reason") or doc.get("status") or "")
        if not doc and 200 <= status < 400:
            reason = f"HTTP {status}, not the collector's reply"  # a portal's page, a redirect
        return cls(status, reason[:200], str(doc.get("detail", ""))[:500], doc)


@dataclass(frozen=True, slots=True)
class Pending:
    """A bundle still in the outbox: the last reason it is there, and when it is tried next."""

    name: str
    reason: str
    next_try: datetime

    def as_json(self) -> dict[str, str]:
        """What ``bundle push --json`` prints for it."""
        return {"name": self.name, "reason": self.reason, "next_try": self.next_try.isoformat()}


@dataclass(frozen=True, slots=True)
class PushResult:
    """What one pass over the outbox did."""

    delivered: tuple[str, ...]
    pending: tuple[Pending, ...]
    rejected: tuple[tuple[str, str], ...]  # (bundle file name, reason)

    @property
    def done(self) -> bool:
        """True when nothing is left waiting in the outbox."""
        return not self.pending


def outbox_dir(config: AgencyConfig) -> Path:
    """bundle.outbox, else ``outbox/`` beside the inventory store."""
    section = bundle_section(config)
    return section.outbox or config.store.path.parent / "outbox"


def queue_sweeps(config: AgencyConfig, sweep_ids: list[str] | None = None) -> list[Path]:
    """Export sweeps into the outbox (default: the latest), skipping any already queued,
    sent or rejected; returns the new files."""
    section = bundle_section(config)
    folder = outbox_dir(config)
    inventory = Inventory.for_config(config)
    data = inventory.read()
    available = exportable_sweeps(inventory, data)
    wanted = sweep_ids if sweep_ids is not None else available[-1:]
    missing = [s for s in wanted if s not in available]
    if missing:
        raise ConfigError("sweep", f"{missing[0]} is not in the store {config.store.path}")
    key = load_private_key(section.key)
    written = []
    for sweep_id in wanted:
        name = bundle_name(sweep_id)
        if any((place / name).exists() for place in (folder, folder / SENT, folder / REJECTED)):
            continue
        bundle = export_sweep(config, inventory, data, sweep_id, key)
        written.append(write_bundle(folder, sweep_id, bundle))
    return written


def waiting(config: AgencyConfig, now: datetime | None = None) -> list[Pending]:
    """Each bundle still in the outbox, with why it is there and when it is tried next
    (``agent status``): never tried yet reads as due now."""
    now = now or utcnow()
    state = _read_state(outbox_dir(config) / STATE_FILE)
    out = []
    for path in queued(config):
        entry = state.get(path.name, {})
        try:
            due = datetime.fromisoformat(entry["next_try"]) if "next_try" in entry else now
        except (TypeError, ValueError):
            due = now  # a damaged state only makes the next try come sooner
        out.append(Pending(path.name, str(entry.get("last_error", "")), due))
    return out


def queued(config: AgencyConfig) -> list[Path]:
    """Bundles waiting in the outbox, oldest sweep first (sweep ids start with the time)."""
    folder = outbox_dir(config)
    return sorted(folder.glob(f"*{SUFFIX}")) if folder.is_dir() else []


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer in itself (a portal's, a misconfigured proxy's): never
    followed, since urllib would turn the POST into a GET of some page and call it done."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


def post_bundle(url: str, data: bytes, *, cafile: Path | None = None) -> CollectorReply:
    """Upload one bundle; every failure to get a reply is status 0 with the reason."""
    request = urllib.request.Request(  # noqa: S310 - the scheme is checked by the config
        url.rstrip("/") + UPLOAD_PATH,
        data=data,
        method="POST",
        headers={"Content-Type": MEDIA_TYPE, "User-Agent": f"secposture/{__version__}"},
    )
    context = ssl.create_default_context(cafile=str(cafile)) if cafile else None
    opener = urllib.request.build_opener(
        _NoRedirect(), urllib.request.HTTPSHandler(context=context)
    )
    try:
        with opener.open(request, timeout=TIMEOUT_S) as reply:
            return CollectorReply.from_body(reply.status, reply.read(65536))
    except urllib.error.HTTPError as exc:
        return CollectorReply.from_body(exc.code, exc.read(65536))
    except urllib.error.URLError as exc:
        return CollectorReply(0, "unreachable", str(exc.reason))
    except (OSError, ssl.SSLError) as exc:  # timeouts and resets after connecting
        return CollectorReply(0, "unreachable", str(exc) or type(exc).__name__)


def next_delay(attempts: int, jitter: float) -> float:
    """Seconds before try number ``attempts + 1``: 1, 2, 4 … minutes up to 6 hours, times
    a jitter in [0.5, 1]."""
    delay: float = min(BASE_DELAY_S * 2.0 ** max(attempts - 1, 0), MAX_DELAY_S)
    return delay * (0.5 + jitter / 2)


def push_outbox(
    config: AgencyConfig, *, now: datetime | None = None, force: bool = False
) -> PushResult:
    """Send every due bundle in the outbox to bundle.collector_url, oldest first.

    Delivered bundles move to ``sent/``; refused ones to ``rejected/``; the rest stay with
    their next try set by back-off. ``force`` ignores the back-off (a person asked)."""
    section = bundle_section(config)
    if not section.collector_url:
        raise ConfigError("bundle.collector_url", "is required to push bundles", str(config.source))
    folder = outbox_dir(config)
    state_path = folder / STATE_FILE
    now = now or utcnow()
    delivered: list[str] = []
    pending: list[Pending] = []
    rejected: list[tuple[str, str]] = []
    with locked(state_path):
        state = _read_state(state_path)
        unreachable: CollectorReply | None = None
        for path in queued(config):
            entry = state.get(path.name, {})
            due = datetime.fromisoformat(entry["next_try"]) if "next_try" in entry else now
            if unreachable is not None or (due > now and not force):
                reason = entry.get("last_error", "") if unreachable is None else unreachable.detail
                pending.append(Pending(path.name, reason, max(due, now)))
                continue
            data = path.read_bytes()
            reply = post_bundle(section.collector_url, data, cafile=section.collector_ca)
            outcome, why = proof(reply, data, section.collector_key)
            if outcome == "delivered":
                _move(path, folder / SENT)
                state.pop(path.name, None)
                delivered.append(path.name)
            elif outcome == "rejected":
                note = f"{reply.status} {reply.reason}: {reply.detail}"
                _move(path, folder / REJECTED, note=note)
                state.pop(path.name, None)
                rejected.append((path.name, f"{reply.reason}: {reply.detail}"))
            else:
                attempts = int(entry.get("attempts", 0)) + 1
                retry = now + timedelta(seconds=next_delay(attempts, random.random()))  # noqa: S311
                error = f"{reply.reason}: {reply.detail}" if reply.detail else reply.reason
                if why:
                    error = f"{error} ({why})" if error else why
                state[path.name] = {
                    "attempts": attempts,
                    "next_try": retry.isoformat(),
                    "last_error": error,
                }
                pending.append(Pending(path.name, error, retry))
                if reply.status == 0:
                    unreachable = reply  # the link is down: do not try the rest now
        state = {name: v for name, v in state.items() if (folder / name).exists()}
        atomic_write_bytes(state_path, json.dumps(state, indent=1).encode())
    return PushResult(tuple(delivered), tuple(pending), tuple(rejected))


def proof(reply: CollectorReply, data: bytes, pinned: str | None) -> tuple[str, str]:
    """What a reply proves about the bundle ``data``: ("delivered" | "rejected" | "pending",
    why it proves no more, or "")."""
    if pinned:
        try:
            receipt = verify_receipt(reply.doc.get("receipt"), pinned, data)
        except ReceiptRefused as exc:
            return "pending", str(exc)
        if receipt.outcome in DELIVERED:
            return "delivered", ""
        if receipt.outcome in REFUSALS and receipt.outcome not in CURABLE:
            return "rejected", ""
        return "pending", ""  # a refusal the province can cure by registering the unit or key
    # No pinned key: the reply must at least be the collector's about this very bundle.
    held = reply.status == 409 and reply.reason == RejectReason.DUPLICATE.value
    if (reply.status == 201 or held) and reply.doc.get("sweep_id") and _names(reply.doc, data):
        return "delivered", ""
    return "pending", "no proof of delivery (pin bundle.collector_key)"


def _names(doc: dict[str, Any], data: bytes) -> bool:
    """Whether a reply names the bundle's unit and sweep."""
    try:
        payload = json.loads(data)["payload"]
        return bool(
            doc.get("sweep_id") == payload["sweep"]["sweep_id"]
            and doc.get("agency") == payload["agency"]["id"]
        )
    except (ValueError, KeyError, TypeError):
        return False


def _read_state(path: Path) -> dict[str, dict[str, Any]]:
    try:
        state = json.loads(path.read_bytes())
    except (FileNotFoundError, ValueError):
        return {}  # a lost state only makes the next push come sooner
    return state if isinstance(state, dict) else {}


def _move(path: Path, folder: Path, note: str = "") -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if note:
        atomic_write_bytes(folder / (path.name + ".reason"), (note + "\n").encode())
    path.replace(folder / path.name)


class NotDelivered(Exception):
    """Bundles the collector does not have yet: waiting in the outbox, or refused and kept."""


def after_sweep(config: AgencyConfig, job: JobResult) -> None:
    """The agent's post-sweep hook: queue this sweep's bundle and push the outbox.

    Raises :class:`NotDelivered` when something is still waiting, so ``agent status`` shows
    it; the bundle stays in the outbox and the next push retries it."""
    if config.bundle is None:
        return  # this agency does not send bundles
    queue_sweeps(config, [job.sweep.sweep_id])
    if not config.bundle.collector_url:
        return  # bundles are carried by hand from the outbox
    result = push_outbox(config)
    if result.pending:
        first = result.pending[0]
        raise NotDelivered(
            f"{len(result.pending)} bundle(s) wait in {outbox_dir(config)}: {first.reason}; "
            f"next try {first.next_try.isoformat(timespec='seconds')}"
        )
    if result.rejected:
        name, reason = result.rejected[0]
        raise NotDelivered(f"the collector refused {name}: {reason} (kept in rejected/)")
