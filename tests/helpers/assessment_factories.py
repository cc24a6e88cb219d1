"""Builders for assessment tests: agency configs, questionnaires and waivers as files."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from factories import host, svc, sweep

from secposture.config.loading import parse_config
from secposture.config.sections import AgencyConfig
from secposture.model.records import Finding, Severity, Status, SweepResult, Target

TODAY = date(2026, 11, 28)
AGENCY = "tn-xa-mau"


def agency_config(tmp_path: Path, level: str = "district", **assessment: Any) -> AgencyConfig:
    """An agency config whose store and report live under ``tmp_path``."""
    data: dict[str, Any] = {
        "agency": {"id": AGENCY, "name": "UBND Mẫu", "level": level},
        "scan": {"scopes": ["10.77.0.0/24"]},
        "store": {"path": str(tmp_path / "store.json")},
        "report": {"dir": str(tmp_path / "report")},
    }
    if assessment:
        data["assessment"] = {
            key: str(value) if isinstance(value, Path) else value
            for key, value in assessment.items()
        }
    return parse_config(data)


def config_file(tmp_path: Path, level: str = "district", assessment: str = "") -> Path:
    """The same agency as a TOML file (for the CLI)."""
    path = tmp_path / "agency.toml"
    path.write_text(
        f'[agency]\nid = "{AGENCY}"\nname = "UBND Mẫu"\nlevel = "{level}"\n'
        '[scan]\nscopes = ["10.77.0.0/24"]\n'
        '[store]\npath = "store.json"\n[report]\ndir = "report"\n' + assessment,
        encoding="utf-8",
    )
    return path


def two_host_sweep(**kw: Any) -> SweepResult:
    """10.77.0.5 with telnet open (fails net.telnet_exposed); 10.77.0.6 with nothing open.

    Findings (severity high = 6 each): telnet .5 fail, .6 pass; SNMP .5 pass, .6 pass; FTP and
    HTTP not applicable on both.
    """
    return sweep(host("10.77.0.5", svc(23, "telnet")), host("10.77.0.6"), **kw)


def network_findings() -> list[Finding]:
    """The two-host sweep's findings, written out by hand so that the hand-computed scores do not
    move when other checks are added to the catalogue: telnet fail on .5 and pass on .6, SNMP
    pass on both (all high, weight 6); FTP and HTTP not applicable on both."""

    def finding(
        check: str, status: Status, ip: str, port: int | None = None, proto: str | None = None
    ) -> Finding:
        return Finding(
            check_id=check,
            status=status,
            severity=Severity.HIGH,
            target=Target(ip=ip, port=port, proto=proto),
            evidence="telnet open on 23/tcp" if status is Status.FAIL else "",
        )

    na = Status.NOT_APPLICABLE
    return [
        finding("net.telnet_exposed", Status.FAIL, "10.77.0.5", 23, "tcp"),
        finding("net.telnet_exposed", Status.PASS, "10.77.0.6"),
        finding("net.snmp_default_community", Status.PASS, "10.77.0.5", 161, "udp"),
        finding("net.snmp_default_community", Status.PASS, "10.77.0.6", 161, "udp"),
        *(
            finding(check, na, ip)
            for check in ("net.ftp_anonymous", "net.http_admin_cleartext")
            for ip in ("10.77.0.5", "10.77.0.6")
        ),
    ]


# The answers the hand-computed tests use, as of TODAY.
ANSWERS: dict[str, tuple[str, str]] = {
    # check: (answer, answered_on)
    "org.incident_response": ("yes", "2026-06-01"),
    "org.system_level_approved": ("no", "2026-06-01"),
    "org.backup_tested": ("partial", "2026-06-01"),
    "org.security_officer": ("yes", "2025-10-01"),  # older than 12 months: not assessed
    "org.security_regulation": ("yes", "2026-06-01"),
    "org.four_layer_model": ("n/a", "2026-06-01"),
    "org.staff_training": ("yes", "2026-06-01"),
    # org.monitoring_connected: not answered
}


def answers_as_of(today: date) -> dict[str, tuple[str, str]]:
    """ANSWERS moved in time so that, on ``today``, they are as current or stale as on TODAY
    (for code that reads the real date, such as the CLI)."""
    shift = today - TODAY
    return {
        check: (answer, (date.fromisoformat(on) + shift).isoformat())
        for check, (answer, on) in ANSWERS.items()
    }


def questionnaire_text(answers: dict[str, tuple[str, str]] = ANSWERS, agency: str = AGENCY) -> str:
    rows = [f'agency = "{agency}"']
    for check, (answer, on) in answers.items():
        evidence = "" if answer in ("no", "n/a") else f'evidence = "QĐ {len(rows)}/QĐ-UBND"\n'
        rows.append(
            f'[[answer]]\ncheck = "{check}"\nanswer = "{answer}"\n{evidence}'
            f'answered_by = "Nguyễn Văn A"\nanswered_on = {on}\n'
        )
    return "\n".join(rows)


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def waiver_text(
    check: str = "net.telnet_exposed",
    target: str = "10.77.0.5",
    expires: str = "2026-12-31",
    extra: str = "",
) -> str:
    return (
        f'[[waiver]]\ncheck = "{check}"\ntarget = "{target}"\n'
        'reason = "Máy in cũ chỉ quản trị được bằng Telnet"\n'
        f'approver = "Trần Thị B"\nexpires = {expires}\n{extra}'
    )
