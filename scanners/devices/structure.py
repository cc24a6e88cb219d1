"""The shape of a device configuration: lines, blocks, and banner text that is not a command.

Both dialects indent a block's lines under the command that opens it (``line vty 0 4``,
``user-interface vty 0 4``). A banner's text is free text chosen by whoever configured the
device: it is never read as commands, so a banner that says "enable password" changes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from secposture.model.platforms import Dialect

_IOS_BANNER = re.compile(r"^banner\s+(\S+)[ \t]*(.*)$")
_VRP_HEADER = re.compile(r"^\s*header\s+(login|shell|motd|incoming|legal)\b[ \t]*(.*)$")


class Role(StrEnum):
    """What a configuration line is: a command, or a banner's opening or text."""

    COMMAND = "command"
    BANNER_OPEN = "banner-open"  # "banner login ^C…": a command whose tail is banner text
    BANNER_TEXT = "banner-text"


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a configuration: its place, its text, its role and its block."""

    index: int
    text: str
    role: Role
    block: int | None  # index of the line that opened the block this line belongs to

    @property
    def command(self) -> bool:
        """Whether the line is a command (not banner text)."""
        return self.role is Role.COMMAND

    @property
    def indented(self) -> bool:
        """Whether the line starts with a blank, i.e. sits inside a block."""
        return self.text[:1] in (" ", "\t")


def split_lines(text: str) -> list[str]:
    """Lines without line endings or trailing blanks; NUL bytes dropped (binary junk)."""
    text = text.replace("\x00", "").replace("\r\n", "\n").replace("\r", "\n")
    return [line.rstrip() for line in text.split("\n")]


def _banner_end(lines: list[str], start: int, delim: str, body: str, eof_style: bool) -> int:
    """Index of the banner's last line (the one that closes it; the end if never closed)."""
    if eof_style:
        for i in range(start + 1, len(lines)):
            if lines[i].strip() == "EOF":
                return i
        return len(lines) - 1
    if delim and delim in body:
        return start
    for i in range(start + 1, len(lines)):
        if delim and delim in lines[i]:
            return i
    return len(lines) - 1


def _banner_open(line: str, dialect: Dialect) -> tuple[str, str, bool] | None:
    """(delimiter, text after it, EOF-style) when ``line`` opens a banner, else None."""
    if not line.lstrip().startswith(("banner", "header")):
        return None
    if dialect is Dialect.IOS:
        match = _IOS_BANNER.match(line)
        if match is None:
            return None
        rest = match.group(2)
        if not rest:
            return "", "", True  # Arista EOS: text lines up to a line "EOF"
        if rest.startswith("^C"):
            return "^C", rest[2:], False
        return rest[0], rest[1:], False
    match = _VRP_HEADER.match(line)
    if match is None:
        return None
    rest = match.group(2)
    if rest.startswith("information"):
        rest = rest[len("information") :].lstrip()
    if not rest or rest.startswith("file"):
        return None  # the text lives in a file on the device
    return rest[0], rest[1:], False


def structure(text: str, dialect: Dialect) -> list[Line]:
    """Every line of ``text`` with its role and the block it sits in."""
    raw = split_lines(text)
    out: list[Line] = []
    block: int | None = None
    separator = "!" if dialect is Dialect.IOS else "#"
    i = 0
    while i < len(raw):
        line = raw[i]
        opened = _banner_open(line, dialect)
        if opened is not None:
            delim, body, eof_style = opened
            end = _banner_end(raw, i, delim, body, eof_style)
            out.append(Line(i, line, Role.BANNER_OPEN, None))
            out.extend(Line(j, raw[j], Role.BANNER_TEXT, None) for j in range(i + 1, end + 1))
            block = None
            i = end + 1
            continue
        stripped = line.strip()
        if not stripped or stripped.startswith(separator):
            block = None if not line[:1].isspace() else block
            out.append(Line(i, line, Role.COMMAND, block))
        elif line[:1].isspace():
            out.append(Line(i, line, Role.COMMAND, block))
        else:
            block = i
            out.append(Line(i, line, Role.COMMAND, None))
        i += 1
    return out
