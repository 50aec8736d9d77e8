"""Media Streams presentation time: gaps filled and counted, late and duplicate chunks dropped."""

from __future__ import annotations

from voiceauth.transports.twilio.timeline import MAX_CONCEALED_MS, Placement, TrackClock


def test_contiguous_chunks_play_in_order() -> None:
    clock = TrackClock()
    assert clock.place(0, 160) == Placement(late=False)
    assert clock.place(20, 160) == Placement(late=False)
    assert clock.place(40, 160) == Placement(late=False)


def test_first_chunk_anchors_the_track() -> None:
    clock = TrackClock()
    assert clock.place(5000, 160) == Placement(late=False)
    assert clock.place(5020, 160) == Placement(late=False)


def test_a_timestamp_jump_is_lost_audio_filled_with_silence() -> None:
    clock = TrackClock()
    clock.place(0, 160)
    assert clock.place(60, 160) == Placement(late=False, gap_samples=320, lost_frames=2)
    assert clock.place(80, 160) == Placement(late=False)


def test_duplicates_and_out_of_order_chunks_are_late() -> None:
    clock = TrackClock()
    clock.place(0, 160)
    clock.place(40, 160)  # 20 ms overtaken: its slot is filled with silence
    assert clock.place(20, 160) == Placement(late=True)
    assert clock.place(40, 160) == Placement(late=True)
    assert clock.place(60, 160) == Placement(late=False)


def test_sub_millisecond_rounding_is_on_time() -> None:
    clock = TrackClock()
    clock.place(0, 164)  # 20.5 ms of audio, next stamped 20 or 21 ms
    assert clock.place(20, 160) == Placement(late=False)


def test_long_gaps_are_counted_but_not_filled() -> None:
    clock = TrackClock()
    clock.place(0, 160)
    jump = clock.place(20 + 60_000, 160)
    assert jump == Placement(late=False, gap_samples=0, lost_frames=3000)
    assert clock.place(60_040, 160) == Placement(late=False)
    assert MAX_CONCEALED_MS < 60_000
