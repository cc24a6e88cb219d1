"""Redis: a PING without credentials."""

from __future__ import annotations

import re
import socket

from scanners.probes.evidence import tcp_observation
from secposture.model.records import Observation


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
        tcp_observation(
            ip,
            port,
            "probe:redis",
            "redis.auth",
            required=not first.startswith("+PONG"),
            reply=first,
            version=version,
        )
    ]
