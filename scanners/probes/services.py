"""Direct probes where they beat nmap: telnet, HTTP pages, TLS versions/certificates, Redis.

nmap's version detection spends ~45 s on a telnet port waiting out its probes
(reference/lab.md), while the first bytes a telnet server sends (IAC option negotiation) say
what it is at once; nmap's http-title stops at the first '<' inside a title, so a title
carrying markup reads as "no title" — exactly the hostile case a report must show; and
ssl-enum-ciphers tries every cipher suite (tens of seconds) when four handshakes tell which
protocol versions a server accepts. Every probe sends only to an address its caller has
checked against the sweep's scope.
"""

from __future__ import annotations

import html
import http.client
import re
import socket
import ssl
import time
import warnings
from dataclasses import dataclass
from datetime import UTC

from secposture.model.records import Observation

IAC = 0xFF
WILL, WONT, DO, DONT = 0xFB, 0xFC, 0xFD, 0xFE
NEGOTIATION = frozenset({WILL, WONT, DO, DONT})
MAX_PAGE = 256 * 1024
TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
PASSWORD_INPUT = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class TelnetProbe:
    is_telnet: bool
    banner: str


def _strip_telnet(data: bytes) -> str:
    out = bytearray()
    i = 0
    while i < len(data):
        b = data[i]
        if b == IAC and i + 1 < len(data):
            i += 3 if data[i + 1] in NEGOTIATION else 2
            continue
        out.append(b)
        i += 1
    return out.decode("utf-8", errors="replace").strip()


def _negotiates(data: bytes) -> bool:
    return any(data[i] == IAC and data[i + 1] in NEGOTIATION for i in range(len(data) - 1))


def refusals(data: bytes) -> bytes:
    """Our answer to the server's option negotiation: WONT to every DO, DONT to every WILL.

    Refusing every option is always valid telnet (RFC 854), and it is what lets a server that
    waits for the negotiation to settle go on to its banner and login prompt."""
    out = bytearray()
    for i in range(len(data) - 2):
        if data[i] == IAC and data[i + 1] in (DO, WILL):
            out += bytes([IAC, WONT if data[i + 1] == DO else DONT, data[i + 2]])
    return bytes(out)


def probe_telnet(
    ip: str, port: int, *, timeout: float = 3.0, quiet: float = 0.5
) -> TelnetProbe | None:
    """Read what the server says first; None when the port cannot be reached.

    A telnet server opens with option negotiation and waits for our answers: we refuse every
    option, read its banner up to the login prompt, and stop after a short quiet spell
    instead of the full timeout.
    """
    try:
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            data = b""
            answered = 0
            end = time.monotonic() + timeout
            try:
                while len(data) < 4096 and time.monotonic() < end:
                    wait = quiet if _negotiates(data) else end - time.monotonic()
                    sock.settimeout(max(wait, 0.05))
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                    reply = refusals(data[answered:])
                    answered = max(len(data) - 2, answered)
                    if reply:
                        sock.sendall(reply)
                    if _strip_telnet(data).rstrip().endswith((":", ">", "#", "$")):
                        break  # a prompt: the server is waiting for us
            except TimeoutError:
                pass
    except OSError:
        return None
    return TelnetProbe(is_telnet=_negotiates(data), banner=_strip_telnet(data)[:500])


def _obs(ip: str, port: int, source: str, kind: str, **data: object) -> Observation:
    return Observation(kind=kind, ip=ip, port=port, proto="tcp", source=source, data=dict(data))


def _evidence_context() -> ssl.SSLContext:
    """A client that accepts anything: evidence gathering, not trust (certs are judged apart)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def probe_http(ip: str, port: int, *, tls: bool = False, timeout: float = 5.0) -> list[Observation]:
    """GET / once; observations for the title, authentication and a login form."""
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(ip, port, timeout=timeout, context=_evidence_context())
    else:
        conn = http.client.HTTPConnection(ip, port, timeout=timeout)
    try:
        conn.request("GET", "/", headers={"User-Agent": "secposture", "Accept": "*/*"})
        resp = conn.getresponse()
        body = resp.read(MAX_PAGE)
        status, headers = resp.status, resp.headers
    except (OSError, http.client.HTTPException, ssl.SSLError):
        return []
    finally:
        conn.close()

    match = TITLE.search(body)
    raw_title = match.group(1) if match else b""
    # Decode entities so '&lt;' shows as '<' in the report, which escapes it again.
    title = " ".join(html.unescape(raw_title.decode("utf-8", errors="replace")).split())
    out = [
        _obs(
            ip,
            port,
            "probe:http",
            "http.title",
            title=title[:1000],
            status=status,
            server=str(headers.get("Server", ""))[:200],
            location=str(headers.get("Location", ""))[:500],
            tls=tls,
        )
    ]
    auth = headers.get_all("WWW-Authenticate") or []
    if status == 401 and auth:
        out.append(
            _obs(ip, port, "probe:http", "http.auth", schemes="; ".join(a[:200] for a in auth))
        )
    out.append(
        _obs(ip, port, "probe:http", "http.login_form", present=bool(PASSWORD_INPUT.search(body)))
    )
    return out


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
    ctx = _evidence_context()
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
        _obs(
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
        out.append(_obs(ip, port, "probe:tls", "tls.cert", **facts))
    return out


def probe_redis(ip: str, port: int, *, timeout: float = 3.0) -> list[Observation]:
    """PING without credentials: '+PONG' means anyone on the LAN can run commands."""
    try:
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            sock.sendall(b"*1\r\n$4\r\nPING\r\n")
            reply = sock.recv(512).decode("utf-8", errors="replace")
            version = ""
            if reply.startswith("+PONG"):
                sock.sendall(b"*2\r\n$4\r\nINFO\r\n$6\r\nserver\r\n")
                info = b""
                while b"redis_version" not in info and len(info) < 65536:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    info += chunk
                found = re.search(rb"redis_version:([^\r\n]+)", info)
                version = found.group(1).decode(errors="replace")[:50] if found else ""
    except OSError:
        return []
    first = reply.splitlines()[0][:200] if reply else ""
    return [
        _obs(
            ip,
            port,
            "probe:redis",
            "redis.auth",
            required=not first.startswith("+PONG"),
            reply=first,
            version=version,
        )
    ]


SYS_DESCR = "1.3.6.1.2.1.1.1.0"
SYS_NAME = "1.3.6.1.2.1.1.5.0"


def probe_snmp(
    ip: str,
    communities: tuple[str, ...] = ("public", "private"),
    *,
    timeout: float = 1.0,
    tries: int = 2,
    port: int = 161,
) -> list[Observation]:
    """SNMPv2c GET sysDescr/sysName with each default community; one answer is proof.

    Used when nmap's SNMP scripts left no evidence on a port that is open or open|filtered:
    an unanswered UDP probe is lost easily when many nmap processes share a link, and
    without evidence the check can only say not_assessed."""
    from scapy.asn1.asn1 import ASN1_OID
    from scapy.layers.snmp import SNMP, SNMPget, SNMPvarbind

    answers: dict[str, dict[str, str]] = {}
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        for _ in range(tries):
            pending = [c for c in communities if c not in answers]
            if not pending:
                break
            for community in pending:
                get = SNMP(
                    community=community,
                    PDU=SNMPget(
                        varbindlist=[
                            SNMPvarbind(oid=ASN1_OID(SYS_DESCR)),
                            SNMPvarbind(oid=ASN1_OID(SYS_NAME)),
                        ]
                    ),
                )
                try:
                    sock.sendto(bytes(get), (ip, port))
                except OSError:
                    return []
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and len(answers) < len(communities):
                try:
                    data, peer = sock.recvfrom(65535)
                except (TimeoutError, OSError):
                    break
                if peer[0] != ip:
                    continue
                try:
                    reply = SNMP(data)
                    community = reply.community.val.decode("utf-8", errors="replace")
                    values = {
                        str(vb.oid.val): _snmp_text(vb.value.val) for vb in reply.PDU.varbindlist
                    }
                except Exception:  # noqa: S112 - a malformed reply is no evidence
                    continue
                if community in communities:
                    answers[community] = values
    out = []
    for community in communities:
        found = answers.get(community)
        descr = (found or {}).get(SYS_DESCR, "")[:1000]
        out.append(
            Observation(
                kind="snmp.community",
                ip=ip,
                port=port,
                proto="udp",
                source="probe:snmp",
                data={"community": community, "accepted": found is not None, "sysdescr": descr},
            )
        )
        if found is not None and descr:
            out.append(
                Observation(
                    kind="snmp.sysdescr",
                    ip=ip,
                    port=port,
                    proto="udp",
                    source="probe:snmp",
                    data={"sysdescr": descr},
                )
            )
        if found is not None and found.get(SYS_NAME):
            out.append(
                Observation(
                    kind="snmp.sysname",
                    ip=ip,
                    port=port,
                    proto="udp",
                    source="probe:snmp",
                    data={"sysname": found[SYS_NAME][:255]},
                )
            )
    return out


def _snmp_text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return str(value)
