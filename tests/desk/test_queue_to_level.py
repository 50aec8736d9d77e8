"""Issue #7 end to end: one call over RTP from caller-ID lookup through the voice, a PIN keyed
on the phone and a CIBA approval at a real OpenID provider to the top level and its route,
with the agent desk open in Chromium showing each step live and the outcome kept for reports."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from api.conftest import KEYS, upload, vctk
from eid.conftest import (  # noqa: F401  (the CIBA provider and its fixtures)
    client_key,
    eid_dir,
    harness,
    ping_ca,
    ping_port,
)
from eid.oidc_harness import Harness
from selenium.webdriver.chrome.webdriver import WebDriver

from desk.conftest import CONSENT, DESK, server_settings
from desk.test_desk_page import (  # noqa: F401  (pytestmark: skipped without Chromium)
    REPO,
    cell,
    connect,
    pytestmark,
    text_of,
    until,
)
from voiceauth.service.spawn import Served, serve
from voiceauth.transports.rtp import send_rtp
from voiceauth.transports.simulate import call_audio

IVR = {"X-API-Key": KEYS["ivr"]}
CUSTOMER = "C-4711"
ANI = "+46701234567"
DNIS = "+4687001000"
EID_HINT = "DK-1003"
PIN = "4711"


@pytest.fixture(scope="module")
def queue_server(
    tmp_path_factory: pytest.TempPathFactory,
    shared_data: Path,
    harness: Harness,  # noqa: F811
) -> Iterator[Served]:
    """The service with CIBA at the provider, and one customer known by phone number, with
    consent, a voiceprint from p225's files 3.., a PIN and an eID identifier."""
    settings = server_settings(
        tmp_path_factory.mktemp("queue"),
        ciba_issuer=harness.issuer,
        ciba_client_id="voiceauth",
        ciba_client_secret=harness.client_secret,
        eid_method="ciba",
    )
    with serve(settings) as served, httpx.Client(base_url=served.base, headers=DESK) as http:
        customer = {"customer_id": CUSTOMER, "phones": [ANI], "eid_hint": EID_HINT}
        http.post("/customers", json=customer).raise_for_status()
        http.post(f"/customers/{CUSTOMER}/consent", json=CONSENT).raise_for_status()
        files = upload(vctk(shared_data, "p225")[3:])
        enrolled = http.post(f"/customers/{CUSTOMER}/enrolment", files=files, timeout=300)
        assert enrolled.json()["outcome"] == "enrolled", enrolled.text
        http.put(f"/customers/{CUSTOMER}/knowledge/pin", json={"value": PIN}).raise_for_status()
        yield served


def read(served: Served, call_id: str) -> dict[str, Any]:
    answer: dict[str, Any] = httpx.get(f"{served.base}/calls/{call_id}", headers=IVR).json()
    return answer


def wait_for(served: Served, call_id: str, field: str, want: object) -> dict[str, Any]:
    """The call once `field` (dotted for the level) has the wanted value, as an IVR polls."""
    deadline = time.monotonic() + 120
    while True:
        call = read(served, call_id)
        value: Any = call
        for part in field.split("."):
            value = value[part]
        if value == want or time.monotonic() > deadline:
            return call
        time.sleep(0.2)


def test_a_call_goes_from_caller_id_to_strong_eid_and_is_routed(
    queue_server: Served,
    browser: WebDriver,
    harness: Harness,  # noqa: F811
    shared_data: Path,
    tmp_path: Path,
) -> None:
    connect(browser, queue_server, KEYS["desk"])
    until(browser, lambda d: text_of(d, "connection") == "live")
    with httpx.Client(base_url=queue_server.base, headers=IVR, timeout=30) as http:
        # the call arrives: the caller-ID names the customer; voiceauth is told where media goes
        call_id = "queue-1"
        body = {"call_id": call_id, "transport": "rtp", "ani": ANI, "dnis": DNIS}
        opened = http.post("/calls", json=body)
        assert opened.status_code == 201, opened.text
        call = opened.json()["call"]
        assert call["customer_id"] == CUSTOMER
        assert (call["level"]["level"], call["level"]["route"]) == (1, "step_up")
        assert until(browser, lambda d: cell(d, call_id, "route")) == "step_up"

        # the caller talks in the queue, then keys the PIN the IVR asks for, over RTP
        pcm = np.concatenate([call_audio(p) for p in vctk(shared_data, "p225")[:3]])
        port = opened.json()["rtp"]["port"]
        stats = asyncio.run(send_rtp(pcm, host="127.0.0.1", port=port, digits=f"{PIN}#"))
        assert stats.digits == f"{PIN}#"
        call = wait_for(queue_server, call_id, "voice_state", "match")
        assert call["voice_state"] == "match", call["reasons"]
        assert call["level"]["level"] == 2 and call["verified_after_s"] is not None
        until(browser, lambda d: cell(d, call_id, "voice_state").startswith("match"))

        checked = http.post(f"/calls/{call_id}/knowledge", json={"kind": "pin", "keypad": True})
        assert checked.json() == {"verified": True}
        again = http.post(f"/calls/{call_id}/knowledge", json={"kind": "pin", "keypad": True})
        assert again.status_code == 409  # a keyed entry is checked once
        call = read(queue_server, call_id)
        assert call["factors_verified"] == ["pin"]
        assert (call["level"]["level"], call["level"]["route"]) == (3, "self_service")
        until(browser, lambda d: cell(d, call_id, "level").startswith("3 · "))

        # strong eID while the caller waits: the provider's user approves in their app
        started = http.post(f"/calls/{call_id}/eid", json={"method": "ciba"})
        assert started.status_code == 202, started.text
        harness.admin("approve", auth_req_id=harness.wait_pending(EID_HINT))
        call = wait_for(queue_server, call_id, "level.level", 4)
        assert call["factors_verified"] == ["pin", "eid"]
        assert (call["level"]["level"], call["level"]["route"]) == (4, "self_service")
        assert "strong eID approved" in call["level"]["reasons"]
        until(browser, lambda d: cell(d, call_id, "level").startswith("4 · "))
        shot = tmp_path / "queue-to-level.png"
        assert browser.save_screenshot(str(shot))
        (REPO / "build").mkdir(exist_ok=True)
        shutil.copyfile(shot, REPO / "build" / "queue-to-level.png")

        # the call ends; its outcome (no identity, no scores) is what the KPI report counts
        ended = http.post(f"/calls/{call_id}/end", json={"reason": "transferred"}).json()
        assert ended["level"]["level"] == 4
        report = httpx.get(f"{queue_server.base}/reports/kpi", headers=DESK).json()
        assert report["totals"]["calls"] == 1, report
