"""RFC 4733 telephone-events: the DTMF payload, and one digit per key press.

A sender reports one key press as a series of packets sharing the event's start timestamp
(§2.5.1.2), each with the duration so far, and sends the final packet, with the E bit, three
times (§2.5.1.4). A digit is therefore keyed by (SSRC, timestamp, event): the first packet of a
press yields the digit, whichever it is (the start may be lost), and every later one is a
repeat. Events may come on the audio's SSRC or on their own (e.g. a separate DTMF source).
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass
from typing import Self

from voiceauth.errors import MalformedFrame

EVENT_SIZE = 4
"""event (8 bits), E, R, volume (6 bits), duration (16 bits) (RFC 4733 §2.3)."""
DIGITS = "0123456789*#ABCD"
"""Events 0-15 are the DTMF keys (RFC 4733 §3.2, Table 7); 16 is flash, not a digit."""
MAX_VOLUME = 63
MAX_DURATION = 0xFFFF
REMEMBERED_PRESSES = 64
"""Presses remembered for de-duplication: far more than can be in flight at once."""

_EVENT = struct.Struct("!BBH")


@dataclass(frozen=True, slots=True)
class TelephoneEvent:
    """One telephone-event payload; volume is -dBm0 (0 loudest), duration in timestamp units."""

    event: int
    end: bool = False
    volume: int = 10
    duration: int = 0

    def __post_init__(self) -> None:
        if not (0 <= self.event <= 0xFF and 0 <= self.volume <= MAX_VOLUME):
            raise MalformedFrame(f"telephone-event {self.event} volume {self.volume} invalid")
        if not 0 <= self.duration <= MAX_DURATION:
            raise MalformedFrame(f"telephone-event duration {self.duration} exceeds 16 bits")

    @classmethod
    def parse(cls, payload: bytes) -> Self:
        """Parse one event payload; raises MalformedFrame unless it is exactly 4 bytes."""
        if len(payload) != EVENT_SIZE:
            raise MalformedFrame(
                f"telephone-event payload: got {len(payload)} bytes, expected {EVENT_SIZE}"
            )
        event, flags, duration = _EVENT.unpack(payload)
        return cls(event, bool(flags & 0x80), flags & MAX_VOLUME, duration)

    def __bytes__(self) -> bytes:
        flags = (0x80 if self.end else 0) | self.volume
        return _EVENT.pack(self.event, flags, self.duration)

    @property
    def digit(self) -> str | None:
        """The DTMF key this event is, or None for other events (flash, tones)."""
        return DIGITS[self.event] if self.event < len(DIGITS) else None


class DigitDetector:
    """Turns the event packets of one call (any SSRC, any order) into one digit per press."""

    def __init__(self) -> None:
        self._seen: OrderedDict[tuple[int, int, int], None] = OrderedDict()

    def push(self, ssrc: int, timestamp: int, event: TelephoneEvent) -> str | None:
        """The digit if this packet is the first seen of its press, else None."""
        digit = event.digit
        key = (ssrc, timestamp, event.event)
        if digit is None or key in self._seen:
            return None
        self._seen[key] = None
        if len(self._seen) > REMEMBERED_PRESSES:
            self._seen.popitem(last=False)
        return digit
