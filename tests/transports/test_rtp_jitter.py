"""The jitter buffer, packet by packet: order, duplicates, wrap-around, loss, lateness, depth."""

from __future__ import annotations

import pytest

from voiceauth.errors import ConfigError
from voiceauth.transports.rtp.jitter import (
    MAX_DROPOUT,
    JitterBuffer,
    Release,
    seq_diff,
    ts_diff,
)
from voiceauth.transports.rtp.packet import RtpPacket


def packet(sequence: int) -> RtpPacket:
    return RtpPacket(payload_type=0, sequence=sequence % 65536, timestamp=160 * sequence, ssrc=7)


def feed(buffer: JitterBuffer, sequences: list[int]) -> list[tuple[int, int]]:
    """(sequence, lost_before) of everything released."""
    released: list[Release] = []
    for sequence in sequences:
        released += buffer.add(packet(sequence))
    return [(r.packet.sequence, r.lost_before) for r in released]


def test_wrap_around_helpers() -> None:
    assert seq_diff(2, 65534) == 4 and seq_diff(65534, 2) == -4
    assert ts_diff(100, 0xFFFFFF00) == 356 and ts_diff(0xFFFFFF00, 100) == -356


def test_in_order_packets_pass_straight_through() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [10, 11, 12]) == [(10, 0), (11, 0), (12, 0)]
    assert len(buffer) == 0


def test_reordered_packets_come_out_in_order() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [1, 3, 4, 2, 5]) == [(1, 0), (2, 0), (3, 0), (4, 0), (5, 0)]
    assert buffer.stats.lost == buffer.stats.late == 0


def test_duplicates_are_dropped_whether_played_or_waiting() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [1, 1, 3, 3, 2, 2]) == [(1, 0), (2, 0), (3, 0)]
    assert buffer.stats.duplicates == 3 and buffer.stats.late == 0


def test_sequence_wraps_around() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [65534, 0, 65535, 1]) == [(65534, 0), (65535, 0), (0, 0), (1, 0)]


def test_a_hole_is_declared_lost_once_depth_packets_wait() -> None:
    buffer = JitterBuffer(depth=3)
    assert feed(buffer, [1, 4, 5]) == [(1, 0)]  # 2 and 3 may still come
    assert feed(buffer, [6]) == [(4, 2), (5, 0), (6, 0)]
    assert buffer.stats.lost == 2


def test_a_packet_after_its_slot_was_given_up_is_late() -> None:
    buffer = JitterBuffer(depth=2)
    feed(buffer, [1, 3, 4])
    assert feed(buffer, [2]) == []
    assert buffer.stats.late == 1 and buffer.stats.lost == 1


def test_depth_bounds_what_is_held() -> None:
    buffer = JitterBuffer(depth=4)
    feed(buffer, [1])
    for sequence in range(3, 300):
        buffer.add(packet(sequence))
        assert len(buffer) < 4


def test_flush_releases_everything_counting_holes() -> None:
    buffer = JitterBuffer(depth=5)
    feed(buffer, [1, 3, 6])
    assert [(r.packet.sequence, r.lost_before) for r in buffer.flush()] == [(3, 1), (6, 2)]
    assert buffer.stats.lost == 3 and len(buffer) == 0


def test_a_sender_restart_is_followed_after_two_consecutive_packets() -> None:
    buffer = JitterBuffer(depth=3)
    feed(buffer, [100, 101])
    jump = 101 + MAX_DROPOUT + 500
    assert feed(buffer, [jump]) == []  # one stray packet is not trusted
    assert feed(buffer, [jump + 1, jump + 2]) == [(jump + 1, 0), (jump + 2, 0)]
    assert buffer.stats.late == 1 and buffer.stats.lost == 0
    assert feed(buffer, [102]) == []  # the old stream's numbers are now far behind
    assert buffer.stats.late == 2


def test_depth_must_be_positive() -> None:
    with pytest.raises(ConfigError, match="at least 1"):
        JitterBuffer(depth=0)
