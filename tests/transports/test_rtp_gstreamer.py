"""GStreamer as the far end: PCMU, PCMA and L16 payloaders and RFC 4733 events into the server.

GStreamer decodes and resamples the recording itself (decodebin, audioresample), so what
arrives is compared with voiceauth's own 8 kHz version of it by correlation and SNR, not bit
for bit. DTMF comes from rtpdtmfsrc, driven through Debian's python3-gi by gst_dtmf.py.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import soundfile

from tests.transports.recorder import RecordingSink
from tests.transports.server import speech_8k
from tests.transports.test_rtp_server import (
    HOST,
    SETTLE_S,
    SPEECH,
    open_call,
    refused,
    rtp_server,
    sample,
)
from voiceauth.audio.io import load_audio
from voiceauth.calls.metrics import CallMetrics
from voiceauth.transports.rtp import PayloadTypes

GST_LAUNCH = shutil.which("gst-launch-1.0")
SYSTEM_PYTHON = Path("/usr/bin/python3")
DTMF_SCRIPT = Path(__file__).with_name("gst_dtmf.py")
RUN_TIMEOUT_S = 20.0
SPEECH_S = 2.5
"""Seconds of speech GStreamer plays, in real time."""
MAX_LAG = 80
"""Samples of delay tolerated between GStreamer's resampler and voiceauth's (10 ms)."""

needs_gstreamer = pytest.mark.skipif(
    GST_LAUNCH is None,
    reason="gst-launch-1.0 not installed (Debian gstreamer1.0-tools, plugins-good; "
    "scripts/system-packages installs them)",
)


async def run_process(*command: str) -> None:
    process = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    async with asyncio.timeout(RUN_TIMEOUT_S):
        output, _ = await process.communicate()
    assert process.returncode == 0, output.decode(errors="replace")


def aligned(
    reference: npt.NDArray[np.int16], received: npt.NDArray[np.int16]
) -> tuple[float, float]:
    """(correlation, SNR in dB) of received against reference at the best lag up to MAX_LAG."""
    ref = reference.astype(np.float64)
    best = (-1.0, 0.0)
    for lag in range(-MAX_LAG, MAX_LAG + 1):
        a = ref[max(lag, 0) :]
        b = received[max(-lag, 0) :].astype(np.float64)
        n = min(len(a), len(b))
        correlation = float(np.corrcoef(a[:n], b[:n])[0, 1])
        if correlation > best[0]:
            noise = np.sum((a[:n] - b[:n]) ** 2)
            best = (correlation, float(10 * np.log10(np.sum(a[:n] ** 2) / noise)))
    return best


@needs_gstreamer
@pytest.mark.parametrize(
    ("rate", "payloader", "payload_types"),
    [
        (8000, "mulawenc ! rtppcmupay", ""),
        (8000, "alawenc ! rtppcmapay", ""),
        (44100, "rtpL16pay pt=11", ""),  # RFC 3551 static L16/44100 mono
        (16000, "rtpL16pay pt=97", "97=L16/16000"),  # dynamic, as an SDP would bind it
    ],
    ids=["pcmu", "pcma", "l16-44k", "l16-16k"],
)
def test_gstreamer_stream_of_real_speech(
    shared_data: Path, tmp_path: Path, rate: int, payloader: str, payload_types: str
) -> None:
    original = load_audio(shared_data / SPEECH)  # 16 kHz
    path = tmp_path / "speech.wav"
    soundfile.write(
        path, original.samples[: int(SPEECH_S * original.sample_rate)], original.sample_rate
    )
    reference = speech_8k(path, SPEECH_S)

    async def test() -> None:
        sink, metrics = RecordingSink(), CallMetrics()
        types = PayloadTypes.parse(payload_types) if payload_types else PayloadTypes()
        async with rtp_server(sink, metrics, payload_types=types) as server:
            port = await open_call(sink, server, "gst")
            pipeline = (
                f"filesrc location={path} ! decodebin ! audioconvert ! audioresample "
                f"! audio/x-raw,rate={rate},channels=1 ! {payloader} max-ptime=20000000 "
                f"! udpsink host={HOST} port={port}"  # paced in real time, as a phone sends
            )
            assert GST_LAUNCH is not None
            await run_process(GST_LAUNCH, "-q", *pipeline.split())
            await asyncio.sleep(SETTLE_S)
            await server.release("gst")
        received = sink.calls["gst"].pcm()
        assert abs(len(received) - len(reference)) <= 160  # one packet: the last may be partial
        correlation, snr_db = aligned(reference, received)
        assert correlation > 0.99 and snr_db > 20, (correlation, snr_db)  # G.711: 0.999, 27 dB
        assert refused(metrics, "rtp_header") == refused(metrics, "rtp_unknown_ssrc") == 0
        assert refused(metrics, "rtp_unknown_payload_type") == 0
        assert sample(metrics, "voiceauth_packets_lost_total", transport="rtp") == 0

    asyncio.run(test())


@needs_gstreamer
@pytest.mark.skipif(
    not SYSTEM_PYTHON.is_file(), reason="Debian's /usr/bin/python3 (python3-gi) missing"
)
@pytest.mark.parametrize("separate", [False, True], ids=["muxed", "own-ssrc"])
def test_gstreamer_rfc4733_digits_arrive_once_each(separate: bool) -> None:
    digits = "19#*0"

    async def test() -> None:
        sink, metrics = RecordingSink(), CallMetrics()
        async with rtp_server(sink, metrics) as server:
            port = await open_call(sink, server, "keys")
            extra = ["--separate"] if separate else []
            await run_process(str(SYSTEM_PYTHON), str(DTMF_SCRIPT), HOST, str(port), digits, *extra)
            await asyncio.sleep(SETTLE_S)
        call = sink.calls["keys"]
        assert call.digits == digits
        assert len(call.pcm()) > 8000 * 0.5  # the live audio beside the keys arrived too
        assert refused(metrics, "rtp_unknown_ssrc") == 0

    asyncio.run(test())
