"""The console as the tests reach it: `secposture collector console` in a subprocess on a
loopback port, a client that keeps one browser's cookies, and Chromium driven by Selenium
through Debian's chromedriver (nothing downloaded, nothing but loopback reachable)."""

from __future__ import annotations

import http.client
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any

from bundle_helpers import free_port

PASSWORD = "mật khẩu đủ dài 2026"


@contextmanager
def running_console(config_path: Path, *options: str) -> Iterator[int]:
    """The console of ``config_path`` on a free loopback port (with ``options`` on its
    command line), stopped on exit."""
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "secposture", "collector", "console", "-c", str(config_path),
         "--port", str(port), *options],
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
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(10)


class Client:
    """One browser's worth of cookies against the console, no redirect followed."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.set_cookies: list[str] = []  # the last reply's Set-Cookie headers, as sent

    def request(
        self,
        method: str,
        path: str,
        form: dict[str, str] | None = None,
        token: str = "",
        headers: dict[str, str] | None = None,
    ) -> tuple[int, dict[str, str], str]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = dict(headers or {})
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


@contextmanager
def chromium(tmp_path: Path) -> Iterator[Any]:
    """Headless Chromium under Selenium, its downloads in ``tmp_path/downloads`` and its
    console messages kept (``get_log("browser")``)."""
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
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(tmp_path / "downloads"),
                  "download.prompt_for_download": False}
    )  # fmt: skip
    driver = webdriver.Chrome(options=options, service=Service(shutil.which("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()
