"""Whole calls of real speech through each transport into a real `voiceauth serve` app on
loopback: the genuine caller reaches `match`, an impostor `mismatch`, a silent caller stays
`collecting`."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile
from api.conftest import KEYS, LINES
from pydantic import SecretStr
from transports.server import serving

from voiceauth.audio.vad import SileroVad
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.service.app import create_service_app
from voiceauth.settings import Settings
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart
from voiceauth.transports.twilio.client import play_twilio
from voiceauth.transports.ws.client import play_ws

from .conftest import MODELS, Pcm

TOKEN = "twilio-test-token"
Player = Callable[[Pcm, str, CallStart], Awaitable[None]]


async def twilio(pcm: Pcm, authority: str, start: CallStart) -> None:
    await play_twilio(pcm, url=f"ws://{authority}/twilio/media", start=start, auth_token=TOKEN)


async def generic_ws(pcm: Pcm, authority: str, start: CallStart) -> None:
    await play_ws(pcm, url=f"ws://{authority}/ws/calls", start=start, api_key=KEYS["ivr"])


PLAYERS: dict[str, Player] = {"twilio": twilio, "ws": generic_ws}


def run_calls(
    store: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    home: Path,
    player: Player,
    calls: list[tuple[str, str, Pcm]],
) -> dict[str, CallSnapshot]:
    """Play each (call id, claimed customer, audio) as a call; the final snapshots."""
    settings = Settings(
        home=home,
        api_keys=SecretStr(",".join(LINES)),
        twilio_auth_token=SecretStr(TOKEN),
        models_dir=MODELS,
    )

    async def run() -> dict[str, CallSnapshot]:
        app = create_service_app(settings, store, embedder=ge2e, vad=vad)
        async with serving(app, lifespan="on") as authority:
            service: CallService = app.state.calls
            for call_id, claim, pcm in calls:
                await player(pcm, authority, CallStart(call_id, "sim", customer_id=claim))
            async with asyncio.timeout(10):
                while service.active_calls:  # the transport ends each call on `stop`
                    await asyncio.sleep(0.05)
            return {call_id: service.snapshot(call_id) for call_id, _, _ in calls}

    return asyncio.run(run())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("transport", sorted(PLAYERS))
def test_every_transport_carries_real_calls_to_a_decision(
    transport: str,
    enrolled: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
    calls_of: dict[str, list[Pcm]],
) -> None:
    hiss = np.random.default_rng(1).normal(0, 30, 8000 * 6).astype(np.int16)
    results = run_calls(
        enrolled,
        ge2e,
        vad,
        tmp_path,
        PLAYERS[transport],
        [
            ("genuine", "p225", np.concatenate(calls_of["p225"][:2])),
            ("impostor", "p225", np.concatenate(calls_of["p227"][:2])),
            ("silent", "p225", hiss),
        ],
    )
    assert results["genuine"].voice_state is VoiceState.MATCH, results["genuine"].reasons
    assert results["impostor"].voice_state is VoiceState.MISMATCH, results["impostor"].reasons
    assert results["silent"].voice_state is VoiceState.COLLECTING
    assert all(r.ended and r.transport == transport for r in results.values())
    assert results["genuine"].audio_s == pytest.approx(
        len(np.concatenate(calls_of["p225"][:2])) / 8000, abs=0.05
    )


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_voiceauth_simulate_plays_a_recording_as_an_impaired_call(
    enrolled: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
    calls_of: dict[str, list[Pcm]],
) -> None:
    recording = tmp_path / "caller.wav"
    soundfile.write(recording, np.concatenate(calls_of["p225"]), 8000, subtype="PCM_16")
    out = tmp_path / "result.json"
    settings = Settings(
        home=tmp_path,
        api_keys=SecretStr(",".join(LINES)),
        twilio_auth_token=SecretStr(TOKEN),
        models_dir=MODELS,
    )
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("VOICEAUTH_")},
        "VOICEAUTH_HOME": str(tmp_path),
        "VOICEAUTH_TWILIO_AUTH_TOKEN": TOKEN,
    }

    async def run() -> int:
        app = create_service_app(settings, enrolled, embedder=ge2e, vad=vad)
        async with serving(app, lifespan="on") as authority:
            process = await asyncio.create_subprocess_exec(
                *(sys.executable, "-m", "voiceauth", "simulate", str(recording)),
                *("--transport", "twilio", "--server", f"http://{authority}"),
                *("--customer", "p225", "--api-key", KEYS["ivr"], "--json", str(out)),
                *("--loss", "0.03", "--jitter-ms", "4", "--reorder", "0.02", "--speed", "4"),
                env=env,
            )
            return await process.wait()

    assert asyncio.run(run()) == 0
    result = json.loads(out.read_text())
    assert result["voice_state"] == "match" and result["ended"], json.dumps(result)
    assert 3.0 <= result["decided_after_speech_s"] <= result["decided_after_audio_s"]
    assert result["simulation"]["transport"] == "twilio"
