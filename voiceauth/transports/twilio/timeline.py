"""Where a Media Streams chunk belongs on its track's timeline: on time, after a gap, or late.

Twilio numbers chunks and stamps each with its presentation time (`media.timestamp`, ms from
the stream's start). The WebSocket is reliable and ordered, so audio Twilio never received
(lost on the carrier's RTP leg) shows only as a timestamp that jumps ahead: the gap is filled
with silence, so the call keeps its real duration, and counted as lost. A chunk stamped before
its track's clock (a duplicate, or out of order from a misbehaving sender) has had its slot and
is dropped as late. Gaps longer than MAX_CONCEALED_MS (a hold, a bogus timestamp) are counted
but not filled, so one message cannot make the service allocate minutes of silence.
"""

from __future__ import annotations

from dataclasses import dataclass

from voiceauth.transports.base import FRAME_SAMPLES, SAMPLE_RATE

SAMPLES_PER_MS = SAMPLE_RATE // 1000
MAX_CONCEALED_MS = 1000
"""Longest gap filled with silence; a longer jump only moves the clock."""


@dataclass(frozen=True, slots=True)
class Placement:
    """late: drop the chunk; else play `gap_samples` of silence (if any), then the chunk.

    lost_frames: 20 ms frames missing before this chunk (counted whether filled or not).
    """

    late: bool
    gap_samples: int = 0
    lost_frames: int = 0


class TrackClock:
    """One track's next expected position, in samples from the stream's start."""

    def __init__(self) -> None:
        self._next: int | None = None

    def place(self, timestamp_ms: int, n_samples: int) -> Placement:
        """Where a chunk of n_samples stamped timestamp_ms goes; advances the clock unless late.

        Timestamps have 1 ms resolution, so positions within one ms of the clock are on time.
        The first chunk of a track anchors its clock (no silence before it).
        """
        position = timestamp_ms * SAMPLES_PER_MS
        expected = position if self._next is None else self._next
        if position <= expected - SAMPLES_PER_MS:
            return Placement(late=True)
        gap = max(position - expected, 0) if position - expected >= SAMPLES_PER_MS else 0
        self._next = expected + gap + n_samples
        lost = gap // FRAME_SAMPLES
        if gap > MAX_CONCEALED_MS * SAMPLES_PER_MS:
            return Placement(late=False, gap_samples=0, lost_frames=lost)
        return Placement(late=False, gap_samples=gap, lost_frames=lost)
