"""The collector's signed receipt for one upload (issue #17): the proof that lets a bundle
leave the agency's outbox.

A 2xx from anything on the path proves nothing: a captive portal answers ``200 text/html``
and a forged ``403 {"reason":"bad_signature"}`` costs nothing to send. The collector signs,
with a key of its own whose public half each agency pins in its config, a statement naming
the bundle by the SHA-256 of its bytes and saying what became of it. The agent moves a bundle
to ``sent/`` only on a receipt that verifies under the pinned key and names that very
digest as stored (or already held); it gives a bundle up (``rejected/``) only on a receipt
that says the collector refused it for good. Anything else leaves it queued.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import canonical_json
from secposture.bundle.keys import parse_public_key, public_key_text

FORMAT = "secposture-receipt/1"
STORED = "stored"
DUPLICATE = "duplicate"  # the collector already held these very bytes
DELIVERED = frozenset({STORED, DUPLICATE})


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the collector signed about one upload."""

    digest: str  # SHA-256 of the bundle's bytes, hex
    outcome: str  # "stored", "duplicate" or the refusal's reason
    unit: str | None
    sweep_id: str | None
    received: str  # when the collector answered, UTC ISO 8601
    province: str

    def fields(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "digest": self.digest,
            "outcome": self.outcome,
            "unit": self.unit,
            "sweep_id": self.sweep_id,
            "received": self.received,
            "province": self.province,
        }


def bundle_digest(data: bytes) -> str:
    """The name a receipt gives a bundle: the SHA-256 of its bytes as uploaded."""
    return hashlib.sha256(data).hexdigest()


def sign_receipt(receipt: Receipt, key: Ed25519PrivateKey) -> dict[str, str]:
    """The receipt as the upload reply carries it: its canonical JSON and the signature."""
    body = canonical_json(receipt.fields())
    return {
        "statement": base64.b64encode(body).decode("ascii"),
        "signature": base64.b64encode(key.sign(body)).decode("ascii"),
        "public_key": public_key_text(key),
    }


class ReceiptRefused(Exception):
    """A reply whose receipt proves nothing: why, in one line (for ``agent status``)."""


def verify_receipt(signed: Any, pinned: str, data: bytes) -> Receipt:
    """The receipt in ``signed`` (the reply's ``receipt`` field) when it verifies under the
    pinned collector key and names ``data``; ReceiptRefused otherwise."""
    if not isinstance(signed, dict):
        raise ReceiptRefused("the reply carries no receipt")
    try:
        body = base64.b64decode(str(signed.get("statement", "")), validate=True)
        signature = base64.b64decode(str(signed.get("signature", "")), validate=True)
    except (binascii.Error, ValueError):
        raise ReceiptRefused("the receipt is not base64") from None
    try:
        parse_public_key(pinned).verify(signature, body)
    except InvalidSignature:
        raise ReceiptRefused("the receipt is not signed by the pinned collector key") from None
    try:
        doc = json.loads(body)
    except ValueError:
        raise ReceiptRefused("the receipt is not JSON") from None
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ReceiptRefused("the receipt is not a secposture receipt")
    if doc.get("digest") != bundle_digest(data):
        raise ReceiptRefused("the receipt names another bundle")
    try:
        datetime.fromisoformat(str(doc["received"]))
        return Receipt(
            digest=str(doc["digest"]),
            outcome=str(doc["outcome"]),
            unit=None if doc.get("unit") is None else str(doc["unit"]),
            sweep_id=None if doc.get("sweep_id") is None else str(doc["sweep_id"]),
            received=str(doc["received"]),
            province=str(doc.get("province", "")),
        )
    except (KeyError, ValueError):
        raise ReceiptRefused("the receipt lacks a field") from None
