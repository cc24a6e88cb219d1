"""Phase 3 in groups of alike hosts (issue #20): one nmap run for the hosts of a TCP batch with
the same open ports, so that its start and its slowest wait are paid once per group."""

from __future__ import annotations

from typing import Any

from scanners import host_scan
from scanners.host_scan import DETAIL_GROUP, detail_groups
from secposture.model.records import Host


def tcp(*ports: int) -> dict[str, Any]:
    return {"tcp": {p: {"state": "open", "name": ""} for p in ports}}


def test_hosts_with_the_same_open_ports_share_a_group_in_their_order() -> None:
    hosts = [
        (Host(ip="10.0.0.1"), tcp(22, 80)),
        (Host(ip="10.0.0.2"), tcp(21, 22)),
        (Host(ip="10.0.0.3"), tcp(80, 22)),  # the same ports, listed otherwise
        (Host(ip="10.0.0.4"), tcp(22)),
    ]
    groups = [[h.ip for h, _ in group] for group in detail_groups(hosts)]
    assert sorted(groups) == [["10.0.0.1", "10.0.0.3"], ["10.0.0.2"], ["10.0.0.4"]]


def test_a_group_never_holds_more_than_its_limit() -> None:
    hosts = [(Host(ip=f"10.0.1.{i}"), tcp(22)) for i in range(1, 2 * DETAIL_GROUP + 2)]
    sizes = [len(group) for group in detail_groups(hosts)]
    assert sizes == [DETAIL_GROUP, DETAIL_GROUP, 1]
    assert [h.ip for group in detail_groups(hosts) for h, _ in group] == [h.ip for h, _ in hosts]


def test_closed_ports_do_not_split_a_group() -> None:
    # open_ports reads only open ones: a host that also reported a closed port is alike.
    closed = {"tcp": {22: {"state": "open"}, 23: {"state": "closed"}}}
    groups = detail_groups([(Host(ip="10.0.0.1"), tcp(22)), (Host(ip="10.0.0.2"), closed)])
    assert len(groups) == 1 and host_scan.open_ports(closed) == [22]
