"""One call's media, datagram by datagram: the caller's SSRC, concealment, DTMF, refusals."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pytest

from voiceauth.audio.g711 import mulaw_decode, mulaw_encode
from voiceauth.transports.rtp.conceal import FADE_SAMPLES, conceal
from voiceauth.transports.rtp.dtmf import TelephoneEvent
from voiceauth.transports.rtp.media import CallMedia, Received, RtpRefused
from voiceauth.transports.rtp.packet import RtpPacket
from voiceauth.transports.rtp.payload import PayloadTypes

CALLER, OTHER = 0x1111, 0x2222


def frame(index: int) -> npt.NDArray[np.int16]:
    """A distinct, loud 20 ms frame per index."""
    t = np.arange(160) + 160 * index
    wave: npt.NDArray[np.float64] = np.rint(6000 * np.sin(2 * np.pi * 440 * t / 8000))
    return wave.astype(np.int16)


def audio(
    index: int, *, ssrc: int = CALLER, sequence0: int = 0, timestamp0: int = 0, pt: int = 0
) -> bytes:
    return bytes(
        RtpPacket(
            payload_type=pt,
            sequence=(sequence0 + index) % 65536,
            timestamp=(timestamp0 + 160 * index) % 2**32,
            ssrc=ssrc,
            payload=mulaw_encode(frame(index)).tobytes(),
        )
    )


def event(sequence: int, timestamp: int, end: bool, *, ssrc: int = CALLER) -> bytes:
    payload = bytes(TelephoneEvent(3, end, 10, 800 if end else 160))
    return bytes(RtpPacket(101, sequence, timestamp, ssrc, payload))


def total(results: list[Received]) -> np.ndarray:
    return np.concatenate([pcm for r in results for pcm in r.audio])


def test_caller_audio_decodes_in_order() -> None:
    media = CallMedia(PayloadTypes())
    results = [media.receive(audio(i), now=i * 0.02) for i in (0, 2, 1, 3)]
    expected = np.concatenate([mulaw_decode(mulaw_encode(frame(i))) for i in range(4)])
    np.testing.assert_array_equal(total(results), expected)
    assert media.caller_ssrc == CALLER


def test_lost_packets_are_concealed_with_the_right_length() -> None:
    media = CallMedia(PayloadTypes(), depth=2)
    results = [media.receive(audio(i), now=0.0) for i in (0, 1, 4, 5, 6)]
    results.append(media.flush())
    assert len(total(results)) == 7 * 160  # two lost frames filled: call time stays true
    assert sum(r.lost for r in results) == 2
    filled = total(results)[320:640]
    assert np.abs(filled[:160]).max() > 0 and not filled[FADE_SAMPLES:].any()


def test_timestamps_wrap_around_without_a_gap() -> None:
    media = CallMedia(PayloadTypes())
    start = 2**32 - 320
    results = [media.receive(audio(i, timestamp0=start, sequence0=65534), 0.0) for i in range(5)]
    assert len(total(results)) == 5 * 160
    assert sum(r.lost for r in results) == 0


def test_late_packets_are_counted_and_dropped() -> None:
    media = CallMedia(PayloadTypes(), depth=1)
    results = [media.receive(audio(i), now=0.0) for i in (0, 2, 1)]
    assert sum(r.late for r in results) == 1 and sum(r.lost for r in results) == 1
    assert len(total(results)) == 3 * 160  # the late frame's slot was concealed instead


def test_a_second_audio_ssrc_is_refused_while_the_caller_talks() -> None:
    media = CallMedia(PayloadTypes(), takeover_s=2.0)
    media.receive(audio(0), now=0.0)
    with pytest.raises(RtpRefused, match="SSRC 0x00002222 refused") as refused:
        media.receive(audio(0, ssrc=OTHER), now=1.0)
    assert refused.value.kind == "rtp_unknown_ssrc"
    media.receive(audio(1), now=1.5)
    taken = media.receive(audio(0, ssrc=OTHER), now=3.6)  # the caller went quiet: a new leg
    assert media.caller_ssrc == OTHER and len(taken.audio) == 1


def test_dtmf_on_the_callers_ssrc_keeps_the_timeline() -> None:
    media = CallMedia(PayloadTypes())
    results = [media.receive(audio(0), 0.0)]
    results += [media.receive(event(1 + n, 160, n >= 4), 0.0) for n in range(7)]
    after = RtpPacket(0, 8, 160 * 6, CALLER, mulaw_encode(frame(6)).tobytes())
    results.append(media.receive(bytes(after), 0.0))
    assert [d for r in results for d in r.digits] == ["3"]
    assert len(total(results)) == 7 * 160  # the press's 100 ms filled before the next audio
    assert sum(r.lost for r in results) == 0


def test_dtmf_on_its_own_ssrc_never_claims_the_call() -> None:
    media = CallMedia(PayloadTypes())
    results = [media.receive(event(n, 5000, n >= 4, ssrc=OTHER), 0.0) for n in range(7)]
    assert [d for r in results for d in r.digits] == ["3"]
    assert media.caller_ssrc is None
    media.receive(audio(0), 0.1)
    assert media.caller_ssrc == CALLER


@pytest.mark.parametrize(
    ("data", "kind"),
    [
        (b"\x80\x00garbage", "rtp_header"),
        (bytes.fromhex("40000001 00000002 00000003"), "rtp_header"),
        (bytes(RtpPacket(18, 1, 2, CALLER, b"\x00" * 20)), "rtp_unknown_payload_type"),
        (bytes(RtpPacket(101, 1, 2, CALLER, b"\x00" * 3)), "rtp_payload"),
    ],
)
def test_refusals_carry_their_kind(data: bytes, kind: str) -> None:
    media = CallMedia(PayloadTypes())
    with pytest.raises(RtpRefused) as refused:
        media.receive(data, now=0.0)
    assert refused.value.kind == kind


def test_malformed_l16_payload_is_refused_as_payload() -> None:
    media = CallMedia(PayloadTypes.parse("97=L16/8000/2"))
    with pytest.raises(RtpRefused, match="not whole 4-byte") as refused:
        media.receive(bytes(RtpPacket(97, 1, 2, CALLER, bytes(6))), now=0.0)
    assert refused.value.kind == "rtp_payload"


def test_rtcp_on_the_port_is_ignored() -> None:
    assert CallMedia(PayloadTypes()).receive(bytes.fromhex("80c90001 00000001"), 0.0) == Received()


def test_concealment_fades_then_falls_silent() -> None:
    filled = conceal(np.full(160, 1000, np.int16), 800)
    assert len(filled) == 800 and filled[0] > 990
    assert np.all(np.diff(filled[:FADE_SAMPLES].astype(int)) <= 0)
    assert not filled[FADE_SAMPLES:].any()
    assert not conceal(None, 50).any() and len(conceal(None, 50)) == 50
