"""Desk fixtures: a real `voiceauth serve` with an enrolled customer, and headless Chromium.

The browser is Debian's chromium driven by its chromium-driver (scripts/system-packages
installs both); Selenium Manager is never asked to download anything.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api.conftest import KEYS, LINES, upload, vctk
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver

from voiceauth.service.spawn import Served, serve
from voiceauth.store import generate_key

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
DESK = {"X-API-Key": KEYS["desk"]}
CONSENT = {"text_version": "vb-2026-01", "channel": "agent", "evidence": "agent 7 confirmed"}
WALK_IN = "walk-in"
"""A customer on file who has not consented to voice biometrics."""


def server_settings(home: Path, **extra: str) -> dict[str, str]:
    """A fresh service under `home` with the test keys, and these VOICEAUTH_* additions."""
    return {
        "VOICEAUTH_HOME": str(home),
        "VOICEAUTH_KEYS": f"k1:{generate_key()}",
        "VOICEAUTH_API_KEYS": ",".join(LINES),
        "VOICEAUTH_AUDIOSOCKET_PORT": "0",
        "VOICEAUTH_DRAIN_TIMEOUT_S": "0",
        **{f"VOICEAUTH_{name.upper()}": value for name, value in extra.items()},
    }


@pytest.fixture(scope="module")
def desk_server(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Iterator[Served]:
    """The service with the countermeasure on, p225 enrolled from files 3.. (files 0-2 are
    their calls), and the walk-in customer without consent."""
    settings = server_settings(tmp_path_factory.mktemp("desk"))
    with serve(settings) as served, httpx.Client(base_url=served.base, headers=DESK) as http:
        for customer in ("p225", WALK_IN):
            http.post("/customers", json={"customer_id": customer}).raise_for_status()
        http.post("/customers/p225/consent", json=CONSENT).raise_for_status()
        files = upload(vctk(shared_data, "p225")[3:])
        enrolled = http.post("/customers/p225/enrolment", files=files, timeout=300)
        assert enrolled.json()["outcome"] == "enrolled", enrolled.text
        yield served


@pytest.fixture
def browser() -> Iterator[WebDriver]:
    options = webdriver.ChromeOptions()
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage"):
        options.add_argument(argument)
    options.add_argument("--window-size=1600,900")
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    yield driver
    driver.quit()
