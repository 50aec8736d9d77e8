"""A jitter buffer for one RTP stream: packets in arrival order, out in sequence order.

Pure and clockless (like aiortc's `jitterbuffer.py`): `add(packet)` returns the packets that are
now due, so a test drives it packet by packet. In-order packets go straight through, adding no
delay; a hole holds later packets back until the missing one arrives or `depth` packets wait
behind it, when the hole is declared lost (its packets counted; the track fills its time).
A packet for a slot already played or declared lost is dropped: a duplicate if it was played,
late otherwise. Sequence numbers wrap at 16 bits; a jump of more than MAX_DROPOUT (a sender
restart) is taken as the stream's new position once two consecutive packets confirm it (the
probation of RFC 3550 Appendix A.1), and the lone packet before that is dropped as late.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from voiceauth.errors import ConfigError
from voiceauth.transports.rtp.packet import RtpPacket

SEQUENCE_MOD = 1 << 16
TIMESTAMP_MOD = 1 << 32
MAX_DROPOUT = 3000
"""Largest forward jump still read as loss rather than a restart (RFC 3550 A.1)."""
MAX_MISORDER = 100
"""How far behind a packet may be and still be recognised as a duplicate or late one (A.1)."""
DEFAULT_DEPTH = 5
"""Packets held behind a hole: 100 ms of 20 ms packets, past the reordering real networks and
`impair.schedule` (which holds a reordered frame back by two frames) produce."""


def seq_diff(a: int, b: int) -> int:
    """a - b for 16-bit sequence numbers, in [-32768, 32767]."""
    return (a - b + SEQUENCE_MOD // 2) % SEQUENCE_MOD - SEQUENCE_MOD // 2


def seq_add(a: int, n: int) -> int:
    return (a + n) % SEQUENCE_MOD


def ts_diff(a: int, b: int) -> int:
    """a - b for 32-bit RTP timestamps, in [-2**31, 2**31)."""
    return (a - b + TIMESTAMP_MOD // 2) % TIMESTAMP_MOD - TIMESTAMP_MOD // 2


@dataclass(frozen=True, slots=True)
class Release:
    """A packet due for playout, after `lost_before` packets that never came."""

    packet: RtpPacket
    lost_before: int = 0


@dataclass(slots=True)
class JitterStats:
    lost: int = 0
    late: int = 0
    duplicates: int = 0


class JitterBuffer:
    """Reorders one stream (one SSRC); holds at most `depth` packets."""

    def __init__(self, *, depth: int = DEFAULT_DEPTH) -> None:
        if depth < 1:
            raise ConfigError(f"jitter buffer depth must be at least 1, got {depth}")
        self.depth = depth
        self.stats = JitterStats()
        self._next: int | None = None
        self._waiting: dict[int, RtpPacket] = {}
        self._played: deque[int] = deque(maxlen=MAX_MISORDER)
        self._played_set: set[int] = set()
        self._probation: int | None = None
        self._lost_pending = 0

    def __len__(self) -> int:
        return len(self._waiting)

    def add(self, packet: RtpPacket) -> list[Release]:
        """Take one packet; return the packets now due, in sequence order."""
        if self._next is None:
            self._next = packet.sequence
        offset = seq_diff(packet.sequence, self._next)
        if offset > MAX_DROPOUT or offset < -MAX_MISORDER:
            return self._jump(packet)
        self._probation = None
        if offset < 0 or packet.sequence in self._waiting:
            if packet.sequence in self._played_set or packet.sequence in self._waiting:
                self.stats.duplicates += 1
            else:
                self.stats.late += 1
            return []
        self._waiting[packet.sequence] = packet
        return self._drain(self.depth)

    def flush(self) -> list[Release]:
        """Everything still held, holes counted as lost (the stream ended or went quiet)."""
        return self._drain(1)

    def _jump(self, packet: RtpPacket) -> list[Release]:
        if packet.sequence != self._probation:
            self._probation = seq_add(packet.sequence, 1)
            self.stats.late += 1
            return []
        released = self.flush()
        self._next = packet.sequence
        self._probation = None
        self._waiting[packet.sequence] = packet
        return released + self._drain(self.depth)

    def _drain(self, depth: int) -> list[Release]:
        """Release the run from the next sequence; skip holes while `depth` packets wait."""
        released: list[Release] = []
        while self._next is not None:
            while self._next in self._waiting:
                packet = self._waiting.pop(self._next)
                released.append(Release(packet, self._lost_pending))
                self._lost_pending = 0
                self._remember(packet.sequence)
                self._next = seq_add(self._next, 1)
            if len(self._waiting) < depth:
                return released
            origin = self._next
            first = min(self._waiting, key=lambda sequence: seq_diff(sequence, origin))
            gap = seq_diff(first, origin)
            self.stats.lost += gap
            self._lost_pending += gap
            self._next = first
        return released

    def _remember(self, sequence: int) -> None:
        if len(self._played) == self._played.maxlen:
            self._played_set.discard(self._played[0])
        self._played.append(sequence)
        self._played_set.add(sequence)
