"""AudioSocket frames byte for byte, and the stream reader's cuts and caps."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from voiceauth.errors import MalformedFrame
from voiceauth.transports.audiosocket.frames import RATES, ErrorCode, Frame, FrameReader, Kind

DOC_UUID = "40325ec2-5efd-4bd3-805f-53576e581d13"
"""The call UUID of the dialplan examples in Asterisk's AudioSocket documentation."""


def test_hangup_is_three_zero_bytes_as_documented() -> None:
    assert bytes(Frame.hangup()) == b"\x00\x00\x00"
    assert Frame.parse(b"\x00\x00\x00") == Frame(Kind.HANGUP)


def test_uuid_frame_carries_the_sixteen_raw_bytes() -> None:
    data = b"\x01\x00\x10" + uuid.UUID(DOC_UUID).bytes
    frame = Frame.parse(data)
    assert frame.call_id == DOC_UUID
    assert bytes(frame) == data
    assert bytes(Frame.for_call(uuid.UUID(DOC_UUID))) == data


def test_audio_is_little_endian_and_the_kind_names_the_rate() -> None:
    pcm = np.array([1, -2, 300, -32768, 32767], np.int16)
    frame = Frame.audio(pcm)
    assert bytes(frame)[:3] == b"\x10\x00\x0a"
    assert bytes(frame)[3:5] == b"\x01\x00"
    assert np.array_equal(Frame.parse(bytes(frame)).pcm, pcm)
    assert Frame.audio(pcm, 16000).kind is Kind.SLIN16
    assert {kind.value: rate for kind, rate in RATES.items()} == {
        0x10: 8000,
        0x11: 12000,
        0x12: 16000,
        0x13: 24000,
        0x14: 32000,
        0x15: 44100,
        0x16: 48000,
        0x17: 96000,
        0x18: 192000,
    }


@pytest.mark.parametrize(
    "frame",
    [
        Frame.hangup(),
        Frame.for_call(uuid.uuid4()),
        Frame.dtmf("#"),
        Frame.audio(np.arange(-80, 80, dtype=np.int16), 48000),
        Frame.error(ErrorCode.HANGUP),
        Frame(Kind.ERROR),
    ],
)
def test_every_kind_round_trips(frame: Frame) -> None:
    assert Frame.parse(bytes(frame)) == frame


def test_error_codes_are_bit_packed() -> None:
    frame = Frame.parse(b"\xff\x00\x01\x06")
    assert frame.error_code == ErrorCode.FRAME_FORWARDING | ErrorCode.MEMORY
    assert Frame.parse(b"\xff\x00\x00").error_code is ErrorCode.NONE


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x10\x00", "AudioSocket header: got 2 bytes, need 3"),
        (b"\x10\x00\x04\x00\x00", "length field says 4, payload is 2"),
        (b"\x42\x00\x00", "unknown kind 0x42"),
        (b"\x01\x00\x02ab", "AudioSocket UUID: got 2 bytes, need 16"),
        (b"\x03\x00\x01x", "AudioSocket DTMF: need one ASCII digit"),
        (b"\x03\x00\x0212", "AudioSocket DTMF: need one ASCII digit"),
        (b"\x10\x00\x03abc", "odd payload of 3 bytes"),
        (b"\x00\x00\x01x", "AudioSocket hang-up: unexpected payload of 1 bytes"),
    ],
)
def test_each_defect_has_its_own_message(data: bytes, message: str) -> None:
    with pytest.raises(MalformedFrame, match=message):
        Frame.parse(data)


def test_unknown_rates_and_digits_are_refused_when_building() -> None:
    with pytest.raises(MalformedFrame, match="no audio kind for 11025 Hz"):
        Frame.audio(np.zeros(4, np.int16), 11025)
    with pytest.raises(MalformedFrame, match="DTMF"):
        Frame.dtmf("x")


def cut(reader: FrameReader, data: bytes) -> list[bytes]:
    reader.feed(data)
    return list(reader)


def test_reader_cuts_a_stream_split_anywhere() -> None:
    frames = [Frame.for_call(uuid.uuid4()), Frame.audio(np.arange(160, dtype=np.int16))]
    frames += [Frame.dtmf("7"), Frame.hangup()]
    stream = b"".join(bytes(frame) for frame in frames)
    for step in (1, 2, 3, 7, 100, len(stream)):
        reader = FrameReader()
        raws = [
            raw for i in range(0, len(stream), step) for raw in cut(reader, stream[i : i + step])
        ]
        assert [Frame.parse(raw) for raw in raws] == frames
        assert reader.pending == 0


def test_reader_refuses_an_oversized_length_before_its_payload_arrives() -> None:
    assert cut(FrameReader(max_payload=320), b"\x10\x01\x40") == []  # 320 declared: waiting
    reader = FrameReader(max_payload=320)
    reader.feed(bytes(Frame.hangup()) + b"\x10\x01\x42")
    frames = iter(reader)
    assert next(frames) == bytes(Frame.hangup())  # what came before is still delivered
    with pytest.raises(MalformedFrame, match="kind 0x10: 322 bytes exceeds the 320-byte limit"):
        next(frames)


def test_reader_keeps_an_incomplete_frame_pending() -> None:
    reader = FrameReader()
    assert cut(reader, b"\x10\x00\x04\x01\x00") == []
    assert reader.pending == 5
    assert cut(reader, b"\x02\x00") == [b"\x10\x00\x04\x01\x00\x02\x00"]
