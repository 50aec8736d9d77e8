"""Twilio Media Streams from the independent simulator `streamdouble` (PyPI, pinned 0.3.0).

streamdouble plays a WAV as Twilio would (its own framing, µ-law encoder, SIDs, counters and
loss model) but sends no X-Twilio-Signature; in production Twilio's edge signs the upgrade. A
small relay on loopback stands in for that edge: it accepts streamdouble's socket, opens a
signed one to the service and forwards every message unchanged, so the service still refuses
anything unsigned.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import numpy as np
import soundfile as sf
from pydantic import SecretStr
from streamdouble.api import call, run_scenario
from streamdouble.audio import wav_to_ulaw_frames
from streamdouble.chaos import Impairments as NetworkImpairments
from streamdouble.scenario import Dtmf, Hangup, Say, Scenario
from streamdouble.session import SessionConfig
from websockets.asyncio.client import connect
from websockets.asyncio.server import ServerConnection, serve

from tests.transports.recorder import RecordingSink
from tests.transports.server import app_with, serving, speech_8k
from voiceauth.audio.g711 import mulaw_decode
from voiceauth.calls.metrics import CallMetrics
from voiceauth.transports.twilio import twilio_router
from voiceauth.transports.twilio.signature import SIGNATURE_HEADER, compute_signature

TOKEN = "twilio-test-auth-token"
CALLER = "autovc_vctk_samples/p225/p225_003.wav"
AGENT = "autovc_vctk_samples/p226/p226_003.wav"
PARAMETERS = {"from": "+4930123456", "to": "+4940999000", "customerId": "c-225", "lang": "de"}


@asynccontextmanager
async def signing_edge(target: str) -> AsyncIterator[str]:
    """Twilio's edge in miniature: yields a URL whose connections reach `target` signed."""

    async def relay(inbound: ServerConnection) -> None:
        headers = {SIGNATURE_HEADER: compute_signature(TOKEN, target)}
        async with connect(target, additional_headers=headers, proxy=None) as outbound:
            async for message in inbound:
                await outbound.send(message)

    async with serve(relay, "127.0.0.1", 0) as server:
        port = next(iter(server.sockets)).getsockname()[1]
        yield f"ws://127.0.0.1:{port}/twilio/media"


def clip(shared_data: Path, name: str, seconds: float, folder: Path) -> Path:
    """A real speech excerpt as the 8 kHz WAV a test call plays (streamdouble reads WAV)."""
    path = folder / Path(name).name
    sf.write(path, speech_8k(shared_data / name, seconds), 8000, subtype="PCM_16")
    return path


def decoded(frames: list[bytes]) -> np.ndarray:
    return mulaw_decode(np.frombuffer(b"".join(frames), dtype=np.uint8))


def test_streamdouble_fork_with_both_tracks(shared_data: Path, tmp_path: Path) -> None:
    caller = clip(shared_data, CALLER, 1.5, tmp_path)
    agent_frames = wav_to_ulaw_frames(clip(shared_data, AGENT, 1.0, tmp_path))
    sink, metrics = RecordingSink(), CallMetrics()
    config = SessionConfig(
        fork=True,
        tracks=["inbound", "outbound"],
        agent_frames=agent_frames,
        custom_parameters=PARAMETERS,
        quiet_period_s=0.05,
        connect_timeout_s=5,
    )

    async def main() -> None:
        router = twilio_router(sink, metrics, auth_token=SecretStr(TOKEN), public_url=None)
        async with serving(app_with(router)) as authority:
            async with signing_edge(f"ws://{authority}/twilio/media") as edge:
                report = await call(edge, audio_path=caller, config=config)
            async with asyncio.timeout(5):
                await sink.ended.wait()
        assert report.violations == [] and report.result.closed_by is None
        identity = report.result.identity
        recorded = sink.calls[identity.call_sid]
        start = recorded.start
        assert (start.ani, start.dnis, start.customer_id) == ("+4930123456", "+4940999000", "c-225")
        assert start.parameters["lang"] == "de"
        assert start.parameters["streamSid"] == identity.stream_sid
        assert start.parameters["accountSid"] == identity.account_sid
        np.testing.assert_array_equal(recorded.pcm("caller"), decoded(wav_to_ulaw_frames(caller)))
        np.testing.assert_array_equal(recorded.pcm("agent"), decoded(agent_frames))
        assert recorded.end_reason == "stop"

    asyncio.run(main())
    assert metrics.registry.get_sample_value(
        "voiceauth_frames_total", {"transport": "twilio", "track": "agent"}
    ) == len(agent_frames)


def test_streamdouble_loss_digits_and_hang_up(shared_data: Path, tmp_path: Path) -> None:
    caller = clip(shared_data, CALLER, 1.0, tmp_path)
    frames = wav_to_ulaw_frames(caller)
    scenario = Scenario("press and hang up", [Say(caller, frames), Dtmf("73"), Hangup()])
    config = SessionConfig(
        fork=True,
        custom_parameters={"ani": "+15550100"},
        impairments=NetworkImpairments(loss=0.15),
        chaos_seed=3,
        quiet_period_s=0.05,
    )
    sink, metrics = RecordingSink(), CallMetrics()

    async def main() -> None:
        router = twilio_router(sink, metrics, auth_token=SecretStr(TOKEN), public_url=None)
        async with serving(app_with(router)) as authority:
            async with signing_edge(f"ws://{authority}/twilio/media") as edge:
                report = await run_scenario(edge, scenario, config=config)
            async with asyncio.timeout(5):
                await sink.ended.wait()
        recorded = sink.calls[report.result.identity.call_sid]
        dropped = report.result.frames_dropped
        assert dropped > 0 and report.result.closed_by == "caller"
        assert recorded.start.ani == "+15550100"
        assert recorded.digits == "73"
        assert recorded.end_reason == "disconnect"  # hung up without stop
        # Loss shows as timestamp gaps that the service fills with silence: every frame of
        # the speech is either exactly what was sent or silence in a lost frame's slot.
        got = recorded.pcm("caller")[: len(frames) * 160].reshape(-1, 160)
        sent = decoded(frames).reshape(-1, 160)
        mismatched = [i for i in range(len(frames)) if not np.array_equal(got[i], sent[i])]
        assert all(not got[i].any() for i in mismatched)
        assert 0 < len(mismatched) <= dropped
        lost = metrics.registry.get_sample_value(
            "voiceauth_packets_lost_total", {"transport": "twilio"}
        )
        assert lost is not None and len(mismatched) <= lost <= dropped

    asyncio.run(main())
