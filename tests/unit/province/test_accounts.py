"""The console's accounts (issue #15), on SQLite and on PostgreSQL: Argon2id hashes only, ten
wrong passwords lock an account for a while, a disabled account's session stops working,
sessions expire, tokens are scoped like accounts and audited, and who sees which unit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from secposture.province.accounts import (
    LOCK_AFTER,
    THROTTLE_AFTER,
    THROTTLE_WINDOW,
    LoginRefused,
    Role,
    add_token,
    add_user,
    audit_lines,
    disable_user,
    login,
    reset_password,
    revoke_token,
    session_viewer,
    token_viewer,
)
from secposture.province.db import schema as t
from secposture.province.db.engine import database_url, open_database
from secposture.province.db.registry import RegistryError
from secposture.province.db.store import SqlStore
from secposture.province.hierarchy import Hierarchy, parse_collector_config

T0 = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
PASSWORD = "mật khẩu đủ dài 2026"


@pytest.fixture(params=["sqlite", "postgresql"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Engine, Hierarchy]]:
    database = request.getfixturevalue("postgres_url") if request.param == "postgresql" else None
    config = parse_collector_config(
        {
            "collector": {"store": str(tmp_path), **({"database": database} if database else {})},
            "province": {"id": "tn-tinh", "name": "Tỉnh Tây Ninh"},
            "group": [{"id": "cum-1", "name": "Cụm 1"}],
            "unit": [
                {"id": "xa-a", "name": "UBND xã A", "level": "commune", "groups": ["cum-1"]},
                {"id": "xa-b", "name": "UBND xã B", "level": "commune", "groups": ["cum-1"]},
                {"id": "phuong-c", "name": "UBND phường C", "level": "ward"},
            ],
        }
    )
    engine = open_database(database_url(config.collector.database_url(), tmp_path))
    yield engine, SqlStore(engine, config).hierarchy
    engine.dispose()


def test_a_password_is_kept_as_an_argon2id_hash_and_opens_a_session(
    registry: tuple[Engine, Hierarchy],
) -> None:
    engine, hierarchy = registry
    add_user(engine, "can-bo-tinh", Role.PROVINCE, PASSWORD, hierarchy=hierarchy, now=T0)
    with engine.connect() as conn:
        stored = conn.scalar(select(t.users.c.password_hash))
    assert stored.startswith("$argon2id$") and PASSWORD not in stored
    secret, csrf = login(engine, "can-bo-tinh", PASSWORD, source="127.0.0.1", now=T0)
    viewer, token = session_viewer(engine, secret, now=T0 + timedelta(minutes=5)) or (None, "")
    assert viewer is not None and viewer.role is Role.PROVINCE and token == csrf
    with engine.connect() as conn:  # the cookie's secret is not in the database
        assert secret not in str(conn.execute(select(t.sessions)).all())
    # An idle session ends after two hours; any session after twelve
    assert session_viewer(engine, secret, now=T0 + timedelta(hours=2, minutes=6)) is None
    with pytest.raises(RegistryError, match="at least 12"):
        add_user(engine, "ngan", Role.PROVINCE, "ngan", hierarchy=hierarchy)


def test_ten_wrong_passwords_lock_the_account_for_a_while(
    registry: tuple[Engine, Hierarchy],
) -> None:
    engine, hierarchy = registry
    add_user(engine, "xa-a-it", Role.UNIT, PASSWORD, hierarchy=hierarchy, unit="xa-a", now=T0)
    for n in range(LOCK_AFTER):
        with pytest.raises(LoginRefused, match="wrong password"):
            login(engine, "xa-a-it", f"sai {n}", source="10.0.0.9", now=T0)
    # Then even the right password is refused until the lock ends
    with pytest.raises(LoginRefused, match="locked"):
        login(engine, "xa-a-it", PASSWORD, source="10.0.0.9", now=T0 + timedelta(minutes=14))
    assert login(engine, "xa-a-it", PASSWORD, source="10.0.0.9", now=T0 + timedelta(minutes=16))
    events = [line["event"] for line in audit_lines(engine)]
    assert events.count("login_failed") == LOCK_AFTER + 1 and "locked" in events
    assert events[-1] == "login"
    # An unknown name is refused the same way, and audited
    with pytest.raises(LoginRefused):
        login(engine, "khong-co", PASSWORD, source="10.0.0.9")


def test_one_address_trying_many_accounts_is_throttled_without_locking_them(
    registry: tuple[Engine, Hierarchy],
) -> None:
    engine, hierarchy = registry
    add_user(engine, "xa-b-it", Role.UNIT, PASSWORD, hierarchy=hierarchy, unit="xa-b", now=T0)
    for n in range(THROTTLE_AFTER):  # a spray: a few tries each at many names
        with pytest.raises(LoginRefused):
            login(engine, f"ten-{n % 7}", "mat-khau-pho-bien", source="10.9.9.9", now=T0)
    # now even a right password from that address is refused, and says why in the audit log
    with pytest.raises(LoginRefused, match="throttled"):
        login(engine, "xa-b-it", PASSWORD, source="10.9.9.9", now=T0 + timedelta(minutes=1))
    assert audit_lines(engine, ["throttled"])[-1]["source"] == "10.9.9.9"
    # another address is not, and the account was never locked
    assert login(engine, "xa-b-it", PASSWORD, source="10.0.0.5", now=T0 + timedelta(minutes=1))
    # once the failures age out of the window, the address may log in again
    later = T0 + THROTTLE_WINDOW + timedelta(seconds=1)
    assert login(engine, "xa-b-it", PASSWORD, source="10.9.9.9", now=later)


def test_a_disabled_or_reset_account_loses_its_sessions(registry: tuple[Engine, Hierarchy]) -> None:
    engine, hierarchy = registry
    add_user(engine, "cum-1-it", Role.GROUP, PASSWORD, hierarchy=hierarchy, group="cum-1")
    first, _ = login(engine, "cum-1-it", PASSWORD, source="x")
    reset_password(engine, "cum-1-it", PASSWORD + "!")
    assert session_viewer(engine, first) is None
    second, _ = login(engine, "cum-1-it", PASSWORD + "!", source="x")
    assert session_viewer(engine, second) is not None
    disable_user(engine, "cum-1-it")
    assert session_viewer(engine, second) is None
    with pytest.raises(LoginRefused, match="disabled"):
        login(engine, "cum-1-it", PASSWORD + "!", source="x")


def test_each_role_sees_its_own_units_only(registry: tuple[Engine, Hierarchy]) -> None:
    engine, hierarchy = registry
    add_user(engine, "tinh", Role.PROVINCE, PASSWORD, hierarchy=hierarchy)
    add_user(engine, "cum", Role.GROUP, PASSWORD, hierarchy=hierarchy, group="cum-1")
    add_user(engine, "xa", Role.UNIT, PASSWORD, hierarchy=hierarchy, unit="xa-b")
    seen = {}
    for name in ("tinh", "cum", "xa"):
        secret, _ = login(engine, name, PASSWORD, source="x")
        found = session_viewer(engine, secret)
        assert found is not None
        seen[name] = found[0].units(hierarchy)
    assert seen == {
        "tinh": {"xa-a", "xa-b", "phuong-c"},
        "cum": {"xa-a", "xa-b"},
        "xa": {"xa-b"},
    }
    with pytest.raises(RegistryError, match="registered --unit"):
        add_user(engine, "sai", Role.UNIT, PASSWORD, hierarchy=hierarchy, unit="xa-khong")


def test_api_tokens_are_scoped_audited_and_revocable(registry: tuple[Engine, Hierarchy]) -> None:
    engine, hierarchy = registry
    secret = add_token(engine, "bi-tool", Role.GROUP, hierarchy=hierarchy, group="cum-1")
    viewer = token_viewer(engine, secret, source="10.1.1.1", what="GET /api/v1/units")
    assert viewer is not None and viewer.units(hierarchy) == {"xa-a", "xa-b"}
    with engine.connect() as conn:
        assert secret not in str(conn.execute(select(t.api_tokens)).all())
    revoke_token(engine, "bi-tool")
    assert token_viewer(engine, secret, source="10.1.1.1", what="GET /api/v1/units") is None
    events = [(a["who"], a["event"]) for a in audit_lines(engine, ["token_use", "token_refused"])]
    assert events == [("token:bi-tool", "token_use"), ("-", "token_refused")]


def test_the_account_commands_never_print_or_store_a_password(tmp_path: Path) -> None:
    import json

    from click.testing import CliRunner

    from secposture.cli import main

    config_path = tmp_path / "collector.toml"
    config_path.write_text(
        '[collector]\nstore = "store"\n[province]\nid = "tn-tinh"\nname = "Tỉnh Tây Ninh"\n'
        '[[unit]]\nid = "xa-a"\nname = "UBND xã A"\nlevel = "commune"\n',
        encoding="utf-8",
    )
    secret = tmp_path / "pw"
    secret.write_text(PASSWORD + "\n", encoding="utf-8")
    secret.chmod(0o600)
    run = CliRunner().invoke
    c = ["-c", str(config_path)]
    added = run(main, ["collector", "users", "add", "tinh", "--role", "province",
                       "--password", f"file:{secret}", *c])  # fmt: skip
    assert added.exit_code == 0, added.output
    refused = run(main, ["collector", "users", "add", "xa", "--role", "unit", "--unit", "xa-z",
                         "--password", f"file:{secret}", *c])  # fmt: skip
    assert refused.exit_code == 2 and "registered --unit" in refused.output
    listed = json.loads(run(main, ["collector", "users", "list", "--json", *c]).output)
    assert [u["name"] for u in listed] == ["tinh"] and "password_hash" not in listed[0]
    token = run(main, ["collector", "tokens", "add", "bi", "--role", "province", *c])
    assert token.exit_code == 0 and token.output.strip().splitlines()[-1].startswith("sp_")
    assert run(main, ["collector", "users", "disable", "tinh", *c]).exit_code == 0
    assert run(main, ["collector", "tokens", "revoke", "bi", *c]).exit_code == 0
    # No password in anything the commands wrote
    for path in (tmp_path / "store").rglob("*"):
        if path.is_file():
            assert PASSWORD.encode() not in path.read_bytes(), path
