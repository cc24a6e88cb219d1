"""Who may read what in the console (issue #15), over real HTTP: `secposture collector console`
in a subprocess on a loopback port, a province with a group of two communes and a ward, and a
unit name and banner carrying markup."""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console_client import PASSWORD, Client, chromium, running_console
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import sign_payload
from secposture.config.sections import Level
from secposture.province.accounts import LOCK_AFTER, Role, add_token, add_user, disable_user
from secposture.province.db.store import open_store
from secposture.province.hierarchy import load_collector_config
from secposture.province.synthetic import SyntheticUnit, make_payload

HOSTILE = '<script>document.title="PWNED"</script>'
UNITS = [
    SyntheticUnit("xa-a", f"UBND xã A {HOSTILE}", Level.COMMUNE, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
    SyntheticUnit("xa-b", "UBND xã B", Level.COMMUNE, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
    SyntheticUnit("phuong-c", "UBND phường C", Level.WARD, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
]  # fmt: skip
SILENT = SyntheticUnit(
    "xa-d", "UBND xã D", Level.COMMUNE, "tn-tinh", Ed25519PrivateKey.generate(), 4, 0.3
)  # registered, never reports


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("console")
    lines = ["[collector]", f'store = "{tmp / "store"}"', "[province]", 'id = "tn-tinh"',
             'name = "Tỉnh Tây Ninh"', "[[group]]", 'id = "cum-1"', 'name = "Cụm 1"']  # fmt: skip
    for u in [*UNITS, SILENT]:
        groups = '["cum-1"]' if u.id in ("xa-a", "xa-b") else "[]"
        lines += ["[[unit]]", f"id = {json.dumps(u.id)}", f"name = {json.dumps(u.name)}",
                  f'level = "{u.level.value}"', f"groups = {groups}",
                  f'keys = ["{u.public_key}"]']  # fmt: skip
    config_path = tmp / "collector.toml"
    config_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = open_store(load_collector_config(config_path))
    for u in UNITS:
        payload = make_payload(u, datetime(2026, 11, 30, 1, tzinfo=UTC))
        assert store.ingest(sign_payload(payload, u.key), source="test").accepted
    h = store.hierarchy
    add_user(store.engine, "tinh", Role.PROVINCE, PASSWORD, hierarchy=h)
    add_user(store.engine, "cum", Role.GROUP, PASSWORD, hierarchy=h, group="cum-1")
    add_user(store.engine, "xa-b-it", Role.UNIT, PASSWORD, hierarchy=h, unit="xa-b")
    add_user(store.engine, "roi-di", Role.PROVINCE, PASSWORD, hierarchy=h)
    add_user(store.engine, "bi-khoa", Role.UNIT, PASSWORD, hierarchy=h, unit="phuong-c")
    tokens = {"xa-b": add_token(store.engine, "xa-b-bi", Role.UNIT, hierarchy=h, unit="xa-b")}
    store.engine.dispose()
    with running_console(config_path) as port:
        yield port, config_path, tokens


def test_anonymous_gets_the_login_page_and_the_api_401(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = console
    anonymous = Client(port)
    for path in ("/", "/units/xa-a", "/findings", "/inventory", "/findings?format=csv"):
        status, headers, _ = anonymous.request("GET", path)
        assert status == 303 and headers["location"] == "/login", path
    for path in ("/api/v1/findings", "/api/v1/inventory"):
        status, headers, _body = anonymous.request("GET", path)
        assert status == 401 and "www-authenticate" in headers, path
    status, headers, page = anonymous.request("GET", "/login")
    assert status == 401 and "Đăng nhập" in page
    assert "script-src" not in headers["content-security-policy"]  # none at all: default-src 'none'
    assert "default-src 'none'" in headers["content-security-policy"]


def test_a_unit_user_sees_its_own_unit_and_nothing_of_another(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, tokens = console
    me = Client(port)
    assert me.log_in("xa-b-it") == 303
    (cookie,) = [c for c in me.set_cookies if c.startswith("sp_session=")]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    _, _, overview = me.request("GET", "/")
    assert "UBND xã B" in overview and "UBND xã A" not in overview and "phường C" not in overview
    status, _, page = me.request("GET", "/units/xa-a")
    assert status == 404 and "UBND xã A" not in page
    # its own latest full report, as the agency's, under the report's own policy
    status, headers, report = me.request("GET", "/units/xa-b/report")
    assert (
        status == 200
        and "UBND xã B" in report
        and "script-src 'sha256-" in (headers["content-security-policy"])
    )
    status, _, other = me.request("GET", "/units/xa-a/report")
    assert status == 404 and "UBND xã A" not in other
    assert me.request("GET", "/units/xa-khong-co")[0] == 404  # the same as a unit that exists
    _, _, found = me.request("GET", "/findings?unit=xa-a&status=")
    assert "Không có kết quả nào khớp" in found and 'href="/units/xa-a"' not in found
    _, _, exported = me.request("GET", "/findings?unit=xa-a&status=&format=csv")
    assert exported.strip().splitlines()[1:] == []
    own = me.request("GET", "/findings?status=&format=csv")[2].strip().splitlines()[1:]
    assert own and all(line.startswith("xa-b,") for line in own)
    status, _, body = me.request("GET", "/api/v1/inventory", token=tokens["xa-b"])
    assert status == 200 and {h["unit_id"] for h in json.loads(body)["items"]} == {"xa-b"}


def test_a_group_user_sees_only_its_group(console: tuple[int, Path, dict[str, str]]) -> None:
    port, _, _ = console
    group = Client(port)
    assert group.log_in("cum") == 303
    _, _, overview = group.request("GET", "/")
    assert "UBND xã B" in overview and "phường C" not in overview
    # and a unit name holding markup is text, never markup
    assert HOSTILE not in overview and "&lt;script&gt;" in overview
    assert group.request("GET", "/units/phuong-c")[0] == 404
    _, _, devices = group.request("GET", "/inventory")
    assert "phuong-c" not in devices and "xa-a" in devices


def test_the_overview_ranks_counts_bands_names_common_findings_and_the_silent(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = console
    me = Client(port)
    assert me.log_in("tinh") == 303
    status, _, page = me.request("GET", "/")
    assert status == 200
    for heading in ("Xếp hạng các đơn vị", "Số đơn vị theo mức", "Vấn đề phổ biến toàn tỉnh",
                    "Xu hướng theo tuần", "Đơn vị quá hạn", "Các nhóm đơn vị"):  # fmt: skip
        assert heading in page, heading
    # the commune that never sent a bundle is named, as never reported
    overdue = page.split('id="overdue"')[1]
    assert "UBND xã D" in overdue and "chưa từng gửi" in overdue
    # a common finding names the units affected, each linked to its console page
    common = page.split('id="findings"')[1].split("</section>")[0]
    assert "vị trí" in common and 'href="/units/' in common
    # links lead to the console's pages, never to the static pages' files
    assert 'href="/units/xa-b"' in page and 'href="/groups/cum-1"' in page
    assert "agencies/" not in page and ".html" not in page


def test_group_pages_and_the_registry_follow_the_viewers_scope(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = console
    province, group, unit = Client(port), Client(port), Client(port)
    assert province.log_in("tinh") == group.log_in("cum") == unit.log_in("xa-b-it") == 303
    status, _, page = province.request("GET", "/groups/cum-1")
    assert status == 200 and "Cụm 1" in page and "UBND xã B" in page
    assert "phường C" not in page and "UBND xã D" not in page
    assert 'href="/findings?group=cum-1"' in page
    assert group.request("GET", "/groups/cum-1")[0] == 200
    status, _, page = unit.request("GET", "/groups/cum-1")
    assert status == 404 and "UBND xã A" not in page  # a unit account has no group page
    assert province.request("GET", "/groups/khong-co")[0] == 404
    # a group narrows a search: the group's units only
    rows = json.loads(province.request("GET", "/api/v1/findings?status=&group=cum-1")[2])
    assert {f["unit_id"] for f in rows["items"]} == {"xa-a", "xa-b"}
    # the registry, read-only: every unit for the province, with its keys in full on hover
    _, _, registry = province.request("GET", "/registry")
    for u in [*UNITS, SILENT]:
        assert f"<code>{u.id}</code>" in registry and f'title="{u.public_key}"' in registry
    assert "collector units" in registry and "<form" not in registry.split("<main")[-1]
    _, _, mine = unit.request("GET", "/registry")
    assert "<code>xa-b</code>" in mine and "<code>xa-a</code>" not in mine
    assert "<code>phuong-c</code>" not in mine


def test_the_language_switch_keeps_the_query_and_pages_follow_on(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = console
    me = Client(port)
    assert me.log_in("tinh") == 303
    _, _, page = me.request("GET", "/findings?status=&severity=high")
    assert 'href="/findings?status=&amp;severity=high&amp;lang=en"' in page
    _, _, english = me.request("GET", "/findings?status=&severity=high&lang=en")
    assert '<html lang="en">' in english and "Nothing matches" not in english
    assert '<option value="high" selected>' in english  # the same search, in English
    assert '<html lang="en">' in me.request("GET", "/")[2]  # and the choice stays
    me.request("GET", "/?lang=vi")
    # The pages: a next link while there is more, carrying the search
    _, _, first = me.request("GET", "/findings?status=&limit=5")
    assert 'href="/findings?status=&amp;limit=5&amp;offset=5" rel="next"' in first
    _, _, second = me.request("GET", "/findings?status=&limit=5&offset=5")
    assert 'rel="prev"' in second and "Dòng 6–10" in second
    # The API: following `next` to the end gives every row once
    seen: list[dict[str, Any]] = []
    path: str | None = "/api/v1/findings?status=&limit=7"
    while path:
        status, _, body = me.request("GET", path)
        assert status == 200
        answer = json.loads(body)
        seen += answer["items"]
        path = answer["next"]
    whole = json.loads(me.request("GET", "/api/v1/findings?status=&limit=1000")[2])
    assert whole["next"] is None and len(seen) > 7
    assert sorted(f["id"] for f in seen) == sorted(f["id"] for f in whole["items"])
    units = json.loads(me.request("GET", "/api/v1/units")[2])
    assert [u["id"] for u in units["items"]] == ["phuong-c", "xa-a", "xa-b", "xa-d"]
    assert units["items"][3]["latest_sweep"] is None


def test_inventory_search_by_mac_in_any_spelling_os_and_service(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, _, _ = console
    me = Client(port)
    assert me.log_in("tinh") == 303

    def found(query: str) -> list[dict[str, Any]]:
        answer = json.loads(me.request("GET", f"/api/v1/inventory?{query}")[2])
        return list(answer["items"])

    everything = found("")
    assert len(everything) == 12  # four hosts in each of the three units that reported
    colons = found("mac=02:00:00:00:00:01")
    assert colons and {h["mac"] for h in colons} == {"02:00:00:00:00:01"}
    assert found("mac=02-00-00-00-00-01") == colons == found("mac=0200.0000.0001")
    assert len(found("service=openssh+9.2")) == 12 and found("service=openssh+7.4") == []
    assert found("type=printer") == []


def test_a_stored_bundle_altered_or_pruned_gives_a_clear_page_not_a_server_error(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    from sqlalchemy import update

    from secposture.province.db import schema

    port, config_path, _ = console
    me = Client(port)
    assert me.log_in("tinh") == 303
    store = open_store(load_collector_config(config_path))
    bundles = schema.bundles
    ward = bundles.c.unit_id == "phuong-c"
    with store.engine.begin() as conn:
        conn.execute(update(bundles).where(ward).values(data=zlib.compress(b'{"x": 1}')))
    status, _, page = me.request("GET", "/units/phuong-c/report")
    assert status == 409 and "đã bị thay đổi sau khi máy chủ nhận" in page
    assert "Traceback" not in page and "UBND phường C" in page
    with store.engine.begin() as conn:
        conn.execute(update(bundles).where(ward).values(data=None))
    status, _, page = me.request("GET", "/units/phuong-c/report")
    assert status == 409 and "thời hạn lưu giữ" in page
    store.engine.dispose()
    assert me.request("GET", "/units/phuong-c")[0] == 200  # the history is still there


def test_a_disabled_users_session_stops_and_forms_need_their_csrf_token(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    port, config_path, _ = console
    leaving = Client(port)
    assert leaving.log_in("roi-di") == 303
    assert leaving.request("GET", "/")[0] == 200
    # A form post without the session's CSRF token is refused, with one
    assert leaving.request("POST", "/logout", {})[0] == 403
    assert leaving.request("POST", "/logout", {"csrf": "doan-bua"})[0] == 403
    # and a login form posted without its token too
    assert Client(port).request("POST", "/login", {"name": "tinh", "password": PASSWORD})[0] == 403
    store = open_store(load_collector_config(config_path))
    disable_user(store.engine, "roi-di")
    store.engine.dispose()
    status, headers, _ = leaving.request("GET", "/")
    assert status == 303 and headers["location"] == "/login"
    # Logging out ends a session
    other = Client(port)
    assert other.log_in("tinh") == 303
    assert other.request("POST", "/logout", {"csrf": other.csrf()})[0] == 303
    assert other.request("GET", "/")[0] == 303


def test_ten_wrong_passwords_lock_the_account(console: tuple[int, Path, dict[str, str]]) -> None:
    port, _, _ = console
    attacker = Client(port)
    for n in range(LOCK_AFTER):
        assert attacker.log_in("bi-khoa", f"sai-{n}-mat-khau") == 401
    assert attacker.log_in("bi-khoa") == 401  # the right password, while locked
    assert "sp_session" not in attacker.cookies


# --- in a real browser: Selenium driving Debian's chromium through chromedriver -------------


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    with chromium(tmp_path) as driver:
        yield driver


def test_in_chromium_log_in_search_filter_export_open_a_unit_and_log_out(
    console: tuple[int, Path, dict[str, str]], browser: Any, tmp_path: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    port, _, _ = console
    base = f"http://127.0.0.1:{port}"
    wait = WebDriverWait(browser, 10)
    browser.get(base + "/")
    wait.until(lambda d: d.current_url.endswith("/login"))
    browser.find_element(By.ID, "name").send_keys("cum")
    browser.find_element(By.ID, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
    wait.until(lambda d: d.current_url == base + "/")
    # The overview: the group's units, the one whose name holds markup shown as text
    body = browser.find_element(By.TAG_NAME, "body").text
    assert "UBND xã B" in body and HOSTILE in body and "phường C" not in body
    assert browser.title != "PWNED" and browser.execute_script("return document.title") != "PWNED"
    # Search findings, then filter by severity
    browser.find_element(By.LINK_TEXT, "Tìm phát hiện").click()
    wait.until(lambda d: "/findings" in d.current_url)
    Select(browser.find_element(By.NAME, "status")).select_by_value("pass")
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait.until(lambda d: "status=pass" in d.current_url)
    rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr:not(.none)")
    assert rows and all(r.text.split()[0] in ("xa-a", "xa-b") for r in rows)
    Select(browser.find_element(By.NAME, "severity")).select_by_value("high")
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait.until(lambda d: "severity=high" in d.current_url)
    # Export CSV: the file arrives, with the same rows
    shown = len(browser.find_elements(By.CSS_SELECTOR, "main table tbody tr:not(.none)"))
    browser.find_element(By.LINK_TEXT, "Xuất CSV").click()
    downloads = tmp_path / "downloads"
    wait.until(lambda d: (downloads / "findings.csv").is_file())
    exported = (downloads / "findings.csv").read_text("utf-8-sig").strip().splitlines()
    assert len(exported) == shown + 1 and exported[0].startswith("unit_id,check_id")
    # Open a unit, then log out
    browser.get(base + "/")
    browser.find_element(By.LINK_TEXT, "UBND xã B").click()
    wait.until(lambda d: d.current_url.endswith("/units/xa-b"))
    assert "Lịch sử các lượt quét" in browser.find_element(By.TAG_NAME, "body").text
    browser.find_element(By.CSS_SELECTOR, "form[action='/logout'] button").click()
    wait.until(lambda d: d.current_url.endswith("/login"))
    browser.get(base + "/findings")
    assert browser.current_url.endswith("/login")


def test_behind_the_provinces_https_proxy_cookies_are_secure_and_the_audit_names_the_client(
    console: tuple[int, Path, dict[str, str]],
) -> None:
    from secposture.province.accounts import audit_lines

    direct_port, config_path, _ = console

    def forwarded_failure(client: Client, source: str) -> None:
        _, _, form = client.request("GET", "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        status, _, _ = client.request(
            "POST", "/login", {"csrf": csrf.group(1), "name": "tinh", "password": "sai mật khẩu!"},
            headers={"X-Forwarded-For": source, "X-Forwarded-Proto": "https"},
        )  # fmt: skip
        assert status == 401

    def last_failure_source() -> object:
        store = open_store(load_collector_config(config_path))
        failed = [a for a in audit_lines(store.engine, ["login_failed"]) if a["who"] == "tinh"]
        store.engine.dispose()
        return failed[-1]["source"]

    # Reached directly, a forwarded header is anyone's claim: not believed
    forwarded_failure(Client(direct_port), "10.10.0.66")
    assert last_failure_source() == "127.0.0.1"
    with running_console(config_path, "--behind-proxy") as port:
        proxied = Client(port)
        forwarded_failure(proxied, "10.10.0.77")  # the proxy on this machine names the client
        assert last_failure_source() == "10.10.0.77"
        assert proxied.log_in("tinh") == 303
        (cookie,) = [c for c in proxied.set_cookies if c.startswith("sp_session=")]
        assert "Secure" in cookie and "HttpOnly" in cookie
