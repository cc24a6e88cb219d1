"""Check evaluators on recorded observations (issue #2): pass, fail, not_assessed, n/a."""

from __future__ import annotations

import grimp
from factories import host, obs, svc, sweep

from secposture.checks import load_catalogue, run_checks
from secposture.checks.catalogue import Evaluates
from secposture.checks.table import device_evaluators, host_evaluators, inventory_evaluators
from secposture.model.records import Finding, Status


def by_check(findings: list[Finding], check_id: str, ip: str) -> list[Finding]:
    return [f for f in findings if f.check_id == check_id and f.target.ip == ip]


def statuses(findings: list[Finding], check_id: str, ip: str) -> set[Status]:
    return {f.status for f in by_check(findings, check_id, ip)}


def test_the_table_has_an_evaluator_for_every_catalogued_check_and_no_other() -> None:
    # Given the catalogue and the evaluators of the table (issue #12: nothing registers by luck)
    catalogue = load_catalogue()
    table = {
        Evaluates.NETWORK: set(host_evaluators()),
        Evaluates.INVENTORY: set(inventory_evaluators()),
        Evaluates.DEVICE: set(device_evaluators()),
    }
    # Then each kind of check the engine runs has exactly the catalogue's ids of that kind
    for kind, registered in table.items():
        assert registered == {m.id for m in catalogue.values() if m.evaluates is kind}, kind
    for check_id in set().union(*table.values()):
        meta = catalogue[check_id]
        assert meta.title_vi and meta.title_en and meta.remediation_vi and meta.remediation_en
    assert {
        "net.telnet_exposed",
        "net.ftp_anonymous",
        "net.snmp_default_community",
        "net.http_admin_cleartext",
    } <= table[Evaluates.NETWORK]


def test_no_import_cycle_among_the_check_modules() -> None:
    # grimp counts imports inside functions too, so a lazy import cannot hide a cycle (issue #12)
    graph = grimp.build_graph("secposture", cache_dir=None)
    modules = {m for m in graph.modules if m.startswith("secposture.checks.")}
    for module in modules:
        for imported in graph.find_modules_directly_imported_by(module) & modules:
            chain = graph.find_shortest_chain(importer=imported, imported=module)
            assert chain is None, chain


def test_lab_like_sweep_fails_where_deserved_and_passes_the_hardened_host() -> None:
    # Given a hardened SSH host, an FTP server, an old router and a printer
    s = sweep(
        host("10.77.0.10", svc(22, "ssh", product="OpenSSH")),
        host("10.77.0.20", svc(21, "ftp", product="vsftpd")),
        host("10.77.0.30", svc(23, "telnet"), svc(80, "http")),
        host("10.77.0.40", svc(161, "snmp", proto="udp"), svc(9100, "jetdirect")),
        observations=(
            obs(
                "ftp.anonymous",
                "10.77.0.20",
                21,
                allowed=True,
                output="Anonymous FTP login allowed",
            ),
            obs("http.title", "10.77.0.30", 80, title="<script>alert(1)</script> Router admin"),
            obs(
                "snmp.community",
                "10.77.0.40",
                161,
                "udp",
                community="public",
                accepted=True,
                sysdescr="HP LaserJet",
            ),
        ),
    )
    # When the checks run
    f = run_checks(s)
    # Then each check fails on the host that deserves it, and the hardened host has no fail
    assert statuses(f, "net.telnet_exposed", "10.77.0.30") == {Status.FAIL}
    assert statuses(f, "net.ftp_anonymous", "10.77.0.20") == {Status.FAIL}
    assert statuses(f, "net.snmp_default_community", "10.77.0.40") == {Status.FAIL}
    assert statuses(f, "net.http_admin_cleartext", "10.77.0.30") == {Status.FAIL}
    hardened = [x for x in f if x.target.ip == "10.77.0.10"]
    assert Status.FAIL not in {x.status for x in hardened}
    assert statuses(f, "net.telnet_exposed", "10.77.0.10") == {Status.PASS}
    assert statuses(f, "net.ftp_anonymous", "10.77.0.10") == {Status.NOT_APPLICABLE}
    snmp = by_check(f, "net.snmp_default_community", "10.77.0.40")[0]
    assert "public" in snmp.evidence and snmp.target.port == 161 and snmp.target.proto == "udp"


def test_failed_port_scan_is_not_assessed_never_pass() -> None:
    s = sweep(host("10.77.0.50", scanned=False))
    f = run_checks(s)
    assert {x.status for x in f} == {Status.NOT_ASSESSED}
    assert all(x.reason for x in f)


def test_ftp_without_probe_evidence_is_not_assessed() -> None:
    f = run_checks(sweep(host("10.77.0.20", svc(21, "ftp"))))
    assert statuses(f, "net.ftp_anonymous", "10.77.0.20") == {Status.NOT_ASSESSED}


def test_ftp_refusing_anonymous_passes() -> None:
    s = sweep(
        host("10.77.0.20", svc(21, "ftp")),
        observations=(obs("ftp.anonymous", "10.77.0.20", 21, allowed=False),),
    )
    assert statuses(run_checks(s), "net.ftp_anonymous", "10.77.0.20") == {Status.PASS}


def test_snmp_not_probed_is_not_assessed_and_refused_community_passes() -> None:
    unprobed = sweep(host("10.77.0.40", udp=()))
    assert statuses(run_checks(unprobed), "net.snmp_default_community", "10.77.0.40") == {
        Status.NOT_ASSESSED
    }
    # UDP 161 scanned and open|filtered, but no community probe ran (issue #2: never a false pass)
    silent = sweep(host("10.77.0.40", svc(161, "snmp", proto="udp", state="open|filtered")))
    assert statuses(run_checks(silent), "net.snmp_default_community", "10.77.0.40") == {
        Status.NOT_ASSESSED
    }
    closed = sweep(host("10.77.0.40"))
    assert statuses(run_checks(closed), "net.snmp_default_community", "10.77.0.40") == {Status.PASS}
    refused = sweep(
        host("10.77.0.40"),
        observations=(
            obs("snmp.community", "10.77.0.40", 161, "udp", community="public", accepted=False),
        ),
    )
    assert statuses(run_checks(refused), "net.snmp_default_community", "10.77.0.40") == {
        Status.PASS
    }


def test_http_checks_tell_admin_pages_from_others() -> None:
    s = sweep(
        host("10.0.0.1", svc(80, "http")),
        host("10.0.0.2", svc(80, "http")),
        host("10.0.0.3", svc(8080, "http-proxy")),
        host("10.0.0.4", svc(443, "http", tunnel="ssl")),
        host("10.0.0.5", svc(80, "http")),
        host("10.0.0.6", svc(80, "http")),
        observations=(
            obs("http.title", "10.0.0.6", 80, title="Trang chủ"),
            obs("http.login_form", "10.0.0.6", 80, present=True),
            obs("http.title", "10.0.0.1", 80, title="Đăng nhập quản trị"),
            obs("http.title", "10.0.0.2", 80, title="Cổng thông tin xã"),
            obs("http.auth", "10.0.0.3", 8080, schemes="Basic realm=router"),
        ),
    )
    f = run_checks(s)
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.1") == {Status.FAIL}
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.2") == {Status.PASS}
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.3") == {Status.FAIL}
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.4") == {Status.NOT_APPLICABLE}
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.5") == {Status.NOT_ASSESSED}
    assert statuses(f, "net.http_admin_cleartext", "10.0.0.6") == {Status.FAIL}


def test_a_silent_161_the_quick_profile_reads_as_closed_filtered_is_never_a_pass() -> None:
    """Issue #20: with --defeat-icmp-ratelimit nmap says closed|filtered where it heard
    nothing; the port is kept as undecided, so without a community probe it is not_assessed,
    and with the direct probe refused it passes on that evidence."""
    from scanners.nmap.parse import services_from_nmap

    entry = {"udp": {161: {"state": "closed|filtered", "name": "snmp"}}}
    services, _ = services_from_nmap("10.77.0.40", entry)
    assert [(s.port, s.state) for s in services] == [(161, "closed|filtered")]
    silent = sweep(host("10.77.0.40", *services))
    assert statuses(run_checks(silent), "net.snmp_default_community", "10.77.0.40") == {
        Status.NOT_ASSESSED
    }
    probed = sweep(
        host("10.77.0.40", *services),
        observations=(
            obs("snmp.community", "10.77.0.40", 161, "udp", community="public", accepted=False),
        ),
    )
    assert statuses(run_checks(probed), "net.snmp_default_community", "10.77.0.40") == {Status.PASS}
