"""HTTP: one GET of the front page, for its title, its authentication and a login form.

nmap's http-title stops at the first '<' inside a title, so a title carrying markup reads as
"no title" — exactly the hostile case a report must show.
"""

from __future__ import annotations

import html
import http.client
import re
import ssl

from scanners.probes.evidence import evidence_context, tcp_observation
from secposture.model.records import Observation

MAX_PAGE = 256 * 1024
TITLE = re.compile(rb"<title[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
PASSWORD_INPUT = re.compile(rb"<input[^>]+type\s*=\s*[\"']?password", re.IGNORECASE)


def probe_http(ip: str, port: int, *, tls: bool = False, timeout: float = 5.0) -> list[Observation]:
    """GET / once; observations for the title, authentication and a login form."""
    conn: http.client.HTTPConnection
    if tls:
        conn = http.client.HTTPSConnection(ip, port, timeout=timeout, context=evidence_context())
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
        tcp_observation(
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
            tcp_observation(
                ip, port, "probe:http", "http.auth", schemes="; ".join(a[:200] for a in auth)
            )
        )
    out.append(
        tcp_observation(
            ip, port, "probe:http", "http.login_form", present=bool(PASSWORD_INPUT.search(body))
        )
    )
    return out
