"""RTP payload formats to 8 kHz int16: G.711 both laws, L16 big-endian at 8 and 44.1 kHz."""

from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.g711 import alaw_decode, alaw_encode, mulaw_encode
from voiceauth.errors import ConfigError, MalformedFrame
from voiceauth.transports.rtp.payload import (
    L16,
    TELEPHONE_EVENT,
    Encoding,
    PayloadTypes,
    UnknownPayloadType,
    decoder_for,
)


def tone(frequency: float, rate: int, seconds: float, amplitude: float = 8000.0) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return np.rint(amplitude * np.sin(2 * np.pi * frequency * t)).astype(np.int16)


def test_static_and_default_dynamic_types() -> None:
    types = PayloadTypes()
    assert str(types.encoding(0)) == "PCMU/8000/1"
    assert str(types.encoding(8)) == "PCMA/8000/1"
    assert types.encoding(11) == Encoding(L16, 44100, 1)
    assert types.encoding(10).channels == 2
    assert types.is_event(101) and not types.is_event(0) and not types.is_event(99)


def test_unknown_payload_type_is_refused_by_name() -> None:
    with pytest.raises(UnknownPayloadType, match=r"payload type 18 is not configured .*0, 8"):
        PayloadTypes().encoding(18)


def test_dynamic_types_parse_like_sdp_rtpmap() -> None:
    types = PayloadTypes.parse("97=L16/16000, 96=telephone-event/8000")
    assert types.encoding(97) == Encoding(L16, 16000, 1)
    assert types.encoding(96).name == TELEPHONE_EVENT
    with pytest.raises(UnknownPayloadType):
        types.encoding(101)  # configuring dynamic types replaces the default map
    with pytest.raises(ConfigError, match="not dynamic"):
        PayloadTypes.parse("18=L16/8000")
    with pytest.raises(ConfigError, match="unsupported"):
        PayloadTypes.parse("97=opus/48000/2")
    with pytest.raises(ConfigError, match="expected NUMBER=name/rate"):
        PayloadTypes.parse("L16/8000")
    with pytest.raises(ConfigError, match="G.711 is 8000 Hz mono"):
        Encoding.parse("PCMU/16000")


def test_g711_decodes_both_laws() -> None:
    pcm = tone(440, 8000, 0.02)
    mu = decoder_for(Encoding("PCMU", 8000))
    payload = mulaw_encode(pcm).tobytes()
    assert mu.ticks(payload) == 160
    assert np.max(np.abs(mu.decode(payload).astype(int) - pcm)) < 300
    a = decoder_for(Encoding("PCMA", 8000))
    codes = alaw_encode(pcm)
    np.testing.assert_array_equal(a.decode(codes.tobytes()), alaw_decode(codes))


def test_l16_is_big_endian_and_exact_at_8_khz() -> None:
    pcm = tone(300, 8000, 0.02)
    decoder = decoder_for(Encoding(L16, 8000))
    payload = pcm.astype(">i2").tobytes()
    assert decoder.ticks(payload) == 160
    np.testing.assert_array_equal(decoder.decode(payload), pcm)


def test_l16_44_1_khz_is_resampled_across_packets_without_clicks() -> None:
    decoder = decoder_for(Encoding(L16, 44100, 1))
    source = tone(1000, 44100, 0.5)
    packets = [source[i : i + 882] for i in range(0, len(source), 882)]  # 20 ms each
    out = np.concatenate([decoder.decode(p.astype(">i2").tobytes()) for p in packets])
    assert 4000 - 30 <= len(out) <= 4000  # less the 3 ms the linear-phase filter still holds
    reference = tone(1000, 8000, 0.5).astype(float)[: len(out)]
    steady = slice(400, 3900)  # after the filter's start-up
    spectrum = np.abs(np.fft.rfft(out[steady].astype(float) * np.hanning(3500)))
    assert abs(np.argmax(spectrum) * 8000 / 3500 - 1000) < 5
    assert np.max(np.abs(out[steady])) == pytest.approx(8000, rel=0.03)
    # no packet-boundary discontinuities, and in phase with the source (the filter's delay
    # is compensated): the resampled tone is the tone sampled at 8 kHz
    assert np.max(np.abs(out[steady] - reference[steady])) < 0.02 * 8000


def test_l16_stereo_is_averaged_to_mono() -> None:
    decoder = decoder_for(Encoding(L16, 8000, 2))
    left, right = tone(500, 8000, 0.02), np.zeros(160, np.int16)
    payload = np.stack([left, right], axis=1).astype(">i2").tobytes()
    assert decoder.ticks(payload) == 160
    np.testing.assert_allclose(decoder.decode(payload), left / 2, atol=1)


def test_l16_payload_of_partial_samples_is_malformed() -> None:
    decoder = decoder_for(Encoding(L16, 8000, 2))
    with pytest.raises(MalformedFrame, match="L16 payload of 6 bytes is not whole 4-byte"):
        decoder.ticks(bytes(6))
