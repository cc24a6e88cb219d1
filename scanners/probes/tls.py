"""TLS: which protocol versions a server accepts, and its certificate.

ssl-enum-ciphers tries every cipher suite (tens of seconds) when four handshakes tell which
protocol versions a server accepts.
"""

from __future__ import annotations

import socket
import ssl
import warnings
from datetime import UTC

from scanners.probes.evidence import evidence_context, tcp_observation
from secposture.model.records import Observation

with warnings.catch_warnings():
    # TLS 1.0/1.1 are deprecated names in Python's ssl module; offering them is the point here.
    warnings.simplefilter("ignore", DeprecationWarning)
    TLS_VERSIONS: tuple[tuple[str, ssl.TLSVersion], ...] = (
        ("TLSv1.0", ssl.TLSVersion.TLSv1),
        ("TLSv1.1", ssl.TLSVersion.TLSv1_1),
        ("TLSv1.2", ssl.TLSVersion.TLSv1_2),
        ("TLSv1.3", ssl.TLSVersion.TLSv1_3),
    )


def _handshake(
    ip: str, port: int, version: ssl.TLSVersion, timeout: float
) -> tuple[bool, bytes | None, str]:
    """One handshake offering only ``version``: (accepted, server certificate DER, cipher)."""
    ctx = evidence_context()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = version
        ctx.maximum_version = version
    # Security level 0: OpenSSL 3 otherwise refuses to even offer TLS 1.0/1.1 and old ciphers.
    ctx.set_ciphers("ALL:@SECLEVEL=0")
    try:
        with (
            socket.create_connection((ip, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw, server_hostname=None) as tls,
        ):
            cipher = tls.cipher()
            return True, tls.getpeercert(binary_form=True), cipher[0] if cipher else ""
    except (OSError, ssl.SSLError):
        return False, None, ""


def certificate_facts(der: bytes) -> dict[str, object]:
    """Subject, issuer, validity and key of a DER certificate (no judgement of validity)."""
    from cryptography import x509
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    cert = x509.load_der_x509_certificate(der)
    key = cert.public_key()
    bits = key.key_size if isinstance(key, rsa.RSAPublicKey | ec.EllipticCurvePublicKey) else None
    signature = cert.signature_hash_algorithm
    return {
        "subject": cert.subject.rfc4514_string()[:500],
        "issuer": cert.issuer.rfc4514_string()[:500],
        "not_before": cert.not_valid_before_utc.astimezone(UTC).isoformat(),
        "not_after": cert.not_valid_after_utc.astimezone(UTC).isoformat(),
        "self_signed": cert.subject == cert.issuer,
        "key_type": type(key).__name__.removeprefix("_").replace("PublicKey", "").lower(),
        "key_bits": bits,
        "signature_hash": signature.name if signature is not None else "",
    }


def probe_tls(ip: str, port: int, *, timeout: float = 4.0) -> list[Observation]:
    """Which TLS versions the server accepts, and its certificate; [] when none answered."""
    accepted: list[str] = []
    ciphers: dict[str, str] = {}
    der: bytes | None = None
    for name, version in TLS_VERSIONS:
        ok, cert, cipher = _handshake(ip, port, version, timeout)
        if ok:
            accepted.append(name)
            ciphers[name] = cipher
            der = cert or der
    if not accepted:
        return []
    out = [
        tcp_observation(
            ip,
            port,
            "probe:tls",
            "tls.versions",
            versions=accepted,
            ciphers=ciphers,
            offered=[name for name, _ in TLS_VERSIONS],
        )
    ]
    if der is not None:
        try:
            facts = certificate_facts(der)
        except ValueError as exc:  # a certificate cryptography cannot read
            facts = {"error": str(exc)[:300]}
        out.append(tcp_observation(ip, port, "probe:tls", "tls.cert", **facts))
    return out
