"""The dev.* checks (issue #4) on recorded device readings: pass, fail, not_assessed with the
attempt's reason, never a pass for what was not read; catalogue data cites frameworks.md §5."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from factories import T0, agency_config, host, svc, sweep

from inventory.store import Inventory
from scanners.devices.collect import DeviceTarget, _connection_failure, audit_devices
from scanners.devices.gear import network_gear_hint
from scanners.devices.reading import DeviceReading, device_observations, read_device
from scanners.scope import Scope
from secposture.checks import load_catalogue, run_checks
from secposture.checks.catalogue import Evaluates
from secposture.checks.lifecycle import (
    Confirmation,
    Release,
    Support,
    judge,
    load_confirmations,
    load_releases,
)
from secposture.checks.table import device_evaluators
from secposture.config.errors import ConfigError
from secposture.config.secrets import Secret
from secposture.job.assessment import assess
from secposture.model.i18n import source_text
from secposture.model.records import Attempt, AttemptStatus, Finding, Reason, Status, SweepResult
from secposture.report.view.context import config_diff
from secposture.scoring.score import score_findings

CORPUS = Path(__file__).parent.parent.parent / "fixtures" / "configs"
DEV_CHECKS = {
    "dev.enable_password_plaintext", "dev.password_encryption_off",
    "dev.local_user_plaintext_password", "dev.vty_telnet", "dev.ssh_version_2_missing",
    "dev.http_server_enabled", "dev.snmp_default_community", "dev.snmp_rw_community",
    "dev.no_remote_logging", "dev.no_ntp", "dev.no_login_banner", "dev.exec_timeout_missing",
    "dev.aaa_missing", "dev.os_unsupported",
}  # fmt: skip
# The only benchmark items a dev.* check may cite: frameworks.md §5.1 and §5.2.
CIS_ITEMS = {"1.1.1", "1.2.2", "1.2.6-1.2.9", "1.3.2", "1.4.1", "1.4.2", "1.4.3", "1.5.2, 1.5.3",
             "1.5.4", "2.1.1.2", "2.2.4", "2.3.2"}  # fmt: skip
STIG_ITEMS = {"V-215823", "V-215832", "V-215844", "V-215845", "V-215814", "V-220140"}


def reading_of(name: str, platform: str, version_text: str = "") -> DeviceReading:
    text = (CORPUS / name).read_bytes().decode("utf-8", errors="replace")
    return read_device(platform, text, version_text)


def device_sweep(*devices: tuple[str, str, str, str]) -> SweepResult:
    """A sweep whose config audit read ``(ip, fixture, platform, version text)`` devices."""
    observations = tuple(
        o
        for ip, name, platform, version in devices
        for o in device_observations(reading_of(name, platform, version), ip=ip, port=22, name=ip)
    )
    result: SweepResult = sweep(observations=observations)
    return result


def status_of(findings: list[Finding], ip: str) -> dict[str, Status]:
    found = {f.check_id: f.status for f in findings if f.target.ip == ip}
    assert set(found) == DEV_CHECKS, ip
    return found


IOS_OLD = "Cisco IOS Software, C2950 Software (C2950-I6Q4L2-M), Version 12.1(22)EA14, RELEASE"
IOS_XE = "Cisco IOS XE Software, Version 17.12.04\nCisco IOS Software [Dublin], Version 17.12.4"


def test_catalogue_has_every_device_check_citing_only_section_5_items() -> None:
    catalogue = load_catalogue()
    device = {m.id for m in catalogue.values() if m.evaluates is Evaluates.DEVICE}
    assert device == DEV_CHECKS == set(device_evaluators())
    for check_id in DEV_CHECKS:
        meta = catalogue[check_id]
        assert meta.title_vi != meta.title_en and meta.remediation_vi and meta.rationale_vi
        assert meta.references, check_id
        for ref in meta.references:
            cis = re.fullmatch(r"CIS Cisco IOS 12 Benchmark v4\.0\.0 (.+)", ref)
            stig = re.fullmatch(
                r"DISA Cisco IOS XE Router NDM STIG (V-\d+(?:, V-\d+)*)(?: .*)?", ref
            )
            assert cis or stig, ref
            if cis:
                assert cis.group(1) in CIS_ITEMS, ref
            if stig:
                assert set(stig.group(1).split(", ")) <= STIG_ITEMS, ref


def test_weak_ios_fails_and_hardened_ios_passes_every_check() -> None:
    # Given a weak IOS 12.1 switch and a hardened IOS XE 17.12 one
    s = device_sweep(
        ("10.0.0.1", "ios_weak.cfg", "cisco_ios", IOS_OLD),
        ("10.0.0.2", "ios_hardened.cfg", "cisco_ios", IOS_XE),
    )
    findings = run_checks(s)
    weak, hardened = status_of(findings, "10.0.0.1"), status_of(findings, "10.0.0.2")
    # Then the weak one fails all but telnet (no transport input: not assessed), the banner
    # (it has a motd banner) and the release's support: the shipped lifecycle entries are
    # unverified, so neither switch's release is judged (issue #13)
    assert {c for c, st in weak.items() if st is Status.FAIL} == DEV_CHECKS - {
        "dev.vty_telnet",
        "dev.no_login_banner",
        "dev.os_unsupported",
    }
    assert weak["dev.vty_telnet"] is Status.NOT_ASSESSED
    assert weak["dev.os_unsupported"] is hardened["dev.os_unsupported"] is Status.NOT_ASSESSED
    # And the hardened one fails nothing and passes everything else
    del hardened["dev.os_unsupported"]
    assert set(hardened.values()) == {Status.PASS}, hardened
    evidence = {f.check_id: f.evidence for f in findings if f.target.ip == "10.0.0.1"}
    assert evidence["dev.enable_password_plaintext"].startswith("ubnd-xa-sw01: enable password")
    assert (
        "user admin (privilege 15): password stored plaintext"
        in evidence["dev.local_user_plaintext_password"]
    )
    assert "public" in evidence["dev.snmp_default_community"]


def test_other_platforms() -> None:
    s = device_sweep(
        ("10.0.1.1", "eos_weak.cfg", "arista_eos", ""),
        ("10.0.1.2", "eos_hardened.cfg", "arista_eos", ""),
        ("10.0.1.3", "vrp_weak.cfg", "huawei_vrp", ""),
        ("10.0.1.4", "comware_hardened.cfg", "hp_comware", ""),
    )
    findings = run_checks(s)
    eos_weak, eos_ok = status_of(findings, "10.0.1.1"), status_of(findings, "10.0.1.2")
    vrp, comware = status_of(findings, "10.0.1.3"), status_of(findings, "10.0.1.4")
    # EOS has no password-encryption or AAA switch; its telnet and HTTP API are off by default
    for facts in (eos_weak, eos_ok):
        assert facts["dev.password_encryption_off"] is Status.NOT_APPLICABLE
        assert facts["dev.aaa_missing"] is Status.NOT_APPLICABLE
        assert facts["dev.os_unsupported"] is Status.NOT_ASSESSED  # version not read
    assert eos_weak["dev.vty_telnet"] is eos_weak["dev.http_server_enabled"] is Status.FAIL
    assert eos_weak["dev.snmp_rw_community"] is Status.FAIL
    assert eos_weak["dev.exec_timeout_missing"] is Status.FAIL  # no idle-timeout: never
    assert Status.FAIL not in eos_ok.values()
    assert vrp["dev.enable_password_plaintext"] is Status.FAIL  # super password cipher
    assert vrp["dev.local_user_plaintext_password"] is Status.FAIL
    assert vrp["dev.ssh_version_2_missing"] is Status.FAIL  # compatible-ssh1x enable
    assert vrp["dev.snmp_default_community"] is vrp["dev.snmp_rw_community"] is Status.FAIL
    assert vrp["dev.aaa_missing"] is vrp["dev.exec_timeout_missing"] is Status.FAIL
    assert Status.FAIL not in comware.values()
    assert comware["dev.vty_telnet"] is comware["dev.aaa_missing"] is Status.PASS


def test_truncated_config_fails_what_it_shows_and_passes_nothing_by_absence() -> None:
    findings = run_checks(device_sweep(("10.0.2.1", "truncated.cfg", "cisco_ios", "")))
    got = status_of(findings, "10.0.2.1")
    assert got["dev.local_user_plaintext_password"] is Status.FAIL
    assert got["dev.password_encryption_off"] is Status.FAIL  # said explicitly
    for check_id in (
        "dev.no_ntp",
        "dev.no_remote_logging",
        "dev.snmp_default_community",
        "dev.snmp_rw_community",
        "dev.aaa_missing",
        "dev.ssh_version_2_missing",
    ):
        assert got[check_id] is Status.NOT_ASSESSED, check_id


def test_garbage_is_never_a_pass() -> None:
    findings = run_checks(device_sweep(("10.0.2.2", "garbage.bin", "cisco_ios", "")))
    assert Status.PASS not in set(status_of(findings, "10.0.2.2").values())


@pytest.mark.parametrize(
    ("reason", "detail"),
    [
        (Reason.AUTH_FAILED, "10.0.3.1:22 refused the login of user 'admin'"),
        (Reason.UNREACHABLE, "10.0.3.1:22: connection refused (SSH is closed)"),
        (Reason.TIMEOUT, "'show running-config' gave no complete answer within 120 s"),
        (Reason.ENABLE_FAILED, "could not enter privileged (enable) mode"),
        (Reason.UNSUPPORTED_PLATFORM, "the device did not understand 'display version'"),
    ],
)
def test_device_not_read_is_not_assessed_with_the_reason(reason: Reason, detail: str) -> None:
    # Given the config audit could not read a listed device
    failed = Attempt(stage="device", target="10.0.3.1", status=AttemptStatus.ERROR,
                     reason=reason, detail=detail)  # fmt: skip
    findings = run_checks(sweep(attempts=(failed,)))
    # Then every device check is not_assessed with the reason, and the score ignores them
    mine = [f for f in findings if f.target.ip == "10.0.3.1"]
    assert {f.check_id for f in mine} == DEV_CHECKS
    assert {f.status for f in mine} == {Status.NOT_ASSESSED}
    assert all(f.reason == f"{reason.value}: {detail}" for f in mine)
    assert score_findings(mine).overall is None


def test_unlisted_network_gear_is_not_assessed_no_credentials() -> None:
    # Given a Cisco switch with SSH open that [[devices]] does not list, and a PC
    switch = host("10.0.4.1", svc(22, "ssh"), vendor="Cisco Systems, Inc")
    pc = host("10.0.4.2", svc(22, "ssh"), vendor="Dell Inc.")
    printer = host("10.0.4.3", svc(9100, "jetdirect"), vendor="Hewlett Packard")
    # When the device stage runs with nothing to read
    run = audit_devices([], [switch, pc, printer], [], scope=Scope(["10.0.4.0/24"]),
                        deadline=0.0)  # fmt: skip
    # Then the switch is named as not assessed for want of credentials; the others are not gear
    (skipped,) = run.attempts
    assert skipped.target == "10.0.4.1" and skipped.status is AttemptStatus.SKIPPED
    assert skipped.reason is Reason.NO_CREDENTIALS
    assert skipped.detail.startswith("no credentials configured; made by Cisco")
    findings = run_checks(sweep(switch, pc, printer, attempts=tuple(run.attempts)))
    mine = [f for f in findings if f.check_id.startswith("dev.")]
    assert {f.target.ip for f in mine} == {"10.0.4.1"}
    assert {f.status for f in mine} == {Status.NOT_ASSESSED}
    assert mine[0].reason.startswith("no_credentials: no credentials configured")


def test_gear_hints_from_banners_and_snmp() -> None:
    router = host("10.0.5.1", svc(22, "ssh", product="Cisco SSH", version="1.25"))
    assert network_gear_hint(router, []) == "22/tcp answers as Cisco SSH 1.25"
    from factories import obs

    quiet = host("10.0.5.2", svc(161, "snmp", proto="udp"))
    descr = obs("snmp.sysdescr", "10.0.5.2", 161, "udp",
                sysdescr="Huawei Versatile Routing Platform Software VRP (R) software")  # fmt: skip
    assert (network_gear_hint(quiet, [descr]) or "").startswith("SNMP sysDescr: Huawei")
    printer = obs("snmp.sysdescr", "10.0.5.2", 161, "udp", sysdescr="HP LaserJet Pro M404dn")
    assert network_gear_hint(quiet, [printer]) is None


def test_listed_device_outside_the_scope_gets_no_packet() -> None:
    target = DeviceTarget(
        address="192.168.9.9", platform="cisco_ios", port=22,
        username="admin", username_shown="'admin'", password=Secret("env:X", "x"), secret=None,
        name="far", timeout_s=1, read_timeout_s=5,
    )  # fmt: skip
    run = audit_devices([target], [], [], scope=Scope(["10.0.0.0/24"]), deadline=0.0)
    (skipped,) = run.attempts
    assert skipped.reason is Reason.OUT_OF_SCOPE and run.observations == []


def test_no_session_starts_once_the_sweep_time_limit_has_passed() -> None:
    # Given the port scan used up the sweep's time (deadline already behind us)
    target = DeviceTarget(
        address="10.0.0.7", platform="cisco_ios", port=22, username="admin",
        username_shown="'admin'", password=Secret("env:X", "x"), secret=None, name="late",
        timeout_s=1, read_timeout_s=5,
    )  # fmt: skip
    run = audit_devices([target], [], [], scope=Scope(["10.0.0.0/24"]), deadline=0.0)
    # Then the device is not contacted and its attempt says why
    (late,) = run.attempts
    assert late.reason is Reason.TIMEOUT and late.status is AttemptStatus.ERROR
    assert "before the device audit began" in late.detail and run.observations == []


def test_connection_failures_are_sorted_into_reasons() -> None:
    from netmiko.exceptions import NetmikoAuthenticationException, NetmikoTimeoutException
    from paramiko.ssh_exception import NoValidConnectionsError, SSHException

    target = DeviceTarget(
        address="10.0.0.9", platform="cisco_ios", port=22,
        username="admin", username_shown="'admin'", password=Secret("env:X", "pw-in-exception"),
        secret=None, name="x", timeout_s=3, read_timeout_s=5,
    )  # fmt: skip

    def timeout_from(cause: BaseException) -> NetmikoTimeoutException:
        try:
            try:
                raise cause
            except OSError:
                raise NetmikoTimeoutException("TCP connection to device failed.") from None
        except NetmikoTimeoutException as exc:
            exc.__context__ = cause
            return exc

    refused = NoValidConnectionsError({("10.0.0.9", 22): ConnectionRefusedError(111, "refused")})
    cases = [
        (NetmikoAuthenticationException("Authentication to device failed."), Reason.AUTH_FAILED),
        (timeout_from(refused), Reason.UNREACHABLE),
        (timeout_from(NoValidConnectionsError({("10.0.0.9", 22): TimeoutError()})),
         Reason.TIMEOUT),
        (timeout_from(OSError(113, "No route to host")), Reason.UNREACHABLE),
        (SSHException("Error reading SSH protocol banner pw-in-exception"), Reason.UNREACHABLE),
        (RuntimeError("?"), Reason.BUG),
    ]  # fmt: skip
    for exc, reason in cases:
        sorted_ = _connection_failure(exc, target)
        assert sorted_.reason is reason, (exc, sorted_.detail)
        assert "pw-in-exception" not in sorted_.detail


def test_lifecycle_table_decides_supported_ended_or_unknown() -> None:
    table = (
        Release(platform="cisco_ios", match=r"^12\.", name="IOS 12", ended=True, verified=True),
        Release(platform="cisco_ios", match=r"^15\.2\(", name="IOS 15.2",
                supported_until=date(2026, 1, 31), verified=True),
        Release(platform="cisco_ios", match=r"^17\.", name="IOS XE 17", supported=True,
                review_by=date(2027, 6, 30), verified=True),
        Release(platform="cisco_ios", match=r"^15\.0\(", name="IOS 15.0", ended=True),
    )  # fmt: skip
    on = date(2026, 11, 22)
    assert judge("cisco_ios", "12.2(55)SE", on, table).support is Support.ENDED
    ended = judge("cisco_ios", "15.2(7)E9", on, table)
    assert ended.support is Support.ENDED and "support ended 2026-01-31" in ended.evidence
    assert judge("cisco_ios", "15.2(7)E9", date(2025, 1, 1), table).support is Support.SUPPORTED
    current = judge("cisco_ios", "17.12.04", on, table)
    assert current.support is Support.SUPPORTED
    assert judge("cisco_ios", "17.12.04", date(2027, 7, 1), table).support is Support.UNKNOWN
    # Issue #13: an entry nobody checked against the vendor is never a fail (nor a pass)
    unverified = judge("cisco_ios", "15.0(2)SE11", on, table)
    assert unverified.support is Support.UNKNOWN and "not verified" in unverified.evidence
    assert judge("cisco_ios", "16.9.1", on, table).support is Support.UNKNOWN
    assert judge("huawei_vrp", "12.0", on, table).support is Support.UNKNOWN
    assert judge("cisco_ios", None, on, table).support is Support.UNKNOWN


def test_shipped_lifecycle_entries_are_marked_unverified_with_a_note() -> None:
    for release in load_releases():
        assert release.verified or release.note, release.name


def test_config_drift_is_recorded_by_the_inventory_and_diffed_for_the_report(
    tmp_path: Path,
) -> None:
    # Given two sweeps of the same switch, its logging host changed in between
    base = (CORPUS / "ios_hardened.cfg").read_text("utf-8")
    changed = base.replace("logging host 10.10.0.20", "logging host 10.10.0.99")
    switch = host("10.0.6.1", svc(22, "ssh"), mac="00:1b:54:00:00:99")
    sweeps = []
    for i, text in enumerate((base, base, changed)):
        reading = read_device("cisco_ios", text, IOS_XE)
        obs = tuple(device_observations(reading, ip="10.0.6.1", port=22, name="core"))
        sweeps.append(sweep(switch, observations=obs, sweep_id=f"s{i}",
                            started=T0.replace(hour=10 + i)))  # fmt: skip
    store = Inventory(tmp_path / "store.json")
    changes = [store.commit_sweep(s, [], score_findings([])) for s in sweeps]
    # Then only the real change is recorded, with both hashes
    assert [c.kind.value for c in changes[1]] == []
    (drift,) = [c for c in changes[2] if c.kind.value == "config_changed"]
    assert drift.ip == "10.0.6.1" and drift.before != drift.after
    # And the report's diff of the stored texts shows the moved line, secrets still redacted
    texts = [str(s.observations[1].data["text"]) for s in sweeps]
    diff = config_diff(texts[1], texts[2])
    assert [d.text for d in diff if d.kind in ("add", "remove")] == [
        "-logging host 10.10.0.20",
        "+logging host 10.10.0.99",
    ]
    assert "LEAK" not in "".join(texts)


CONFIRM = """[[confirm]]
release = "{release}"
source = "Cisco End-of-Life bulletin read on cisco.com"
confirmed_by = "Nguyễn Văn A, cán bộ CNTT"
confirmed_on = 2026-11-20
"""


def test_an_agency_confirmation_lets_an_unverified_entry_decide(tmp_path: Path) -> None:
    """Issue #13: an unverified lifecycle entry is not judged unless the agency confirms it,
    and then the evidence says whose word the verdict rests on."""
    # Given the shipped table, whose 12.x entry is unverified, and an agency that confirmed it
    path = tmp_path / "lifecycle-confirmed.toml"
    path.write_text(CONFIRM.format(release="Cisco IOS 12.x and earlier"), encoding="utf-8")
    config = agency_config(tmp_path, assessment={"lifecycle_confirmations": path.name})
    s = device_sweep(("10.0.0.1", "ios_weak.cfg", "cisco_ios", IOS_OLD))
    # When the sweep is judged with and without the agency's config
    bare = {f.check_id: f for f in run_checks(s)}["dev.os_unsupported"]
    judged = assess(s, config, today=date(2026, 11, 28))
    (confirmed,) = [f for f in judged.findings if f.check_id == "dev.os_unsupported"]
    # Then without it the release is not assessed, with it support has ended, on its word
    assert bare.status is Status.NOT_ASSESSED and "not verified" in bare.reason
    assert confirmed.status is Status.FAIL
    assert "support has ended; the agency confirmed this entry (Nguyễn Văn A" in confirmed.evidence
    assert "cơ quan đã xác nhận mục này (Nguyễn Văn A" in source_text(confirmed.evidence, "vi")
    # and the option is the config's, not the process's: an agency without it is unaffected
    assert {f.check_id: f for f in run_checks(s)}["dev.os_unsupported"].status is (
        Status.NOT_ASSESSED
    )


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        (CONFIRM.format(release="Cisco IOS 99"), "confirm[0].release", "not the name of an entry"),
        (CONFIRM.format(release="IOS 15.0").replace("Nguyễn Văn A, cán bộ CNTT", " "),
         "confirm[0].confirmed_by", "blank"),
        (CONFIRM.format(release="IOS 15.0").replace("2026-11-20", '"soon"'),
         "confirm[0].confirmed_on", "date"),
        (CONFIRM.format(release="IOS 15.0") * 2, "confirm", "confirmed twice"),
        (CONFIRM.format(release="IOS 15.0") + "verified = true\n", "confirm[0].verified",
         "not a known setting"),
    ],
)  # fmt: skip
def test_a_bad_confirmation_names_its_key(tmp_path: Path, text: str, key: str, words: str) -> None:
    table = (Release(platform="cisco_ios", match=r"^15\.0\(", name="IOS 15.0", ended=True),)
    path = tmp_path / "confirmed.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_confirmations(path, releases=table)
    assert err.value.key == key and words in err.value.reason
    assert "confirmed.toml" in str(err.value)


def test_a_confirmation_does_not_outrun_the_entrys_own_review_date() -> None:
    table = (
        Release(platform="cisco_ios", match=r"^17\.", name="IOS XE 17", supported=True,
                review_by=date(2027, 6, 30)),
    )  # fmt: skip
    word = Confirmation.model_validate(
        {"release": "IOS XE 17", "source": "bulletin", "confirmed_by": "A",
         "confirmed_on": date(2026, 11, 1)},
        context={"releases": table},
    )  # fmt: skip
    confirmed = {"IOS XE 17": word}
    assert judge("cisco_ios", "17.12.04", date(2026, 12, 1), table, confirmed).support is (
        Support.SUPPORTED
    )
    late = judge("cisco_ios", "17.12.04", date(2027, 7, 1), table, confirmed)
    assert late.support is Support.UNKNOWN and "due for review" in late.evidence


def test_the_documented_confirmation_example_loads() -> None:
    example = Path(__file__).parents[3] / "docs/examples/lifecycle-confirmed.toml"
    assert set(load_confirmations(example)) == {"Cisco IOS 12.x and earlier"}
