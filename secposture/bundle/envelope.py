"""The bundle file: canonical JSON of the payload, signed with the agency's Ed25519 key.

File layout (itself canonical JSON, one line)::

    {"format": "secposture-bundle/1",
     "payload": {...},
     "signature": {"alg": "ed25519", "public_key": "ed25519:…", "value": "<base64>"}}

The signature covers the canonical bytes of ``payload`` (sorted keys, no spaces, UTF-8), and
what is verified is exactly what is used: in a file laid out as :func:`sign_payload` writes it,
those bytes stand verbatim between ``"payload":`` and ``,"signature":``; the reader parses that
slice, checks it is the canonical form of what it parsed (so no duplicate key, no second
reading) and verifies the slice itself. Any other layout is parsed whole and its payload
re-canonicalised for the check. Nothing is validated as a model before the signature holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson
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


# The start of every file sign_payload writes, and the key that follows the payload.
_HEAD = b'{"format":"' + FORMAT.encode("ascii") + b'","payload":'
_SIGNATURE_KEY = b',"signature":'


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


def _finite(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):  # 1e400: no bundle field holds one
        raise BundleError(RejectReason.MALFORMED, f"number {text[:20]} is out of range")
    return value


def _bounded_int(text: str) -> int:
    if len(text) > 40:  # no count, port or score has 40 digits; Python's own limit is 4,300
        raise BundleError(RejectReason.MALFORMED, f"integer of {len(text)} digits")
    return int(text)


@dataclass(frozen=True, slots=True)
class Envelope:
    """A parsed bundle file whose signature has not been checked yet."""

    payload: dict[str, Any]
    signed: bytes  # the payload's canonical bytes: what the signature must cover
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
            public.verify(self.signature, self.signed)
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
    """Parse a bundle file's bytes into an :class:`Envelope`, refusing what is not one.

    Every way the bytes can fail to be a bundle is a BundleError with a one-line reason,
    never another exception (issue #17: ``1e400``, a 5,000-digit integer or a lone
    surrogate gave the uploader a 500 and stopped `collector ingest` at that file)."""
    try:
        return _read_envelope(data, max_bytes=max_bytes)
    except BundleError:
        raise
    except UnicodeError:
        raise BundleError(RejectReason.MALFORMED, "text that is not valid Unicode") from None
    except (ValueError, TypeError, OverflowError, RecursionError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise BundleError(RejectReason.MALFORMED, f"not a bundle's JSON: {reason}") from None


def _read_envelope(data: bytes, *, max_bytes: int) -> Envelope:
    if len(data) > max_bytes:
        raise BundleError(
            RejectReason.TOO_LARGE, f"{len(data)} bytes; the limit is {max_bytes} bytes"
        )
    parts = _as_signed(data)
    if parts is None:  # not as sign_payload writes it: parse it whole, for the exact reason
        payload, signature = _parse_document(data)
        signed = canonical_json(payload)
    else:
        signed, payload, signature = parts
    public_key, raw_signature = _signature_fields(signature)
    return Envelope(
        payload=payload,
        signed=signed,
        public_key=public_key,
        signature=raw_signature,
        digest=hashlib.sha256(data).hexdigest(),
        size=len(data),
    )


def _as_signed(data: bytes) -> tuple[bytes, dict[str, Any], Any] | None:
    """The payload's bytes, the payload and the signature of a file in sign_payload's exact
    layout whose payload bytes are canonical; None for anything else.

    This spares a second serialisation of a large payload (the bytes to verify are already
    in the file) and a parse through a Python-level duplicate-key hook: the canonical check
    rules duplicates out, since serialising what was parsed writes each key once."""
    cut = data.rfind(_SIGNATURE_KEY)
    if not data.startswith(_HEAD) or cut < 0:
        return None
    signed = data[len(_HEAD) : cut]
    tail = data[cut + len(_SIGNATURE_KEY) :].removesuffix(b"\n")
    if not tail.endswith(b"}"):
        return None
    try:
        payload = orjson.loads(signed)
        signature = _parse_json(tail[:-1])
    except (orjson.JSONDecodeError, BundleError):
        return None
    if not isinstance(payload, dict) or not _is_canonical(payload, signed):
        return None
    return signed, payload, signature


def _is_canonical(value: dict[str, Any], text: bytes) -> bool:
    try:
        if orjson.dumps(value, option=orjson.OPT_SORT_KEYS) == text:
            return True
    except orjson.JSONEncodeError:
        pass
    # orjson writes some floats differently (1e-05 as 0.00001); canonical_json is the rule.
    return canonical_json(value) == text


def _parse_json(data: bytes) -> Any:
    try:
        return json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
            parse_float=_finite,
            parse_int=_bounded_int,
        )
    except UnicodeDecodeError as exc:
        raise BundleError(RejectReason.MALFORMED, f"not UTF-8 text ({exc.reason})") from None
    except json.JSONDecodeError as exc:
        raise BundleError(
            RejectReason.MALFORMED, f"not complete JSON (truncated?): {exc.msg} at byte {exc.pos}"
        ) from None
    except RecursionError:
        raise BundleError(RejectReason.MALFORMED, "JSON nested too deeply") from None


def _parse_document(data: bytes) -> tuple[dict[str, Any], Any]:
    """The payload and signature of a bundle file in any JSON layout."""
    document = _parse_json(data)
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
    payload = document["payload"]
    if not isinstance(payload, dict):
        raise BundleError(RejectReason.MALFORMED, "payload is not an object")
    return payload, document.get("signature")


def _signature_fields(signature: Any) -> tuple[str, bytes]:
    """The public key and the 64 raw signature bytes of the ``signature`` object."""
    if not signature:
        raise BundleError(RejectReason.UNSIGNED, "the bundle carries no signature")
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
    return public_key, raw_signature


def open_bundle(data: bytes, *, max_bytes: int) -> tuple[Envelope, BundlePayload]:
    """Parse and verify a bundle against the key it carries (offline check; who that key
    belongs to is the collector's registry's business)."""
    envelope = read_envelope(data, max_bytes=max_bytes)
    return envelope, envelope.verify()
