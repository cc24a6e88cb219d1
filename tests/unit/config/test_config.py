"""Config validation: a wrong value names its key (issue #2)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from secposture.config.errors import ConfigError
from secposture.config.loading import load_config, parse_config
from secposture.config.sections import Level

GOOD = """
[agency]
id = "tn-xa-mau"
name = "UBND xã Mẫu"
level = "commune"
parent = "tn-huyen-mau"
[scan]
scopes = ["10.77.0.0/24"]
exclude = ["10.77.0.1"]
profile = "standard"
[store]
path = "var/tn-xa-mau/inventory.json"
[report]
dir = "out/tn-xa-mau"
lang = "vi"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "agency.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads_with_paths_relative_to_the_file(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert config.agency.level is Level.COMMUNE
    assert config.scan.scopes == ["10.77.0.0/24"]
    assert config.store.path == tmp_path / "var/tn-xa-mau/inventory.json"
    assert config.report.dir == tmp_path / "out/tn-xa-mau"


@pytest.mark.parametrize(
    ("old", "new", "key"),
    [
        ('level = "commune"', 'level = "village"', "agency.level"),
        ('scopes = ["10.77.0.0/24"]', 'scopes = ["10.77.0.0/33"]', "scan.scopes"),
        ('scopes = ["10.77.0.0/24"]', "scopes = []", "scan.scopes"),
        ('scopes = ["10.77.0.0/24"]', 'scopes = ["8.8.8.0/24"]', "scan.scopes"),
        ('profile = "standard"', 'profile = "turbo"', "scan.profile"),
        ('lang = "vi"', 'lang = "fr"', "report.lang"),
        ('id = "tn-xa-mau"', 'id = "Xã Mẫu!"', "agency.id"),
        ('exclude = ["10.77.0.1"]', 'exclude = ["not-an-ip"]', "scan.exclude"),
        ('profile = "standard"', 'profile = "standard"\nspeed = 3', "scan.speed"),
        ('[store]\npath = "var/tn-xa-mau/inventory.json"', "[store]", "store.path"),
    ],
)
def test_bad_value_names_its_key(tmp_path: Path, old: str, new: str, key: str) -> None:
    assert old in GOOD
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, GOOD.replace(old, new)))
    assert err.value.key.startswith(key), str(err.value)
    assert "\n" not in str(err.value)


def test_public_scope_allowed_only_when_said(tmp_path: Path) -> None:
    text = GOOD.replace('scopes = ["10.77.0.0/24"]', 'scopes = ["8.8.8.0/24"]\nallow_public = true')
    assert load_config(write(tmp_path, text)).scan.scopes == ["8.8.8.0/24"]


def test_broken_toml_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(write(tmp_path, "[agency\n"))
    with pytest.raises(ConfigError, match="not found"):
        load_config(tmp_path / "nope.toml")


def test_parse_config_without_file_keeps_paths() -> None:
    import tomllib

    config = parse_config(tomllib.loads(GOOD))
    assert str(config.store.path) == "var/tn-xa-mau/inventory.json"


def test_cli_prints_one_line_and_exits_2(tmp_path: Path) -> None:
    # Given a config with a bad level, when the CLI loads it, then one line names the key.
    path = write(tmp_path, GOOD.replace('level = "commune"', 'level = "village"'))
    proc = subprocess.run(
        [sys.executable, "-m", "secposture", "--lang", "en", "config", "check", "-c", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "agency.level" in lines[0], proc.stderr
    assert "Traceback" not in proc.stderr
