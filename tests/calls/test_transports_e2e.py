"""Whole calls of real speech through each transport into a real `voiceauth serve` app on
loopback: the genuine caller reaches `match`, an impostor `mismatch`, a silent caller stays
`collecting`."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path

import numpy as np
import pytest
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
