"""The generic WebSocket endpoint on a real uvicorn server: API-key upgrades, calls of real
speech at 8 and 16 kHz, µ-law and stereo, and bad input refused without touching other calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from tests.transports.recorder import RecordingSink
from tests.transports.server import app_with, serving, speech_8k
from voiceauth.api.keys import ApiKeys, key_digest
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.audio.stream_resample import StreamResampler
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.ws import play_ws, ws_router
from voiceauth.transports.ws.endpoint import API_KEY_HEADER
from voiceauth.transports.ws.messages import WsDtmf, WsStart, WsStop, dumps
from voiceauth.transports.ws.socket import split_frames

PLATFORM_KEY, DESK_KEY = "platform-key-0123456789", "desk-key-0123456789"
KEYS = ApiKeys.parse(
    f"platform:telephony:{key_digest(PLATFORM_KEY)},desk:agent:{key_digest(DESK_KEY)}"
)
SPEECH = "autovc_vctk_samples/p225/p225_003.wav"
CALL = CallStart("ws-call-1", "ws", ani="+4930123456", dnis="+4940999", customer_id="c-225")


def count(metrics: CallMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"voiceauth_{name}_total", labels) or 0.0


def run(
    body: Callable[[str, RecordingSink, CallMetrics], Awaitable[None]],
    sink: RecordingSink | None = None,
    **options: Any,
) -> tuple[RecordingSink, CallMetrics]:
    """Serve a ws router over a real socket, run `body(url, sink, metrics)`."""
    sink, metrics = sink or RecordingSink(), CallMetrics()

    async def main() -> None:
        async with serving(app_with(ws_router(sink, metrics, keys=KEYS, **options))) as authority:
            await body(f"ws://{authority}/ws/calls", sink, metrics)

    asyncio.run(main())
    return sink, metrics


async def exchange(
    url: str, messages: Sequence[str | bytes], key: str = PLATFORM_KEY
) -> tuple[int | None, str | None, list[dict[str, Any]]]:
    """Send raw messages on one connection; close code, reason and every event received."""
    async with connect(url, additional_headers={API_KEY_HEADER: key}, proxy=None) as connection:
        with suppress(ConnectionClosed):
            for message in messages:
                await connection.send(message)
        events = []
        with suppress(ConnectionClosed):
            async with asyncio.timeout(5):
                async for text in connection:
                    events.append(json.loads(text))
        return connection.close_code, connection.close_reason, events


def pcm_bytes(samples: int, value: int = 1000) -> bytes:
    return np.full(samples, value, "<i2").tobytes()


START = dumps(WsStart("c1"))


def test_a_call_of_real_speech_at_8_khz(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_ws(pcm, url=url, start=CALL, api_key=PLATFORM_KEY, digits="42*")

    sink, metrics = run(body)
    call = sink.calls["ws-call-1"]
    assert (call.start.ani, call.start.dnis, call.start.customer_id) == (
        "+4930123456",
        "+4940999",
        "c-225",
    )
    assert call.start.parameters["apiKey"] == "platform"
    got = call.pcm("caller")
    np.testing.assert_array_equal(got[: len(pcm)], pcm)  # linear PCM arrives bit-exact
    assert not got[len(pcm) :].any() and len(got) % 160 == 0
    assert (call.digits, call.end_reason) == ("42*", "stop")
    assert count(metrics, "frames", transport="ws", track="caller") == len(got) // 160


def test_16_khz_speech_is_decimated_to_8_khz(shared_data: Path) -> None:
    wide = float_to_pcm16(load_audio(shared_data / SPEECH).samples[:16000])
    impaired = Impairments(jitter_ms=5, reorder=0.1, duplicate=0.1, speed=0, seed=2)

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_ws(
            wide, url=url, start=CALL, api_key=PLATFORM_KEY, sample_rate=16000, impairments=impaired
        )

    sink, _ = run(body)
    resampler = StreamResampler(16000, 8000)
    narrow = np.concatenate([resampler.feed(wide), resampler.flush()])
    np.testing.assert_array_equal(sink.calls["ws-call-1"].pcm(), narrow)


def test_loss_drops_frames_and_order_is_kept(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)
    impaired = Impairments(loss=0.2, reorder=0.1, duplicate=0.1, speed=0, seed=5)

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_ws(pcm, url=url, start=CALL, api_key=PLATFORM_KEY, impairments=impaired)

    sink, _ = run(body)
    frames = split_frames(pcm, 160)
    kept = sorted({send.index for send in schedule(len(frames), 0.02, impaired)})
    assert 0 < len(kept) < len(frames)
    expected = np.concatenate([frames[index] for index in kept])
    np.testing.assert_array_equal(sink.calls["ws-call-1"].pcm(), expected)


def test_mulaw_stereo_splits_caller_and_agent(shared_data: Path) -> None:
    caller = speech_8k(shared_data / SPEECH, 0.4)
    agent = speech_8k(shared_data / "autovc_vctk_samples/p226/p226_003.wav", 0.4)
    interleaved = np.stack([caller, agent], axis=1).reshape(-1)
    codes = mulaw_encode(interleaved).tobytes()
    start = dumps(WsStart("c1", encoding="mulaw", tracks=("caller", "agent")))

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        frames = [codes[i : i + 320] for i in range(0, len(codes), 320)]
        code, reason, events = await exchange(url, [start, *frames, dumps(WsStop())])
        assert (code, reason, events) == (
            1000,
            "call stopped",
            [{"event": "started", "call_id": "c1"}],
        )

    sink, _ = run(body)
    call = sink.calls["c1"]
    np.testing.assert_array_equal(call.pcm("caller"), mulaw_decode(mulaw_encode(caller)))
    np.testing.assert_array_equal(call.pcm("agent"), mulaw_decode(mulaw_encode(agent)))


@pytest.mark.parametrize(
    ("key", "status", "body"),
    [
        (None, 401, "missing or unknown X-API-Key"),
        ("not-a-key", 401, "missing or unknown X-API-Key"),
        (DESK_KEY, 403, "needs telephony"),
    ],
)
def test_upgrades_need_a_telephony_key(key: str | None, status: int, body: str) -> None:
    async def main(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        with pytest.raises(CallError, match=f"HTTP {status}: .*{body}"):
            await play_ws(np.zeros(160, np.int16), url=url, start=CALL, api_key=key or "")

    sink, metrics = run(main)
    assert sink.calls == {}
    assert count(metrics, "malformed_input", transport="ws", kind="ws_auth") == 1
    assert count(metrics, "rejected_calls", transport="ws", reason="unauthenticated") == 1


def test_bad_messages_get_an_error_and_the_call_goes_on() -> None:
    messages: list[str | bytes] = [
        START,
        "{not json",
        json.dumps({"event": "media"}),
        json.dumps({"event": "dtmf", "digit": "x"}),
        b"\x01\x02\x03",  # not whole 16-bit samples
        pcm_bytes(160),
        dumps(WsDtmf("9")),
        dumps(WsStop()),
    ]

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        code, reason, events = await exchange(url, messages)
        assert (code, reason) == (1000, "call stopped")
        assert events[0] == {"event": "started", "call_id": "c1"}
        assert [event["code"] for event in events[1:]] == ["malformed"] * 4
        assert events[4]["message"] == (
            "ws audio: 3 bytes is not a whole number of 2-byte samples (pcm_s16le, 1 track(s))"
        )

    sink, metrics = run(body)
    assert len(sink.calls["c1"].pcm()) == 160 and sink.calls["c1"].digits == "9"
    assert count(metrics, "malformed_input", transport="ws", kind="ws_message") == 4


@pytest.mark.parametrize(
    ("messages", "code", "reason", "kind"),
    [
        ([pcm_bytes(160)], 1008, "audio before start", "ws_message"),
        ([dumps(WsStop())], 1008, "stop before start", "ws_message"),
        ([START, START], 1008, "second start on one connection", "ws_message"),
        ([START, pcm_bytes(40_000)], 1009, "message of 80000 bytes exceeds", "oversized"),
        ([START] + ["{bad"] * 21, 1008, "too many bad messages", "ws_message"),
        ([], 1008, "no start message within 0.3 s", "ws_message"),
    ],
    ids=["audio-first", "stop-first", "two-starts", "oversized", "flood", "no-start"],
)
def test_unusable_calls_are_closed_with_a_reason(
    messages: list[str | bytes], code: int, reason: str, kind: str
) -> None:
    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        got_code, got_reason, events = await exchange(url, messages)
        assert got_code == code and got_reason is not None and got_reason.startswith(reason)
        assert events[-1]["event"] == "error" and events[-1]["message"].startswith(reason)

    sink, metrics = run(body, start_timeout_s=0.3)
    assert count(metrics, "malformed_input", transport="ws", kind=kind) >= 1
    assert not sink.open


def test_disconnect_mid_call_and_a_call_ended_elsewhere() -> None:
    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        headers = {API_KEY_HEADER: PLATFORM_KEY}
        async with connect(url, additional_headers=headers, proxy=None) as connection:
            await connection.send(dumps(WsStart("gone")))
            await connection.recv()
            await connection.send(pcm_bytes(160))
            connection.transport.abort()
        async with connect(url, additional_headers=headers, proxy=None) as connection:
            await connection.send(dumps(WsStart("ended")))
            await connection.recv()
            await sink.end("ended", "api")
            await connection.send(pcm_bytes(160))
            error = json.loads(await connection.recv())
            assert error == {
                "event": "error",
                "code": "closed_call",
                "message": "call ended is no longer open",
            }
            async with asyncio.timeout(5):
                await connection.wait_closed()
            assert connection.close_code == 1008
        async with asyncio.timeout(5):
            while sink.calls["gone"].end_reason is None:
                await asyncio.sleep(0.01)

    sink, metrics = run(body)
    assert sink.calls["gone"].end_reason == "disconnect"
    assert sink.calls["ended"].end_reason == "api"
    assert count(metrics, "malformed_input", transport="ws", kind="closed_call") == 1


class FullSink(RecordingSink):
    async def start(self, start: CallStart, *, attach: bool = False) -> None:
        raise CallRejected("draining: no new calls")


def test_a_refused_call_is_reported_to_the_client() -> None:
    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        with pytest.raises(CallError, match="server refused the call: rejected: draining"):
            await play_ws(np.zeros(160, np.int16), url=url, start=CALL, api_key=PLATFORM_KEY)

    _, metrics = run(body, sink=FullSink())
    assert count(metrics, "rejected_calls", transport="ws", reason="rejected") == 1


def test_other_calls_are_unaffected(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)

    async def body(url: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        good = play_ws(pcm, url=url, start=CALL, api_key=PLATFORM_KEY)
        bad = [exchange(url, [dumps(WsStart(f"bad-{i}")), pcm_bytes(40_000)]) for i in range(3)]
        results = await asyncio.gather(good, *bad)
        assert all(result[0] == 1009 for result in results[1:])

    sink, _ = run(body)
    np.testing.assert_array_equal(sink.calls["ws-call-1"].pcm()[: len(pcm)], pcm)
    assert sink.calls["ws-call-1"].end_reason == "stop"
    assert {sink.calls[f"bad-{i}"].end_reason for i in range(3)} == {"refused"}
