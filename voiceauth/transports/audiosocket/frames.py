"""Asterisk AudioSocket frames: `kind (1 byte) | length (2 bytes, big-endian) | payload`.

The protocol as Asterisk documents it (docs.asterisk.org, Configuration / Channel Drivers /
AudioSocket; github.com/CyCoreSystems/audiosocket README): 0x00 hang-up, 0x01 the call's UUID
(16 bytes), 0x03 one ASCII DTMF digit (Asterisk 20.x+), 0x10 signed linear 16-bit little-endian
mono at 8 kHz, 0x11-0x18 the same at 12, 16, 24, 32, 44.1, 48, 96 and 192 kHz (added in the
2025 releases of Asterisk 20-23), 0xff an error whose first payload byte is Asterisk's bit-packed
code. A stream of frames is cut by `FrameReader`, which refuses a declared length over its cap
as soon as the header arrives, before buffering the payload.
"""

from __future__ import annotations

import struct
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum, IntFlag
from typing import Self

import numpy as np
import numpy.typing as npt

from voiceauth.errors import MalformedFrame

HEADER = struct.Struct("!BH")
"""Kind byte, then the payload length as an unsigned 16-bit big-endian integer."""
MAX_LENGTH = 0xFFFF
UUID_BYTES = 16
DTMF_DIGITS = frozenset("0123456789*#ABCD")
DEFAULT_MAX_PAYLOAD = 16384
"""Bytes. 20 ms at 192 kHz is 7680 bytes; twice that bounds what one connection may buffer."""


class Kind(IntEnum):
    HANGUP = 0x00
    UUID = 0x01
    DTMF = 0x03
    SLIN = 0x10
    SLIN12 = 0x11
    SLIN16 = 0x12
    SLIN24 = 0x13
    SLIN32 = 0x14
    SLIN44 = 0x15
    SLIN48 = 0x16
    SLIN96 = 0x17
    SLIN192 = 0x18
    ERROR = 0xFF


RATES: dict[Kind, int] = {
    Kind.SLIN: 8000,
    Kind.SLIN12: 12000,
    Kind.SLIN16: 16000,
    Kind.SLIN24: 24000,
    Kind.SLIN32: 32000,
    Kind.SLIN44: 44100,
    Kind.SLIN48: 48000,
    Kind.SLIN96: 96000,
    Kind.SLIN192: 192000,
}
"""Sample rate (Hz) of each audio kind."""
AUDIO_KINDS = {rate: kind for kind, rate in RATES.items()}


class ErrorCode(IntFlag):
    """Asterisk's error payload: single-byte, bit-packed."""

    NONE = 0x00
    HANGUP = 0x01
    """The calling party hung up."""
    FRAME_FORWARDING = 0x02
    MEMORY = 0x04


@dataclass(frozen=True, slots=True)
class Frame:
    """One AudioSocket frame; `parse` checks the payload against its kind."""

    kind: Kind
    payload: bytes = b""

    @classmethod
    def parse(cls, data: bytes) -> Self:
        """Exactly one frame; raises MalformedFrame naming the defect."""
        if len(data) < HEADER.size:
            raise MalformedFrame(f"AudioSocket header: got {len(data)} bytes, need {HEADER.size}")
        code, length = HEADER.unpack_from(data)
        if len(data) - HEADER.size != length:
            got = len(data) - HEADER.size
            raise MalformedFrame(f"AudioSocket frame: length field says {length}, payload is {got}")
        try:
            kind = Kind(code)
        except ValueError:
            raise MalformedFrame(f"AudioSocket frame: unknown kind 0x{code:02x}") from None
        frame = cls(kind, bytes(data[HEADER.size :]))
        frame._check()
        return frame

    def _check(self) -> None:
        size = len(self.payload)
        if self.kind is Kind.UUID and size != UUID_BYTES:
            raise MalformedFrame(f"AudioSocket UUID: got {size} bytes, need {UUID_BYTES}")
        if self.kind is Kind.DTMF and (size != 1 or chr(self.payload[0]) not in DTMF_DIGITS):
            raise MalformedFrame("AudioSocket DTMF: need one ASCII digit of 0-9 * # A-D")
        if self.kind in RATES and size % 2:
            raise MalformedFrame(f"AudioSocket audio: odd payload of {size} bytes (16-bit samples)")
        if self.kind is Kind.HANGUP and size:
            raise MalformedFrame(f"AudioSocket hang-up: unexpected payload of {size} bytes")

    def __bytes__(self) -> bytes:
        if len(self.payload) > MAX_LENGTH:
            raise MalformedFrame(f"AudioSocket frame: payload of {len(self.payload)} bytes")
        return HEADER.pack(self.kind, len(self.payload)) + self.payload

    @classmethod
    def hangup(cls) -> Self:
        return cls(Kind.HANGUP)

    @classmethod
    def for_call(cls, call_id: uuid.UUID) -> Self:
        return cls(Kind.UUID, call_id.bytes)

    @classmethod
    def dtmf(cls, digit: str) -> Self:
        frame = cls(Kind.DTMF, digit.encode("ascii"))
        frame._check()
        return frame

    @classmethod
    def audio(cls, pcm: npt.NDArray[np.int16], rate: int = 8000) -> Self:
        """pcm: (n,) int16 mono at `rate` Hz, one of RATES."""
        if rate not in AUDIO_KINDS:
            known = ", ".join(str(r) for r in AUDIO_KINDS)
            raise MalformedFrame(f"AudioSocket has no audio kind for {rate} Hz; known: {known}")
        return cls(AUDIO_KINDS[rate], pcm.astype("<i2").tobytes())

    @classmethod
    def error(cls, code: ErrorCode) -> Self:
        return cls(Kind.ERROR, bytes([code]))

    @property
    def call_id(self) -> str:
        """A UUID frame's call id, in the canonical string form the dialplan used."""
        return str(uuid.UUID(bytes=self.payload))

    @property
    def rate(self) -> int | None:
        return RATES.get(self.kind)

    @property
    def pcm(self) -> npt.NDArray[np.int16]:
        return np.frombuffer(self.payload, dtype="<i2").astype(np.int16)

    @property
    def error_code(self) -> ErrorCode:
        """The error's code; an empty payload (the code is optional) reads as NONE."""
        return ErrorCode(self.payload[0]) if self.payload else ErrorCode.NONE


class FrameReader:
    """Cuts a byte stream into frames: `feed` bytes, then iterate for the complete frames."""

    def __init__(self, max_payload: int = DEFAULT_MAX_PAYLOAD) -> None:
        self.max_payload = max_payload
        self._buffer = bytearray()

    def feed(self, data: bytes) -> None:
        self._buffer += data

    def __iter__(self) -> Iterator[bytes]:
        """Each complete raw frame, in order (parse it with `Frame.parse`). Raises MalformedFrame
        at a header declaring more than `max_payload`, after the frames before it: the stream
        cannot be trusted past it."""
        while len(self._buffer) >= HEADER.size:
            code, length = HEADER.unpack_from(self._buffer)
            if length > self.max_payload:
                raise MalformedFrame(
                    f"AudioSocket frame of kind 0x{code:02x}: {length} bytes exceeds the"
                    f" {self.max_payload}-byte limit"
                )
            end = HEADER.size + length
            if len(self._buffer) < end:
                return
            frame = bytes(self._buffer[:end])
            del self._buffer[:end]
            yield frame

    @property
    def pending(self) -> int:
        """Bytes of an incomplete frame held back (a stream ending here was cut mid-frame)."""
        return len(self._buffer)
