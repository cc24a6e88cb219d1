"""Change detection on recorded sweeps (issue #5): devices, ports, services, IPs, configs."""

from __future__ import annotations

from datetime import timedelta

from factories import T0, host, obs, svc, sweep

from inventory.changes import diff_sweeps
from inventory.identity import Identity, Known, describe
from secposture.model.records import Attempt, AttemptStatus, Change, ChangeKind, Reason

MAC_A = "02:00:00:00:00:0a"


def kinds(changes: list[Change]) -> list[tuple[ChangeKind, str, int | None]]:
    return [(c.kind, c.ip, c.port) for c in changes]


def test_first_sweep_reports_every_device_as_new() -> None:
    s = sweep(host("10.77.0.10", mac=MAC_A), host("10.77.0.20"))
    assert kinds(diff_sweeps(None, s)) == [
        (ChangeKind.NEW_DEVICE, "10.77.0.10", None),
        (ChangeKind.NEW_DEVICE, "10.77.0.20", None),
    ]


def test_port_closed_opened_and_version_changed_between_two_sweeps() -> None:
    # Given a web server and a router as recorded in last week's sweep
    before = sweep(
        host("10.77.0.10", svc(22, "ssh", product="OpenSSH", version="9.2p1"), svc(80, "http")),
        host("10.77.0.30", svc(23, "telnet")),
    )
    # When this week vsftpd was started, http stopped and OpenSSH upgraded
    after = sweep(
        host(
            "10.77.0.10",
            svc(21, "ftp", product="vsftpd", version="3.0.3"),
            svc(22, "ssh", product="OpenSSH", version="9.6p1"),
        ),
        host("10.77.0.30", svc(23, "telnet")),
        sweep_id="s2",
        started=T0 + timedelta(days=7),
    )
    changes = diff_sweeps(before, after)
    # Then exactly those three changes are reported, with what was there before and after
    assert kinds(changes) == [
        (ChangeKind.PORT_OPENED, "10.77.0.10", 21),
        (ChangeKind.SERVICE_CHANGED, "10.77.0.10", 22),
        (ChangeKind.PORT_CLOSED, "10.77.0.10", 80),
    ]
    ssh = changes[1]
    assert (ssh.before, ssh.after) == ("ssh OpenSSH 9.2p1", "ssh OpenSSH 9.6p1")
    assert changes[2].before == "http" and changes[2].after == ""
    assert all(c.sweep_id == "s2" for c in changes)


def test_missing_device_and_ip_change_of_a_mac_is_history_not_a_new_device() -> None:
    before = sweep(host("10.77.0.10", mac=MAC_A), host("10.77.0.20"))
    after = sweep(host("10.77.0.99", mac=MAC_A.upper()), sweep_id="s2")
    changes = diff_sweeps(before, after)
    assert kinds(changes) == [
        (ChangeKind.IP_CHANGED, "10.77.0.99", None),
        (ChangeKind.MISSING_DEVICE, "10.77.0.20", None),
    ]
    assert changes[0].device == f"mac:{MAC_A}"
    assert (changes[0].before, changes[0].after) == ("10.77.0.10", "10.77.0.99")


def test_failed_port_scan_is_not_every_port_closed() -> None:
    before = sweep(host("10.77.0.10", svc(22, "ssh"), svc(80, "http")))
    after = sweep(host("10.77.0.10", scanned=False), sweep_id="s2")
    assert diff_sweeps(before, after) == []


def test_failed_discovery_does_not_report_devices_missing() -> None:
    before = sweep(host("10.77.0.10"), host("10.77.0.20"))
    failed = Attempt(
        stage="discovery.ping",
        target="10.77.0.0/24",
        status=AttemptStatus.ERROR,
        reason=Reason.TIMEOUT,
    )
    after = sweep(host("10.77.0.10"), attempts=(failed,), sweep_id="s2")
    assert diff_sweeps(before, after) == []


def test_device_config_hash_change_is_reported_and_equal_hash_is_not() -> None:
    # Given the config audit recorded the router's configuration hash last week
    router = host("10.77.0.1", svc(22, "ssh"))
    before = sweep(router, observations=(obs("device.config", "10.77.0.1", sha256="a" * 64),))
    same = sweep(
        router, observations=(obs("device.config", "10.77.0.1", sha256="a" * 64),), sweep_id="s2"
    )
    changed = sweep(
        router, observations=(obs("device.config", "10.77.0.1", sha256="b" * 64),), sweep_id="s3"
    )
    # Then only a different hash is a change, naming both hashes
    assert diff_sweeps(before, same) == []
    (change,) = diff_sweeps(before, changed)
    assert change.kind is ChangeKind.CONFIG_CHANGED
    assert (change.before, change.after) == ("a" * 64, "b" * 64)


def test_tls_in_front_of_a_service_is_part_of_its_description() -> None:
    before = sweep(host("10.77.0.10", svc(8443, "http")))
    after = sweep(host("10.77.0.10", svc(8443, "http", tunnel="ssl")), sweep_id="s2")
    (change,) = diff_sweeps(before, after)
    assert (change.kind, change.before, change.after) == (
        ChangeKind.SERVICE_CHANGED,
        "http",
        "ssl/http",
    )
    assert describe(svc(443, "https", product="nginx", version="1.24")) == "https nginx 1.24"


def test_host_seen_without_mac_is_the_mac_device_last_seen_at_that_ip() -> None:
    # Given the store knows a device by MAC at .10 and one only by IP at .20
    known = [
        Known(key=f"mac:{MAC_A}", ip="10.77.0.10", mac=MAC_A),
        Known(key="ip:10.77.0.20", ip="10.77.0.20"),
    ]
    # When a sweep sees .10 without a MAC (across a router) and .20 now with its MAC
    matches = Identity(known).resolve(
        [host("10.77.0.10"), host("10.77.0.20", mac="02:00:00:00:00:14")]
    )
    # Then .10 is the MAC device and .20 is the IP device, now keyed by its MAC
    assert [(m.key, m.former) for m in matches] == [
        (f"mac:{MAC_A}", None),
        ("mac:02:00:00:00:00:14", "ip:10.77.0.20"),
    ]


def test_one_mac_answering_for_two_ips_is_the_device_only_at_the_first() -> None:
    # A router answering proxy ARP gives many IPs one MAC; they are not one device.
    matches = Identity(()).resolve([host("10.77.0.1", mac=MAC_A), host("10.77.0.2", mac=MAC_A)])
    assert [m.key for m in matches] == [f"mac:{MAC_A}", "ip:10.77.0.2"]
