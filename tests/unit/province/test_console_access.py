"""Who may read what in the console (issue #15), over real HTTP: `secposture collector console`
in a subprocess on a loopback port, a province with a group of two communes and a ward, and a
unit name and banner carrying markup."""

from __future__ import annotations

import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

import pytest
from bundle_helpers import free_port
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import sign_payload
from secposture.config.sections import Level
from secposture.province.accounts import LOCK_AFTER, Role, add_token, add_user, disable_user
from secposture.province.db.store import open_store
from secposture.province.hierarchy import load_collector_config
from secposture.province.synthetic import SyntheticUnit, make_payload

PASSWORD = "mật khẩu đủ dài 2026"
HOSTILE = '<script>document.title="PWNED"</script>'
UNITS = [
    SyntheticUnit("xa-a", f"UBND xã A {HOSTILE}", Level.COMMUNE, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
    SyntheticUnit("xa-b", "UBND xã B", Level.COMMUNE, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
    SyntheticUnit("phuong-c", "UBND phường C", Level.WARD, "tn-tinh",
                  Ed25519PrivateKey.generate(), 4, 0.3),
]  # fmt: skip


class Client:
    """One browser's worth of cookies against the console, no redirect followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []  # the last reply's Set-Cookie headers, as sent

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, token: str = ""
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if token:
            headers["Authorization"] = f"Bearer {token}"
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        conn.request(method, path, body=body, headers=headers)
        reply = conn.getresponse()
        text = reply.read().decode("utf-8", "replace")
        self.set_cookies = list(reply.headers.get_all("set-cookie") or [])
        for value in self.set_cookies:
            for name, morsel in SimpleCookie(value).items():
                if morsel.value:
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        conn.close()
        return reply.status, {k.lower(): v for k, v in reply.headers.items()}, text

    def log_in(self, name: str, password: str = PASSWORD) -> int:
        _, _, form = self.request("GET", "/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', form)
        assert csrf is not None
        status, _headers, _ = self.request(
            "POST", "/login", {"csrf": csrf.group(1), "name": name, "password": password}
        )
        return status

    def csrf(self) -> str:
        _, _, page = self.request("GET", "/")
        found = re.search(r'name="csrf" value="([^"]+)"', page)
        assert found is not None
        return found.group(1)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("console")
    lines = ["[collector]", f'store = "{tmp / "store"}"', "[province]", 'id = "tn-tinh"',
             'name = "Tỉnh Tây Ninh"', "[[group]]", 'id = "cum-1"', 'name = "Cụm 1"']  # fmt: skip
    for u in UNITS:
        groups = '["cum-1"]' if u.id != "phuong-c" else "[]"
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
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secposture", "collector", "console", "-c", str(config_path),
         "--port", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ, "NO_PROXY": "*"},
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while True:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request(
                "GET", "/api/v1/health"
            )
            break
        except OSError:
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr
            time.sleep(0.1)
    yield port, config_path, tokens
    proc.terminate()
    proc.wait(10)


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
    assert "0 dòng" in found and 'href="/units/xa-a"' not in found
    _, _, exported = me.request("GET", "/findings?unit=xa-a&status=&format=csv")
    assert exported.strip().splitlines()[1:] == []
    own = me.request("GET", "/findings?status=&format=csv")[2].strip().splitlines()[1:]
    assert own and all(line.startswith("xa-b,") for line in own)
    status, _, body = me.request("GET", "/api/v1/inventory", token=tokens["xa-b"])
    assert status == 200 and {h["unit_id"] for h in json.loads(body)} == {"xa-b"}


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
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    from secposture.report.outputs.pdf import OFFLINE_FLAGS

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or "/usr/bin/chromium"
    for flag in OFFLINE_FLAGS:  # nothing but the console on loopback can be reached
        if flag.startswith("--host-resolver-rules="):
            flag = "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path / 'profile'}")
    options.add_argument("--window-size=1280,900")
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(tmp_path / "downloads"),
                  "download.prompt_for_download": False}
    )  # fmt: skip
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


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
    rows = browser.find_elements(By.CSS_SELECTOR, "main table tbody tr")
    assert rows and all(r.text.split()[0] in ("xa-a", "xa-b") for r in rows)
    Select(browser.find_element(By.NAME, "severity")).select_by_value("high")
    browser.find_element(By.CSS_SELECTOR, "form.search button").click()
    wait.until(lambda d: "severity=high" in d.current_url)
    # Export CSV: the file arrives, with the same rows
    shown = len(browser.find_elements(By.CSS_SELECTOR, "main table tbody tr"))
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
