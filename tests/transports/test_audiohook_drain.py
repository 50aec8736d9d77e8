"""A draining replica moves its AudioHook sessions: it sends `reconnect`, the client continues
the call on a new session at another replica (`continuedSessions`) and closes the old one with
reason `reconnect`; a continuation that lands on the draining replica again is refused cleanly."""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest
import uvicorn
from api.conftest import KEYS
from calls.conftest import (  # noqa: F401  (fixtures for enrolled customers and their calls)
    Pcm,
    calls_of,
    enrolled,
    enrolment_speech,
    speaker_files,
)
from calls.test_transports_e2e import HOOK_SECRET, service_settings

from tests.transports.hook_server import SECRET, Rig, run
from tests.transports.server import serving
from voiceauth.audio.vad import SileroVad
from voiceauth.calls.service import CallService
from voiceauth.calls.snapshot import VoiceState
from voiceauth.embeddings.ge2e import Ge2eEmbedder
from voiceauth.errors import CallError
from voiceauth.service.app import create_service_app
from voiceauth.service.server import DrainingServer
from voiceauth.store import VoiceprintStore
from voiceauth.transports.audiohook import AudioHookSession, play_audiohook
from voiceauth.transports.audiohook.endpoint import END_MOVED, ROUTE
from voiceauth.transports.audiohook.messages import SERVER_TYPES, Message
from voiceauth.transports.audiohook.parameters import OpenParameters, close_reason
from voiceauth.transports.audiohook.sequence import Sequencer
from voiceauth.transports.audiohook.sessions import DRAINING
from voiceauth.transports.base import FRAME_SAMPLES, CallStart
from voiceauth.transports.impair import Impairments

Drain = Callable[[float], Awaitable[None]]


@contextmanager
def sigterm_ignored() -> Iterator[None]:
    """uvicorn raises the signal it shut down on again once it has served (to end a process):
    in a test that drains a server in-process, that must not end the test run."""
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_the_drain_messages_have_the_protocol_shapes() -> None:
    old, new = str(uuid.uuid4()), str(uuid.uuid4())
    server = Sequencer(old, client=False)
    server.received = 7
    reconnect = server.message("reconnect", {"info": DRAINING})
    assert reconnect.dumps() == (
        f'{{"version":"2","id":"{old}","type":"reconnect","seq":1,"clientseq":7,'
        f'"parameters":{{"info":"{DRAINING}"}}}}'
    )
    assert Message.parse(bytes(reconnect)) == reconnect and reconnect.type in SERVER_TYPES

    client = Sequencer(old, client=True)
    client.samples = 8000
    close = Message.parse(bytes(client.message("close", {"reason": "reconnect"})))
    assert close_reason(close.parameters) == "reconnect" and close.position == Decimal(1)

    media = [{"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}]
    opened = Sequencer(new, client=True).message(
        "open",
        {
            "organizationId": str(uuid.uuid4()),
            "conversationId": str(uuid.uuid4()),
            "media": media,
            "continuedSessions": [{"id": old, "serverseq": 1, "clientseq": 12}],
        },
    )
    assert OpenParameters.parse(Message.parse(bytes(opened)).parameters).continued_sessions == (
        old,
    )


def tone(frames: int = 1) -> Pcm:
    return np.full(FRAME_SAMPLES * frames, 1200, np.int16)


def test_a_draining_router_asks_to_reconnect_and_refuses_a_continuation_here() -> None:
    """One replica alone: its drain's `reconnect` brings the continuation back to itself, which
    is refused; the old session goes on carrying the call, then moves it with close `reconnect`."""
    start = CallStart(str(uuid.uuid4()), "audiohook", customer_id="c-225")
    drains: list[Drain] = []

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as old:
            await old.open(start)
            await old.audio(tone(2), tone(2))
            draining = asyncio.ensure_future(drains[0](30.0))
            reconnect = await old.expect("reconnect")
            assert reconnect.parameters == {"info": DRAINING}
            async with AudioHookSession.connect(
                rig.url,
                api_key=rig.telephony_key,
                client_secret=SECRET,
                organization_id=old.organization_id,
            ) as again:
                with pytest.raises(CallError, match="error: the service is shutting down"):
                    await again.open(start, continued=(old.sequence.session_id,))
                await again.close("disconnect")
            await old.audio(tone(), tone())  # still the call's session
            assert not draining.done()
            await old.close("reconnect")
            async with asyncio.timeout(5):
                await draining  # every asked session left: the drain's wait ends

    rig = run(body, drains=drains)
    recorded = rig.sink.calls[start.call_id]
    assert len(recorded.pcm()) == 3 * FRAME_SAMPLES
    assert recorded.end_reason == END_MOVED
    assert rig.count("rejected_calls", transport="audiohook", reason="rejected") == 1


def test_a_client_refused_on_reconnect_stays_on_its_session() -> None:
    """A lone replica: `play_audiohook` follows the `reconnect`, is refused (the replica that
    asked is the only one), and plays the rest of the call on the old session."""
    start = CallStart(str(uuid.uuid4()), "audiohook", customer_id="c-225")
    drains: list[Drain] = []
    asked: list[Message] = []

    async def body(rig: Rig) -> None:
        def same_replica(reconnect: Message) -> str:
            asked.append(reconnect)
            return rig.url

        playing = asyncio.create_task(
            play_audiohook(
                tone(100),
                url=rig.url,
                start=start,
                api_key=rig.telephony_key,
                client_secret=SECRET,
                impairments=Impairments(speed=4),
                reconnect_to=same_replica,
            )
        )
        while start.call_id not in rig.sink.open:
            await asyncio.sleep(0.01)
        await drains[0](0.0)
        fields = await playing
        assert fields["voiceauthState"] == "collecting"

    rig = run(body, drains=drains)
    recorded = rig.sink.calls[start.call_id]
    assert [m.parameters for m in asked] == [{"info": DRAINING}]
    assert rig.count("rejected_calls", transport="audiohook", reason="rejected") == 1
    assert len(recorded.pcm()) == 100 * FRAME_SAMPLES and recorded.end_reason == "close"


@pytest.mark.parametrize("database", ["sqlite"], indirect=True)
def test_a_draining_replica_moves_a_real_call_to_another(
    enrolled: VoiceprintStore,  # noqa: F811
    ge2e: Ge2eEmbedder,
    vad: SileroVad,
    tmp_path: Path,
    calls_of: dict[str, list[Pcm]],  # noqa: F811
) -> None:
    audio = np.concatenate(calls_of["p225"])
    start = CallStart(str(uuid.uuid4()), "audiohook", customer_id="p225")
    settings = service_settings(tmp_path / "a")
    app_a = create_service_app(settings, enrolled, embedder=ge2e, vad=vad)
    app_b = create_service_app(service_settings(tmp_path / "b"), enrolled, embedder=ge2e, vad=vad)
    a: CallService = app_a.state.calls
    b: CallService = app_b.state.calls
    servers: list[DrainingServer] = []
    asked: list[Message] = []

    def draining(config: uvicorn.Config) -> uvicorn.Server:
        hooks = app_a.state.drain_hooks
        servers.append(
            DrainingServer(config, a, drain_hooks=hooks, drain_timeout_s=settings.drain_timeout_s)
        )
        return servers[-1]

    async def call() -> dict[str, str]:
        async with (  # A first: uvicorn restores the handlers it found once A has drained
            serving(app_a, lifespan="on", server_for=draining) as at_a,
            serving(app_b, lifespan="on") as at_b,
        ):

            def to_b(reconnect: Message) -> str:
                asked.append(reconnect)
                return f"ws://{at_b}{ROUTE}"

            playing = asyncio.create_task(
                play_audiohook(
                    audio,
                    url=f"ws://{at_a}{ROUTE}",
                    start=start,
                    api_key=KEYS["ivr"],
                    client_secret=HOOK_SECRET,
                    impairments=Impairments(speed=3),
                    reconnect_to=to_b,
                )
            )
            async with asyncio.timeout(60):
                while not a.active_calls or a.snapshot(start.call_id).audio_s < 1.0:
                    await asyncio.sleep(0.02)
            servers[0].handle_exit(signal.SIGTERM, None)  # A drains mid-call
            fields = await playing
            async with asyncio.timeout(10):
                while b.active_calls:
                    await asyncio.sleep(0.05)
            return fields

    with sigterm_ignored():
        fields = asyncio.run(call())
    on_a, on_b = a.snapshot(start.call_id), b.snapshot(start.call_id)
    assert [m.type for m in asked] == ["reconnect"] and asked[0].parameters == {"info": DRAINING}
    assert on_a.ended and on_a.end_reason == END_MOVED  # closed with `reconnect`, not "shutdown"
    assert on_b.ended and on_b.end_reason == "close"
    assert 1.0 <= on_a.audio_s < on_a.audio_s + on_b.audio_s
    assert on_a.audio_s + on_b.audio_s == pytest.approx(len(audio) / 8000, abs=0.05)
    assert on_b.voice_state is VoiceState.MATCH, on_b.reasons
    assert fields["voiceauthState"] == "match"
