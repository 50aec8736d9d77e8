"""Whole calls of real speech through each transport into a real `voiceauth serve` app on
loopback: the genuine caller reaches `match`, an impostor `mismatch`, a silent caller stays
`collecting`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import socket
import sys
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile
from api.conftest import KEYS, LINES, headers
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
from voiceauth.transports.impair import Impairments
from voiceauth.transports.simulate import PLAYERS, TRANSPORTS, Target

from .conftest import MODELS, Pcm

HEADERS = headers("ivr")

TOKEN = "twilio-test-token"
HOOK_SECRET = base64.b64encode(b"audiohook-test-secret").decode()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def service_settings(home: Path) -> Settings:
    return Settings(
        home=home,
        api_keys=SecretStr(",".join(LINES)),
        twilio_auth_token=SecretStr(TOKEN),
        audiohook_client_secret=SecretStr(HOOK_SECRET),
        audiosocket_port=free_port(),
        models_dir=MODELS,
    )


def run_calls(
    store: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    home: Path,
    transport: str,
    calls: list[tuple[str, Pcm]],
) -> list[CallSnapshot]:
    """Play each (claimed customer, audio) as a call; the final snapshots."""
    settings = service_settings(home)

    async def run() -> list[CallSnapshot]:
        app = create_service_app(settings, store, embedder=ge2e, vad=vad)
        async with serving(app, lifespan="on") as authority:
            service: CallService = app.state.calls
            target = Target(
                f"http://{authority}",
                KEYS["ivr"],
                twilio_auth_token=TOKEN,
                audiohook_client_secret=HOOK_SECRET,
                audiosocket_port=settings.audiosocket_port,
            )
            ids = []
            async with httpx.AsyncClient(base_url=target.server, headers=HEADERS) as http:
                for claim, pcm in calls:
                    ids.append(str(uuid.uuid4()))
                    start = CallStart(ids[-1], transport, customer_id=claim)
                    await PLAYERS[transport](pcm, start, target, Impairments(speed=3), http)
            async with asyncio.timeout(10):
                while service.active_calls:  # the transport ends each call on hang-up
                    await asyncio.sleep(0.05)
            return [service.snapshot(call_id) for call_id in ids]

    return asyncio.run(run())


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_every_transport_carries_real_calls_to_a_decision(
    transport: str,
    enrolled: VoiceprintStore,
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
    calls_of: dict[str, list[Pcm]],
    clone_of_p225: Pcm,
) -> None:
    hiss = np.random.default_rng(1).normal(0, 30, 8000 * 6).astype(np.int16)
    genuine_audio = np.concatenate(calls_of["p225"])
    genuine, impostor, silent, clone = run_calls(
        enrolled,
        ge2e,
        vad,
        tmp_path,
        transport,
        [
            ("p225", genuine_audio),
            ("p225", np.concatenate(calls_of["p227"])),
            ("p225", hiss),
            ("p225", clone_of_p225),
        ],
    )
    assert genuine.voice_state is VoiceState.MATCH, genuine.reasons
    assert genuine.liveness_llr is not None  # voice and liveness both on
    assert impostor.voice_state is VoiceState.MISMATCH, impostor.reasons
    assert silent.voice_state is VoiceState.COLLECTING
    assert clone.voice_state in (VoiceState.SPOOF, VoiceState.MISMATCH), clone.reasons
    assert all(r.ended and r.transport == transport for r in (genuine, impostor, silent, clone))
    assert genuine.audio_s == pytest.approx(len(genuine_audio) / 8000, abs=0.05)


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
    settings = service_settings(tmp_path)
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
