"""Equal values read from one nmap report are kept once (issue #20)."""

from __future__ import annotations

import pytest

from scanners.nmap import sharing
from scanners.nmap.sharing import shared


def test_equal_strings_and_string_lists_come_back_as_one_object() -> None:
    a, b = "".join(["Open", "SSH"]), "".join(["Ope", "nSSH"])
    assert a is not b
    assert shared(a) is shared(b)
    first = shared(["curve25519-sha256", "".join(["diffie-", "hellman"])])
    again = shared(["curve25519-sha256", "diffie-hellman"])
    assert first is again and first == ["curve25519-sha256", "diffie-hellman"]


def test_other_values_and_long_strings_pass_through_untouched() -> None:
    mixed = ["a", 1]
    assert shared(mixed) is mixed
    table = {"a": 1}
    assert shared(table) is table
    long = "x" * (sharing.MAX_LENGTH + 1)
    assert shared(long) is long


def test_the_table_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sharing, "MAX_KEPT", 3)
    monkeypatch.setattr(sharing, "_kept", {})
    for word in ("a1", "b2", "c3", "d4"):
        shared("".join(word))
    assert len(sharing._kept) <= 3
    assert shared("".join(["e", "5"])) == "e5"


def test_the_table_is_bounded_by_the_characters_it_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    # A long-running agent keeps the table: hostile banners must not make it grow without end.
    monkeypatch.setattr(sharing, "MAX_CHARS", 10)
    monkeypatch.setattr(sharing, "_kept", {})
    monkeypatch.setattr(sharing, "_chars", 0)
    for word in ("aaaa", "bbbb", "cccc", "dddd"):
        shared("".join(word))
    assert sharing._chars <= 10
    assert sum(len(k) for k in sharing._kept) <= 10


# Whole records read once per distinct evidence (issue #20): services and script evidence.


def test_equal_services_of_two_hosts_are_one_record_and_a_different_version_is_not() -> None:
    from scanners.nmap.parse import services_from_nmap

    port = {"state": "open", "name": "ssh", "product": "OpenSSH", "version": "8.9p1"}
    first, _ = services_from_nmap("10.0.0.1", {"tcp": {22: dict(port)}})
    second, _ = services_from_nmap("10.0.0.2", {"tcp": {22: dict(port)}})
    other, _ = services_from_nmap("10.0.0.3", {"tcp": {22: {**port, "version": "9.6p1"}}})
    assert first[0] is second[0]
    assert other[0] is not first[0] and other[0].version == "9.6p1"


def test_the_service_table_starts_again_when_full(monkeypatch: pytest.MonkeyPatch) -> None:
    from scanners.nmap import parse

    monkeypatch.setattr(parse, "MAX_SERVICES", 2)
    monkeypatch.setattr(parse, "_services", {})
    for port in (1, 2, 3):
        parse.services_from_nmap("10.0.0.1", {"tcp": {port: {"state": "open", "name": "x"}}})
    assert len(parse._services) <= 2


def test_equal_script_output_on_two_hosts_is_read_once_and_stamped_with_each_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scanners.nmap import scripts

    calls: list[dict[str, str]] = []
    read = scripts._evidence
    monkeypatch.setattr(scripts, "_read", {})
    monkeypatch.setattr(scripts, "_evidence", lambda s: calls.append(s) or read(s))
    output = {"ftp-anon": "Anonymous FTP login allowed (FTP code 230)"}
    a = scripts.observations_from_scripts("10.0.0.1", 21, "tcp", dict(output))
    b = scripts.observations_from_scripts("10.0.0.2", 21, "tcp", dict(output))
    assert len(calls) == 1
    assert [(o.ip, o.kind, o.data["allowed"]) for o in a + b] == [
        ("10.0.0.1", "ftp.anonymous", True),
        ("10.0.0.2", "ftp.anonymous", True),
    ]
    refused = scripts.observations_from_scripts("10.0.0.3", 21, "tcp", {"ftp-anon": "nothing"})
    assert len(calls) == 2 and refused[0].data["allowed"] is False


def test_the_evidence_table_is_bounded_by_the_characters_it_holds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from scanners.nmap import scripts

    monkeypatch.setattr(scripts, "MAX_READ_CHARS", 100)
    monkeypatch.setattr(scripts, "_read", {})
    monkeypatch.setattr(scripts, "_read_chars", 0)
    for i in range(10):
        scripts.observations_from_scripts("10.0.0.1", 80, "tcp", {"http-title": f"t{i}" * 10})
    assert scripts._read_chars <= 100
    assert sum(len(k) + len(v) for key in scripts._read for k, v in key) <= 100
