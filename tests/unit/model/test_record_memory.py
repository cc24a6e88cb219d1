"""Records share what pydantic would keep per instance, and a copy never carries a stale cache
(issue #20: a 10,000-host import in bounded memory)."""

from __future__ import annotations

from factories import host, svc

from secposture.model.records import Finding, Host, Service, Severity, Status, Target


def finding(ip: str) -> Finding:
    return Finding(
        check_id="net.telnet_exposed",
        status=Status.PASS,
        severity=Severity.HIGH,
        target=Target(ip=ip),
        evidence="no telnet",
    )


def test_records_of_one_shape_share_one_set_of_given_fields() -> None:
    a, b = finding("10.77.0.1"), finding("10.77.0.2")
    assert a.model_fields_set is b.model_fields_set
    assert a.model_fields_set == {"check_id", "status", "severity", "target", "evidence"}
    other = a.model_copy(update={"reason": "x"})
    assert other.model_fields_set == a.model_fields_set | {"reason"}
    assert other.model_fields_set is not a.model_fields_set


def test_exclude_unset_still_sees_each_records_own_fields() -> None:
    plain = Service(port=22)
    named = Service(port=22, name="ssh")
    assert plain.model_dump(exclude_unset=True) == {"port": 22}
    assert named.model_dump(exclude_unset=True) == {"port": 22, "name": "ssh"}
    # A copy adds its updates to its own set, never to the shared one.
    copied = plain.model_copy(update={"product": "OpenSSH"})
    assert copied.model_dump(exclude_unset=True) == {"port": 22, "product": "OpenSSH"}
    assert Service(port=23).model_dump(exclude_unset=True) == {"port": 23}


def test_open_services_are_cached_and_a_copy_does_not_keep_the_cache() -> None:
    h = host("10.77.0.5", svc(22, "ssh"), svc(161, "snmp", proto="udp"), svc(80, "http"))
    assert [s.port for s in h.open_services()] == [22, 161, 80]
    assert [s.port for s in h.open_services("tcp")] == [22, 80]
    assert h.open_services("sctp") == ()
    moved = h.model_copy(update={"services": (svc(23, "telnet"),)})
    assert [s.port for s in moved.open_services()] == [23]  # not the original's cached list
    assert moved == Host.model_validate(moved.model_dump())
    assert h.model_dump() == Host.model_validate(h.model_dump()).model_dump()
