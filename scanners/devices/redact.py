"""Redaction: the stored copy of a configuration holds no password, secret, community or key.

Each secret is replaced by a marker naming what it was and how the device stored it, e.g.
``enable password <redacted:enable-password:plaintext>`` or
``snmp-server community <redacted:snmp-community:plaintext:default-public> RO``; the kind and
form are also returned as data, so the checks need nothing but the redacted copy.

The rules read tokens, not whole-line patterns: a keyword (``password``, ``secret``, ``key``,
``community``…) is followed by optional qualifiers, an optional storage type (``0``, ``7``,
``cipher``, ``sha512``…) and then the value. Secrets the session itself used (the login
password, the enable secret) are also replaced wherever they appear, whatever the line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources

from scanners.devices.structure import Line, Role, structure
from secposture.model.device_facts import SecretForm
from secposture.model.platforms import Dialect

TOKEN = re.compile(r"\S+")
CREDENTIAL_MARKER = "<redacted:credential>"

# How a storage-type token says the value is kept.
FORMS: dict[str, SecretForm] = {
    "0": SecretForm.PLAINTEXT,
    "simple": SecretForm.PLAINTEXT,
    "plain": SecretForm.PLAINTEXT,
    "6": SecretForm.REVERSIBLE,  # IOS type 6: AES, decodable with the master key
    "7": SecretForm.REVERSIBLE,  # IOS type 7: a Vigenère-style encoding anyone can reverse
    "cipher": SecretForm.REVERSIBLE,  # VRP/Comware "cipher": reversible encryption
    "4": SecretForm.HASHED,
    "5": SecretForm.HASHED,
    "8": SecretForm.HASHED,
    "9": SecretForm.HASHED,
    "sha512": SecretForm.HASHED,
    "sha256": SecretForm.HASHED,
    "hash": SecretForm.HASHED,
    "irreversible-cipher": SecretForm.HASHED,
}
# Lines that change on every read without the configuration changing: dropped, so that the
# hash of the stored copy moves only when the configuration does.
VOLATILE = re.compile(
    r"^\s*(?:Building configuration|Current configuration\s*:|! ?Last configuration change"
    r"|! ?NVRAM config last updated|! ?No configuration change since|ntp clock-period"
    r"|! ?Time:|!Last configuration was (?:updated|saved)|! Command: show running-config)",
)
# Hash and cipher names that may stand between a keyword and its value.
_ALGORITHMS = {
    "md5", "sha", "sha1", "sha-1", "sha2-256", "sha-256", "sha256", "sha512", "sha224", "sha384",
    "hmac-md5", "hmac-sha1", "hmac-sha256", "hmac-sha2-256",
    "aes", "aes128", "aes192", "aes256", "aes-128", "aes-192", "aes-256", "des", "des56", "3des",
}  # fmt: skip
_KEY_SIZES = {"128", "192", "256"}
# Words that follow "password" when it names a policy, not a value ("password expire 0").
_NOT_A_VALUE = {
    "policy",
    "history",
    "expire",
    "expired",
    "alert",
    "complexity-check",
    "min-length",
    "length",
    "retry",
    "encryption",
    "control",
    "recovery",
    "aging",
    "change",
    "prompt",
}


@dataclass(frozen=True, slots=True)
class FoundSecret:
    """One secret the redaction replaced: where, what kind, how it was stored."""

    line: int  # index in the redacted text's lines
    kind: str
    form: SecretForm | None
    owner: str = ""
    default_name: str | None = None  # an SNMP community that is a well-known default


@dataclass(frozen=True, slots=True)
class Redacted:
    """A configuration with its secrets replaced by markers, and what was found."""

    text: str
    lines: tuple[Line, ...]
    found: tuple[FoundSecret, ...]
    known_replaced: int = 0  # how many times a session credential was caught by the backstop


@cache
def default_communities() -> frozenset[str]:
    """Well-known default SNMP communities (the list the nmap probe tries too)."""
    raw = resources.files("secposture").joinpath("data/snmp-default-communities.txt")
    return frozenset(
        line.strip()
        for line in raw.read_text("utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    )


def marker(kind: str, form: SecretForm | None, default_name: str | None = None) -> str:
    """The text that stands in for a secret, e.g. ``<redacted:password:reversible>``."""
    parts = ["redacted", kind]
    if form is not None:
        parts.append(form.value)
    if default_name is not None:
        parts.append(f"default-{default_name}")
    return "<" + ":".join(parts) + ">"


@dataclass(frozen=True, slots=True)
class _Hit:
    start: int  # token index of the value
    end: int  # one past the last token of the value
    form: SecretForm | None
    keyword: str


Tokens = list[str]
Handler = Callable[[Tokens, int], _Hit | None]


def _skip_pairs(words: Tokens, i: int, names: set[str]) -> int:
    while i + 1 < len(words) and words[i] in names:
        i += 2
    return i


def _typed_value(
    words: Tokens,
    i: int,
    keyword: str,
    *,
    rest: bool,
    default: SecretForm | None,
    stop: set[str] | None = None,
) -> _Hit | None:
    """An optional storage-type token at ``i`` then the value (to the end of line if ``rest``)."""
    form = default
    if i < len(words) and words[i] in FORMS and i + 1 < len(words):
        form = FORMS[words[i]]
        i += 1
    if i >= len(words):
        return None
    end = i + 1
    if rest:
        end = len(words)
        if stop:
            end = next((j for j in range(i + 1, len(words)) if words[j] in stop), end)
    return _Hit(i, end, form, keyword)


def _password(words: Tokens, i: int) -> _Hit | None:
    j = _skip_pairs(words, i + 1, {"level", "role"})
    if j < len(words) and words[j] in _NOT_A_VALUE:
        return None
    return _typed_value(words, j, words[i], rest=True, default=SecretForm.PLAINTEXT)


def _key(words: Tokens, i: int) -> _Hit | None:
    nxt = words[i + 1] if i + 1 < len(words) else ""
    if nxt in {"chain", "config-key", "generate", "exchange"}:
        return None
    if i == 0 and len(words) == 2 and nxt.isdigit():
        return None  # " key 1" inside a key chain: the key's number
    j = i + 1
    while j < len(words) and words[j] in {"authentication", "accounting", "tacacs", "radius"}:
        j += 1
    return _typed_value(
        words,
        j,
        "key",
        rest=True,
        default=SecretForm.PLAINTEXT,
        stop={"address", "hostname", "no-xauth"},
    )


def _single(keyword: str) -> Handler:
    def handler(words: Tokens, i: int) -> _Hit | None:
        return _typed_value(words, i + 1, keyword, rest=False, default=SecretForm.PLAINTEXT)

    return handler


def _rest(keyword: str) -> Handler:
    def handler(words: Tokens, i: int) -> _Hit | None:
        return _typed_value(words, i + 1, keyword, rest=True, default=SecretForm.PLAINTEXT)

    return handler


def _community(words: Tokens, i: int) -> _Hit | None:
    j = i + 1
    if j < len(words) and words[j] in {"read", "write"}:
        j += 1
    return _typed_value(words, j, "community", rest=False, default=SecretForm.PLAINTEXT)


def _after_algorithm(keyword: str) -> Handler:
    """``auth sha VALUE``, ``priv aes 128 VALUE``, ``authentication-mode md5 [1] cipher VALUE``."""

    def handler(words: Tokens, i: int) -> _Hit | None:
        j = i + 1
        if j >= len(words) or words[j] not in _ALGORITHMS:
            return None
        j += 1
        if j < len(words) and words[j] in _KEY_SIZES:
            j += 1
        if j + 1 < len(words) and words[j].isdigit() and keyword == "authentication-mode":
            j += 1  # a key id: "ospf authentication-mode md5 1 cipher VALUE"
        return _typed_value(words, j, keyword, rest=False, default=SecretForm.PLAINTEXT)

    return handler


def _numbered(keyword: str) -> Handler:
    """``ntp authentication-key 1 md5 VALUE``, ``ip ospf message-digest-key 1 md5 7 VALUE``."""

    def handler(words: Tokens, i: int) -> _Hit | None:
        j = i + 1
        if j + 1 < len(words) and words[j].isdigit() and words[j + 1] in _ALGORITHMS:
            j += 2
        elif j < len(words) and words[j] in _ALGORITHMS and j + 1 < len(words):
            j += 1
        return _typed_value(words, j, keyword, rest=False, default=SecretForm.PLAINTEXT)

    return handler


def _wifi(words: Tokens, i: int) -> _Hit | None:
    j = i + 1
    if j < len(words) and words[j] in {"ascii", "hex", "pass-phrase"}:
        j += 1
    return _typed_value(words, j, "wifi-psk", rest=True, default=SecretForm.PLAINTEXT)


HANDLERS: dict[str, Handler] = {
    "password": _password,
    "secret": _rest("secret"),
    "key": _key,
    "key-string": _rest("key-string"),
    "shared-key": _rest("key"),
    "pre-shared-key": _rest("pre-shared-key"),
    "password-encrypt": _rest("password-encrypt"),
    "securityname": _single("community"),
    "community": _community,
    "auth": _after_algorithm("auth"),
    "priv": _after_algorithm("priv"),
    "authentication-mode": _after_algorithm("authentication-mode"),
    "privacy-mode": _after_algorithm("priv"),
    "authentication-key": _numbered("authentication-key"),
    "message-digest-key": _numbered("authentication-key"),
    "wpa-psk": _wifi,
    "psk": _wifi,
}
_SNMP_HOST_SKIP = {"traps", "informs", "trap", "inform"}


def _snmp_host(words: Tokens) -> _Hit | None:
    """``snmp-server host ADDR [traps] [version 2c] [vrf X] COMMUNITY …``: the community."""
    j = 3
    while j < len(words):
        word = words[j]
        if word in _SNMP_HOST_SKIP:
            j += 1
        elif word == "version" and j + 1 < len(words):
            j += 2
            if j < len(words) and words[j] in {"auth", "noauth", "priv"}:
                j += 1
        elif word in {"vrf", "encrypted"}:
            j += 2 if word == "vrf" else 1
        else:
            return _Hit(j, j + 1, SecretForm.PLAINTEXT, "community")
    return None


def _kind(keyword: str, words: Tokens, context: str) -> str:
    """What the secret is, from its keyword and the command (or block) it sits in."""
    first = words[0] if words else ""
    if keyword in {"auth", "authentication-mode"} and first.startswith("snmp"):
        return "snmp-auth-key"
    if keyword == "priv":
        return "snmp-priv-key"
    if keyword == "community":
        return "snmp-community"
    if first == "enable":
        return f"enable-{keyword}"
    if first == "super":
        return "super-password"
    if first in {"username", "local-user"} or context == "local-user":
        return "user-secret" if keyword == "secret" else "user-password"
    if context in {"line", "user-interface"} or words[:2] == ["set", "authentication"]:
        return "line-password"
    if first.startswith(("tacacs", "radius", "hwtacacs")) or context in {
        "tacacs",
        "radius",
        "hwtacacs",
        "tacacs-server",
        "radius-server",
        "aaa",
    }:
        return "aaa-key"
    if first.startswith("ntp"):
        return "ntp-key"
    if keyword in {"key-string", "pre-shared-key", "wifi-psk", "password-encrypt"}:
        return keyword
    if first in {"neighbor", "ospf", "isis", "rip"} or words[:2] == ["ip", "ospf"]:
        return "routing-key"
    if first == "crypto":
        return "pre-shared-key"
    return keyword


def _owner(kind: str, words: Tokens, context_words: Tokens) -> str:
    if kind in {"user-password", "user-secret"}:
        source = words if words and words[0] in {"username", "local-user"} else context_words
        return source[1] if len(source) > 1 else ""
    if kind == "line-password":
        return " ".join(context_words[:4])
    return ""


# A line none of whose words is a keyword holds no secret the rules could find: skip it fast.
_TRIGGER = re.compile(
    r"(?:^|\s)(?:" + "|".join(re.escape(k) for k in [*HANDLERS, "snmp-server"]) + r")(?=\s|$)",
    re.IGNORECASE,
)


def _redact_line(
    text: str, context_words: Tokens, defaults: frozenset[str], index: int
) -> tuple[str, list[FoundSecret]]:
    if not _TRIGGER.search(text):
        return text, []
    spans = [(m.start(), m.end()) for m in TOKEN.finditer(text)]
    raw = [text[a:b] for a, b in spans]
    words = [w.lower() for w in raw]
    context = context_words[0] if context_words else ""
    hits: list[_Hit] = []
    if words[:2] == ["snmp-server", "host"]:
        hit = _snmp_host(words)
        if hit is not None:
            hits.append(hit)
    i = 0
    while i < len(words):
        handler = HANDLERS.get(words[i])
        hit = handler(words, i) if handler is not None else None
        if hit is not None and not any(h.start <= hit.start < h.end for h in hits):
            hits.append(hit)
            i = hit.end
            continue
        i += 1
    if not hits:
        return text, []
    found: list[FoundSecret] = []
    out = text
    for hit in sorted(hits, key=lambda h: h.start, reverse=True):
        kind = _kind(hit.keyword, words, context)
        value = " ".join(raw[hit.start : hit.end])
        default = value if kind == "snmp-community" and value in defaults else None
        start, end = spans[hit.start][0], spans[hit.end - 1][1]
        out = out[:start] + marker(kind, hit.form, default) + out[end:]
        found.append(
            FoundSecret(index, kind, hit.form, _owner(kind, words, context_words), default)
        )
    found.reverse()
    return out, found


def redact(text: str, dialect: Dialect, known: Iterable[str] = ()) -> Redacted:
    """The configuration with every secret replaced by a marker, and what was replaced.

    ``known`` are secret values the caller holds (the credentials of the session): any
    occurrence left after the rules, in any line, banners included, is replaced too.
    """
    lines = structure(text, dialect)
    by_index = {line.index: line for line in lines}
    defaults = default_communities()
    kept: list[str] = []
    meta: list[tuple[Role, int | None]] = []  # each kept line's role and (old) block index
    new_index: dict[int, int] = {}
    found: list[FoundSecret] = []
    for line in lines:
        if line.role is Role.COMMAND and VOLATILE.match(line.text):
            continue
        if not kept and not line.text.strip():
            continue  # blank lines the dropped header left at the top
        new_index[line.index] = len(kept)
        meta.append((line.role, line.block))
        if not line.text.strip():
            kept.append(line.text)
            continue
        opener = by_index.get(line.block) if line.block is not None else None
        context_words = [w.lower() for w in opener.text.split()] if opener else []
        redacted, hits = _redact_line(line.text, context_words, defaults, len(kept))
        kept.append(redacted)
        # Banner text is redacted too (a banner that never closes swallows the real lines
        # after it), but what it says is not a setting: its hits are not facts.
        if line.role is Role.COMMAND:
            found.extend(hits)
    while kept and not kept[-1].strip():
        kept.pop()
        meta.pop()
    joined = "\n".join(kept) + "\n"
    replaced = 0
    for value in sorted({v for v in known if v}, key=len, reverse=True):
        count = joined.count(value)
        if count:
            replaced += count
            joined = joined.replace(value, CREDENTIAL_MARKER)
    texts = joined.split("\n")[:-1]
    if len(texts) == len(meta):
        out = tuple(
            Line(i, texts[i], role, None if block is None else new_index.get(block))
            for i, (role, block) in enumerate(meta)
        )
    else:  # a known secret held a line break: the lines moved, read them again
        out = tuple(structure(joined, dialect))
    return Redacted(joined, out, tuple(found), replaced)
