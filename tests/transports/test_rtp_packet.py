"""RTP header parsing: round trips (built and captured packets) and every malformed case."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from voiceauth.errors import MalformedFrame
from voiceauth.transports.rtp.packet import HeaderExtension, RtpPacket, is_rtcp

SIPP_SHARE = Path("/usr/share/sip-tester")


def pcap_udp_payloads(path: Path) -> list[bytes]:
    """The UDP payloads of a classic little-endian Ethernet/IPv4 pcap (SIPp's captures)."""
    data = path.read_bytes()
    assert struct.unpack_from("<I", data)[0] == 0xA1B2C3D4
    payloads, offset = [], 24
    while offset < len(data):
        length = struct.unpack_from("<I", data, offset + 8)[0]
        frame = data[offset + 16 : offset + 16 + length]
        ip_header = (frame[14] & 0x0F) * 4
        payloads.append(frame[14 + ip_header + 8 :])
        offset += 16 + length
    return payloads


def test_full_header_round_trips() -> None:
    packet = RtpPacket(
        payload_type=0,
        sequence=65535,
        timestamp=0xFFFFFFF0,
        ssrc=0xDEADBEEF,
        payload=bytes(range(160)),
        marker=True,
        csrc=(1, 2, 3),
        extension=HeaderExtension(0xBEDE, b"\x10\x01\x00\x00"),
        padding=4,
    )
    data = bytes(packet)
    assert len(data) == 12 + 12 + 4 + 4 + 160 + 4
    assert data[0] == 0b1011_0011 and data[1] == 0x80
    assert RtpPacket.parse(data) == packet


def test_minimal_packet_round_trips() -> None:
    packet = RtpPacket(payload_type=8, sequence=1, timestamp=2, ssrc=3)
    assert bytes(packet) == bytes.fromhex("80080001 00000002 00000003")
    assert RtpPacket.parse(bytes(packet)) == packet


@pytest.mark.parametrize("capture", ["g711a.pcap", "dtmf_2833_5.pcap", "dtmf_2833_star.pcap"])
def test_captured_packets_reserialise_byte_for_byte(capture: str) -> None:
    path = SIPP_SHARE / capture
    if not path.is_file():
        pytest.skip(f"{path} missing: install Debian's sip-tester (scripts/system-packages)")
    datagrams = pcap_udp_payloads(path)
    assert len(datagrams) >= 10
    for data in datagrams:
        assert bytes(RtpPacket.parse(data)) == data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"\x80\x00\x00\x01\x00\x00", "RTP packet: got 6 bytes, need at least 12 for the header"),
        (bytes.fromhex("40000001 00000002 00000003"), "RTP packet: version 1, expected 2"),
        (
            bytes.fromhex("83000001 00000002 00000003 00000004"),
            "RTP packet: CSRC count 3 needs 24 bytes, packet has 16",
        ),
        (
            bytes.fromhex("90000001 00000002 00000003 bede"),
            "RTP packet: extension bit set but the extension header at byte 12 runs past the "
            "packet (14 bytes)",
        ),
        (
            bytes.fromhex("90000001 00000002 00000003 bede0002 00000000"),
            "RTP packet: extension length 2 words runs past the packet "
            "(24 bytes needed, 20 received)",
        ),
        (
            bytes.fromhex("a0000001 00000002 00000003 aabbcc00"),
            "RTP packet: padding bit set but padding length is 0",
        ),
        (
            bytes.fromhex("a0000001 00000002 00000003 aabbcc09"),
            "RTP packet: padding length 9 exceeds the 4 bytes after the header",
        ),
    ],
    ids=["short", "version", "csrc", "ext-header", "ext-length", "pad-zero", "pad-long"],
)
def test_malformed_packets_name_their_defect(data: bytes, message: str) -> None:
    with pytest.raises(MalformedFrame, match=f"^{re.escape(message)}$"):
        RtpPacket.parse(data)


def test_padding_may_fill_the_whole_payload() -> None:
    packet = RtpPacket.parse(bytes.fromhex("a0000001 00000002 00000003 00000004"))
    assert packet.payload == b"" and packet.padding == 4


def test_out_of_range_fields_are_refused() -> None:
    with pytest.raises(MalformedFrame, match="payload type 128"):
        RtpPacket(payload_type=128, sequence=0, timestamp=0, ssrc=0)
    with pytest.raises(MalformedFrame, match="16 bits"):
        RtpPacket(payload_type=0, sequence=65536, timestamp=0, ssrc=0)
    with pytest.raises(MalformedFrame, match="whole number of words"):
        HeaderExtension(1, b"abc")


def test_rtcp_is_told_apart_from_media() -> None:
    receiver_report = bytes.fromhex("80c90001 00000001")
    assert is_rtcp(receiver_report)
    assert not is_rtcp(bytes(RtpPacket(payload_type=0, sequence=1, timestamp=2, ssrc=3)))
    assert not is_rtcp(
        bytes(RtpPacket(payload_type=0, sequence=1, timestamp=2, ssrc=3, marker=True))
    )
