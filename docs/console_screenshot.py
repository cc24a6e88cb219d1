"""Take docs/console-overview.png, the README's picture of the console's overview.

A made-up province of Tây Ninh's shape (121 units; 5-40 hosts each, most of them tidy) with
six weekly sweeps that get slowly better, in a temporary SQLite store; `collector console` on
a loopback port; headless Chromium (Debian's, through Selenium and chromedriver) logs in as a
province account and photographs the overview. Nothing is scanned and nothing but loopback is
reached. Run: ``.venv/bin/python docs/console_screenshot.py [OUT.png]``.
"""

from __future__ import annotations

import dataclasses
import sys
import tempfile
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT / "tests" / "helpers")]

WEEKS = 6


def main(out: Path) -> None:
    import random

    from console_client import PASSWORD, chromium, running_console
    from province_data import NOW, write_config
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from secposture.bundle.envelope import sign_payload
    from secposture.province.accounts import Role, add_user
    from secposture.province.db.store import open_store
    from secposture.province.hierarchy import load_collector_config
    from secposture.province.synthetic import make_payload, make_province

    rng = random.Random(2026)  # noqa: S311 - made-up data
    province = make_province(communes=82, wards=14, departments=25, groups=2,
                             succession=False, hosts=(5, 40), seed=3)  # fmt: skip
    units = [dataclasses.replace(u, hygiene=rng.uniform(0.86, 0.995)) for u in province.units]
    province = dataclasses.replace(province, name="Tỉnh Tây Ninh (dữ liệu mẫu)", units=units)
    with tempfile.TemporaryDirectory(prefix="console-shot-") as tmp:
        config = write_config(province, Path(tmp))
        store = open_store(load_collector_config(config))
        silent = {u.id for u in units[::17]}  # a few units never report
        for week in range(WEEKS):
            started = NOW - timedelta(weeks=WEEKS - 1 - week, hours=20)
            for unit in units:
                if unit.id in silent:
                    continue
                better = dataclasses.replace(unit, hygiene=min(0.999, unit.hygiene + week * 0.008))
                payload = make_payload(better, started, seed=week)
                assert store.ingest(sign_payload(payload, unit.key), source="demo").accepted
        add_user(store.engine, "can-bo-tinh", Role.PROVINCE, PASSWORD, hierarchy=store.hierarchy)
        store.engine.dispose()
        with running_console(config) as port, chromium(Path(tmp)) as browser:
            base = f"http://127.0.0.1:{port}"
            browser.set_window_size(1280, 1500)
            browser.get(base + "/login")
            browser.find_element(By.ID, "name").send_keys("can-bo-tinh")
            browser.find_element(By.ID, "password").send_keys(PASSWORD)
            browser.find_element(By.CSS_SELECTOR, "form[action='/login'] button").click()
            WebDriverWait(browser, 20).until(lambda d: d.current_url == base + "/")
            browser.save_screenshot(str(out))
    print(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "console-overview.png")
