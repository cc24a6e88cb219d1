"""Evaluators for the ``dev.*`` checks: pure functions of a device's facts. No I/O.

A device whose configuration was not read (wrong password, SSH closed, no credentials
configured) is not a target of these functions: the engine gives every ``dev.*`` check a
``not_assessed`` finding with the attempt's reason instead (see
:func:`secposture.checks.engine.device_targets`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from secposture.checks.lifecycle import Support, judge
from secposture.checks.registry import CheckOptions, DeviceEvaluator, Verdict, device_evaluator
from secposture.model.device_facts import DeviceFacts, Flag, SecretForm, StoredSecret
from secposture.model.i18n import said
from secposture.model.records import Status, SweepResult

# CIS Cisco IOS 12 Benchmark v4.0.0 1.2.6-1.2.9: exec-timeout of 10 minutes or less.
EXEC_TIMEOUT_MAX_S = 10 * 60
INCOMPLETE = "the configuration was cut short, so a missing line proves nothing"
# Templates (their placeholder filled in by _servers); the catalogue test reads them here.
LOGS_SENT = "logs sent to {servers}"
NTP_SERVERS = "NTP servers: {servers}"


def _said(facts: DeviceFacts, text: str) -> str:
    return said("{name}: {text}", name=facts.hostname, text=text) if facts.hostname else text


def _unless_cut_short(facts: DeviceFacts, verdict: Verdict) -> Verdict:
    """What a line missing from the configuration means: ``verdict``, or nothing either way when
    the configuration was cut short."""
    return verdict if facts.complete else Verdict(Status.NOT_ASSESSED, reason=INCOMPLETE)


def _flag(facts: DeviceFacts, flag: Flag, *, bad_when: bool) -> Iterator[Verdict]:
    """A yes/no setting: fail when it equals ``bad_when``; unknown is not assessed."""
    if not flag.applicable:
        yield Verdict(Status.NOT_APPLICABLE, reason=flag.evidence)
    elif flag.value is None:
        yield Verdict(Status.NOT_ASSESSED, reason=flag.evidence)
    else:
        status = Status.FAIL if flag.value is bad_when else Status.PASS
        yield Verdict(status, evidence=_said(facts, flag.evidence))


def _describe(secret: StoredSecret) -> str:
    """ "enable password stored plaintext", "user admin (privilege 15): secret stored hashed"."""
    if secret.owner:
        word = secret.kind.removeprefix("user-")
        if secret.privilege is not None:
            return said(
                "user {user} (privilege {level}): {word} stored {form}",
                user=secret.owner,
                level=secret.privilege,
                word=word,
                form=secret.form.value,
            )
        return said(
            "user {user}: {word} stored {form}",
            user=secret.owner,
            word=word,
            form=secret.form.value,
        )
    return said("{word} stored {form}", word=secret.kind.replace("-", " "), form=secret.form.value)


def _secrets_check(
    facts: DeviceFacts, secrets: list[StoredSecret], none_configured: str
) -> Iterator[Verdict]:
    if not secrets:
        yield _unless_cut_short(facts, Verdict(Status.NOT_APPLICABLE, reason=none_configured))
        return
    weak = [s for s in secrets if s.form is not SecretForm.HASHED]
    if weak:
        yield Verdict(Status.FAIL, evidence=_said(facts, "; ".join(_describe(s) for s in weak)))
    else:
        yield Verdict(Status.PASS, evidence=_said(facts, "; ".join(_describe(s) for s in secrets)))


@device_evaluator("dev.enable_password_plaintext")
def enable_password_plaintext(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """An enable password stored in clear text or a reversible form fails."""
    yield from _secrets_check(
        facts,
        facts.secrets_of("enable-password", "enable-secret", "super-password"),
        "no enable password or secret is configured",
    )


@device_evaluator("dev.local_user_plaintext_password")
def local_user_plaintext_password(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A local user whose password is stored in clear text or a reversible form fails."""
    yield from _secrets_check(
        facts, facts.secrets_of("user-password", "user-secret"), "no local user accounts"
    )


@device_evaluator("dev.password_encryption_off")
def password_encryption_off(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """``service password-encryption`` off fails; the evidence counts the clear-text passwords."""
    flag = facts.password_encryption
    if flag.applicable and flag.value is False:
        clear = [s for s in facts.secrets if s.form is SecretForm.PLAINTEXT]
        if clear:
            evidence = said(
                "{evidence}; {count} password(s) in clear text",
                evidence=flag.evidence,
                count=len(clear),
            )
            flag = flag.model_copy(update={"evidence": evidence})
    yield from _flag(facts, flag, bad_when=False)


def _flag_check(field: str, bad_when: bool) -> DeviceEvaluator:
    def evaluate(
        facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
    ) -> Iterator[Verdict]:
        flag = getattr(facts, field)
        yield from _flag(facts, flag, bad_when=bad_when)

    return evaluate


# Checks that are one yes/no setting each: (check id, fact, the value that fails).
for _check_id, _field, _bad in (
    ("dev.vty_telnet", "telnet", True),
    ("dev.ssh_version_2_missing", "ssh_v2_only", False),
    ("dev.http_server_enabled", "http_server", True),
    ("dev.no_login_banner", "login_banner", False),
    ("dev.aaa_missing", "aaa", False),
):
    device_evaluator(_check_id)(_flag_check(_field, _bad))


@device_evaluator("dev.snmp_default_community")
def snmp_default_community(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A default community name (public, private, ...) configured fails."""
    communities = facts.snmp_communities
    defaults = sorted({c.default_name for c in communities if c.default_name})
    hidden = [c for c in communities if not c.readable]
    if defaults:
        yield Verdict(
            Status.FAIL,
            evidence=_said(
                facts, said("default community configured: {names}", names=", ".join(defaults))
            ),
        )
    elif hidden:
        yield Verdict(
            Status.NOT_ASSESSED,
            reason=said(
                "{count} community(ies) stored encrypted: whether one is a default "
                "cannot be told from the configuration",
                count=len(hidden),
            ),
        )
    else:
        words = (
            said("{count} community(ies), none a default", count=len(communities))
            if communities
            else ("no SNMP community configured")
        )
        yield _unless_cut_short(facts, Verdict(Status.PASS, evidence=_said(facts, words)))


@device_evaluator("dev.snmp_rw_community")
def snmp_rw_community(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A community with write access fails: whoever knows it can reconfigure the device."""
    writable = [c for c in facts.snmp_communities if c.access == "rw"]
    if writable:
        named = [c.default_name for c in writable if c.default_name]
        text = (
            said(
                "{count} community(ies) with write access (including {names})",
                count=len(writable),
                names=", ".join(named),
            )
            if named
            else said("{count} community(ies) with write access", count=len(writable))
        )
        yield Verdict(Status.FAIL, evidence=_said(facts, text))
    else:
        none = Verdict(Status.PASS, evidence=_said(facts, "no SNMP community with write access"))
        yield _unless_cut_short(facts, none)


def _servers(facts: DeviceFacts, servers: Sequence[str], listed: str, none: str) -> Verdict:
    """Servers the device relies on (syslog, NTP): some configured is a pass, none a fail.

    ``listed`` is a sentence with a ``{servers}`` placeholder."""
    if servers:
        return Verdict(
            Status.PASS, evidence=_said(facts, listed.format(servers=", ".join(servers)))
        )
    return _unless_cut_short(facts, Verdict(Status.FAIL, evidence=_said(facts, none)))


@device_evaluator("dev.no_remote_logging")
def no_remote_logging(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A device that keeps its logs only to itself (or none at all) fails."""
    if facts.logging_disabled:
        yield Verdict(Status.FAIL, evidence=_said(facts, "logging is switched off"))
    else:
        yield _servers(facts, facts.logging_hosts, LOGS_SENT, "no syslog server configured")


@device_evaluator("dev.no_ntp")
def no_ntp(facts: DeviceFacts, sweep: SweepResult, options: CheckOptions) -> Iterator[Verdict]:
    """A device without an NTP server fails: its log times cannot be trusted."""
    yield _servers(facts, facts.ntp_servers, NTP_SERVERS, "no NTP server configured")


def _timeout_problem(seconds: int | None) -> str | None:
    if seconds is None:
        return "no timeout set (set 10 minutes or less explicitly)"
    if seconds == 0:
        return "never times out"
    if seconds > EXEC_TIMEOUT_MAX_S:
        return said(
            "{minutes} min {seconds} s, more than 10 minutes",
            minutes=seconds // 60,
            seconds=seconds % 60,
        )
    return None


@device_evaluator("dev.exec_timeout_missing")
def exec_timeout_missing(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A management line that never times out, or after more than 10 minutes, fails."""
    lines = facts.management
    if not lines:
        yield Verdict(
            Status.NOT_ASSESSED, reason="no console or remote management lines were found"
        )
        return
    problems = [(m.name, p) for m in lines if (p := _timeout_problem(m.exec_timeout_s))]
    if problems:
        each = "; ".join(said("{name}: {text}", name=n, text=p) for n, p in problems)
        yield Verdict(Status.FAIL, evidence=_said(facts, each))
    else:
        shown = ", ".join(f"{m.name} {m.exec_timeout_s}s" for m in lines)
        yield Verdict(Status.PASS, evidence=_said(facts, shown))


@device_evaluator("dev.os_unsupported")
def os_unsupported(
    facts: DeviceFacts, sweep: SweepResult, options: CheckOptions
) -> Iterator[Verdict]:
    """A software release past its vendor's end of support, per the lifecycle table, fails."""
    judgement = judge(
        facts.platform,
        facts.os.version,
        sweep.started.date(),
        confirmed=options.lifecycle_confirmations,
    )
    if judgement.support is Support.UNKNOWN:
        yield Verdict(Status.NOT_ASSESSED, reason=judgement.evidence)
    else:
        status = Status.FAIL if judgement.support is Support.ENDED else Status.PASS
        yield Verdict(status, evidence=_said(facts, judgement.evidence))
