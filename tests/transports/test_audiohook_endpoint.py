"""The AudioHook endpoint on a real uvicorn server: signed sessions of real speech end to end,
pause/resume, reconnection, and every kind of bad input refused, counted and closed without
touching other calls."""

from __future__ import annotations

import asyncio
import uuid
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus

from tests.transports.hook_server import SECRET, Rig, run
from tests.transports.server import speech_8k
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.errors import CallError
from voiceauth.transports.audiohook import AudioHookSession, play_audiohook
from voiceauth.transports.base import FRAME_SAMPLES, CallStart
from voiceauth.transports.impair import Impairments

SPEECH = "autovc_vctk_samples/p225/p225_003.wav"
AGENT_SPEECH = "autovc_vctk_samples/p226/p226_003.wav"
FAST = Impairments(speed=0)


def call(customer: str | None = "c-225") -> CallStart:
    return CallStart(str(uuid.uuid4()), "audiohook", ani="+4930123456", customer_id=customer)


def companded(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """What the service should hold after µ-law: the padded recording, companded."""
    padded = np.zeros(-(-len(pcm) // FRAME_SAMPLES) * FRAME_SAMPLES, np.int16)
    padded[: len(pcm)] = pcm
    return mulaw_decode(mulaw_encode(padded))


def tone(frames: int = 1) -> npt.NDArray[np.int16]:
    return np.full(FRAME_SAMPLES * frames, 1200, np.int16)


def test_a_session_of_real_speech_end_to_end(shared_data: Path) -> None:
    caller = speech_8k(shared_data / SPEECH, 1.5)
    agent = speech_8k(shared_data / AGENT_SPEECH, 1.5)
    start = call()
    found: dict[str, str] = {}

    async def body(rig: Rig) -> None:
        found.update(
            await play_audiohook(
                caller,
                url=rig.url,
                start=start,
                api_key=rig.telephony_key,
                client_secret=SECRET,
                agent=agent,
                impairments=FAST,
            )
        )
        assert rig.count("frames", transport="audiohook", track="caller") == 75
        assert rig.count("frames", transport="audiohook", track="agent") == 75
        assert rig.count("malformed_input", transport="audiohook", kind="audiohook_position") == 0

    rig = run(body)
    recorded = rig.sink.calls[start.call_id]
    assert np.array_equal(recorded.pcm("caller"), companded(caller))
    assert np.array_equal(recorded.pcm("agent"), companded(agent))
    assert (recorded.start.ani, recorded.start.customer_id) == ("+4930123456", "c-225")
    assert recorded.end_reason == "close"
    assert found == {
        "voiceauthState": "collecting",
        "voiceauthVerified": "false",
        "voiceauthFraudSuspected": "false",
    }


def test_lost_frames_are_reported_as_discarded(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 2.0)
    start = call()

    async def body(rig: Rig) -> None:
        lossy = Impairments(loss=0.1, speed=0, seed=2)
        await play_audiohook(
            pcm,
            url=rig.url,
            start=start,
            api_key=rig.telephony_key,
            client_secret=SECRET,
            impairments=lossy,
        )
        received = rig.count("frames", transport="audiohook", track="caller")
        assert rig.count("packets_lost", transport="audiohook") == 100 - received > 0
        assert rig.count("malformed_input", transport="audiohook", kind="audiohook_position") == 0

    run(body)


def test_a_pause_sends_no_audio_and_keeps_the_position(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)
    start = call()

    async def body(rig: Rig) -> None:
        await play_audiohook(
            pcm,
            url=rig.url,
            start=start,
            api_key=rig.telephony_key,
            client_secret=SECRET,
            pause=(0.2, 0.4),
            impairments=FAST,
        )
        assert rig.count("malformed_input", transport="audiohook", kind="audiohook_position") == 0

    recorded = run(body).sink.calls[start.call_id]
    expected = companded(pcm)
    assert np.array_equal(recorded.pcm(), np.concatenate([expected[:1600], expected[4800:]]))


def test_audio_sent_while_paused_is_dropped_and_counted() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            await session.open(start)
            await session.audio(tone(), tone())
            await session.send("paused")
            await session.audio(tone(), tone())
            await session.resumed(Decimal(0))
            await session.audio(tone(), tone())
            await session.close()
        assert rig.count("malformed_input", transport="audiohook", kind="audiohook_paused") == 1

    assert len(run(body).sink.calls[start.call_id].pcm()) == 2 * FRAME_SAMPLES


def test_ping_is_answered_with_pong_and_update_is_accepted() -> None:
    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            await session.open(call())
            await session.send("ping")
            await session.send("update", {"language": "de-DE"})
            await session.send("error", {"code": 500, "message": "client trouble"})
            await session.send("ping")
            await session.close()
            assert session.pongs == 2

    run(body)


def test_a_mono_offer_is_taken_as_the_caller() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            mono = {"type": "audio", "format": "PCMU", "channels": ["external"], "rate": 8000}
            await session.send(
                "open",
                {
                    "organizationId": session.organization_id,
                    "conversationId": start.call_id,
                    "participant": {"ani": "tel:+1555"},
                    "media": [mono],
                },
            )
            opened = await session.expect("opened")
            assert opened.parameters["media"] == [mono]
            await session.connection.send(mulaw_encode(tone()).tobytes())
            await session.close()

    recorded = run(body).sink.calls[start.call_id]
    assert recorded.start.ani == "+1555"
    assert len(recorded.pcm("caller")) == FRAME_SAMPLES and len(recorded.pcm("agent")) == 0


def test_a_reconnecting_session_takes_the_call_over() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as first:
            await first.open(start)
            await first.audio(tone(2), tone(2))
            old = first.sequence.session_id
            async with AudioHookSession.connect(
                rig.url,
                api_key=rig.telephony_key,
                client_secret=SECRET,
                organization_id=first.organization_id,
            ) as second:
                await second.open(start, continued=(old,))
                await first.audio(tone(), tone())  # the old session's audio is dropped now
                fields = await first.close("reconnect")
                assert fields["voiceauthState"] == "collecting"
                await second.audio(tone(3), tone(3))
                await asyncio.sleep(0.4)  # longer than the grace: the call must stay open
                assert start.call_id in rig.sink.open
                await second.close()

    recorded = run(body).sink.calls[start.call_id]
    assert len(recorded.pcm()) == 5 * FRAME_SAMPLES
    assert recorded.end_reason == "close"


def test_a_second_session_for_a_live_call_is_refused() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as first:
            await first.open(start)
            async with AudioHookSession.connect(
                rig.url,
                api_key=rig.telephony_key,
                client_secret=SECRET,
                organization_id=first.organization_id,
            ) as intruder:
                with pytest.raises(CallError, match="streaming on another AudioHook session"):
                    await intruder.open(start)
                await intruder.close("disconnect")
            await first.audio(tone(), tone())
            await first.close()
        assert rig.count("malformed_input", transport="audiohook", kind="audiohook_conflict") == 1

    assert run(body).sink.calls[start.call_id].end_reason == "close"


def test_a_dropped_connection_ends_the_call_after_the_grace() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            await session.open(start)
            await session.audio(tone(), tone())
        await asyncio.sleep(0.05)
        assert start.call_id in rig.sink.open  # resumable for a while
        await asyncio.sleep(0.4)
        assert start.call_id not in rig.sink.open

    recorded = run(body).sink.calls[start.call_id]
    assert recorded.end_reason == "disconnect"
    assert len(recorded.pcm()) == FRAME_SAMPLES


def test_the_same_session_reopening_after_a_drop_resumes_the_call() -> None:
    start, session_id = call(), str(uuid.uuid4())

    async def body(rig: Rig) -> None:
        for _ in range(2):
            async with AudioHookSession.connect(
                rig.url, api_key=rig.telephony_key, client_secret=SECRET, session_id=session_id
            ) as session:
                await session.open(start)
                await session.audio(tone(), tone())
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET, session_id=session_id
        ) as session:
            await session.open(start)
            await session.close()

    recorded = run(body).sink.calls[start.call_id]
    assert len(recorded.pcm()) == 2 * FRAME_SAMPLES
    assert recorded.end_reason == "close"


async def refused(rig: Rig, action: str, kind: str) -> str:
    """Open a session, do one bad thing, expect a disconnect error; return its info."""
    async with AudioHookSession.connect(
        rig.url, api_key=rig.telephony_key, client_secret=SECRET
    ) as session:
        if action != "audio before open":
            await session.open(call())
        if action == "garbage":
            await session.connection.send("{{ not json")
        elif action == "sequence":
            session.sequence.sent += 5
            await session.send("ping")
        elif action == "oversized":
            await session.connection.send(b"\xff" * 70000)
        else:
            await session.connection.send(mulaw_encode(tone()).tobytes())
        told = await session.expect("disconnect")
        fields = await session.close("disconnect")
        assert told.parameters["reason"] == "error"
        assert rig.count("malformed_input", transport="audiohook", kind=kind) == 1
        if action != "audio before open":
            assert fields["voiceauthState"] == "collecting"
        return str(told.parameters["info"])


@pytest.mark.parametrize(
    ("action", "kind", "info"),
    [
        ("garbage", "ws_message", "not JSON"),
        ("sequence", "audiohook_sequence", "seq 7, expected 2"),
        ("oversized", "oversized", "exceeds the 65536-byte limit"),
        ("audio before open", "ws_message", "audio before the session was opened"),
    ],
)
def test_protocol_errors_disconnect_with_the_reason(action: str, kind: str, info: str) -> None:
    async def body(rig: Rig) -> None:
        assert info in await refused(rig, action, kind)

    rig = run(body)
    assert all(recorded.end_reason == "refused" for recorded in rig.sink.calls.values())


def test_an_open_for_another_organisation_is_unauthorized() -> None:
    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            session.organization_id = str(uuid.uuid4())
            with pytest.raises(CallError, match="unauthorized: organizationId differs"):
                await session.open(call())
            await session.close("disconnect")

    assert run(body).sink.calls == {}


def test_audio_for_a_call_ended_through_the_api_completes_the_session() -> None:
    start = call()

    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            await session.open(start)
            await rig.sink.end(start.call_id, "api")
            await session.audio(tone(), tone())
            told = await session.expect("disconnect")
            assert told.parameters["reason"] == "completed"
            await session.close("disconnect")
        assert rig.count("malformed_input", transport="audiohook", kind="closed_call") == 1

    assert run(body).sink.calls[start.call_id].end_reason == "api"


def test_upgrades_are_refused_over_http_with_a_reason() -> None:
    async def body(rig: Rig) -> None:
        cases = [
            ({}, 401, "missing X-API-KEY"),
            (rig.headers(api_key=rig.agent_key), 403, "telephony scope"),
            (rig.headers(secret="b3RoZXIgc2VjcmV0"), 401, "invalid HTTP message signature"),
        ]
        for headers, status, text in cases:
            with pytest.raises(InvalidStatus) as caught:
                async with connect(rig.url, additional_headers=headers, proxy=None):
                    pass
            assert caught.value.response.status_code == status
            assert text in (caught.value.response.body or b"").decode()
        assert rig.count("malformed_input", transport="audiohook", kind="ws_signature") == 1
        assert rig.count("rejected_calls", transport="audiohook", reason="unauthorized") == 3

    run(body)


def test_without_a_client_secret_every_upgrade_is_refused() -> None:
    async def body(rig: Rig) -> None:
        with pytest.raises(CallError, match="HTTP 403: AudioHook is off"):
            await play_audiohook(
                tone(), url=rig.url, start=call(), api_key=rig.telephony_key, client_secret=SECRET
            )

    run(body, client_secret=None)


def test_other_calls_are_unaffected_by_a_broken_session(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)
    start = call()

    async def body(rig: Rig) -> None:
        good = play_audiohook(
            pcm,
            url=rig.url,
            start=start,
            api_key=rig.telephony_key,
            client_secret=SECRET,
            impairments=Impairments(speed=5),
        )
        await asyncio.gather(good, refused(rig, "garbage", "ws_message"))

    recorded = run(body).sink.calls[start.call_id]
    assert np.array_equal(recorded.pcm(), companded(pcm))
    assert recorded.end_reason == "close"


def test_a_silent_connection_is_disconnected_after_the_open_timeout() -> None:
    async def body(rig: Rig) -> None:
        async with AudioHookSession.connect(
            rig.url, api_key=rig.telephony_key, client_secret=SECRET
        ) as session:
            told = await session.expect("disconnect")
            assert "no open within 0.2 s" in told.parameters["info"]
            await session.close("disconnect")

    run(body, open_timeout_s=0.2, client_secret=SecretStr(SECRET))
