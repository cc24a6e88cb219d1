"""The evidence checks of issue #3 on hand-made sweeps: fail on the evidence, pass on its
absence only when it was collected, not_assessed otherwise."""

from __future__ import annotations

from collections.abc import Iterable

from factories import T0, host, obs, svc, sweep

from secposture.checks.evaluators.exposure import (
    cert_expired,
    database_exposed,
    rdp_exposed,
    redis_noauth,
    smbv1_enabled,
    ssh_weak_algorithms,
    tls_weak,
)
from secposture.checks.registry import Verdict
from secposture.model.records import Status

IP = "10.77.0.60"


def statuses(verdicts: Iterable[Verdict]) -> list[str]:
    return [v.status.value for v in verdicts]


def test_smbv1() -> None:
    target = host(IP, svc(445, "microsoft-ds"))
    assert statuses(smbv1_enabled(target, sweep(target))) == ["not_assessed"]
    bad = sweep(
        target, observations=(obs("smb.protocols", IP, None, smbv1=True, dialects=["NT LM 0.12"]),)
    )
    good = sweep(
        target, observations=(obs("smb.protocols", IP, None, smbv1=False, dialects=["311"]),)
    )
    assert statuses(smbv1_enabled(target, bad)) == ["fail"]
    assert statuses(smbv1_enabled(target, good)) == ["pass"]
    assert statuses(smbv1_enabled(host(IP), sweep(host(IP)))) == ["not_applicable"]
    unscanned = host(IP, scanned=False)
    assert statuses(smbv1_enabled(unscanned, sweep(unscanned))) == ["not_assessed"]


def test_remote_desktop() -> None:
    target = host(IP, svc(3389, "ms-wbt-server"), svc(5900, "vnc"))
    evidence = (
        obs("rdp.security", IP, 3389, nla_required=False, layers={"Native RDP": True}),
        obs("vnc.security", IP, 5900, no_auth=False, security_types=["VNC Authentication (2)"]),
    )
    assert statuses(rdp_exposed(target, sweep(target, observations=evidence))) == ["fail", "pass"]
    assert statuses(rdp_exposed(target, sweep(target))) == ["not_assessed", "not_assessed"]
    assert statuses(rdp_exposed(host(IP, svc(22, "ssh")), sweep())) == ["pass"]


def test_databases_by_name_or_by_port_when_unnamed() -> None:
    target = host(IP, svc(5432, "postgresql"), svc(27017, ""), svc(80, "http"))
    verdicts = list(database_exposed(target, sweep(target)))
    assert [(v.status, v.port) for v in verdicts] == [(Status.FAIL, 5432), (Status.FAIL, 27017)]
    assert "MongoDB" in verdicts[1].evidence


def test_redis() -> None:
    target = host(IP, svc(6379, "redis"))
    open_ = sweep(
        target, observations=(obs("redis.auth", IP, 6379, required=False, reply="+PONG"),)
    )
    closed = sweep(
        target, observations=(obs("redis.auth", IP, 6379, required=True, reply="-NOAUTH"),)
    )
    assert statuses(redis_noauth(target, open_)) == ["fail"]
    assert statuses(redis_noauth(target, closed)) == ["pass"]
    assert statuses(redis_noauth(target, sweep(target))) == ["not_assessed"]


def test_tls_versions_and_certificate_dates() -> None:
    target = host(IP, svc(443, "http", tunnel="ssl"))
    old = sweep(
        target,
        observations=(
            obs("tls.versions", IP, 443, versions=["TLSv1.0", "TLSv1.2"]),
            obs("tls.cert", IP, 443, subject="CN=cam", not_after="2020-01-01T00:00:00"),
        ),
    )
    new = sweep(
        target,
        observations=(
            obs("tls.versions", IP, 443, versions=["TLSv1.2", "TLSv1.3"]),
            obs("tls.cert", IP, 443, subject="CN=cam", not_after=T0.replace(year=2030).isoformat()),
        ),
    )
    assert statuses(tls_weak(target, old)) == ["fail"] and statuses(tls_weak(target, new)) == [
        "pass"
    ]
    assert statuses(cert_expired(target, old)) == ["fail"]
    assert statuses(cert_expired(target, new)) == ["pass"]
    assert statuses(cert_expired(target, sweep(target))) == ["not_assessed"]
    plain = host(IP, svc(80, "http"))
    assert statuses(tls_weak(plain, sweep(plain))) == ["not_applicable"]


def test_ssh_algorithms() -> None:
    target = host(IP, svc(22, "ssh"))
    weak = obs(
        "ssh.algorithms",
        IP,
        22,
        kex=["curve25519-sha256", "diffie-hellman-group14-sha1"],
        ciphers=["aes128-ctr", "aes128-cbc"],
        macs=["hmac-sha2-256", "hmac-md5-96"],
        host_key=["ssh-ed25519"],
    )
    strong = obs(
        "ssh.algorithms",
        IP,
        22,
        kex=["curve25519-sha256"],
        ciphers=["aes256-gcm@openssh.com"],
        macs=["hmac-sha2-256-etm@openssh.com"],
        host_key=["ssh-ed25519"],
    )
    verdicts = list(ssh_weak_algorithms(target, sweep(target, observations=(weak,))))
    assert statuses(verdicts) == ["fail"]
    assert "group14-sha1" in verdicts[0].evidence and "hmac-md5-96" in verdicts[0].evidence
    assert "curve25519" not in verdicts[0].evidence
    assert statuses(ssh_weak_algorithms(target, sweep(target, observations=(strong,)))) == ["pass"]
