"""The agent desk in headless Chromium against a real `voiceauth serve`: a genuine call of an
enrolled customer goes from collecting to match on the page as the audio plays, no biometric
score is ever shown, consent is recorded from a call's row, and a bad key is reported."""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from api.conftest import KEYS, vctk
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from desk.conftest import CHROMEDRIVER, CHROMIUM, DESK, WALK_IN
from voiceauth.service.spawn import Served
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments
from voiceauth.transports.simulate import PLAYERS, Target, call_audio

pytestmark = pytest.mark.skipif(
    not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()),
    reason=f"the desk test needs Debian's chromium and chromium-driver ({CHROMIUM}, "
    f"{CHROMEDRIVER}); scripts/system-packages installs them",
)
IVR = {"X-API-Key": KEYS["ivr"]}
ANI = "+4915112345678"
REPO = Path(__file__).resolve().parents[2]
WAIT_S = 120


def until(driver: WebDriver, check: Callable[[WebDriver], Any]) -> Any:
    """What `check` returns once it is truthy (a missing element counts as not yet)."""
    return WebDriverWait(driver, WAIT_S, poll_frequency=0.1).until(check)


def connect(driver: WebDriver, served: Served, key: str) -> None:
    driver.get(f"{served.base}/desk")
    driver.find_element(By.ID, "api-key").send_keys(key)
    driver.find_element(By.CSS_SELECTOR, "#key-form button[type=submit]").click()


def cell(driver: WebDriver, call_id: str, field: str) -> str:
    selector = f'tr[data-call-id="{call_id}"] [data-field="{field}"]'
    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


def text_of(driver: WebDriver, element_id: str) -> str:
    return str(driver.find_element(By.ID, element_id).text)


def play_genuine_call(served: Served, shared_data: Path, call_id: str) -> None:
    """p225's held-out recordings over the generic WebSocket, in real time, as a platform."""
    pcm = np.concatenate([call_audio(p) for p in vctk(shared_data, "p225")[:3]])
    start = CallStart(call_id, "ws", ani=ANI, customer_id="p225")

    async def play() -> None:
        async with httpx.AsyncClient(base_url=served.base, headers=IVR) as http:
            await PLAYERS["ws"](pcm, start, Target(served.base, KEYS["ivr"]), Impairments(), http)

    asyncio.run(play())


def test_a_genuine_call_goes_live_from_collecting_to_match(
    desk_server: Served, browser: WebDriver, shared_data: Path, tmp_path: Path
) -> None:
    connect(browser, desk_server, KEYS["desk"])
    until(browser, lambda d: text_of(d, "connection") == "live")
    assert KEYS["desk"] not in browser.current_url
    stored = browser.execute_script("return sessionStorage.getItem('voiceauth.desk.key')")
    assert stored == KEYS["desk"]

    call_id = "desk-genuine-1"
    with ThreadPoolExecutor(1) as pool:
        playing = pool.submit(play_genuine_call, desk_server, shared_data, call_id)
        assert until(browser, lambda d: cell(d, call_id, "voice_state")) == "collecting"
        until(browser, lambda d: cell(d, call_id, "voice_state").startswith("match"))
        shot = tmp_path / "desk.png"
        assert browser.save_screenshot(str(shot))
        (REPO / "build").mkdir(exist_ok=True)
        shutil.copyfile(shot, REPO / "build" / "desk.png")
        playing.result()

    assert re.fullmatch(r"\d+ · .+", cell(browser, call_id, "level"))
    assert cell(browser, call_id, "route") not in ("", "—")
    assert re.fullmatch(r"\d{1,3} %", cell(browser, call_id, "confidence"))
    assert cell(browser, call_id, "liveness") in ("live", "uncertain")
    assert cell(browser, call_id, "caller") == "…5678"
    until(browser, lambda d: cell(d, call_id, "voice_state") == "match · ended")

    final = httpx.get(f"{desk_server.base}/calls/{call_id}", headers=DESK).json()
    assert final["voice_state"] == "match"
    shown = browser.find_element(By.TAG_NAME, "body")
    page = f"{shown.text}\n{shown.get_attribute('innerHTML')}"
    assert ANI not in page
    assert "llr" not in page.lower()
    for llr in (final["voice_llr"], final["liveness_llr"]):
        assert llr is not None
        for written in (repr(llr), f"{llr:.2f}", f"{llr:.3f}"):
            assert written not in page


def test_consent_is_recorded_from_a_calls_row(desk_server: Served, browser: WebDriver) -> None:
    consents = f"{desk_server.base}/customers/{WALK_IN}/consents"
    assert httpx.get(consents, headers=DESK).json() == []
    connect(browser, desk_server, KEYS["desk"])
    until(browser, lambda d: text_of(d, "connection") == "live")
    call_id = "desk-walk-in-1"
    opened = httpx.post(
        f"{desk_server.base}/calls",
        json={"call_id": call_id, "ani": "+4520123456", "customer_id": WALK_IN},
        headers=IVR,
    )
    assert opened.status_code == 201, opened.text
    assert until(browser, lambda d: cell(d, call_id, "voice_state")) == "no_consent"

    row = browser.find_element(By.CSS_SELECTOR, f'tr[data-call-id="{call_id}"]')
    row.find_element(By.XPATH, ".//button[text()='Start eID']").click()
    until(browser, lambda d: "no eID identifier on file" in text_of(d, "status"))
    row.find_element(By.XPATH, ".//button[text()='Record consent']").click()
    row.find_element(By.NAME, "evidence").send_keys("caller agreed on recorded line")
    row.find_element(By.XPATH, ".//button[text()='Save consent']").click()
    until(browser, lambda d: text_of(d, "status") == f"Consent recorded for customer {WALK_IN}.")
    assert not row.find_elements(By.CSS_SELECTOR, "form")

    recorded = httpx.get(consents, headers=DESK).json()
    assert [(c["channel"], c["text_version"], c["withdrawn_at"]) for c in recorded] == [
        ("agent", "v1", None)
    ]
    httpx.post(f"{desk_server.base}/calls/{call_id}/end", json={}, headers=IVR)


def test_markup_in_call_data_is_shown_as_text(desk_server: Served, browser: WebDriver) -> None:
    connect(browser, desk_server, KEYS["desk"])
    until(browser, lambda d: text_of(d, "connection") == "live")
    markup = "<img src=x onerror=document.title='owned'>"
    call_id = "desk-markup-1"
    opened = httpx.post(
        f"{desk_server.base}/calls", json={"call_id": call_id, "customer_id": markup}, headers=IVR
    )
    assert opened.status_code == 201, opened.text
    assert until(browser, lambda d: cell(d, call_id, "customer")) == markup
    assert not browser.find_elements(By.CSS_SELECTOR, "tbody img")
    assert browser.title != "owned"
    httpx.post(f"{desk_server.base}/calls/{call_id}/end", json={}, headers=IVR)


@pytest.mark.parametrize(
    ("key", "shown"), [("not-a-key", "HTTP 401"), (KEYS["ivr"], "HTTP 403")], ids=["bad", "ivr"]
)
def test_a_refused_key_is_reported_and_forgotten(
    desk_server: Served, browser: WebDriver, key: str, shown: str
) -> None:
    connect(browser, desk_server, key)
    until(browser, lambda d: shown in text_of(d, "status"))
    assert text_of(browser, "status").startswith("Connecting: ")
    assert text_of(browser, "connection") == "not connected"
    assert browser.execute_script("return sessionStorage.getItem('voiceauth.desk.key')") is None
