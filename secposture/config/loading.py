"""Reading an agency config: TOML from disk, relative paths resolved, validated.

A wrong value must reach the user as one line naming the key and the reason (exit code 2),
so every validation error is turned into :class:`ConfigError` here and nowhere else.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from secposture.config.errors import ConfigError
from secposture.config.sections import AgencyConfig


def _key(loc: tuple[int | str, ...]) -> str:
    key = ""
    for part in loc:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative paths are taken from the config file's folder, so cron and systemd,
    which start in '/', find the same store as the person who ran the command."""
    for section, field in (
        ("store", "path"),
        ("report", "dir"),
        ("assessment", "selfassessment"),
        ("assessment", "waivers"),
        ("assessment", "lifecycle_confirmations"),
        ("assessment", "frameworks_dir"),
        ("bundle", "outbox"),
        ("bundle", "collector_ca"),
    ):
        value = data.get(section, {}).get(field)
        if isinstance(value, str) and not Path(value).is_absolute():
            data[section][field] = str(base / value)
    key = data.get("bundle", {}).get("key")
    if isinstance(key, str) and key.startswith("file:") and not Path(key[5:]).is_absolute():
        data["bundle"]["key"] = f"file:{base / key[5:]}"
    devices = data.get("devices")
    for device in devices if isinstance(devices, list) else ():
        for field in ("username", "password", "secret"):
            ref = device.get(field) if isinstance(device, dict) else None
            if isinstance(ref, str) and ref.startswith("file:") and not Path(ref[5:]).is_absolute():
                device[field] = f"file:{base / ref[5:]}"


def parse_config(data: dict[str, Any], source: Path | None = None) -> AgencyConfig:
    """Validate a config mapping; raise :class:`ConfigError` naming the first bad key."""
    where = str(source) if source else None
    if source is not None:
        _resolve_paths(data, source.parent)
    try:
        config = AgencyConfig.model_validate(data)
    except ValidationError as exc:
        raise config_error(exc, where) from None
    return config.model_copy(update={"source": source})


def config_error(exc: ValidationError, where: str | None) -> ConfigError:
    """The first validation error as one user-facing ``key: reason`` line."""
    err = exc.errors()[0]
    key = _key(tuple(err["loc"]))
    msg = str(err["msg"]).removeprefix("Value error, ")
    if err["type"] == "missing":
        msg = "is required"
    elif err["type"] == "extra_forbidden":
        msg = "is not a known setting"
    elif err["type"] == "enum":
        allowed = err.get("ctx", {}).get("expected", "")
        msg = f"must be one of {allowed}"
    # Model-level errors carry their own key in the message ("scopes: ...").
    if ":" in msg and not key.endswith(msg.split(":", 1)[0]):
        head, _, tail = msg.partition(":")
        if head.isidentifier():
            key, msg = f"{key}.{head}" if key else head, tail.strip()
    return ConfigError(key or "config", msg, where)


def read_toml(path: Path) -> dict[str, Any]:
    """A TOML file as a mapping, or :class:`ConfigError` saying why it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("config", "file not found", str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError("config", f"cannot be read: {exc}", str(path)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError("config", f"is not valid TOML: {exc}", str(path)) from None
    return data


def load_config(path: Path | str) -> AgencyConfig:
    """Read and validate an agency TOML file."""
    path = Path(path)
    return parse_config(read_toml(path), path.resolve())
