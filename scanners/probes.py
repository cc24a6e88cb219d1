"""Direct probes where they beat nmap: telnet negotiation and reading an HTTP page.

nmap's version detection spends ~45 s on a telnet port waiting out its probes
(reference/lab.md), while the first bytes a telnet server sends (IAC option negotiation) say
what it is at once; and nmap's http-title stops at the first '<' inside a title, so a title
carrying markup reads as "no title" — exactly the hostile case a report must show.
"""

from __future__ import annotations

import html
import http.client
import re
import socket
import ssl
from dataclasses import dataclass

from secposture.models import Observation

IAC = 0xFF
NEGOTIATION = frozenset({0xFB, 0xFC, 0xFD, 0xFE})  # WILL, WONT, DO, DONT
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


def probe_telnet(ip: str, port: int, *, timeout: float = 3.0) -> TelnetProbe | None:
    """Read what the server says first; None when the port cannot be reached."""
    try:
        with socket.create_connection((ip, port), timeout=timeout) as sock:
            sock.settimeout(timeout)
            data = b""
            try:
                while len(data) < 4096:
                    chunk = sock.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                    text = _strip_telnet(data)
                    if text.rstrip().endswith((":", ">", "#", "$")):
                        break  # a prompt: the server is waiting for us
            except TimeoutError:
                pass
    except OSError:
        return None
    negotiates = any(
        data[i] == IAC and data[i + 1] in NEGOTIATION for i in range(len(data) - 1)
    )
    return TelnetProbe(is_telnet=negotiates, banner=_strip_telnet(data)[:500])


def probe_http(
    ip: str, port: int, *, tls: bool = False, timeout: float = 5.0
) -> list[Observation]:
    """GET / once; observations for the title, authentication and a login form."""
    conn: http.client.HTTPConnection
    if tls:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE  # evidence gathering, not trust: certs are judged apart
        conn = http.client.HTTPSConnection(ip, port, timeout=timeout, context=ctx)
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

    def obs(kind: str, **data: object) -> Observation:
        return Observation(
            kind=kind, ip=ip, port=port, proto="tcp", source="probe:http", data=dict(data)
        )

    match = TITLE.search(body)
    raw_title = match.group(1) if match else b""
    # Decode entities so '&lt;' shows as '<' in the report, which escapes it again.
    title = " ".join(html.unescape(raw_title.decode("utf-8", errors="replace")).split())
    out = [
        obs(
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
        out.append(obs("http.auth", schemes="; ".join(a[:200] for a in auth)))
    out.append(obs("http.login_form", present=bool(PASSWORD_INPUT.search(body))))
    return out
