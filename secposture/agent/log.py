"""Structured, greppable log lines for the journal: ``ts=… level=… event=… key=value …``.

One line per event, values quoted only when they need it, never a traceback: the journal is
read by staff and shipped around, and a traceback can carry a device's reply or a path. The
agent logs only fields it chooses (never the config or the environment), so no secret can
reach the log through it. APScheduler's own log records are passed through in the same form.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

LOGGER = "secposture.agent"
_PLAIN = re.compile(r"^[\w.:/@+\-,]+$")
MAX_VALUE = 500


def _value(value: object) -> str:
    if isinstance(value, datetime):
        text = value.isoformat(timespec="seconds")
    elif isinstance(value, float):
        text = f"{value:.3f}"
    else:
        text = str(value)
    if len(text) > MAX_VALUE:
        text = text[:MAX_VALUE] + "…"
    # json.dumps quotes and escapes newlines, so one event is always one line.
    return text if _PLAIN.match(text) else json.dumps(text, ensure_ascii=False)


def one_line(exc: BaseException) -> str:
    """An exception as ``Type: message`` on one line, for records and logs."""
    message = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class KeyValueFormatter(logging.Formatter):
    """``ts=… level=… event=… k=v`` from ``extra={"fields": {...}}``; others as ``msg=``."""

    def format(self, record: logging.LogRecord) -> str:
        """One ``key=value`` line: time, level, event, then the event's fields."""
        ts = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        parts = [f"ts={ts.replace('+00:00', 'Z')}", f"level={record.levelname.lower()}"]
        fields: dict[str, Any] = getattr(record, "fields", None) or {}
        if "event" not in fields:
            parts.append(f"event={record.name.split('.')[0]}")
        parts += [f"{k}={_value(v)}" for k, v in fields.items() if v is not None]
        if not fields:
            parts.append(f"msg={_value(record.getMessage())}")
        if record.exc_info and record.exc_info[1] is not None:
            parts.append(f"error={_value(one_line(record.exc_info[1]))}")
        return " ".join(parts)


# APScheduler messages that the agent's event listeners already log as event=job_missed,
# job_skipped and job_error, with the fields staff need; its other warnings pass through.
_COVERED = (
    "Run time of job",
    "Execution of job",
    'Job "%s" raised an exception',
)


def _not_covered(record: logging.LogRecord) -> bool:
    return not str(record.msg).startswith(_COVERED)


def configure(stream: TextIO | None = None, level: int = logging.INFO) -> None:
    """Send the agent's and APScheduler's records to ``stream`` (stdout: the journal)."""
    handler = logging.StreamHandler(stream or sys.stdout)
    handler.setFormatter(KeyValueFormatter())
    handler.addFilter(_not_covered)
    for name, lvl in ((LOGGER, level), ("apscheduler", logging.WARNING)):
        logger = logging.getLogger(name)
        logger.handlers[:] = [handler]
        logger.setLevel(lvl)
        logger.propagate = False


def event(name: str, level: int = logging.INFO, /, **fields: Any) -> None:
    """Log one event with its fields."""
    fields.pop("event", None)  # the event's name is never overridden by its fields
    logging.getLogger(LOGGER).log(level, name, extra={"fields": {"event": name, **fields}})
