"""The console's accounts, sessions and API tokens, and the audit log (issue #15).

A ``province`` account sees every unit, a ``group`` account the units of its group, a
``unit`` account its own unit only. Passwords are kept as Argon2id hashes (argon2-cffi, with
its defaults, which follow RFC 9106's recommendation); session cookies and API tokens are
random secrets of which the database keeps only the SHA-256, so a copy of the database opens
no session. Ten wrong passwords in a row lock an account for fifteen minutes, and an address
with thirty failed logins in ten minutes is refused until they age out; a session ends
after two idle hours or twelve in all, when its user is disabled, or when the password is
reset. Every login, failed login, lockout, export and token use is written to the audit table.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from secposture.config.sections import AGENCY_ID
from secposture.model.records import utcnow
from secposture.province.db import schema as t
from secposture.province.db.registry import RegistryError, moment, parse_moment
from secposture.province.hierarchy import Hierarchy

LOCK_AFTER = 10  # wrong passwords in a row
LOCK_FOR = timedelta(minutes=15)
# One address trying many accounts (password spraying) locks none of them: it is throttled
# instead, every login from it refused while it has this many failures in the window.
THROTTLE_AFTER = 30
THROTTLE_WINDOW = timedelta(minutes=10)
SESSION_IDLE = timedelta(hours=2)
SESSION_MAX = timedelta(hours=12)
SEEN_EVERY = timedelta(minutes=1)  # how stale a session's last-seen time may be
MIN_PASSWORD = 12
_HASHER = PasswordHasher()
# Verified against when the account does not exist, so that an unknown name costs the same
# time as a wrong password and the reply cannot tell which it was.
_DUMMY = _HASHER.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    """What an account or token may see."""

    PROVINCE = "province"
    GROUP = "group"
    UNIT = "unit"


@dataclass(frozen=True, slots=True)
class Viewer:
    """Who is asking: an account or a token, and what it may see."""

    name: str  # the account's name, or "token:<name>"
    role: Role
    group_id: str | None = None
    unit_id: str | None = None

    def units(self, hierarchy: Hierarchy) -> set[str]:
        """The ids of the units this viewer may see (their predecessors included)."""
        if self.role is Role.PROVINCE:
            return set(hierarchy.units)
        if self.role is Role.GROUP:
            members = [u.id for u in hierarchy.members(self.group_id or "")]
        else:
            members = [self.unit_id] if self.unit_id in hierarchy.units else []
        return {old for unit in members for old in hierarchy.lineage(unit)}


class LoginRefused(Exception):
    """A login that did not open a session; ``reason`` is for the audit log, not the user."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def check_password(password: str) -> None:
    """RegistryError when ``password`` is too weak to set."""
    if len(password) < MIN_PASSWORD:
        raise RegistryError(f"password: at least {MIN_PASSWORD} characters")
    if len(set(password)) < 6:
        raise RegistryError("password: too few different characters")


def _check_scope(role: Role, group: str | None, unit: str | None, hierarchy: Hierarchy) -> None:
    if role is Role.GROUP and (group is None or group not in hierarchy.groups):
        raise RegistryError(f"group: a group account needs a registered --group ({group})")
    if role is Role.UNIT and (unit is None or unit not in hierarchy.units):
        raise RegistryError(f"unit: a unit account needs a registered --unit ({unit})")
    if role is Role.PROVINCE and (group or unit):
        raise RegistryError("role: a province account sees everything: no --group or --unit")


# -- accounts --------------------------------------------------------------------------------


def add_user(
    engine: Engine,
    name: str,
    role: Role,
    password: str,
    *,
    hierarchy: Hierarchy,
    group: str | None = None,
    unit: str | None = None,
    now: datetime | None = None,
) -> None:
    """Create an account, or RegistryError (one line) and nothing changed."""
    if not AGENCY_ID.fullmatch(name):
        raise RegistryError(f"name: {name!r} is not an account name (a-z, 0-9, '-')")
    _check_scope(role, group, unit, hierarchy)
    check_password(password)
    at = moment(now or utcnow())
    with engine.begin() as conn:
        if conn.scalar(select(t.users.c.name).where(t.users.c.name == name)) is not None:
            raise RegistryError(f"name: account {name} exists already")
        conn.execute(
            insert(t.users).values(
                name=name,
                role=role.value,
                group_id=group if role is Role.GROUP else None,
                unit_id=unit if role is Role.UNIT else None,
                password_hash=_HASHER.hash(password),
                disabled=False,
                failed_logins=0,
                created_at=at,
                password_set_at=at,
            )
        )
        _audit(conn, name, "user_added", f"role {role.value}", "cli", at)


def reset_password(engine: Engine, name: str, password: str, now: datetime | None = None) -> None:
    """A new password; the lockout is lifted and every open session of the account ends."""
    check_password(password)
    at = moment(now or utcnow())
    with engine.begin() as conn:
        done = conn.execute(
            update(t.users)
            .where(t.users.c.name == name)
            .values(
                password_hash=_HASHER.hash(password),
                failed_logins=0,
                locked_until=None,
                password_set_at=at,
            )
        )
        if done.rowcount == 0:
            raise RegistryError(f"name: no account {name}")
        conn.execute(delete(t.sessions).where(t.sessions.c.user_name == name))
        _audit(conn, name, "password_reset", "", "cli", at)


def disable_user(engine: Engine, name: str, now: datetime | None = None) -> None:
    """The account can no longer log in, and its open sessions end now."""
    at = moment(now or utcnow())
    with engine.begin() as conn:
        done = conn.execute(update(t.users).where(t.users.c.name == name).values(disabled=True))
        if done.rowcount == 0:
            raise RegistryError(f"name: no account {name}")
        conn.execute(delete(t.sessions).where(t.sessions.c.user_name == name))
        _audit(conn, name, "user_disabled", "", "cli", at)


def list_users(engine: Engine) -> list[dict[str, object]]:
    """Every account without its password hash."""
    with engine.connect() as conn:
        rows = conn.execute(select(t.users).order_by(t.users.c.name))
        return [{k: v for k, v in row._mapping.items() if k != "password_hash"} for row in rows]


# -- sessions --------------------------------------------------------------------------------


def login(
    engine: Engine, name: str, password: str, *, source: str, now: datetime | None = None
) -> tuple[str, str]:
    """Open a session: (the cookie's secret, the session's CSRF token), or LoginRefused.

    A refusal's audit line and failure count are committed before it is raised."""
    now = now or utcnow()
    at = moment(now)
    name = name[:64]
    with engine.begin() as conn:
        refused = _refusal(conn, name, password, source, now)
        if refused is None:
            secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            conn.execute(update(t.users).where(t.users.c.name == name).values(failed_logins=0))
            conn.execute(
                insert(t.sessions).values(
                    digest=_digest(secret),
                    user_name=name,
                    csrf=csrf,
                    created_at=at,
                    seen_at=at,
                    expires_at=moment(now + SESSION_MAX),
                )
            )
            _audit(conn, name, "login", "", source, at)
    if refused is not None:
        raise LoginRefused(refused)
    return secret, csrf


def _refusal(conn: Connection, name: str, password: str, source: str, now: datetime) -> str | None:
    """Why this login is refused (its audit line written), or None when it may go ahead."""
    at = moment(now)
    if _recent_failures(conn, source, now) >= THROTTLE_AFTER:
        _verify(_DUMMY, password)  # the same time as any refusal
        _audit(conn, name, "throttled", f"{THROTTLE_AFTER}+ failures from {source}", source, at)
        return "throttled"
    row = conn.execute(select(t.users).where(t.users.c.name == name)).first()
    reason = None
    if row is None:
        _verify(_DUMMY, password)
        reason = "no such account"
    elif row.disabled:
        reason = "disabled"
    elif row.locked_until is not None and at < row.locked_until:
        reason = "locked"
    elif not _verify(row.password_hash, password):
        failed = row.failed_logins + 1
        locked = moment(now + LOCK_FOR) if failed >= LOCK_AFTER else None
        conn.execute(
            update(t.users)
            .where(t.users.c.name == name)
            .values(failed_logins=0 if locked else failed, locked_until=locked)
        )
        reason = f"wrong password ({failed})"
        if locked:
            _audit(conn, name, "login_failed", reason, source, at)
            reason = f"locked until {locked}"
            _audit(conn, name, "locked", reason, source, at)
            return "wrong password; " + reason
    if reason is not None:
        _audit(conn, name, "login_failed", reason, source, at)
    return reason


def _recent_failures(conn: Connection, source: str, now: datetime) -> int:
    """Failed logins from ``source`` within the throttle window."""
    audit = t.audit
    return (
        conn.scalar(
            select(func.count())
            .select_from(audit)
            .where(
                audit.c.event == "login_failed",
                audit.c.source == source[:64],
                audit.c.at > moment(now - THROTTLE_WINDOW),
            )
        )
        or 0
    )


def _verify(hashed: str, password: str) -> bool:
    try:
        return _HASHER.verify(hashed, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def session_viewer(
    engine: Engine, secret: str, now: datetime | None = None
) -> tuple[Viewer, str] | None:
    """The viewer of a live session and its CSRF token, or None (expired, ended, disabled)."""
    now = now or utcnow()
    at = moment(now)
    with engine.begin() as conn:
        row = conn.execute(
            select(t.sessions, t.users)
            .join(t.users, t.users.c.name == t.sessions.c.user_name)
            .where(t.sessions.c.digest == _digest(secret))
        ).first()
        if row is None:
            return None
        idle = parse_moment(row.seen_at) + SESSION_IDLE
        if row.disabled or at >= row.expires_at or now >= idle:
            conn.execute(delete(t.sessions).where(t.sessions.c.digest == row.digest))
            return None
        # At most one write a minute per session: a write (and, on SQLite, an fsync) on
        # every page view would be the dearest part of serving it.
        if now - parse_moment(row.seen_at) >= SEEN_EVERY:
            conn.execute(
                update(t.sessions).where(t.sessions.c.digest == row.digest).values(seen_at=at)
            )
    viewer = Viewer(row.user_name, Role(row.role), row.group_id, row.unit_id)
    return viewer, str(row.csrf)


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of a form's CSRF token with the session's."""
    return given is not None and hmac.compare_digest(expected.encode(), given.encode())


def logout(engine: Engine, secret: str, *, source: str) -> None:
    """End the session whose cookie holds ``secret``."""
    with engine.begin() as conn:
        row = conn.execute(
            select(t.sessions.c.user_name).where(t.sessions.c.digest == _digest(secret))
        ).first()
        conn.execute(delete(t.sessions).where(t.sessions.c.digest == _digest(secret)))
        if row is not None:
            _audit(conn, row.user_name, "logout", "", source, moment(utcnow()))


# -- API tokens ------------------------------------------------------------------------------


def add_token(
    engine: Engine,
    name: str,
    role: Role,
    *,
    hierarchy: Hierarchy,
    group: str | None = None,
    unit: str | None = None,
    now: datetime | None = None,
) -> str:
    """A read-only API token, scoped like an account; returned once, kept only as a digest."""
    if not AGENCY_ID.fullmatch(name):
        raise RegistryError(f"name: {name!r} is not a token name (a-z, 0-9, '-')")
    _check_scope(role, group, unit, hierarchy)
    secret = "sp_" + secrets.token_urlsafe(32)
    at = moment(now or utcnow())
    with engine.begin() as conn:
        if conn.scalar(select(t.api_tokens.c.name).where(t.api_tokens.c.name == name)):
            raise RegistryError(f"name: token {name} exists already")
        conn.execute(
            insert(t.api_tokens).values(
                digest=_digest(secret),
                name=name,
                role=role.value,
                group_id=group if role is Role.GROUP else None,
                unit_id=unit if role is Role.UNIT else None,
                created_at=at,
            )
        )
        _audit(conn, f"token:{name}", "token_added", f"role {role.value}", "cli", at)
    return secret


def revoke_token(engine: Engine, name: str, now: datetime | None = None) -> None:
    """The token stops working now."""
    at = moment(now or utcnow())
    with engine.begin() as conn:
        done = conn.execute(
            update(t.api_tokens)
            .where(t.api_tokens.c.name == name, t.api_tokens.c.revoked_at.is_(None))
            .values(revoked_at=at)
        )
        if done.rowcount == 0:
            raise RegistryError(f"name: no live token {name}")
        _audit(conn, f"token:{name}", "token_revoked", "", "cli", at)


def token_viewer(
    engine: Engine, secret: str, *, source: str, what: str, now: datetime | None = None
) -> Viewer | None:
    """The viewer a live token stands for (its use audited), or None."""
    at = moment(now or utcnow())
    with engine.begin() as conn:
        row = conn.execute(
            select(t.api_tokens).where(t.api_tokens.c.digest == _digest(secret))
        ).first()
        if row is None or row.revoked_at is not None:
            _audit(conn, "-", "token_refused", what[:200], source, at)
            return None
        _audit(conn, f"token:{row.name}", "token_use", what[:200], source, at)
    return Viewer(f"token:{row.name}", Role(row.role), row.group_id, row.unit_id)


# -- the audit log ---------------------------------------------------------------------------


def audit(engine: Engine, who: str, event: str, detail: str, source: str) -> None:
    """Write one audit line (an export, a page of another scope refused, …)."""
    with engine.begin() as conn:
        _audit(conn, who, event, detail, source, moment(utcnow()))


def _audit(conn: Connection, who: str, event: str, detail: str, source: str, at: str) -> None:
    conn.execute(
        insert(t.audit).values(
            at=at, who=who[:64], event=event, detail=detail[:2000], source=source[:64]
        )
    )


def audit_lines(engine: Engine, events: Iterable[str] | None = None) -> list[dict[str, object]]:
    """The audit log, oldest first (only ``events`` when given)."""
    query = select(t.audit).order_by(t.audit.c.id)
    if events is not None:
        query = query.where(t.audit.c.event.in_(list(events)))
    with engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(query)]
