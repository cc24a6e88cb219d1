"""Direct probes (issue #3): the telnet negotiation refusal, against a server on loopback that,
like telnetd, sends its banner only once its options have been answered."""

from __future__ import annotations

import socket
import threading

from scanners.probes.telnet import DO, DONT, IAC, WILL, WONT, probe_telnet, refusals


def test_every_option_is_refused() -> None:
    offer = bytes([IAC, DO, 24, IAC, WILL, 1, ord("x"), IAC, DO])  # the last one cut short
    assert refusals(offer) == bytes([IAC, WONT, 24, IAC, DONT, 1])


def test_the_banner_comes_after_the_refusals() -> None:
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    heard: list[bytes] = []

    def telnetd() -> None:
        conn, _ = server.accept()
        with conn:
            conn.sendall(bytes([IAC, DO, 24, IAC, WILL, 3]))
            heard.append(conn.recv(64))  # waits for the client's answers, as telnetd does
            conn.sendall(b"\r\nUser Access Verification\r\n\r\nUsername: ")
            conn.recv(64)

    thread = threading.Thread(target=telnetd, daemon=True)
    thread.start()
    try:
        probe = probe_telnet("127.0.0.1", port, timeout=3.0)
    finally:
        server.close()
    assert probe is not None and probe.is_telnet
    assert probe.banner.endswith("Username:") and "User Access Verification" in probe.banner
    assert heard == [bytes([IAC, WONT, 24, IAC, DONT, 3])]


def test_an_unreachable_port_is_none() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connection refused
        assert probe_telnet("127.0.0.1", port, timeout=1.0) is None
