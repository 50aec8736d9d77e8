"""The RTP server on loopback, fed by voiceauth's RTP client and raw datagrams, into a recorder."""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.transports.recorder import RecordingSink
from tests.transports.server import speech_8k
from voiceauth.audio.g711 import alaw_decode, alaw_encode, mulaw_decode, mulaw_encode
from voiceauth.calls.metrics import CallMetrics
from voiceauth.errors import CallRejected, UnknownCall
from voiceauth.transports.base import CallStart
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.rtp import END_IDLE, RtpServer, send_rtp
from voiceauth.transports.rtp.packet import RtpPacket

HOST = "127.0.0.1"
PORTS = (43000, 43999)
SPEECH = "autovc_vctk_samples/p225/p225_003.wav"
SETTLE_S = 0.1
"""Time for the last datagrams on loopback to be read before a port is released."""


def sample(metrics: CallMetrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def refused(metrics: CallMetrics, kind: str) -> float:
    return sample(metrics, "voiceauth_malformed_input_total", transport="rtp", kind=kind)


@asynccontextmanager
async def rtp_server(
    sink: RecordingSink, metrics: CallMetrics, **options: Any
) -> AsyncIterator[RtpServer]:
    server = RtpServer(
        sink, metrics, host=HOST, port_range=options.pop("port_range", PORTS), **options
    )
    await server.start()
    try:
        yield server
    finally:
        await server.close()


async def open_call(sink: RecordingSink, server: RtpServer, call_id: str) -> int:
    """What the API does: start the call on the service, then give it a port."""
    await sink.start(CallStart(call_id, "rtp", ani="+15550100"))
    return await server.allocate(call_id)


def run(test: Callable[[RecordingSink, CallMetrics], Coroutine[Any, Any, None]]) -> None:
    asyncio.run(test(RecordingSink(), CallMetrics()))


def send_raw(port: int, datagrams: list[bytes]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for data in datagrams:
            sender.sendto(data, (HOST, port))


@pytest.mark.parametrize(("payload_type", "codec"), [(0, "mulaw"), (8, "alaw")])
def test_a_call_of_real_speech_arrives_exactly(
    shared_data: Path, payload_type: int, codec: str
) -> None:
    pcm = speech_8k(shared_data / SPEECH, 3.0)
    encode, decode = (
        (mulaw_encode, mulaw_decode) if codec == "mulaw" else (alaw_encode, alaw_decode)
    )

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics) as server:
            port = await open_call(sink, server, "CA1")
            assert port % 2 == 0 and PORTS[0] <= port <= PORTS[1]
            stats = await send_rtp(
                pcm,
                host=HOST,
                port=port,
                payload_type=payload_type,
                impairments=Impairments(speed=0),
            )
            await asyncio.sleep(SETTLE_S)
            await server.release("CA1")
            assert server.port_of("CA1") is None
        np.testing.assert_array_equal(sink.calls["CA1"].pcm(), decode(encode(pcm)))
        assert sink.calls["CA1"].end_reason is None  # the port went, the call is the API's
        frames = sample(metrics, "voiceauth_frames_total", transport="rtp", track="caller")
        assert frames == stats.frames == 150

    run(test)


def test_impaired_network_is_reordered_concealed_and_counted(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 3.0)
    impairments = Impairments(loss=0.05, jitter_ms=3, reorder=0.05, duplicate=0.05, speed=5, seed=3)
    sends = schedule(150, 0.02, impairments)
    sent = {send.index for send in sends}
    expected_lost = sum(1 for i in range(min(sent), max(sent)) if i not in sent)
    assert expected_lost > 0 and len(sends) > len(sent)  # the schedule really impairs

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics) as server:
            port = await open_call(sink, server, "CA2")
            await send_rtp(pcm, host=HOST, port=port, impairments=impairments, digits="42#")
            await asyncio.sleep(SETTLE_S)
        call = sink.calls["CA2"]
        received = call.pcm()
        assert len(received) >= (max(sent) - min(sent) + 1) * 160  # lost time is filled
        assert sample(metrics, "voiceauth_packets_lost_total", transport="rtp") == expected_lost
        assert sample(metrics, "voiceauth_packets_late_total", transport="rtp") == 0
        reference = mulaw_decode(mulaw_encode(pcm)).astype(float)[: len(received)]
        correlation = np.corrcoef(reference, received[: len(reference)].astype(float))[0, 1]
        assert correlation > 0.9
        assert call.digits == "42#"

    run(test)


def test_idle_port_ends_its_call(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 0.5)

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics, idle_timeout_s=0.3) as server:
            port = await open_call(sink, server, "CA3")
            await send_rtp(pcm, host=HOST, port=port, impairments=Impairments(speed=0))
            async with asyncio.timeout(3):
                await sink.ended.wait()
            assert server.port_of("CA3") is None
            await server.release("CA3")  # the API's release after the fact does nothing
        assert sink.calls["CA3"].end_reason == END_IDLE
        assert len(sink.calls["CA3"].pcm()) == 4000

    run(test)


def test_garbage_floods_and_strangers_hurt_only_their_own_port(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 2.0)

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics, max_packet_rate=300) as server:
            victim = await open_call(sink, server, "victim")
            attacked = await open_call(sink, server, "attacked")
            bad = [
                b"\x00" * 5,
                bytes.fromhex("40000001 00000002 00000003"),
                bytes(RtpPacket(18, 1, 2, 3, b"\x00" * 160)),
                bytes(RtpPacket(101, 1, 2, 3, b"\x00")),
            ]
            stranger = bytes(RtpPacket(0, 1, 2, 0x5EC0D, b"\xff" * 160))
            send_raw(attacked, bad)
            caller = asyncio.create_task(
                send_rtp(
                    pcm, host=HOST, port=victim, ssrc=0xCA11E2, impairments=Impairments(speed=5)
                )
            )
            await asyncio.sleep(0.05)
            send_raw(victim, [stranger])  # a second SSRC on a port whose caller is talking
            await send_rtp(pcm, host=HOST, port=attacked, impairments=Impairments(speed=0))
            send_raw(attacked, [stranger] * 2000)
            await caller
            await asyncio.sleep(SETTLE_S)
        expected = mulaw_decode(mulaw_encode(pcm))
        np.testing.assert_array_equal(sink.calls["victim"].pcm(), expected)
        assert refused(metrics, "rtp_header") == 2
        assert refused(metrics, "rtp_unknown_payload_type") == 1
        assert refused(metrics, "rtp_payload") == 1
        assert refused(metrics, "rtp_unknown_ssrc") >= 1
        assert refused(metrics, "rtp_flood") > 0

    run(test)


def test_audio_for_a_call_ended_elsewhere_releases_the_port(shared_data: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, 0.5)

    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics) as server:
            port = await open_call(sink, server, "CA4")
            await sink.end("CA4", "hangup via API")
            await send_rtp(pcm, host=HOST, port=port, impairments=Impairments(speed=0))
            await asyncio.sleep(SETTLE_S)
            assert server.port_of("CA4") is None
        assert refused(metrics, "closed_call") == 1

    run(test)


def test_ports_go_only_to_open_calls_and_run_out_clearly() -> None:
    async def test(sink: RecordingSink, metrics: CallMetrics) -> None:
        async with rtp_server(sink, metrics, port_range=(44001, 44004)) as server:
            with pytest.raises(UnknownCall):
                await server.allocate("never-started")
            first = await open_call(sink, server, "A")
            assert await server.allocate("A") == first  # asking again is harmless
            second = await open_call(sink, server, "B")
            assert {first, second} == {44002, 44004}
            with pytest.raises(CallRejected, match="no free RTP port in 44002-44004"):
                await open_call(sink, server, "C")
            await server.release("A")
            assert await server.allocate("C") == first

    run(test)
