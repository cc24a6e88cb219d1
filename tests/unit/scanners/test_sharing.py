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
