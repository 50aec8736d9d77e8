"""The AudioSocket server on a real TCP socket: calls of real speech end to end at 8 kHz and
higher rates, and every kind of bad input refused, counted and closed without touching other
calls."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from tests.transports.recorder import RecordingSink
from tests.transports.server import speech_8k
from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallError, CallRejected
from voiceauth.transports.audiosocket import AudioSocketServer, play_audiosocket
from voiceauth.transports.audiosocket.frames import ErrorCode, Frame
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments

SPEECH = "autovc_vctk_samples/p225/p225_003.wav"
"""16 kHz VCTK speech."""
HANGUP = bytes(Frame.hangup())
FAST = Impairments(speed=0)


def count(metrics: CallMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(f"voiceauth_{name}_total", labels) or 0.0


Body = Callable[[AudioSocketServer, RecordingSink, CallMetrics], Awaitable[None]]


def run(body: Body, sink: RecordingSink | None = None, **options: Any) -> RecordingSink:
    """Serve AudioSocket on an ephemeral loopback port, run `body`, close the server."""
    recorder = sink or RecordingSink()
    metrics = CallMetrics()

    async def main() -> None:
        server = AudioSocketServer(recorder, metrics, host="127.0.0.1", port=0, **options)
        await server.start()
        try:
            await body(server, recorder, metrics)
        finally:
            await server.close()

    asyncio.run(main())
    return recorder


async def exchange(port: int, data: bytes, *, eof: bool = True) -> bytes:
    """Send raw bytes as a misbehaving Asterisk would; return all the server sent back."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    if eof:
        writer.write_eof()
    async with asyncio.timeout(5):
        reply = await reader.read()
    writer.close()
    await writer.wait_closed()
    return reply


async def ended(sink: RecordingSink, call_id: str) -> None:
    async with asyncio.timeout(5):
        while call_id not in sink.calls or sink.calls[call_id].end_reason is None:
            sink.ended.clear()
            await sink.ended.wait()


def padded(pcm: npt.NDArray[np.int16], frame: int) -> npt.NDArray[np.int16]:
    out = np.zeros(-(-len(pcm) // frame) * frame, np.int16)
    out[: len(pcm)] = pcm
    return out


def test_a_call_of_real_speech_at_8k_arrives_exactly(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.5)
    call = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_audiosocket(
            pcm, host="127.0.0.1", port=server.port, call_uuid=call, digits="12#", impairments=FAST
        )
        await ended(sink, call)
        assert count(metrics, "frames", transport="audiosocket", track="caller") == 75

    sink = run(body)
    recorded = sink.calls[call]
    assert recorded.start == CallStart(call, "audiosocket")
    assert np.array_equal(recorded.pcm("caller"), padded(pcm, 160))
    assert recorded.digits == "12#"
    assert recorded.end_reason == "hangup"
    assert len(recorded.pcm("agent")) == 0


@pytest.mark.parametrize("rate", [16000, 44100, 48000])
def test_higher_rates_are_resampled_to_8k_without_frame_edges(shared_data: Path, rate: int) -> None:
    audio = load_audio(shared_data / SPEECH)
    wide = float_to_pcm16(resample_poly(audio.samples[: audio.sample_rate], rate, 16000))
    call = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        await play_audiosocket(
            wide, host="127.0.0.1", port=server.port, call_uuid=call, rate=rate, impairments=FAST
        )
        await ended(sink, call)

    sink = run(body)
    sent = padded(wide, rate // 50)
    expected = float_to_pcm16(resample_poly(sent / 32768.0, 8000, rate))
    assert np.array_equal(sink.calls[call].pcm("caller"), expected)


def test_a_call_registered_through_the_api_is_attached() -> None:
    call = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        await sink.start(CallStart(call, "api", ani="+4930123"))
        tone = (np.sin(np.arange(1600) / 3) * 8000).astype(np.int16)
        await play_audiosocket(tone, host="127.0.0.1", port=server.port, call_uuid=call)
        await ended(sink, call)

    sink = run(body)
    assert sink.calls[call].start.ani == "+4930123"
    assert len(sink.calls[call].pcm()) == 1600


def test_lost_frames_are_not_sent_over_tcp(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 2.0)
    call = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        lossy = Impairments(loss=0.2, speed=0, seed=3)
        await play_audiosocket(
            pcm, host="127.0.0.1", port=server.port, call_uuid=call, impairments=lossy
        )
        await ended(sink, call)

    sink = run(body)
    received = len(sink.calls[call].pcm())
    assert 0.6 * len(pcm) < received < 0.95 * len(pcm)
    assert received % 160 == 0


def test_audio_before_the_uuid_is_refused_with_a_hangup() -> None:
    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(server.port, bytes(Frame.audio(np.zeros(160, np.int16))))
        assert reply == HANGUP
        assert count(metrics, "malformed_input", transport="audiosocket", kind="audiosocket") == 1

    assert run(body).calls == {}


def test_an_oversized_frame_closes_the_connection() -> None:
    call = uuid.uuid4()

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(
            server.port, bytes(Frame.for_call(call)) + b"\x10\xff\xff", eof=False
        )
        assert reply == HANGUP
        assert count(metrics, "malformed_input", transport="audiosocket", kind="oversized") == 1

    assert run(body, max_payload=1024).calls[str(call)].end_reason == "refused"


def test_garbage_frames_are_counted_and_dropped_and_the_call_goes_on() -> None:
    call = uuid.uuid4()
    audio = bytes(Frame.audio(np.full(160, 500, np.int16)))
    garbage = b"\x42\x00\x02zz" + b"\x03\x00\x01x" + b"\x10\x00\x03abc"

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(server.port, bytes(Frame.for_call(call)) + garbage + audio + HANGUP)
        assert reply == b""
        assert count(metrics, "malformed_input", transport="audiosocket", kind="audiosocket") == 3

    recorded = run(body).calls[str(call)]
    assert np.array_equal(recorded.pcm(), np.full(160, 500, np.int16))
    assert recorded.end_reason == "hangup"


def test_a_flood_of_bad_frames_closes_the_connection() -> None:
    call = uuid.uuid4()

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(server.port, bytes(Frame.for_call(call)) + b"\x42\x00\x00" * 50)
        assert reply == HANGUP

    assert run(body).calls[str(call)].end_reason == "refused"


def test_disconnect_mid_call_ends_it_and_keeps_the_audio() -> None:
    call = uuid.uuid4()
    audio = bytes(Frame.audio(np.full(160, 7, np.int16)))

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        assert (
            await exchange(server.port, bytes(Frame.for_call(call)) + audio * 3 + audio[:50]) == b""
        )
        await ended(sink, str(call))
        assert count(metrics, "malformed_input", transport="audiosocket", kind="audiosocket") == 1

    recorded = run(body).calls[str(call)]
    assert recorded.end_reason == "disconnect"
    assert len(recorded.pcm()) == 480


def test_an_asterisk_error_frame_ends_the_call() -> None:
    call = uuid.uuid4()

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(
            server.port, bytes(Frame.for_call(call)) + bytes(Frame.error(ErrorCode.MEMORY))
        )
        assert reply == b""

    assert run(body).calls[str(call)].end_reason == "asterisk_error"


def test_a_second_call_id_on_one_connection_is_refused() -> None:
    first, second = uuid.uuid4(), uuid.uuid4()

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reply = await exchange(
            server.port, bytes(Frame.for_call(first)) + bytes(Frame.for_call(second))
        )
        assert reply == HANGUP

    sink = run(body)
    assert sink.calls[str(first)].end_reason == "refused"
    assert str(second) not in sink.calls


def test_audio_for_a_call_ended_elsewhere_hangs_up(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 3.0)
    call = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        async def end_through_the_api() -> None:
            while call not in sink.open:
                await asyncio.sleep(0.01)
            await sink.end(call, "api")

        ender = asyncio.create_task(end_through_the_api())
        with pytest.raises(CallError, match="hang-up frame"):
            await play_audiosocket(
                pcm,
                host="127.0.0.1",
                port=server.port,
                call_uuid=call,
                impairments=Impairments(speed=4),
            )
        await ender
        assert count(metrics, "malformed_input", transport="audiosocket", kind="closed_call") == 1

    assert run(body).calls[call].end_reason == "api"


class FullSink(RecordingSink):
    """A service at its call limit."""

    async def start(self, start: CallStart, *, attach: bool = False) -> None:
        raise CallRejected("at the call limit (500 calls)")


def test_a_call_the_service_rejects_is_hung_up_and_counted() -> None:
    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        with pytest.raises(CallError, match="hang-up frame"):
            await play_audiosocket(
                np.zeros(800, np.int16), host="127.0.0.1", port=server.port, call_uuid=uuid.uuid4()
            )
        assert count(metrics, "rejected_calls", transport="audiosocket", reason="rejected") == 1

    assert run(body, sink=FullSink()).calls == {}


def test_a_silent_connection_is_closed_after_the_uuid_timeout() -> None:
    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        assert await exchange(server.port, b"", eof=False) == HANGUP

    assert run(body, uuid_timeout_s=0.2).calls == {}


def test_other_calls_are_unaffected_by_a_broken_connection(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 1.0)
    good = str(uuid.uuid4())

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        player = play_audiosocket(
            pcm,
            host="127.0.0.1",
            port=server.port,
            call_uuid=good,
            impairments=Impairments(speed=5),
        )
        broken = exchange(
            server.port, bytes(Frame.for_call(uuid.uuid4())) + b"\x10\xff\xff" + b"\x99" * 9000
        )
        await asyncio.gather(player, broken)
        await ended(sink, good)

    recorded = run(body, max_payload=4096).calls[good]
    assert np.array_equal(recorded.pcm(), padded(pcm, 160))
    assert recorded.end_reason == "hangup"


def test_closing_the_server_ends_open_calls() -> None:
    call = uuid.uuid4()

    async def body(server: AudioSocketServer, sink: RecordingSink, metrics: CallMetrics) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(bytes(Frame.for_call(call)))
        await writer.drain()
        while str(call) not in sink.open:
            await asyncio.sleep(0.01)
        await server.close()
        assert await reader.read() == HANGUP
        writer.close()
        await writer.wait_closed()

    assert run(body).calls[str(call)].end_reason == "shutdown"
