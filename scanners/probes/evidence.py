"""What the direct probes share: the observation they emit, and a TLS client for evidence.

Every probe sends only to an address its caller has checked against the sweep's scope.
"""

from __future__ import annotations

import ssl

from secposture.model.records import Observation


def tcp_observation(ip: str, port: int, source: str, kind: str, **data: object) -> Observation:
    """One observation of a TCP service, from probe ``source``."""
    return Observation(kind=kind, ip=ip, port=port, proto="tcp", source=source, data=dict(data))


def evidence_context() -> ssl.SSLContext:
    """A client that accepts anything: evidence gathering, not trust (certs are judged apart)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx
