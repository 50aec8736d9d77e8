"""RTP data packets (RFC 3550 §5.1): the fixed header, CSRC list, header extension, padding.

`RtpPacket.parse` checks the length before every read and names the defect in its
MalformedFrame, so one log line says what a sender got wrong; `bytes(packet)` is its inverse.
Padding is kept as its length only: its content is meaningless (§5.1: "ignored"), so it is
written back as zeros before the count octet.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Self

from voiceauth.errors import MalformedFrame

RTP_VERSION = 2
"""The V field of every RTP and RTCP packet (RFC 3550 §5.1)."""
HEADER_SIZE = 12
"""V/P/X/CC, M/PT, sequence, timestamp and SSRC (RFC 3550 §5.1)."""
CSRC_SIZE = 4
EXTENSION_HEADER_SIZE = 4
"""Profile-defined 16 bits plus the extension length in 32-bit words (RFC 3550 §5.3.1)."""
MAX_CSRC = 15
MAX_PAYLOAD_TYPE = 127
MAX_PADDING = 255
RTCP_TYPES = range(192, 224)
"""Second octets of RTCP packets multiplexed on the RTP port (RFC 5761 §4: SR 200, RR 201,
SDES 202, BYE 203, APP 204 fall in 192-223, which RTP payload types 64-95 would shadow)."""

_FIXED = struct.Struct("!BBHII")


@dataclass(frozen=True, slots=True)
class HeaderExtension:
    """The one header extension RFC 3550 §5.3.1 allows: 16 profile bits and whole words."""

    profile: int
    data: bytes = b""

    def __post_init__(self) -> None:
        if len(self.data) % 4:
            raise MalformedFrame(
                f"RTP header extension: {len(self.data)} bytes is not a whole number of words"
            )


@dataclass(frozen=True, slots=True)
class RtpPacket:
    """One RTP packet; `padding` counts the padding octets (the count octet included), 0 if P=0."""

    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    payload: bytes = b""
    marker: bool = False
    csrc: tuple[int, ...] = ()
    extension: HeaderExtension | None = None
    padding: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.payload_type <= MAX_PAYLOAD_TYPE:
            raise MalformedFrame(f"RTP payload type {self.payload_type} is not in 0-127")
        if not (0 <= self.sequence <= 0xFFFF and 0 <= self.timestamp <= 0xFFFFFFFF):
            raise MalformedFrame("RTP sequence must fit 16 bits and timestamp 32 bits")
        if not 0 <= self.ssrc <= 0xFFFFFFFF:
            raise MalformedFrame(f"RTP SSRC {self.ssrc} does not fit 32 bits")
        if len(self.csrc) > MAX_CSRC:
            raise MalformedFrame(f"RTP packet: {len(self.csrc)} CSRCs, at most {MAX_CSRC}")
        if not 0 <= self.padding <= MAX_PADDING:
            raise MalformedFrame(f"RTP padding of {self.padding} bytes is not in 0-255")

    @classmethod
    def parse(cls, data: bytes) -> Self:
        """Parse one UDP datagram; raises MalformedFrame naming the first defect found."""
        if len(data) < HEADER_SIZE:
            raise MalformedFrame(
                f"RTP packet: got {len(data)} bytes, need at least {HEADER_SIZE} for the header"
            )
        first, second, sequence, timestamp, ssrc = _FIXED.unpack_from(data)
        version = first >> 6
        if version != RTP_VERSION:
            raise MalformedFrame(f"RTP packet: version {version}, expected {RTP_VERSION}")
        end = len(data)
        padding = 0
        if first & 0x20:
            padding = data[-1]
            if padding == 0:
                raise MalformedFrame("RTP packet: padding bit set but padding length is 0")
        offset = HEADER_SIZE
        csrc_count = first & 0x0F
        csrc_end = offset + CSRC_SIZE * csrc_count
        if csrc_end > end:
            raise MalformedFrame(
                f"RTP packet: CSRC count {csrc_count} needs {csrc_end} bytes, packet has {end}"
            )
        csrc = struct.unpack_from(f"!{csrc_count}I", data, offset)
        offset = csrc_end
        extension = None
        if first & 0x10:
            if offset + EXTENSION_HEADER_SIZE > end:
                raise MalformedFrame(
                    f"RTP packet: extension bit set but the extension header at byte {offset} "
                    f"runs past the packet ({end} bytes)"
                )
            profile, words = struct.unpack_from("!HH", data, offset)
            offset += EXTENSION_HEADER_SIZE
            if offset + 4 * words > end:
                raise MalformedFrame(
                    f"RTP packet: extension length {words} words runs past the packet "
                    f"({offset + 4 * words} bytes needed, {end} received)"
                )
            extension = HeaderExtension(profile, bytes(data[offset : offset + 4 * words]))
            offset += 4 * words
        if padding > end - offset:
            raise MalformedFrame(
                f"RTP packet: padding length {padding} exceeds the {end - offset} bytes "
                "after the header"
            )
        return cls(
            payload_type=second & 0x7F,
            sequence=sequence,
            timestamp=timestamp,
            ssrc=ssrc,
            payload=bytes(data[offset : end - padding]),
            marker=bool(second & 0x80),
            csrc=tuple(csrc),
            extension=extension,
            padding=padding,
        )

    def __bytes__(self) -> bytes:
        first = RTP_VERSION << 6 | len(self.csrc)
        if self.padding:
            first |= 0x20
        if self.extension is not None:
            first |= 0x10
        second = self.payload_type | (0x80 if self.marker else 0)
        parts = [
            _FIXED.pack(first, second, self.sequence, self.timestamp, self.ssrc),
            struct.pack(f"!{len(self.csrc)}I", *self.csrc),
        ]
        if self.extension is not None:
            words = len(self.extension.data) // 4
            parts += [struct.pack("!HH", self.extension.profile, words), self.extension.data]
        parts.append(self.payload)
        if self.padding:
            parts.append(bytes(self.padding - 1) + bytes([self.padding]))
        return b"".join(parts)


def is_rtcp(data: bytes) -> bool:
    """Whether a datagram on the RTP port is RTCP (rtcp-mux, RFC 5761 §4), not media."""
    return len(data) >= 2 and data[0] >> 6 == RTP_VERSION and data[1] in RTCP_TYPES
