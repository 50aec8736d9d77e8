"""RTP calls with the agent's leg on a second port: kept apart from the caller's, over real UDP
on loopback, into a recorder and into a real service that decides on the caller's voice."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from api.conftest import headers
from calls.conftest import (  # noqa: F401  (fixtures for enrolled customers and their calls)
    Pcm,
    calls_of,
    enrolled,
    enrolment_speech,
    speaker_files,
)
from calls.test_transports_e2e import service_settings

from tests.transports.recorder import RecordingSink
from tests.transports.server import serving, speech_8k
from tests.transports.test_rtp_server import (
    HOST,
    PORTS,
    SETTLE_S,
    SPEECH,
    refused,
    rtp_server,
    run,
    sample,
)
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.audio.vad import SileroVad
from voiceauth.calls.metrics import CallMetrics
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import CallSnapshot, VoiceState
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.errors import CallExists, CallRejected
from voiceauth.service.app import create_service_app
from voiceauth.store import VoiceprintStore
from voiceauth.transports.base import CallStart, Track
from voiceauth.transports.impair import Impairments
from voiceauth.transports.rtp import END_IDLE, RtpServer, send_rtp

HEADERS = headers("ivr")
AGENT_SPEECH = "autovc_vctk_samples/p227/p227_003.wav"
LEGS = {"legs": ["caller", "agent"]}
SERVICE_PORTS = "45200-45203"
"""Two even ports: one call with both legs takes them all."""


async def open_legs(sink: RecordingSink, server: RtpServer, call_id: str) -> dict[Track, int]:
    """What the API does for `"legs": ["caller", "agent"]`: start the call, bind both ports."""
    await sink.start(CallStart(call_id, "rtp"))
    caller = await server.allocate(call_id, agent=True)
    agent = server.port_of(call_id, "agent")
    assert agent is not None
    return {"caller": caller, "agent": agent}


def frames(metrics: CallMetrics, track: Track) -> float:
    return sample(metrics, "voiceauth_frames_total", transport="rtp", track=track)


async def unbound(*ports: int) -> bool:
    """Whether nothing holds `ports` any more (released legs can be bound again), once the
    loop has run the closing of their sockets."""
    await asyncio.sleep(0)
    for port in ports:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((HOST, port))
            except OSError:
                return False
    return True


def test_each_leg_arrives_on_its_own_track_and_only_the_caller_keys_digits(
    shared_data: Path,
) -> None:
    caller_pcm = speech_8k(shared_data / SPEECH, 3.0)
    agent_pcm = speech_8k(shared_data / AGENT_SPEECH, 3.0)

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics) as server:
            ports = await open_legs(sink, server, "CA1")
            pace = Impairments(speed=5)
            await asyncio.gather(
                send_rtp(
                    caller_pcm, host=HOST, port=ports["caller"], impairments=pace, digits="4#"
                ),
                send_rtp(agent_pcm, host=HOST, port=ports["agent"], impairments=pace, digits="9"),
            )
            await asyncio.sleep(SETTLE_S)
            await server.release("CA1")
            assert server.port_of("CA1") is None and server.port_of("CA1", "agent") is None
        assert ports["caller"] != ports["agent"]
        assert all(p % 2 == 0 and PORTS[0] <= p <= PORTS[1] for p in ports.values())
        call = sink.calls["CA1"]
        np.testing.assert_array_equal(call.pcm("caller"), mulaw_decode(mulaw_encode(caller_pcm)))
        np.testing.assert_array_equal(call.pcm("agent"), mulaw_decode(mulaw_encode(agent_pcm)))
        assert call.digits == "4#"
        assert frames(metrics, "caller") == frames(metrics, "agent") == 150
        kinds = ("rtp_header", "rtp_payload", "rtp_unknown_ssrc", "rtp_unknown_payload_type")
        assert all(refused(metrics, kind) == 0 for kind in kinds)
        assert await unbound(*ports.values())

    run(test)


def test_the_call_ends_when_its_caller_falls_silent_whatever_the_agent_does(
    shared_data: Path,
) -> None:
    caller_pcm = speech_8k(shared_data / SPEECH, 1.0)
    agent_pcm = speech_8k(shared_data / AGENT_SPEECH, 2.5)

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics, idle_timeout_s=0.3) as server:
            # the agent silent: the caller talking in real time for longer than the timeout
            silent_agent = await open_legs(sink, server, "quiet-agent")
            await send_rtp(caller_pcm, host=HOST, port=silent_agent["caller"])
            async with asyncio.timeout(3):
                await sink.ended.wait()
            sink.ended.clear()
            # the caller silent after a moment: the agent talking on does not hold the call
            talking_agent = await open_legs(sink, server, "quiet-caller")
            agent = asyncio.create_task(send_rtp(agent_pcm, host=HOST, port=talking_agent["agent"]))
            await send_rtp(caller_pcm[:1600], host=HOST, port=talking_agent["caller"])
            async with asyncio.timeout(3):
                await sink.ended.wait()
            assert server.port_of("quiet-caller", "agent") is None
            await agent
        quiet_agent, quiet_caller = sink.calls["quiet-agent"], sink.calls["quiet-caller"]
        assert quiet_agent.end_reason == quiet_caller.end_reason == END_IDLE
        assert len(quiet_agent.pcm("caller")) == len(caller_pcm)
        assert len(quiet_caller.pcm("agent")) < len(agent_pcm)
        assert await unbound(*silent_agent.values(), *talking_agent.values())

    run(test)


def test_both_legs_come_from_the_range_together_or_not_at_all() -> None:
    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics, port_range=(44101, 44106)) as server:
            first = await open_legs(sink, server, "A")
            assert set(first.values()) <= {44102, 44104, 44106}
            assert await server.allocate("A", agent=True) == first["caller"]  # again: harmless
            with pytest.raises(CallExists):
                await server.allocate("A")  # the same call with other legs
            with pytest.raises(CallRejected, match="no free RTP port in 44102-44106"):
                await open_legs(sink, server, "B")
            assert server.port_of("B") is None
            last = await server.allocate("B")  # the refused pair kept nothing: one port is left
            assert {*first.values(), last} == {44102, 44104, 44106}
            await sink.start(CallStart("C", "rtp"))
            with pytest.raises(CallRejected):
                await server.allocate("C")
            await server.release("A")
            assert await unbound(*first.values())
            assert await server.allocate("C", agent=True) in first.values()
            again = {server.port_of("C"), server.port_of("C", "agent")}
            assert again == set(first.values())
        assert await unbound(*first.values(), last)  # shut down: every leg's port is free

    run(test)


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_real_call_decides_on_the_caller_leg_only(
    enrolled: VoiceprintStore,  # noqa: F811  (the fixtures imported above)
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
    calls_of: dict[str, list[Pcm]],  # noqa: F811
) -> None:
    customer, other = np.concatenate(calls_of["p225"]), np.concatenate(calls_of["p227"])
    settings = service_settings(tmp_path).model_copy(update={"rtp_ports": SERVICE_PORTS})

    async def scenario() -> tuple[CallSnapshot, CallSnapshot, CallMetrics]:
        app = create_service_app(settings, enrolled, embedder=ge2e, vad=vad)
        async with (
            serving(app, lifespan="on") as authority,
            httpx.AsyncClient(base_url=f"http://{authority}", headers=HEADERS) as http,
        ):
            service: CallService = app.state.calls
            genuine = await call_with_legs(http, service, caller=customer, agent=other)
            swapped = await call_with_legs(http, service, caller=other, agent=customer)
            await refused_and_retried(http)
            return genuine, swapped, service.metrics

    genuine, swapped, metrics = asyncio.run(scenario())
    assert genuine.voice_state is VoiceState.MATCH, genuine.reasons
    assert genuine.audio_s == pytest.approx(len(customer) / 8000, abs=0.05)  # the caller's only
    assert swapped.voice_state is VoiceState.MISMATCH, swapped.reasons
    assert swapped.audio_s == pytest.approx(len(other) / 8000, abs=0.05)
    agent_frames = (len(customer) + len(other)) // 160
    assert frames(metrics, "agent") == pytest.approx(agent_frames, abs=2)  # each counted once


async def call_with_legs(
    http: httpx.AsyncClient, service: CallService, *, caller: Pcm, agent: Pcm
) -> CallSnapshot:
    """Open an RTP call claiming p225 with both legs, play both at once, hang up."""
    call_id = str(uuid.uuid4())
    body = {"call_id": call_id, "transport": "rtp", "customer_id": "p225", **LEGS}
    opened = await http.post("/calls", json=body)
    assert opened.status_code == 201, opened.text
    rtp = opened.json()["rtp"]
    pace = Impairments(speed=3)
    await asyncio.gather(
        send_rtp(caller, host=rtp["host"], port=rtp["port"], impairments=pace),
        send_rtp(agent, host=rtp["host"], port=rtp["agent_port"], impairments=pace),
    )
    await asyncio.sleep(SETTLE_S)
    ended = await http.post(f"/calls/{call_id}/end", json={"reason": "hangup"})
    assert ended.status_code == 200, ended.text
    return service.snapshot(call_id)


async def refused_and_retried(http: httpx.AsyncClient) -> None:
    """With both ports taken, a call asking for two legs is refused (503) and ended, so the
    platform can retry the same id once ports are free again; legs outside RTP are invalid."""
    holder = await http.post("/calls", json={"call_id": "holder", "transport": "rtp", **LEGS})
    assert holder.status_code == 201, holder.text
    retry = {"call_id": "retry", "transport": "rtp", **LEGS}
    refused_call = await http.post("/calls", json=retry)
    assert refused_call.status_code == 503, refused_call.text
    state = (await http.get("/calls/retry")).json()
    assert state["ended"] and state["end_reason"] == "no free RTP port"
    assert (await http.post("/calls/holder/end", json={})).status_code == 200
    again = await http.post("/calls", json=retry)
    assert again.status_code == 201, again.text
    held = holder.json()["rtp"]
    assert {again.json()["rtp"]["port"], again.json()["rtp"]["agent_port"]} == {
        held["port"],
        held["agent_port"],
    }
    for body in (
        {"call_id": "ws-agent", "transport": "audiosocket", **LEGS},
        {"call_id": "no-caller", "transport": "rtp", "legs": ["agent"]},
        {"call_id": "twice", "transport": "rtp", "legs": ["caller", "caller"]},
    ):
        assert (await http.post("/calls", json=body)).status_code == 422, body
