"""RTP payload formats (RFC 3551) decoded to what every transport delivers: int16 8 kHz mono.

Static payload types 0 (PCMU), 8 (PCMA), 10 and 11 (L16 at 44.1 kHz, stereo and mono) are
fixed by RFC 3551 §6 Table 4; dynamic ones (96-127) mean what the session's SDP says, so they
are configured (`Encoding.parse("L16/16000")`, like an SDP rtpmap). L16 is 16-bit signed
big-endian (RFC 3551 §4.5.11); stereo is averaged to mono, other rates are resampled to 8 kHz.
A payload type the session does not know raises UnknownPayloadType: the packet is refused and
counted, never guessed at.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Protocol, Self

import numpy as np
import numpy.typing as npt

from voiceauth.audio.g711 import alaw_decode, mulaw_decode
from voiceauth.audio.stream_resample import StreamResampler
from voiceauth.errors import ConfigError, MalformedFrame
from voiceauth.transports.base import SAMPLE_RATE

PCMU = "PCMU"
PCMA = "PCMA"
L16 = "L16"
TELEPHONE_EVENT = "telephone-event"
"""RFC 4733 §7.1.1 media subtype of DTMF events; carried beside audio, decoded in dtmf.py."""
ENCODINGS = (PCMU, PCMA, L16, TELEPHONE_EVENT)
DYNAMIC_TYPES = range(96, 128)
"""RFC 3551 §3: payload types bound by the session description."""
L16_SAMPLE_BYTES = 2


@dataclass(frozen=True, slots=True)
class Encoding:
    """What a payload type carries: an SDP rtpmap value, `name/clock_rate[/channels]`."""

    name: str
    clock_rate: int
    channels: int = 1

    def __post_init__(self) -> None:
        if self.name not in ENCODINGS:
            raise ConfigError(f"RTP encoding {self.name!r} unsupported; use one of {ENCODINGS}")
        if self.clock_rate < SAMPLE_RATE or self.channels not in (1, 2):
            raise ConfigError(
                f"RTP encoding {self}: need a clock rate of at least {SAMPLE_RATE} Hz "
                "and 1 or 2 channels"
            )
        if self.name in (PCMU, PCMA) and (self.clock_rate, self.channels) != (SAMPLE_RATE, 1):
            raise ConfigError(f"RTP encoding {self}: G.711 is 8000 Hz mono (RFC 3551 §4.5.14)")

    @classmethod
    def parse(cls, rtpmap: str) -> Self:
        """`PCMU/8000`, `L16/16000/1`, `telephone-event/8000` (RFC 4566 §6 rtpmap form)."""
        name, _, rest = rtpmap.strip().partition("/")
        rate, _, channels = rest.partition("/")
        if not rate.isdigit() or not (channels or "1").isdigit():
            raise ConfigError(f"RTP encoding {rtpmap!r}: expected name/rate[/channels]")
        return cls(name, int(rate), int(channels or 1))

    def __str__(self) -> str:
        return f"{self.name}/{self.clock_rate}/{self.channels}"


STATIC_TYPES: Mapping[int, Encoding] = {
    0: Encoding(PCMU, 8000),
    8: Encoding(PCMA, 8000),
    10: Encoding(L16, 44100, 2),
    11: Encoding(L16, 44100, 1),
}
"""RFC 3551 §6 Table 4, the audio types handled here."""
DEFAULT_DYNAMIC_TYPES: Mapping[int, Encoding] = {101: Encoding(TELEPHONE_EVENT, 8000)}
"""101 is where Asterisk, FreeSWITCH, SIPp's captures and most SBCs put RFC 4733 events."""


class UnknownPayloadType(MalformedFrame):
    def __init__(self, payload_type: int, known: list[int]) -> None:
        super().__init__(
            f"RTP payload type {payload_type} is not configured for this session "
            f"(known: {', '.join(map(str, known))})"
        )
        self.payload_type = payload_type


class PayloadTypes:
    """The payload type -> encoding table of one deployment: static types plus configured ones."""

    def __init__(self, dynamic: Mapping[int, Encoding] = DEFAULT_DYNAMIC_TYPES) -> None:
        for payload_type in dynamic:
            if payload_type not in DYNAMIC_TYPES:
                raise ConfigError(f"RTP payload type {payload_type} is not dynamic (96-127)")
        self._types = {**STATIC_TYPES, **dynamic}

    @classmethod
    def parse(cls, spec: str) -> Self:
        """`97=L16/16000,101=telephone-event/8000`: the dynamic types, as a setting spells them."""
        dynamic: dict[int, Encoding] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            number, _, rtpmap = item.partition("=")
            if not number.strip().isdigit() or not rtpmap:
                raise ConfigError(f"RTP payload type {item!r}: expected NUMBER=name/rate")
            dynamic[int(number)] = Encoding.parse(rtpmap)
        return cls(dynamic)

    def encoding(self, payload_type: int) -> Encoding:
        """What `payload_type` carries; raises UnknownPayloadType."""
        found = self._types.get(payload_type)
        if found is None:
            raise UnknownPayloadType(payload_type, sorted(self._types))
        return found

    def is_event(self, payload_type: int) -> bool:
        found = self._types.get(payload_type)
        return found is not None and found.name == TELEPHONE_EVENT


class Decoder(Protocol):
    def ticks(self, payload: bytes) -> int:
        """Duration of `payload` in RTP timestamp units (samples at the clock rate); raises
        MalformedFrame for a payload of impossible length."""
        ...

    def decode(self, payload: bytes) -> npt.NDArray[np.int16]:
        """(n,) int16 8 kHz mono; raises MalformedFrame as `ticks` does."""
        ...


class G711Decoder:
    def __init__(self, law: str) -> None:
        self._expand = mulaw_decode if law == PCMU else alaw_decode

    def ticks(self, payload: bytes) -> int:
        return len(payload)

    def decode(self, payload: bytes) -> npt.NDArray[np.int16]:
        return self._expand(np.frombuffer(payload, np.uint8))


class L16Decoder:
    """Big-endian 16-bit PCM; its state (the resampler's) belongs to one stream."""

    def __init__(self, clock_rate: int, channels: int) -> None:
        self.channels = channels
        self.frame_bytes = L16_SAMPLE_BYTES * channels
        self._resampler = StreamResampler(clock_rate, SAMPLE_RATE)

    def ticks(self, payload: bytes) -> int:
        if len(payload) % self.frame_bytes:
            raise MalformedFrame(
                f"L16 payload of {len(payload)} bytes is not whole {self.frame_bytes}-byte "
                f"sample frames ({self.channels} channel(s))"
            )
        return len(payload) // self.frame_bytes

    def decode(self, payload: bytes) -> npt.NDArray[np.int16]:
        self.ticks(payload)
        samples = np.frombuffer(payload, ">i2").reshape(-1, self.channels)
        mono = np.rint(samples.mean(axis=1)).astype(np.int16)
        return self._resampler.feed(mono)


def decoder_for(encoding: Encoding) -> Decoder:
    """A fresh decoder (one per stream: L16's resampler keeps state)."""
    if encoding.name in (PCMU, PCMA):
        return G711Decoder(encoding.name)
    if encoding.name == L16:
        return L16Decoder(encoding.clock_rate, encoding.channels)
    raise ConfigError(f"RTP encoding {encoding} carries no audio")
