"""Host names (issue #3): DNS/NetBIOS/mDNS packets, and no stall when nobody answers.

The lookups here go to loopback only (127.0.0.0/8, nothing listening); the answering servers
are exercised in tests/lab/test_scanners_lab.py.
"""

from __future__ import annotations

import struct
import time

from scanners.probes.names import (
    NBSTAT,
    _answer,
    dns_query,
    encode_name,
    nbstat_query,
    parse_nbstat,
    parse_ptr_answer,
    resolve_names,
    reverse_name,
    system_resolvers,
)
from scanners.scope import Scope


def ptr_response(txid: int, question: str, target: str, *, rcode: int = 0) -> bytes:
    head = struct.pack("!HHHHHH", txid, 0x8180 | rcode, 1, 0 if rcode else 1, 0, 0)
    body = encode_name(question) + struct.pack("!HH", 12, 1)
    if not rcode:
        rdata = encode_name(target)
        body += b"\xc0\x0c" + struct.pack("!HHIH", 12, 1, 60, len(rdata)) + rdata
    return head + body


def test_reverse_names_and_queries() -> None:
    assert reverse_name("10.77.0.5") == "5.0.77.10.in-addr.arpa"
    query = dns_query(0x1234, reverse_name("10.77.0.5"))
    assert query[:2] == b"\x12\x34" and query.endswith(struct.pack("!HH", 12, 1))


def test_a_ptr_answer_with_compression_is_read() -> None:
    packet = ptr_response(7, "5.0.77.10.in-addr.arpa", "pc-ke-toan.ubnd.lab")
    assert parse_ptr_answer(packet) == (7, "5.0.77.10.in-addr.arpa", "pc-ke-toan.ubnd.lab")


def test_errors_and_garbage_give_no_name() -> None:
    assert parse_ptr_answer(ptr_response(7, "5.0.77.10.in-addr.arpa", "", rcode=3)) is None
    assert parse_ptr_answer(b"\x00\x07\x81\x80" + b"\xff" * 20) is None
    # A name pointer that loops on itself must not hang the parser.
    looping = struct.pack("!HHHHHH", 1, 0x8180, 1, 0, 0, 0) + b"\xc0\x0c"
    assert parse_ptr_answer(looping) is None


def nbstat_response(txid: int, names: list[tuple[str, int, int]]) -> bytes:
    head = struct.pack("!HHHHHH", txid, 0x8400, 0, 1, 0, 0)
    rr = b"\x20" + b"CK" + b"A" * 30 + b"\x00" + struct.pack("!HHIH", NBSTAT, 1, 0, 0)
    table = bytes([len(names)]) + b"".join(
        n.encode().ljust(15) + bytes([suffix]) + struct.pack("!H", flags)
        for n, suffix, flags in names
    )
    return head + rr + table


def test_netbios_node_status_names_the_workstation_not_the_group() -> None:
    assert nbstat_query(9)[12:13] == b"\x20"
    packet = nbstat_response(
        9, [("UBND", 0x00, 0x8400), ("FILESRV-XA", 0x00, 0x0400), ("FILESRV-XA", 0x20, 0x0400)]
    )
    assert parse_nbstat(packet) == "FILESRV-XA"
    assert parse_nbstat(packet[:20]) is None


def test_answers_are_told_apart_by_where_they_came_from() -> None:
    ids = {7: "10.77.0.5"}
    dns = ptr_response(7, "5.0.77.10.in-addr.arpa", "pc.ubnd.lab")
    assert _answer(dns, "10.77.0.53", 53, ids, {"10.77.0.53"}).source == "dns"  # type: ignore[union-attr]
    assert _answer(dns, "10.77.0.5", 5353, ids, {"10.77.0.53"}).source == "mdns"  # type: ignore[union-attr]
    assert _answer(dns, "10.77.0.99", 53, ids, {"10.77.0.53"}) is None  # nobody we asked
    wrong = ptr_response(7, "6.0.77.10.in-addr.arpa", "spoof.lab")
    assert _answer(wrong, "10.77.0.53", 53, ids, {"10.77.0.53"}) is None  # another question


def test_no_answer_costs_the_time_budget_and_no_more() -> None:
    # Given 50 in-scope addresses on loopback where nothing listens, and a dead resolver
    ips = [f"127.0.1.{i}" for i in range(1, 51)]
    start = time.monotonic()
    found = resolve_names(Scope(["127.0.1.0/24"]), ips, timeout=0.5, resolvers=["127.0.0.1"])
    # Then no name, and the lookups of all of them together took the budget, not 50 timeouts.
    assert found == {}
    assert time.monotonic() - start < 1.5


def test_resolvers_are_read_from_resolv_conf(tmp_path: object) -> None:
    from pathlib import Path

    conf = Path(str(tmp_path)) / "resolv.conf"
    conf.write_text("# c\nnameserver 10.0.0.53\nnameserver ::1\nnameserver bogus\nsearch x\n")
    assert system_resolvers(conf) == ["10.0.0.53"]
    assert system_resolvers(Path(str(tmp_path)) / "missing") == []
