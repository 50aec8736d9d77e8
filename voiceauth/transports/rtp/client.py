"""Play a recording into an allocated RTP port as a phone's media would (`voiceauth simulate`).

20 ms G.711 packets (PCMU or PCMA) from a random SSRC, sequence number and timestamp (RFC
3550 §5.1 asks for random initial values), marker on the first; impairments go through
`impair.schedule`, so a lost frame's sequence number and timestamp are skipped, a reordered or
duplicated one goes out late with its own. After the audio, each digit is an RFC 4733 event
on the same SSRC: updates every 20 ms for DIGIT_MS, then the end packet three times
(§2.5.1.4), then a pause before the next digit.
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from voiceauth.audio.g711 import alaw_encode, mulaw_encode
from voiceauth.errors import ConfigError
from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE
from voiceauth.transports.impair import Impairments, schedule
from voiceauth.transports.rtp.dtmf import DIGITS, TelephoneEvent
from voiceauth.transports.rtp.jitter import SEQUENCE_MOD, TIMESTAMP_MOD
from voiceauth.transports.rtp.packet import RtpPacket
from voiceauth.transports.ws.socket import paced, split_frames

FRAME_S = FRAME_SAMPLES / SAMPLE_RATE
ENCODERS = {0: mulaw_encode, 8: alaw_encode}
"""Static payload types this client sends (RFC 3551 Table 4): PCMU, PCMA."""
DEFAULT_EVENT_PAYLOAD_TYPE = 101
DIGIT_MS = 100
DIGIT_GAP_MS = 100
END_REPEATS = 3


@dataclass(frozen=True, slots=True)
class SendStats:
    ssrc: int
    packets: int
    """Datagrams sent: audio (duplicates included) and telephone-events."""
    frames: int
    """Audio frames in the recording."""
    frames_dropped: int
    """Frames the impairment schedule never sent."""
    digits: str


class _Sender(asyncio.DatagramProtocol):
    def error_received(self, exc: Exception) -> None:
        """ICMP port unreachable (nothing bound yet) is what a phone would ignore too."""


async def send_rtp(
    pcm: npt.NDArray[np.int16],
    *,
    host: str,
    port: int,
    payload_type: int = 0,
    impairments: Impairments | None = None,
    digits: str = "",
    ssrc: int | None = None,
    event_payload_type: int = DEFAULT_EVENT_PAYLOAD_TYPE,
) -> SendStats:
    """Send pcm ((n,) int16, 8 kHz: the caller) to host:port as one RTP stream, then `digits`."""
    encode = ENCODERS.get(payload_type)
    if encode is None:
        raise ConfigError(f"RTP client sends payload type 0 (PCMU) or 8 (PCMA), not {payload_type}")
    if unknown := set(digits) - set(DIGITS):
        raise ConfigError(f"DTMF digits must be among {DIGITS}, got {sorted(unknown)}")
    source = secrets.randbits(32) if ssrc is None else ssrc
    first_sequence, first_timestamp = secrets.randbits(16), secrets.randbits(32)
    frames = split_frames(pcm, FRAME_SAMPLES)
    impairments = impairments or Impairments()
    sends = schedule(len(frames), FRAME_S, impairments)
    pace = 0.0 if impairments.speed == 0 else 1.0 / impairments.speed
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(_Sender, remote_addr=(host, port))
    sent = 0

    def send(offset: int, timestamp: int, payload: bytes, *, pt: int, marker: bool) -> None:
        nonlocal sent
        packet = RtpPacket(
            payload_type=pt,
            sequence=(first_sequence + offset) % SEQUENCE_MOD,
            timestamp=(first_timestamp + timestamp) % TIMESTAMP_MOD,
            ssrc=source,
            payload=payload,
            marker=marker,
        )
        transport.sendto(bytes(packet))
        sent += 1

    try:
        async for index in paced(sends):
            payload = encode(frames[index]).tobytes()
            send(index, index * FRAME_SAMPLES, payload, pt=payload_type, marker=index == 0)
            await asyncio.sleep(0)  # let a receiver in this loop read before the next burst
        offset, timestamp = len(frames), len(frames) * FRAME_SAMPLES
        for digit in digits:
            updates = DIGIT_MS * SAMPLE_RATE // 1000 // FRAME_SAMPLES
            for update in range(1, updates + END_REPEATS):
                duration = min(update, updates) * FRAME_SAMPLES
                event = TelephoneEvent(DIGITS.index(digit), update >= updates, 10, duration)
                send(offset, timestamp, bytes(event), pt=event_payload_type, marker=update == 1)
                offset += 1
                await asyncio.sleep(FRAME_S * pace)
            timestamp += (DIGIT_MS + DIGIT_GAP_MS) * SAMPLE_RATE // 1000
            await asyncio.sleep(DIGIT_GAP_MS / 1000 * pace)
    finally:
        transport.close()
    return SendStats(source, sent, len(frames), len(frames) - len({s.index for s in sends}), digits)
