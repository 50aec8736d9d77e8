"""RFC 4733 telephone-events: the payload, and one digit per press however often it is sent."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.transports.test_rtp_packet import SIPP_SHARE, pcap_udp_payloads
from voiceauth.errors import MalformedFrame
from voiceauth.transports.rtp.dtmf import DigitDetector, TelephoneEvent
from voiceauth.transports.rtp.packet import RtpPacket


def test_event_round_trips() -> None:
    event = TelephoneEvent(event=11, end=True, volume=10, duration=1280)
    assert bytes(event) == bytes.fromhex("0b8a0500")
    assert TelephoneEvent.parse(bytes(event)) == event
    assert event.digit == "#"
    assert TelephoneEvent(16).digit is None  # flash


@pytest.mark.parametrize("size", [0, 3, 5, 8])
def test_event_payload_must_be_four_bytes(size: int) -> None:
    with pytest.raises(MalformedFrame, match=f"got {size} bytes, expected 4"):
        TelephoneEvent.parse(bytes(size))


def test_a_press_is_one_digit_and_its_end_packets_are_repeats() -> None:
    detector = DigitDetector()
    updates = [TelephoneEvent(5, False, 10, 160 * n) for n in range(1, 5)]
    ends = [TelephoneEvent(5, True, 10, 800)] * 3
    found = [detector.push(0xAA, 1000, event) for event in updates + ends]
    assert found == ["5"] + [None] * 6
    # the same key again, later: a new press has a new timestamp
    assert detector.push(0xAA, 2600, TelephoneEvent(5, True, 10, 800)) == "5"
    # only the end packets of a press arrived: still one digit
    assert [detector.push(0xAA, 4200, e) for e in ends] == ["5", None, None]


def test_presses_on_two_ssrcs_are_two_digits() -> None:
    detector = DigitDetector()
    assert detector.push(1, 1000, TelephoneEvent(1)) == "1"
    assert detector.push(2, 1000, TelephoneEvent(1)) == "1"


@pytest.mark.parametrize(
    ("capture", "digit"), [("dtmf_2833_1.pcap", "1"), ("dtmf_2833_pound.pcap", "#")]
)
def test_captured_press_is_one_digit(capture: str, digit: str) -> None:
    path: Path = SIPP_SHARE / capture
    if not path.is_file():
        pytest.skip(f"{path} missing: install Debian's sip-tester (scripts/system-packages)")
    detector = DigitDetector()
    found = []
    for data in pcap_udp_payloads(path):
        packet = RtpPacket.parse(data)
        found.append(
            detector.push(packet.ssrc, packet.timestamp, TelephoneEvent.parse(packet.payload))
        )
    assert "".join(d for d in found if d) == digit
    assert found[0] == digit
