"""Credentials by reference (issue #4): ``env:NAME`` and ``file:PATH`` are read, a file others
can read is refused, a literal password in the config is refused with one line naming the key
and never repeated back."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from scanners.devices.collect import plan_devices
from secposture.cli import main
from secposture.config.errors import ConfigError
from secposture.config.loading import load_config, parse_config
from secposture.config.secrets import Secret, SecretError, check_reference, resolve
from secposture.model import exitcodes

LITERAL = "Pa55-literal-in-config"


def private_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text, encoding="utf-8")
    path.chmod(mode)
    return path


def agency(tmp_path: Path, device: str) -> Path:
    config = tmp_path / "agency.toml"
    config.write_text(
        '[agency]\nid = "xa-thu"\nname = "UBND xã Thử"\nlevel = "commune"\n'
        '[scan]\nscopes = ["127.0.0.1/32"]\n'
        '[store]\npath = "store.json"\n[report]\ndir = "report"\n'
        f"[[devices]]\n{device}",
        encoding="utf-8",
    )
    return config


def test_env_reference_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SW_PASS", "from the environment")
    secret = resolve("env:SW_PASS", key="devices[0].password")
    assert secret.reveal() == "from the environment"


def test_missing_or_empty_env_names_the_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SW_NOPE", raising=False)
    with pytest.raises(SecretError) as missing:
        resolve("env:SW_NOPE", key="devices[2].secret")
    assert str(missing.value) == "devices[2].secret: environment variable SW_NOPE is not set"
    monkeypatch.setenv("SW_EMPTY", "")
    with pytest.raises(SecretError, match=r"devices\[0\]\.password: env:SW_EMPTY is empty"):
        resolve("env:SW_EMPTY", key="devices[0].password")


def test_private_file_is_read_without_its_line_ending(tmp_path: Path) -> None:
    path = private_file(tmp_path / "pw", "two words \r\n")
    assert resolve(f"file:{path}", key="k").reveal() == "two words "
    group_readable = private_file(tmp_path / "pw-group", "ok\n", 0o640)
    assert resolve(f"file:{group_readable}", key="k").reveal() == "ok"


@pytest.mark.parametrize("mode", [0o644, 0o604, 0o602, 0o666])
def test_file_other_users_can_reach_is_refused(tmp_path: Path, mode: int) -> None:
    path = private_file(tmp_path / "pw", "secret-value\n", mode)
    with pytest.raises(SecretError) as refused:
        resolve(f"file:{path}", key="devices[0].password")
    message = str(refused.value)
    assert message.startswith("devices[0].password: file ")
    assert f"chmod 600 {path}" in message and "\n" not in message
    assert "secret-value" not in message


def test_missing_empty_directory_large_and_binary_files_are_refused(tmp_path: Path) -> None:
    cases = {
        "missing": tmp_path / "nope",
        "empty": private_file(tmp_path / "empty", ""),
        "dir": tmp_path,
        "large": private_file(tmp_path / "large", "x" * 70_000),
        "binary": tmp_path / "binary",
    }
    cases["binary"].write_bytes(b"\xff\xfe\x00bad")
    cases["binary"].chmod(0o600)
    tmp_path.chmod(0o700)
    reasons = {}
    for name, path in cases.items():
        with pytest.raises(SecretError) as refused:
            resolve(f"file:{path}", key="k")
        reasons[name] = refused.value.reason
    assert "does not exist" in reasons["missing"]
    assert "is empty" in reasons["empty"]
    assert "not a regular file" in reasons["dir"]
    assert "one line" in reasons["large"]
    assert "not UTF-8" in reasons["binary"]


def test_secret_never_shows_its_value() -> None:
    secret = Secret(ref="file:/etc/secposture/sw.pw", value="do-not-print-me")
    for shown in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert "do-not-print-me" not in shown
        assert "file:/etc/secposture/sw.pw" in shown


@pytest.mark.parametrize("literal", [LITERAL, "cisco", "env", "file:", "env:", "env:1BAD"])
def test_a_literal_is_not_a_reference(literal: str) -> None:
    with pytest.raises(ValueError) as refused:
        check_reference(literal)
    if len(literal) > 5:
        assert literal not in str(refused.value)


def test_literal_password_in_config_is_refused_naming_the_key(tmp_path: Path) -> None:
    # Given a [[devices]] entry with the password itself in the file
    config = agency(
        tmp_path,
        f'address = "127.0.0.1"\nplatform = "cisco_ios"\nusername = "admin"\n'
        f'password = "{LITERAL}"\n',
    )
    # When the config is loaded, then one line names the key and never repeats the value
    with pytest.raises(ConfigError) as refused:
        load_config(config)
    assert refused.value.key == "devices[0].password"
    assert LITERAL not in str(refused.value)
    # And the CLI says it in one line with exit code 2
    result = CliRunner().invoke(main, ["--lang", "en", "config", "check", "-c", str(config)])
    assert result.exit_code == exitcodes.USAGE
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "devices[0].password" in lines[0]
    assert LITERAL not in result.output


def test_literal_enable_secret_is_refused_too() -> None:
    data = {
        "agency": {"id": "xa-thu", "name": "x", "level": "commune"},
        "scan": {"scopes": ["10.0.0.0/24"]},
        "store": {"path": "/tmp/s"},
        "report": {"dir": "/tmp/r"},
        "devices": [
            {"address": "10.0.0.1", "platform": "cisco_ios", "username": "admin",
             "password": "env:SW_PASS", "secret": "cisco"},
        ],
    }  # fmt: skip
    with pytest.raises(ConfigError) as refused:
        parse_config(data)
    assert refused.value.key == "devices[0].secret"


def test_device_entries_are_validated(tmp_path: Path) -> None:
    base = 'username = "admin"\npassword = "env:SW_PASS"\n'
    for entry, key, words in (
        ('address = "10.0.0.300"\nplatform = "cisco_ios"\n', "devices[0].address", "IP"),
        ('address = "10.0.0.3"\nplatform = "cisco_iso"\n', "devices[0].platform", "cisco_ios"),
        ('address = "10.0.0.3"\nplatform = "cisco_ios"\nport = 0\n', "devices[0].port", ""),
        ('address = "10.0.0.3"\nplatform = "cisco_ios"\nhost = "x"\n', "devices[0].host",
         "not a known setting"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            load_config(agency(tmp_path, entry + base))
        assert refused.value.key == key and words in refused.value.reason


def test_a_device_listed_twice_is_refused(tmp_path: Path) -> None:
    entry = 'address = "10.0.0.3"\nplatform = "cisco_ios"\nusername = "a"\npassword = "env:P"\n'
    config = agency(tmp_path, entry + "[[devices]]\n" + entry)
    with pytest.raises(ConfigError, match=r"devices: 10\.0\.0\.3 is listed twice"):
        load_config(config)


def test_configs_without_devices_stay_valid(tmp_path: Path) -> None:
    config = tmp_path / "agency.toml"
    config.write_text(
        '[agency]\nid = "xa-thu"\nname = "x"\nlevel = "commune"\n[scan]\nscopes = ["10.0.0.0/24"]\n'
        '[store]\npath = "s.json"\n[report]\ndir = "r"\n',
        encoding="utf-8",
    )
    assert load_config(config).devices == []


def test_relative_file_reference_is_taken_from_the_config_folder(tmp_path: Path) -> None:
    # Given a secret file next to the config, named relative to it
    (tmp_path / "secrets").mkdir()
    private_file(tmp_path / "secrets" / "sw.pw", "from-the-file\n")
    config = agency(
        tmp_path,
        'address = "127.0.0.1"\nplatform = "cisco_ios"\nusername = "admin"\n'
        'password = "file:secrets/sw.pw"\n',
    )
    cwd = os.getcwd()
    os.chdir("/")  # cron and systemd start elsewhere
    try:
        (target,) = plan_devices(load_config(config))
    finally:
        os.chdir(cwd)
    assert target.password.reveal() == "from-the-file"
    assert target.password.ref == f"file:{tmp_path / 'secrets' / 'sw.pw'}"
    assert target.secret is None and target.name == "127.0.0.1"


def test_unreadable_secret_stops_the_sweep_before_it_sends_anything(tmp_path: Path) -> None:
    # Given a config whose secret file is readable by everyone
    private_file(tmp_path / "sw.pw", "leaky\n", 0o644)
    config = agency(
        tmp_path,
        'address = "127.0.0.1"\nplatform = "cisco_ios"\nusername = "admin"\n'
        f'password = "file:{tmp_path / "sw.pw"}"\n',
    )
    # When the sweep plans its devices, then it stops with the key and the reason, exit 2
    with pytest.raises(ConfigError) as refused:
        plan_devices(load_config(config))
    assert refused.value.key == "devices[0].password"
    result = CliRunner().invoke(main, ["--lang", "en", "sweep", "-c", str(config), "-q"])
    assert result.exit_code == exitcodes.USAGE, result.output
    assert "devices[0].password" in result.output and "leaky" not in result.output
    assert not (tmp_path / "store.json").exists()
