"""The bundle file: canonical JSON of the payload, signed with the agency's Ed25519 key.

File layout (itself canonical JSON, one line)::

    {"format": "secposture-bundle/1",
     "payload": {...},
     "signature": {"alg": "ed25519", "public_key": "ed25519:…", "value": "<base64>"}}

The signature covers the canonical bytes of ``payload`` (sorted keys, no spaces, UTF-8). The
reader re-canonicalises the payload it parsed and verifies those bytes, so what is verified
is exactly what is used. Nothing is validated as a model before the signature holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError

from secposture.bundle.keys import ALGORITHM, parse_public_key, public_key_text
from secposture.bundle.model import FORMAT, BundlePayload


class RejectReason(StrEnum):
    """Closed set of reasons a bundle is refused, shared by the CLI, the API and the log."""

    TOO_LARGE = "too_large"
    MALFORMED = "malformed"
    UNSUPPORTED_FORMAT = "unsupported_format"
    UNSIGNED = "unsigned"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    UNKNOWN_UNIT = "unknown_unit"
    KEY_MISMATCH = "key_mismatch"
    DUPLICATE = "duplicate"
    CONFLICT = "conflict"


class BundleError(Exception):
    """A bundle that cannot be accepted, with its reason from :class:`RejectReason`."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")


def canonical_json(value: Any) -> bytes:
    """The one byte sequence for a JSON value: sorted keys, no spaces, UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode("utf-8")


def sign_payload(payload: BundlePayload, key: Ed25519PrivateKey) -> bytes:
    """The bundle file's bytes for ``payload``; the same sweep always gives the same bytes."""
    body = payload.model_dump(mode="json")
    signature = key.sign(canonical_json(body))
    envelope = {
        "format": FORMAT,
        "payload": body,
        "signature": {
            "alg": ALGORITHM,
            "public_key": public_key_text(key),
            "value": base64.b64encode(signature).decode("ascii"),
        },
    }
    return canonical_json(envelope) + b"\n"


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # Two values for one key would let a reader and a verifier see different bundles.
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise BundleError(RejectReason.MALFORMED, f"key {key!r} appears twice")
        out[key] = value
    return out


def _no_constants(name: str) -> Any:
    raise BundleError(RejectReason.MALFORMED, f"{name} is not a JSON number")


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed bundle file whose signature has not been checked yet."""

    payload: dict[str, Any]
    public_key: str
    signature: bytes
    digest: str  # sha256 of the file's bytes
    size: int

    @property
    def claimed_agency(self) -> str | None:
        """The agency id the payload names (unverified: for choosing the key only)."""
        agency = self.payload.get("agency")
        value = agency.get("id") if isinstance(agency, dict) else None
        return value if isinstance(value, str) else None

    def verify(self) -> BundlePayload:
        """Check the signature, then validate the payload; BundleError otherwise."""
        try:
            public = parse_public_key(self.public_key)
        except ValueError as exc:
            raise BundleError(RejectReason.MALFORMED, f"signature.public_key: {exc}") from None
        try:
            public.verify(self.signature, canonical_json(self.payload))
        except InvalidSignature:
            raise BundleError(
                RejectReason.BAD_SIGNATURE,
                "signature does not match the content (altered, or signed by another key)",
            ) from None
        try:
            return BundlePayload.model_validate(self.payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise BundleError(RejectReason.MALFORMED, f"payload.{where}: {err['msg']}") from None


def read_envelope(data: bytes, *, max_bytes: int) -> Envelope:
    """Parse a bundle file's bytes into an :class:`Envelope`, refusing what is not one."""
    if len(data) > max_bytes:
        raise BundleError(
            RejectReason.TOO_LARGE, f"{len(data)} bytes; the limit is {max_bytes} bytes"
        )
    try:
        document = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
        )
    except UnicodeDecodeError as exc:
        raise BundleError(RejectReason.MALFORMED, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise BundleError(
            RejectReason.MALFORMED, f"not complete JSON (truncated?): {exc.msg} at byte {exc.pos}"
        ) from None
    except RecursionError:
        raise BundleError(RejectReason.MALFORMED, "JSON nested too deeply") from None
    if not isinstance(document, dict) or "payload" not in document:
        raise BundleError(RejectReason.MALFORMED, "not a secposture bundle (no payload)")
    if document.get("format") != FORMAT:
        raise BundleError(
            RejectReason.UNSUPPORTED_FORMAT,
            f"format {str(document.get('format'))[:40]!r}; this collector reads {FORMAT!r}",
        )
    extra = set(document) - {"format", "payload", "signature"}
    if extra:
        raise BundleError(RejectReason.MALFORMED, f"unknown fields {sorted(extra)}")
    signature = document.get("signature")
    if not signature:
        raise BundleError(RejectReason.UNSIGNED, "the bundle carries no signature")
    payload = document["payload"]
    if not isinstance(payload, dict):
        raise BundleError(RejectReason.MALFORMED, "payload is not an object")
    if not isinstance(signature, dict) or signature.get("alg") != ALGORITHM:
        raise BundleError(RejectReason.MALFORMED, f"signature.alg must be {ALGORITHM!r}")
    public_key, value = signature.get("public_key"), signature.get("value")
    if not isinstance(public_key, str) or not isinstance(value, str):
        raise BundleError(RejectReason.MALFORMED, "signature needs public_key and value")
    try:
        raw_signature = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise BundleError(RejectReason.MALFORMED, "signature.value is not base64") from None
    if len(raw_signature) != 64:
        raise BundleError(RejectReason.MALFORMED, "signature.value is not 64 bytes")
    return Envelope(
        payload=payload,
        public_key=public_key,
        signature=raw_signature,
        digest=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def open_bundle(data: bytes, *, max_bytes: int) -> tuple[Envelope, BundlePayload]:
    """Parse and verify a bundle against the key it carries (offline check; who that key
    belongs to is the collector's registry's business)."""
    envelope = read_envelope(data, max_bytes=max_bytes)
    return envelope, envelope.verify()
