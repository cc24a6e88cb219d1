"""Credentials by reference: ``env:NAME`` or ``file:PATH``, never the secret in a config file.

A config names where a secret lives; the value is read only when a session needs it and is
carried in a :class:`Secret`, whose ``repr`` and ``str`` never show it, so a traceback, a log
line or a serialised model cannot leak it by accident.
"""

from __future__ import annotations

import os
import re
import stat
from dataclasses import dataclass, field
from pathlib import Path

REFERENCE = re.compile(r"^(env|file):(.+)$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# A credential is a line, not a document: anything larger is the wrong file.
MAX_SECRET_BYTES = 64 * 1024
LITERAL_REFUSED = (
    "must be a reference, 'env:NAME' or 'file:PATH' (a file only its owner can read), "
    "never the secret itself"
)


class SecretError(Exception):
    """A credential reference that cannot be used; the message is one line naming the key."""

    def __init__(self, key: str, reason: str) -> None:
        self.key = key
        self.reason = reason
        super().__init__(f"{key}: {reason}")


@dataclass(frozen=True, slots=True)
class Secret:
    """A secret value and the reference it was read from; shown only as its reference."""

    ref: str
    value: str = field(repr=False)

    def reveal(self) -> str:
        """The value itself, for the one call that must send it (a login)."""
        return self.value

    def __str__(self) -> str:
        return f"<secret {self.ref}>"

    def __repr__(self) -> str:
        return f"Secret({self.ref!r})"


def is_reference(value: str) -> bool:
    """True when ``value`` has the form of a reference (``env:NAME`` or ``file:PATH``)."""
    return REFERENCE.match(value) is not None


def check_reference(value: str) -> str:
    """``value`` if it is a well-formed reference; ValueError (without the value) otherwise.

    Meant for config validators: the message never repeats the input, which may be a
    password someone typed into the file.
    """
    match = REFERENCE.match(value)
    if match is None:
        raise ValueError(LITERAL_REFUSED)
    kind, rest = match.groups()
    if kind == "env" and not ENV_NAME.match(rest):
        raise ValueError(
            "'env:' must be followed by a variable name (letters, digits, '_'), e.g. 'env:SW_PASS'"
        )
    return value


def resolve(ref: str, *, key: str) -> Secret:
    """Read the secret ``ref`` points to; :class:`SecretError` naming ``key`` if it cannot."""
    match = REFERENCE.match(ref)
    if match is None:
        raise SecretError(key, LITERAL_REFUSED)
    kind, rest = match.groups()
    value = _from_env(rest, key) if kind == "env" else _from_file(Path(rest), key)
    if not value:
        raise SecretError(key, f"{ref} is empty")
    return Secret(ref=ref, value=value)


def _from_env(name: str, key: str) -> str:
    if not ENV_NAME.match(name):
        raise SecretError(key, f"'{name}' is not an environment variable name")
    value = os.environ.get(name)
    if value is None:
        raise SecretError(key, f"environment variable {name} is not set")
    return value


def _from_file(path: Path, key: str) -> str:
    try:
        info = path.stat()
    except FileNotFoundError:
        raise SecretError(key, f"file {path} does not exist") from None
    except OSError as exc:
        raise SecretError(key, f"file {path} cannot be read: {exc.strerror}") from None
    if not stat.S_ISREG(info.st_mode):
        raise SecretError(key, f"{path} is not a regular file")
    # A secret other users can read is no longer a secret; one they can write can be swapped.
    if info.st_mode & 0o007:
        mode = stat.S_IMODE(info.st_mode)
        raise SecretError(
            key, f"file {path} is accessible to all users (mode {mode:04o}); run: chmod 600 {path}"
        )
    if info.st_size > MAX_SECRET_BYTES:
        raise SecretError(key, f"file {path} is {info.st_size} bytes; a secret file holds one line")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise SecretError(key, f"file {path} is not UTF-8 text") from None
    except OSError as exc:
        raise SecretError(key, f"file {path} cannot be read: {exc.strerror}") from None
    # Editors end the line; the newline is not part of the password (inner spaces may be).
    return text.removesuffix("\n").removesuffix("\r")
