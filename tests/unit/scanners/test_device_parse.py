"""Running-config parsing and redaction (issue #4): a corpus of real-looking configurations
(weak, hardened, truncated, malformed, binary garbage, huge) never makes the reader raise, and
no secret value planted in a fixture survives into the stored text or the facts."""

from __future__ import annotations

import json
import random
import re
import time
from pathlib import Path

import pytest

from scanners.devices.reading import MAX_STORED_CHARS, read_device
from scanners.devices.redact import CREDENTIAL_MARKER, marker
from secposture.model.device_facts import SecretForm
from secposture.model.platforms import PLATFORMS

CORPUS = Path(__file__).parent.parent.parent / "fixtures" / "configs"
TEXT_FIXTURES = sorted(p.name for p in CORPUS.glob("*.cfg"))
ALL_FIXTURES = [*TEXT_FIXTURES, "garbage.bin"]
# Which platform each fixture was taken from.
NATIVE = {
    "ios_weak.cfg": "cisco_ios",
    "ios_hardened.cfg": "cisco_ios",
    "truncated.cfg": "cisco_ios",
    "malformed.cfg": "cisco_ios",
    "eos_weak.cfg": "arista_eos",
    "eos_hardened.cfg": "arista_eos",
    "vrp_weak.cfg": "huawei_vrp",
    "comware_hardened.cfg": "hp_comware",
    "garbage.bin": "cisco_ios",
}


def fixture_text(name: str) -> str:
    return (CORPUS / name).read_bytes().decode("utf-8", errors="replace")


def planted(name: str) -> list[str]:
    side = CORPUS / f"{name}.secrets"
    return [s for s in side.read_text("utf-8").splitlines() if s] if side.exists() else []


def kinds(text: str) -> list[str]:
    return re.findall(r"<redacted:[^>]*>", text)


def test_every_text_fixture_is_listed_with_its_platform_and_secrets() -> None:
    assert set(ALL_FIXTURES) == set(NATIVE)
    for name in TEXT_FIXTURES:
        for secret in planted(name):
            assert secret in fixture_text(name), (name, secret)


@pytest.mark.parametrize("platform", sorted(PLATFORMS))
@pytest.mark.parametrize("name", ALL_FIXTURES)
def test_any_fixture_read_as_any_platform_never_raises_nor_keeps_a_secret(
    name: str, platform: str
) -> None:
    # Given a configuration, possibly of another vendor, malformed or binary junk
    text = fixture_text(name)
    # When it is read as this platform
    reading = read_device(platform, text, version_text=text)
    # Then it is read, and none of the planted secrets is in what would be stored
    stored = reading.text + json.dumps(reading.facts.model_dump(mode="json"))
    for secret in planted(name):
        assert secret not in stored, (name, platform, secret)
    assert len(reading.sha256) == 64


def test_weak_ios_config_reads_as_weak() -> None:
    facts = read_device("cisco_ios", fixture_text("ios_weak.cfg")).facts
    assert facts.hostname == "ubnd-xa-sw01" and facts.complete
    forms = {(s.kind, s.owner, s.form) for s in facts.secrets}
    assert ("enable-password", "", SecretForm.PLAINTEXT) in forms
    assert ("enable-password", "", SecretForm.REVERSIBLE) in forms
    assert ("user-password", "admin", SecretForm.PLAINTEXT) in forms
    assert ("user-password", "support", SecretForm.REVERSIBLE) in forms
    assert ("user-secret", "backup", SecretForm.HASHED) in forms
    assert ("line-password", "line con 0", SecretForm.PLAINTEXT) in forms
    assert {"aaa-key", "ntp-key", "key-string", "routing-key", "pre-shared-key"} <= {
        s.kind for s in facts.secrets
    }
    # the banner's text is not a command: its "enable password" adds no enable password
    assert len(facts.secrets_of("enable-password")) == 2
    assert facts.password_encryption.value is False
    assert facts.telnet.value is None  # no "transport input": depends on the release
    assert facts.ssh_v2_only.value is False
    assert facts.http_server.value is True
    assert [(c.access, c.default_name) for c in facts.snmp_communities] == [
        ("ro", "public"),
        ("rw", None),
    ]  # the trap host's community grants nothing and is not listed
    assert facts.logging_hosts == () and facts.ntp_servers == ()
    assert facts.login_banner.value is True  # banner motd
    assert facts.aaa.value is False
    assert facts.os.version == "12.2"  # from the config's "version" line (no show version)
    assert [m.exec_timeout_s for m in facts.management] == [None, None, None]


def test_hardened_ios_config_reads_as_hardened() -> None:
    facts = read_device("cisco_ios", fixture_text("ios_hardened.cfg")).facts
    assert {s.form for s in facts.secrets if not s.kind.startswith("aaa")} == {SecretForm.HASHED}
    assert facts.password_encryption.value is True and facts.aaa.value is True
    assert facts.telnet.value is False and facts.ssh_v2_only.value is True
    assert facts.http_server.value is False and facts.snmp_communities == ()
    assert facts.logging_hosts == ("10.10.0.20", "10.10.0.21")
    assert facts.ntp_servers == ("10.10.0.1", "10.10.0.2")
    assert facts.login_banner.value is True
    assert [m.exec_timeout_s for m in facts.management] == [300, 600, 330]


def test_arista_configs() -> None:
    weak = read_device("arista_eos", fixture_text("eos_weak.cfg")).facts
    assert weak.telnet.value is True and weak.http_server.value is True
    assert weak.password_encryption.applicable is False and weak.aaa.applicable is False
    assert {(c.access, c.default_name) for c in weak.snmp_communities} == {
        ("ro", "public"),
        ("rw", None),
    }
    assert [m.exec_timeout_s for m in weak.management if m.name == "management ssh"] == [None]
    hardened = read_device("arista_eos", fixture_text("eos_hardened.cfg")).facts
    assert {s.form for s in hardened.secrets} == {SecretForm.HASHED}
    assert hardened.telnet.value is False and hardened.http_server.value is False
    assert hardened.logging_hosts == ("10.1.1.5", "10.1.1.6")
    assert hardened.login_banner.value is True
    # the banner body (up to EOF) is text, not configuration
    assert hardened.complete and hardened.secrets_of("enable-password") != []


def test_huawei_vrp_weak_config() -> None:
    facts = read_device("huawei_vrp", fixture_text("vrp_weak.cfg")).facts
    assert facts.hostname == "HUYEN-SW01" and facts.complete
    assert facts.os.version == "V200R011C10SPC600"
    forms = {(s.kind, s.owner, s.form) for s in facts.secrets}
    assert ("super-password", "", SecretForm.REVERSIBLE) in forms
    assert ("user-password", "admin", SecretForm.PLAINTEXT) in forms
    assert ("user-password", "guest", SecretForm.REVERSIBLE) in forms
    assert facts.telnet.value is True and facts.ssh_v2_only.value is False
    assert facts.http_server.value is True and facts.aaa.value is False
    communities = {(c.access, c.default_name, c.readable) for c in facts.snmp_communities}
    assert communities == {("ro", "public", True), ("rw", "private", True), ("ro", None, False)}
    assert [m.exec_timeout_s for m in facts.management] == [None, 0]


def test_comware_hardened_config() -> None:
    facts = read_device("hp_comware", fixture_text("comware_hardened.cfg")).facts
    assert facts.hostname == "XA-SW-TANG1"
    assert facts.os.version == "7.1.070, Release 3506P12"
    assert {s.form for s in facts.secrets if s.kind != "aaa-key"} == {SecretForm.HASHED}
    assert facts.telnet.value is False and facts.http_server.value is False
    assert facts.ssh_v2_only.value is True and facts.aaa.value is True
    assert facts.logging_hosts == ("10.20.0.5", "10.20.0.6")
    assert facts.ntp_servers == ("10.20.0.1",)
    assert facts.login_banner.value is True
    assert [(m.name, m.exec_timeout_s) for m in facts.management] == [
        ("line con 0", 600),
        ("line vty 0 63", 600),
    ]


def test_comware_line_class_settings_apply_to_lines_that_do_not_set_their_own() -> None:
    config = (
        "#\n sysname A\n#\nline class vty\n authentication-mode scheme\n idle-timeout 5 0\n"
        "#\nline vty 0 15\n protocol inbound ssh\n#\nline vty 16 31\n authentication-mode "
        "none\n#\nreturn\n"
    )
    facts = read_device("hp_comware", config).facts
    assert [(m.name, m.exec_timeout_s) for m in facts.management] == [
        ("line vty 0 15", 300),
        ("line vty 16 31", 300),
    ]
    assert facts.aaa.value is False and "line vty 16 31" in facts.aaa.evidence


def test_truncated_config_settles_nothing_by_absence() -> None:
    # Given a configuration cut off inside a banner that never closes
    facts = read_device("cisco_ios", fixture_text("truncated.cfg")).facts
    # Then what it did say is kept, and nothing is concluded from what it did not
    assert not facts.complete
    assert ("user-password", SecretForm.PLAINTEXT) in {(s.kind, s.form) for s in facts.secrets}
    assert facts.password_encryption.value is False  # said explicitly
    assert facts.aaa.value is None and facts.ssh_v2_only.value is None
    assert facts.login_banner.value is True
    assert facts.snmp_communities == ()  # the line inside the banner is not a setting


def test_markers_say_what_and_how_it_was_stored() -> None:
    text = read_device("cisco_ios", fixture_text("ios_weak.cfg")).text
    assert "enable password 0 " + marker("enable-password", SecretForm.PLAINTEXT) in text
    assert "username support password 7 " + marker("user-password", SecretForm.REVERSIBLE) in text
    assert "snmp-server community <redacted:snmp-community:plaintext:default-public> RO" in text
    assert "snmp-server community <redacted:snmp-community:plaintext> RW 10" in text
    assert (
        "auth sha <redacted:snmp-auth-key:plaintext> priv aes 128 "
        "<redacted:snmp-priv-key:plaintext>" in text
    )
    assert "crypto isakmp key <redacted:pre-shared-key:plaintext> address 203.0.113.1" in text
    assert "ntp authentication-key 1 md5 <redacted:ntp-key:plaintext> 7" in text
    # the volatile header lines are gone, so the hash moves only with the configuration
    assert "Last configuration change" not in text and "ntp clock-period" not in text
    vrp = read_device("huawei_vrp", fixture_text("vrp_weak.cfg")).text
    assert "snmp-agent community read cipher <redacted:snmp-community:reversible>" in vrp
    assert "local-user admin password simple <redacted:user-password:plaintext>" in vrp


def test_session_credentials_are_caught_on_any_line() -> None:
    # Given the login password appears where no rule looks (a description)
    config = "hostname sw\ninterface Vlan1\n description pw=Hunter2Hunter2 here\nend\n"
    reading = read_device("cisco_ios", config, known=["Hunter2Hunter2"])
    assert "Hunter2Hunter2" not in reading.text
    assert CREDENTIAL_MARKER in reading.text and reading.credentials_caught == 1


def test_hash_ignores_volatile_lines_but_follows_real_changes() -> None:
    base = fixture_text("ios_hardened.cfg")
    later = base.replace("08:00:00 UTC Mon Mar 3", "09:30:00 UTC Tue Mar 4")
    changed = base.replace("logging host 10.10.0.20", "logging host 10.10.0.99")
    first, again, other = (read_device("cisco_ios", t) for t in (base, later, changed))
    assert first.sha256 == again.sha256
    assert first.sha256 != other.sha256


def test_huge_config_over_5_mb_is_read_and_stored_cut() -> None:
    # Given a 5+ MB running-config (tens of thousands of interfaces and secrets)
    block = (
        "interface GigabitEthernet1/0/{i}\n description access port {i}\n"
        " switchport access vlan 10\n ip ospf authentication-key 7 LEAKhuge{i}\n!\n"
    )
    body = "".join(block.format(i=i) for i in range(60_000))
    text = fixture_text("ios_weak.cfg").replace("line con 0\n", body + "line con 0\n")
    assert len(text) >= 5 * 1024 * 1024
    started = time.monotonic()
    reading = read_device("cisco_ios", text)
    elapsed = time.monotonic() - started
    # Then it is read whole (hash over everything), stored cut, and no secret kept
    assert reading.facts.complete and reading.truncated
    assert reading.chars > MAX_STORED_CHARS >= len(reading.text) - 200
    assert "LEAKhuge" not in reading.text
    assert elapsed < 60, elapsed  # a guard against a quadratic parser, not a benchmark


def test_one_huge_line_and_deep_junk_do_not_raise() -> None:
    rng = random.Random(4)
    line = "password " + "x" * (5 * 1024 * 1024)
    junk = "\n".join(
        " " * rng.randrange(4) + " ".join(rng.choice(VOCABULARY) for _ in range(rng.randrange(8)))
        for _ in range(20_000)
    )
    for platform in PLATFORMS:
        assert "xxxx" not in read_device(platform, line).text
        read_device(platform, junk)


VOCABULARY = [
    "password", "secret", "key", "7", "0", "cipher", "simple", "community", "snmp-server",
    "host", "version", "2c", "banner", "login", "^C", "header", "information", '"', "%",
    "line", "vty", "user-interface", "exec-timeout", "idle-timeout", "transport", "input",
    "telnet", "ssh", "all", "end", "return", "#", "!", "level", "role", "auth", "priv", "sha",
    "aes", "128", "md5", "authentication-mode", "key-string", "local-user", "username",
    "enable", "logging", "ntp", "server", "info-center", "loghost", "EOF", "\x00", "\t", "ŝ",
]  # fmt: skip


def test_binary_garbage_gives_an_empty_judgement_not_a_pass() -> None:
    facts = read_device("cisco_ios", fixture_text("garbage.bin")).facts
    assert not facts.complete
    assert facts.aaa.value is None and facts.ssh_v2_only.value is None
    assert facts.login_banner.value is None
