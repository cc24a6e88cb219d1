"""Scope arithmetic: excluded and out-of-scope addresses are never targets (issue #2)."""

from __future__ import annotations

import ipaddress

from scanners.scope import Scope


def test_addresses_skip_exclusions_and_stay_in_scope() -> None:
    scope = Scope(["10.77.0.0/29"], ["10.77.0.1", "10.77.0.4/31"])
    assert [str(a) for a in scope.addresses()] == ["10.77.0.2", "10.77.0.3", "10.77.0.6"]
    assert "10.77.0.1" not in scope and "10.77.0.2" in scope and "10.78.0.2" not in scope
    assert "garbage" not in scope


def test_addresses_within_a_segment() -> None:
    scope = Scope(["10.77.0.0/16"], ["10.77.1.1"])
    seg = ipaddress.IPv4Network("10.77.1.0/30")
    assert [str(a) for a in scope.addresses(within=seg)] == ["10.77.1.2"]


def test_remainder_is_what_routing_must_reach() -> None:
    scope = Scope(["10.77.0.0/23", "192.168.5.0/24"])
    rest = scope.remainder([ipaddress.IPv4Network("10.77.0.0/24")])
    assert sorted(map(str, rest)) == ["10.77.1.0/24", "192.168.5.0/24"]
    assert (
        scope.remainder(
            [ipaddress.IPv4Network("10.0.0.0/8"), ipaddress.IPv4Network("192.168.0.0/16")]
        )
        == []
    )
