"""SIPp as the caller: a SIP call whose answer points media at the port the RTP server gave.

Two SIPp processes: our UAS scenario answers with an SDP naming the allocated port, and our
UAC scenario then streams a headerless mu-law file of real speech (`rtp_stream`) to it and
replays SIPp's captured RFC 4733 key presses (`play_pcap_audio` of Debian's dtmf_2833_*.pcap).
"""

from __future__ import annotations

import asyncio
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

from tests.transports.recorder import RecordingSink
from tests.transports.server import speech_8k
from tests.transports.test_rtp_packet import SIPP_SHARE
from tests.transports.test_rtp_server import HOST, SETTLE_S, SPEECH, open_call, refused, rtp_server
from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.calls.metrics import CallMetrics

SIPP = shutil.which("sipp")
SCENARIOS = Path(__file__).with_name("sipp")
SPEECH_S = 3.0
"""The length uac.xml waits for rtp_stream to play before the key presses."""
RUN_TIMEOUT_S = 25.0
DIGITS = {"1": "dtmf_2833_1.pcap", "#": "dtmf_2833_pound.pcap"}

pytestmark = pytest.mark.skipif(
    SIPP is None or not (SIPP_SHARE / DIGITS["1"]).is_file(),
    reason="sipp or its RFC 4733 captures missing (Debian sip-tester; scripts/system-packages)",
)


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def sipp(cwd: Path, *arguments: str) -> asyncio.subprocess.Process:
    assert SIPP is not None
    common = ["-m", "1", "-i", HOST, "-nostdin", "-timeout", f"{RUN_TIMEOUT_S:.0f}s"]
    return await asyncio.create_subprocess_exec(
        SIPP,
        *arguments,
        *common,
        "-timeout_error",
        cwd=cwd,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )


async def finished(process: asyncio.subprocess.Process, name: str) -> None:
    """Wait for a SIPp to end its call; kill it if the test fails first."""
    try:
        async with asyncio.timeout(RUN_TIMEOUT_S + 5):
            _, errors = await process.communicate()
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()
    assert process.returncode == 0, f"{name}: exit {process.returncode}: {errors.decode()}"


def test_sipp_call_streams_speech_and_digits(shared_data: Path, tmp_path: Path) -> None:
    pcm = speech_8k(shared_data / SPEECH, SPEECH_S)
    # uac.xml names its media files relative to SIPp's working directory
    (tmp_path / "speech.ulaw").write_bytes(mulaw_encode(pcm).tobytes())  # headerless
    (tmp_path / "digit_a.pcap").symlink_to(SIPP_SHARE / DIGITS["1"])
    (tmp_path / "digit_b.pcap").symlink_to(SIPP_SHARE / DIGITS["#"])
    uas_port = free_udp_port()

    async def test() -> None:
        sink, metrics = RecordingSink(), CallMetrics()
        async with rtp_server(sink, metrics) as server:
            port = await open_call(sink, server, "sipp")
            uas = await sipp(
                tmp_path,
                "-sf", str(SCENARIOS / "uas.xml"),
                "-p", str(uas_port),
                "-mp", str(free_udp_port()),
                "-key", "rtp_host", HOST,
                "-key", "rtp_port", str(port),
            )  # fmt: skip
            await asyncio.sleep(0.3)  # let it bind before the INVITE
            uac = await sipp(
                tmp_path,
                f"{HOST}:{uas_port}",
                "-sf", str(SCENARIOS / "uac.xml"),
                "-p", str(free_udp_port()),
                "-mp", str(free_udp_port()),
            )  # fmt: skip
            try:
                await finished(uac, "sipp uac")
            finally:
                await finished(uas, "sipp uas")
            await asyncio.sleep(SETTLE_S)
        call = sink.calls["sipp"]
        received = call.pcm()
        expected = mulaw_decode(mulaw_encode(pcm))
        assert abs(len(received) - len(expected)) <= 160
        n = min(len(received), len(expected))
        np.testing.assert_array_equal(received[:n], expected[:n])
        assert call.digits == "1#"
        assert refused(metrics, "rtp_header") == refused(metrics, "rtp_unknown_ssrc") == 0

    asyncio.run(test())
