"""One call's RTP media: datagrams in, the caller's 8 kHz frames and DTMF digits out.

Pure (no sockets, no clock: arrival time is an argument), so the whole receive path is tested
packet by packet. The first SSRC that sends audio is the caller; audio from another SSRC is
refused (`rtp_unknown_ssrc`) while the caller's stream is alive, and takes over once it has been
silent for `takeover_s` (an SBC or a transfer re-anchoring media with a new SSRC). Telephone
events on any SSRC are the call's DTMF. The caller's packets pass a jitter buffer; gaps in
their timestamps (loss, or a sender pausing for DTMF) are concealed, so call time stays true.
An agent leg's port (server.py) has its own CallMedia, whose "caller" is then the agent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from voiceauth.errors import MalformedFrame
from voiceauth.transports.base import SAMPLE_RATE
from voiceauth.transports.rtp.conceal import MAX_CONCEALED_SAMPLES, conceal
from voiceauth.transports.rtp.dtmf import DigitDetector, TelephoneEvent
from voiceauth.transports.rtp.jitter import DEFAULT_DEPTH, JitterBuffer, Release, ts_diff
from voiceauth.transports.rtp.packet import RtpPacket, is_rtcp
from voiceauth.transports.rtp.payload import (
    Decoder,
    Encoding,
    PayloadTypes,
    UnknownPayloadType,
    decoder_for,
)

DEFAULT_TAKEOVER_S = 2.0
"""Silence of the caller's SSRC after which a new audio SSRC becomes the caller."""


class RtpRefused(MalformedFrame):
    """A datagram refused, with the metrics kind it is counted under."""

    def __init__(self, kind: str, reason: str) -> None:
        super().__init__(reason)
        self.kind = kind


@dataclass(slots=True)
class Received:
    """What one datagram (or a flush) delivers, in playout order, and what the buffer saw."""

    audio: list[npt.NDArray[np.int16]] = field(default_factory=list)
    digits: list[str] = field(default_factory=list)
    lost: int = 0
    late: int = 0


class _CallerStream:
    """The caller's SSRC: its jitter buffer, decoders and timeline."""

    def __init__(self, ssrc: int, depth: int) -> None:
        self.ssrc = ssrc
        self.buffer = JitterBuffer(depth=depth)
        self.decoders: dict[Encoding, Decoder] = {}
        self.expected: int | None = None
        """RTP timestamp where the next audio should start."""
        self.last_frame: npt.NDArray[np.int16] | None = None

    def decoder(self, encoding: Encoding) -> Decoder:
        if encoding not in self.decoders:
            self.decoders[encoding] = decoder_for(encoding)
        return self.decoders[encoding]


class CallMedia:
    def __init__(
        self,
        payload_types: PayloadTypes,
        *,
        depth: int = DEFAULT_DEPTH,
        takeover_s: float = DEFAULT_TAKEOVER_S,
    ) -> None:
        self.payload_types = payload_types
        self.depth = depth
        self.takeover_s = takeover_s
        self.digits = DigitDetector()
        self._caller: _CallerStream | None = None
        self._caller_heard_at = 0.0

    @property
    def caller_ssrc(self) -> int | None:
        return None if self._caller is None else self._caller.ssrc

    def receive(self, data: bytes, now: float) -> Received:
        """Take one datagram that arrived at `now` (seconds, any origin); raises RtpRefused."""
        received = Received()
        if is_rtcp(data):
            return received  # reports about the stream carry no audio; nothing to act on
        try:
            packet = RtpPacket.parse(data)
        except MalformedFrame as error:
            raise RtpRefused("rtp_header", str(error)) from None
        try:
            encoding = self.payload_types.encoding(packet.payload_type)
        except UnknownPayloadType as error:
            raise RtpRefused("rtp_unknown_payload_type", str(error)) from None
        event = self.payload_types.is_event(packet.payload_type)
        if event:
            self._digit(packet, received)
        caller = self._caller
        if caller is None or caller.ssrc != packet.ssrc:
            if event:
                return received  # DTMF from its own SSRC: it has no audio timeline to keep
            self._check_ssrc(packet, now, received)
            caller = self._caller
        if caller is None:
            return received
        if not event:
            try:
                caller.decoder(encoding).ticks(packet.payload)
            except MalformedFrame as error:
                raise RtpRefused("rtp_payload", str(error)) from None
        self._caller_heard_at = now
        return self._through(caller, lambda: caller.buffer.add(packet), received)

    def flush(self) -> Received:
        """Whatever the jitter buffer still holds (the call ends or its port is released)."""
        received = Received()
        caller = self._caller
        return received if caller is None else self._through(caller, caller.buffer.flush, received)

    def _digit(self, packet: RtpPacket, received: Received) -> None:
        try:
            event = TelephoneEvent.parse(packet.payload)
        except MalformedFrame as error:
            raise RtpRefused("rtp_payload", str(error)) from None
        digit = self.digits.push(packet.ssrc, packet.timestamp, event)
        if digit is not None:
            received.digits.append(digit)

    def _check_ssrc(self, packet: RtpPacket, now: float, received: Received) -> None:
        """Make `packet.ssrc` the caller if there is none or the caller went quiet."""
        if self._caller is not None:
            if now - self._caller_heard_at < self.takeover_s:
                raise RtpRefused(
                    "rtp_unknown_ssrc",
                    f"RTP audio from SSRC {packet.ssrc:#010x} refused: the caller is "
                    f"SSRC {self._caller.ssrc:#010x}",
                )
            self._through(self._caller, self._caller.buffer.flush, received)
        self._caller = _CallerStream(packet.ssrc, self.depth)

    def _through(
        self, caller: _CallerStream, step: Callable[[], list[Release]], received: Received
    ) -> Received:
        """Run one jitter-buffer step, play what it releases, count what it lost or dropped."""
        lost, late = caller.buffer.stats.lost, caller.buffer.stats.late
        self._play(caller, step(), received)
        received.lost += caller.buffer.stats.lost - lost
        received.late += caller.buffer.stats.late - late
        return received

    def _play(self, caller: _CallerStream, releases: list[Release], received: Received) -> None:
        """Decode released packets into `received`, concealing timestamp gaps before each."""
        for release in releases:
            packet = release.packet
            if self.payload_types.is_event(packet.payload_type):
                continue  # an event holds its sequence slot; its time is filled by the next audio
            encoding = self.payload_types.encoding(packet.payload_type)
            decoder = caller.decoder(encoding)
            if caller.expected is not None:
                gap = ts_diff(packet.timestamp, caller.expected)
                samples = gap * SAMPLE_RATE // encoding.clock_rate
                if 0 < samples <= MAX_CONCEALED_SAMPLES:
                    received.audio.append(conceal(caller.last_frame, samples))
            pcm = decoder.decode(packet.payload)
            caller.expected = (packet.timestamp + decoder.ticks(packet.payload)) % (1 << 32)
            if len(pcm):
                received.audio.append(pcm)
                caller.last_frame = pcm
