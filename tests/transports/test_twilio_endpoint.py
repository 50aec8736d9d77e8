"""The Twilio endpoint on a real uvicorn server: signed calls of real speech end to end, and
every kind of bad input refused, counted and closed without touching other calls."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Sequence
from contextlib import suppress
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from pydantic import SecretStr
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from tests.transports.recorder import RecordingSink
from tests.transports.server import app_with, serving, speech_8k
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected
from voiceauth.transports.base import FRAME_SAMPLES, CallStart
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.twilio import play_twilio, twilio_router
from voiceauth.transports.twilio.messages import Connected, Media, Start, Stop, dumps
from voiceauth.transports.twilio.signature import SIGNATURE_HEADER, compute_signature

TOKEN = "twilio-test-auth-token"
SPEECH = "autovc_vctk_samples/p225/p225_003.wav"
SID = "MZ00000000000000000000000000000001"
CALL = CallStart("CA-e2e", "twilio", ani="+4930123456", dnis="+4940999", customer_id="c-225")


def count(metrics: CallMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"voiceauth_{name}_total", labels) or 0.0


def received(pcm: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """What the service should hold after µ-law: the padded recording, companded."""
    padded = np.zeros(-(-len(pcm) // FRAME_SAMPLES) * FRAME_SAMPLES, np.int16)
    padded[: len(pcm)] = pcm
    return mulaw_decode(mulaw_encode(padded))


def run(
    body: Callable[[str, RecordingSink, CallMetrics], Awaitable[None]], **options: Any
) -> tuple[RecordingSink, CallMetrics]:
    """Serve a Twilio router over a real socket, run `body(authority, sink, metrics)`."""
    sink, metrics = RecordingSink(), CallMetrics()
    options.setdefault("auth_token", SecretStr(TOKEN))
    options.setdefault("public_url", None)

    async def main() -> None:
        async with serving(app_with(twilio_router(sink, metrics, **options))) as authority:
            await body(authority, sink, metrics)

    asyncio.run(main())
    return sink, metrics


def url(authority: str) -> str:
    return f"ws://{authority}/twilio/media"


def start_message(call_sid: str = "CA1", **changes: Any) -> str:
    document = json.loads(dumps(Start(1, SID, "AC1", call_sid, custom_parameters={"ani": "+1"})))
    document["start"].update(changes)
    return json.dumps(document)


def media_message(timestamp_ms: int, *, sid: str = SID, sequence: int = 2) -> str:
    payload = mulaw_encode(np.full(FRAME_SAMPLES, 1000, np.int16)).tobytes()
    return dumps(Media(sequence, sid, "inbound", sequence, timestamp_ms, payload))


STOP = dumps(Stop(9, SID, "AC1", "CA1"))


async def exchange(
    authority: str, messages: Sequence[str | bytes]
) -> tuple[int | None, str | None]:
    """Send raw messages on one signed stream; the server's close code and reason."""
    async with connect(
        url(authority),
        additional_headers={SIGNATURE_HEADER: compute_signature(TOKEN, url(authority))},
        proxy=None,
        max_size=None,
    ) as connection:
        with suppress(ConnectionClosed):
            for message in messages:
                await connection.send(message)
        async with asyncio.timeout(5):
            await connection.wait_closed()
        return connection.close_code, connection.close_reason


def test_a_call_of_real_speech_end_to_end(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.5)

    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_twilio(pcm, url=url(authority), start=CALL, auth_token=TOKEN, digits="12#")

    sink, metrics = run(body)
    call = sink.calls["CA-e2e"]
    assert (call.start.ani, call.start.dnis, call.start.customer_id) == (
        "+4930123456",
        "+4940999",
        "c-225",
    )
    assert call.start.parameters["streamSid"].startswith("MZ")
    np.testing.assert_array_equal(call.pcm("caller"), received(pcm))
    assert call.pcm("agent").size == 0
    assert (call.digits, call.end_reason) == ("12#", "stop")
    frames = len(received(pcm)) // FRAME_SAMPLES
    assert count(metrics, "frames", transport="twilio", track="caller") == frames


def test_lost_frames_keep_the_timeline_and_late_ones_are_dropped(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 2.0)
    impairments = Impairments(loss=0.1, reorder=0.05, duplicate=0.05, speed=0, seed=7)

    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_twilio(
            pcm, url=url(authority), start=CALL, auth_token=TOKEN, impairments=impairments
        )

    sink, metrics = run(body)
    expected = received(pcm).reshape(-1, FRAME_SAMPLES)
    sends = schedule(len(expected), 0.02, impairments)
    on_time, late, newest = set(), 0, -1
    for send in sends:
        if send.index <= newest:
            late += 1
        else:
            on_time.add(send.index)
            newest = send.index
    got = sink.calls["CA-e2e"].pcm("caller")
    last = max(on_time)
    assert len(got) == (last + 1) * FRAME_SAMPLES  # gaps filled: the call keeps its duration
    frames = got.reshape(-1, FRAME_SAMPLES)
    for index in range(last + 1):
        want = expected[index] if index in on_time else np.zeros(FRAME_SAMPLES, np.int16)
        np.testing.assert_array_equal(frames[index], want)
    assert late > 0 and count(metrics, "packets_late", transport="twilio") == late
    assert count(metrics, "packets_lost", transport="twilio") == last + 1 - len(on_time)


@pytest.mark.parametrize("signer", [None, "another-token", TOKEN + "x"])
def test_unsigned_or_badly_signed_upgrades_are_refused(signer: str | None) -> None:
    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        headers = {SIGNATURE_HEADER: compute_signature(signer, url(authority))} if signer else {}
        with pytest.raises(InvalidStatus, match="HTTP 403") as refused:
            async with connect(url(authority), additional_headers=headers, proxy=None):
                pass
        assert refused.value.response.body == b"missing or invalid X-Twilio-Signature"
        with pytest.raises(CallError, match="HTTP 403: missing or invalid X-Twilio-Signature"):
            await play_twilio(
                np.zeros(160, np.int16), url=url(authority), start=CALL, auth_token=signer or ""
            )

    sink, metrics = run(body)
    assert sink.calls == {}
    assert count(metrics, "malformed_input", transport="twilio", kind="ws_signature") == 2
    assert count(metrics, "rejected_calls", transport="twilio", reason="signature") == 2


def test_without_an_auth_token_every_connection_is_refused() -> None:
    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        with pytest.raises(CallError, match="HTTP 403: .*set VOICEAUTH_TWILIO_AUTH_TOKEN"):
            await play_twilio(
                np.zeros(160, np.int16), url=url(authority), start=CALL, auth_token=TOKEN
            )

    sink, metrics = run(body, auth_token=None)
    assert sink.calls == {}
    assert count(metrics, "rejected_calls", transport="twilio", reason="not_configured") == 1


def test_behind_a_proxy_the_public_url_is_what_twilio_signed() -> None:
    public = "https://voice.example.com"

    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        signed_for_public = compute_signature(TOKEN, "wss://voice.example.com/twilio/media")
        async with connect(
            url(authority), additional_headers={SIGNATURE_HEADER: signed_for_public}, proxy=None
        ) as connection:
            await connection.send(dumps(Connected()))
        with pytest.raises(CallError, match="HTTP 403"):  # signed for the internal URL
            await play_twilio(
                np.zeros(160, np.int16), url=url(authority), start=CALL, auth_token=TOKEN
            )

    sink, metrics = run(body, public_url=public)
    assert count(metrics, "malformed_input", transport="twilio", kind="ws_signature") == 1


NOT_BASE64 = json.dumps(
    {
        "event": "media",
        "sequenceNumber": "3",
        "streamSid": SID,
        "media": {"track": "inbound", "chunk": "2", "timestamp": "20", "payload": "%%%"},
    }
)


def test_bad_messages_are_counted_and_dropped_while_the_stream_goes_on() -> None:
    messages: list[str | bytes] = [
        dumps(Connected()),
        start_message(),
        "{not json",
        json.dumps({"event": "clear", "streamSid": SID}),
        NOT_BASE64,
        b"\x00\x01binary",
        media_message(0, sid="MZ-another-stream"),
        media_message(0),
        media_message(20, sequence=3),
        STOP,
    ]

    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        assert await exchange(authority, messages) == (1000, "stream stopped")

    sink, metrics = run(body)
    assert len(sink.calls["CA1"].pcm()) == 2 * FRAME_SAMPLES
    assert sink.calls["CA1"].end_reason == "stop"
    assert count(metrics, "malformed_input", transport="twilio", kind="ws_message") == 5


@pytest.mark.parametrize(
    ("messages", "code", "reason", "kind"),
    [
        ([media_message(0)], 1008, "media before start", "ws_message"),
        ([STOP], 1008, "stop before start", "ws_message"),
        ([start_message(), start_message()], 1008, "second start on one stream", "ws_message"),
        (
            [
                start_message(
                    mediaFormat={"encoding": "audio/x-alaw", "sampleRate": 8000, "channels": 1}
                )
            ],
            1003,
            "unsupported media format audio/x-alaw 8000 Hz x1",
            "ws_message",
        ),
        ([start_message(), "x" * 70_000], 1009, "message of 70000 bytes exceeds", "oversized"),
        ([start_message()] + ["{bad"] * 21, 1008, "too many bad messages", "ws_message"),
        ([dumps(Connected())], 1008, "no start message within 0.3 s", "ws_message"),
    ],
    ids=["media-first", "stop-first", "two-starts", "alaw", "oversized", "flood", "no-start"],
)
def test_unusable_streams_are_closed_with_a_reason(
    messages: list[str | bytes], code: int, reason: str, kind: str
) -> None:
    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        got_code, got_reason = await exchange(authority, messages)
        assert got_code == code and got_reason is not None and got_reason.startswith(reason)

    sink, metrics = run(body, start_timeout_s=0.3)
    assert count(metrics, "malformed_input", transport="twilio", kind=kind) >= 1
    assert all(call.end_reason in (None, "refused") for call in sink.calls.values())
    assert not sink.open  # a started call never outlives its stream


def test_other_calls_are_unaffected_by_a_broken_stream(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)

    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        good = play_twilio(pcm, url=url(authority), start=CALL, auth_token=TOKEN)
        broken = [
            exchange(authority, [start_message(f"CA-bad-{i}"), "x" * 70_000]) for i in range(3)
        ]
        results = await asyncio.gather(good, *broken)
        assert all(
            result == (1009, "message of 70000 bytes exceeds the 65536-byte limit")
            for result in results[1:]
        )

    sink, metrics = run(body)
    np.testing.assert_array_equal(sink.calls["CA-e2e"].pcm(), received(pcm))
    assert sink.calls["CA-e2e"].end_reason == "stop"
    assert {sink.calls[f"CA-bad-{i}"].end_reason for i in range(3)} == {"refused"}


async def _open_stream(authority: str) -> ClientConnection:
    connection = await connect(
        url(authority),
        additional_headers={SIGNATURE_HEADER: compute_signature(TOKEN, url(authority))},
        proxy=None,
    )
    await connection.send(start_message())
    await connection.send(media_message(0))
    return connection


async def _until(condition: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not condition():
            await asyncio.sleep(0.01)


@pytest.mark.parametrize("abrupt", [False, True], ids=["close", "tcp-drop"])
def test_a_client_that_disconnects_mid_call_ends_it(abrupt: bool) -> None:
    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        connection = await _open_stream(authority)
        await _until(lambda: "CA1" in sink.calls and len(sink.calls["CA1"].pcm()) > 0)
        if abrupt:
            connection.transport.abort()
        else:
            await connection.close()
        await _until(lambda: sink.calls["CA1"].end_reason is not None)

    sink, metrics = run(body)
    assert sink.calls["CA1"].end_reason == "disconnect"
    assert len(sink.calls["CA1"].pcm()) == FRAME_SAMPLES


def test_media_after_stop_or_for_a_call_ended_elsewhere_is_refused() -> None:
    async def body(authority: str, sink: RecordingSink, metrics: CallMetrics) -> None:
        after_stop = [start_message(), media_message(0), STOP, media_message(20, sequence=3)]
        assert await exchange(authority, after_stop) == (1000, "stream stopped")
        assert len(sink.calls["CA1"].pcm()) == FRAME_SAMPLES

        connection = await _open_stream(authority)  # the same call again, then ended by the API
        await _until(lambda: "CA1" in sink.open)
        await sink.end("CA1", "api")
        await connection.send(media_message(20, sequence=3))
        async with asyncio.timeout(5):
            await connection.wait_closed()
        assert connection.close_code == 1008
        assert connection.close_reason == "call CA1 is no longer open"

    sink, metrics = run(body)
    assert sink.calls["CA1"].end_reason == "api"
    assert count(metrics, "malformed_input", transport="twilio", kind="closed_call") == 1


class FullSink(RecordingSink):
    """A service at its call limit."""

    async def start(self, start: CallStart, *, attach: bool = False) -> None:
        raise CallRejected("at the limit of 500 calls; try again later")


def test_a_call_the_service_will_not_take_is_closed_try_again_later() -> None:
    sink, metrics = FullSink(), CallMetrics()

    async def main() -> None:
        router = twilio_router(sink, metrics, auth_token=SecretStr(TOKEN), public_url=None)
        async with serving(app_with(router)) as authority:
            assert await exchange(authority, [start_message()]) == (
                1013,
                "at the limit of 500 calls; try again later",
            )

    asyncio.run(main())
    assert count(metrics, "rejected_calls", transport="twilio", reason="rejected") == 1
