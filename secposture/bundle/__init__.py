"""Signed result bundles: what an agency sends the province, and how it gets there."""

from secposture.bundle.envelope import (
    BundleError,
    Envelope,
    RejectReason,
    canonical_json,
    open_bundle,
    read_envelope,
    sign_payload,
)
from secposture.bundle.model import FORMAT, BundlePayload
from secposture.bundle.outbox import PushResult, push_outbox, queue_sweeps

__all__ = [
    "FORMAT",
    "BundleError",
    "BundlePayload",
    "Envelope",
    "PushResult",
    "RejectReason",
    "canonical_json",
    "open_bundle",
    "push_outbox",
    "queue_sweeps",
    "read_envelope",
    "sign_payload",
]
