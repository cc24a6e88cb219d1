"""Telnet: the first bytes a server sends say what it is.

nmap's version detection spends ~45 s on a telnet port waiting out its probes
(reference/lab.md), while the first bytes a telnet server sends (IAC option negotiation) say
what it is at once.
"""

from __future__ import annotations

import socket
import time
from dataclasses import dataclass

IAC = 0xFF
WILL, WONT, DO, DONT = 0xFB, 0xFC, 0xFD, 0xFE
NEGOTIATION = frozenset({WILL, WONT, DO, DONT})


@dataclass(frozen=True, slots=True)
class TelnetProbe:
    """What a telnet port said: whether it negotiates telnet options, and its banner."""

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
