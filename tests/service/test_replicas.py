"""Two `voiceauth serve` replicas on one real PostgreSQL: enrol through one, verify a call
through the other, erase through the first and see the second stop checking that voice."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import numpy as np
import pytest
from api.conftest import KEYS, LINES, upload, vctk
from store.conftest import Database

from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.audio.resample import resample
from voiceauth.service.spawn import serve
from voiceauth.store import generate_key
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments
from voiceauth.transports.simulate import PLAYERS, Target

DESK = {"X-API-Key": KEYS["desk"]}
IVR = {"X-API-Key": KEYS["ivr"]}
DPO = {"X-API-Key": KEYS["dpo"]}
CONSENT = {"text_version": "vb-2026-01", "channel": "agent", "evidence": "agent 7 confirmed"}


def call_pcm(paths: list[Path]) -> np.ndarray:
    return np.concatenate(
        [float_to_pcm16(resample(a.samples, a.sample_rate, 8000)) for a in map(load_audio, paths)]
    )


def wait_for(check: object, timeout_s: float = 10.0) -> float:
    """Seconds until `check()` is true (fails after timeout_s)."""
    began = time.monotonic()
    while not check():  # type: ignore[operator]
        assert time.monotonic() - began < timeout_s, "the other replica did not follow"
        time.sleep(0.1)
    return time.monotonic() - began


@pytest.mark.parametrize("database", ["postgresql"], indirect=True)
def test_replicas_share_enrolments_and_erasures(
    database: Database, shared_data: Path, tmp_path: Path
) -> None:
    shared = {
        "VOICEAUTH_DATABASE_URL": database.url,
        "VOICEAUTH_KEYS": f"k1:{generate_key()}",
        "VOICEAUTH_API_KEYS": ",".join(LINES),
        "VOICEAUTH_AUDIOSOCKET_PORT": "0",
        "VOICEAUTH_CM": "none",
        "VOICEAUTH_DRAIN_TIMEOUT_S": "0",
    }
    p225 = vctk(shared_data, "p225")
    with (
        serve(
            {**shared, "VOICEAUTH_HOME": str(tmp_path / "a"), "VOICEAUTH_RTP_PORTS": "41000-41099"}
        ) as a,
        serve(
            {**shared, "VOICEAUTH_HOME": str(tmp_path / "b"), "VOICEAUTH_RTP_PORTS": "41100-41199"}
        ) as b,
    ):
        httpx.post(f"{a.base}/customers", json={"customer_id": "p225"}, headers=DESK)
        httpx.post(f"{a.base}/customers/p225/consent", json=CONSENT, headers=DESK)
        enrolled = httpx.post(
            f"{a.base}/customers/p225/enrolment", files=upload(p225[3:]), headers=DESK, timeout=120
        )
        assert enrolled.json()["outcome"] == "enrolled", enrolled.text

        async def genuine_call_through_b() -> dict:
            start = CallStart("call-b-1", "ws", customer_id="p225")
            target = Target(b.base, KEYS["ivr"])
            async with httpx.AsyncClient(base_url=b.base, headers=IVR) as http:
                await PLAYERS["ws"](call_pcm(p225[:3]), start, target, Impairments(speed=0), http)
                while not (state := (await http.get("/calls/call-b-1")).json())["ended"]:
                    await asyncio.sleep(0.1)
                return state

        verified = asyncio.run(genuine_call_through_b())
        assert verified["voice_state"] == "match", verified

        opened = httpx.post(
            f"{b.base}/calls", json={"call_id": "call-b-2", "customer_id": "p225"}, headers=IVR
        )
        assert opened.json()["call"]["voice_state"] == "collecting"
        erased = httpx.delete(f"{a.base}/customers/p225", headers=DPO)
        assert erased.status_code == 200, erased.text
        seconds = wait_for(
            lambda: (
                httpx.get(f"{b.base}/calls/call-b-2", headers=IVR).json()["voice_state"]
                == "not_enrolled"
            )
        )
        assert seconds < 5
        again = httpx.post(
            f"{b.base}/calls", json={"call_id": "call-b-3", "customer_id": "p225"}, headers=IVR
        )
        assert again.json()["call"]["voice_state"] == "not_enrolled"
