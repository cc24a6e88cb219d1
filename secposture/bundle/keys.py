"""The agency's Ed25519 signing key: created once, kept by reference, never copied into output.

The private key lives in a PEM file readable by its owner only (``file:PATH``) or in an
environment variable (``env:NAME``, for systemd credentials). The public key travels as one
line, ``ed25519:<base64>``, which is what the province registers for the agency.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import stat
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

ALGORITHM = "ed25519"
PREFIX = f"{ALGORITHM}:"
KEY_FILE_MODE = 0o600


class KeyProblem(Exception):
    """The signing key cannot be created or used; phrased for the user."""


def key_file(ref: str) -> Path | None:
    """The path of a ``file:`` key reference (None for ``env:``)."""
    return Path(ref[5:]) if ref.startswith("file:") else None


def create_key(path: Path) -> Ed25519PrivateKey:
    """Write a new private key to ``path`` (mode 0600); never replaces an existing key,
    because the province has registered the old one's public half."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, KEY_FILE_MODE)
    except FileExistsError:
        raise KeyProblem(
            f"{path}: a key already exists and is kept (delete it first to replace it)"
        ) from None
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
        fh.flush()
        os.fsync(fh.fileno())
    return key


def load_private_key(ref: str) -> Ed25519PrivateKey:
    """The private key a ``file:PATH`` or ``env:NAME`` reference points at."""
    path = key_file(ref)
    if path is not None:
        try:
            mode = path.stat().st_mode
            raw = path.read_bytes()
        except FileNotFoundError:
            raise KeyProblem(
                f"{path}: no key file (create it with 'secposture keys init')"
            ) from None
        except OSError as exc:
            raise KeyProblem(f"{path}: cannot read the key: {exc.strerror}") from None
        # Like ssh: a signing key others can read is no longer the agency's alone.
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise KeyProblem(f"{path}: key file is readable by others; run chmod 600 on it")
        return _parse_private(raw, str(path))
    name = ref.removeprefix("env:")
    value = os.environ.get(name)
    if not value:
        raise KeyProblem(f"environment variable {name} (bundle.key) is not set")
    return _parse_private(value.encode(), f"${name}")


def _parse_private(raw: bytes, where: str) -> Ed25519PrivateKey:
    try:
        if raw.lstrip().startswith(b"-----BEGIN"):
            key = serialization.load_pem_private_key(raw, password=None)
        else:  # the 32-byte seed in base64, the shape an environment variable can hold
            key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(raw, validate=True))
    except (ValueError, TypeError, UnsupportedAlgorithm, binascii.Error):
        raise KeyProblem(f"{where}: not an Ed25519 private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise KeyProblem(f"{where}: not an Ed25519 private key")
    return key


def public_key_text(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """The one-line public key the province registers: ``ed25519:<base64 of 32 bytes>``."""
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return PREFIX + base64.b64encode(raw).decode("ascii")


def parse_public_key(text: str) -> Ed25519PublicKey:
    """An ``ed25519:<base64>`` line as a key; ValueError saying what is wrong otherwise."""
    if not text.startswith(PREFIX):
        raise ValueError(f"public key must start with '{PREFIX}'")
    try:
        raw = base64.b64decode(text[len(PREFIX) :], validate=True)
    except binascii.Error:
        raise ValueError("public key is not valid base64") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key is 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def key_id(public_text: str) -> str:
    """A short fingerprint to name a key in logs and listings."""
    return hashlib.sha256(public_text.encode("ascii")).hexdigest()[:16]
