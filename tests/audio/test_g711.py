"""G.711 against Python 3.11's `audioop` (C code from Sun's g711.c) and hand-worked codes.

A-law and both decoders are compared for every input. For µ-law encoding, voiceauth follows the
ITU-T G.191 reference, which treats a negative sample by its one's complement; audioop negates
instead, so negative inputs are checked through that documented symmetry.
"""

from __future__ import annotations

import warnings
from types import ModuleType

import numpy as np
import numpy.typing as npt
import pytest

from voiceauth.audio.g711 import alaw_decode, alaw_encode, mulaw_decode, mulaw_encode
from voiceauth.audio.io import Audio
from voiceauth.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceauth.errors import AudioFormatError

ALL_PCM16 = np.arange(-32768, 32768).astype(np.int16)
ALL_CODES = np.arange(256).astype(np.uint8)


@pytest.fixture(scope="module")
def audioop() -> ModuleType:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # removed in 3.13 (PEP 594)
        import audioop

    return audioop


def _codes(data: bytes) -> npt.NDArray[np.uint8]:
    return np.frombuffer(data, dtype=np.uint8)


def _pcm(data: bytes) -> npt.NDArray[np.int16]:
    return np.frombuffer(data, dtype="<i2").astype(np.int16)


def test_alaw_encode_matches_audioop_for_every_int16(audioop: ModuleType) -> None:
    expected = _codes(audioop.lin2alaw(ALL_PCM16.astype("<i2").tobytes(), 2))
    np.testing.assert_array_equal(alaw_encode(ALL_PCM16), expected)


def test_mulaw_encode_matches_audioop_for_every_non_negative_int16(audioop: ModuleType) -> None:
    positive = ALL_PCM16[ALL_PCM16 >= 0]
    expected = _codes(audioop.lin2ulaw(positive.astype("<i2").tobytes(), 2))
    np.testing.assert_array_equal(mulaw_encode(positive), expected)


def test_mulaw_encode_of_negative_is_its_ones_complement_with_sign_bit_cleared(
    audioop: ModuleType,
) -> None:
    negative = ALL_PCM16[ALL_PCM16 < 0]
    complement = ~negative  # -x - 1, in 0..32767: G.191's magnitude for a negative sample
    expected = _codes(audioop.lin2ulaw(complement.astype("<i2").tobytes(), 2)) & 0x7F
    np.testing.assert_array_equal(mulaw_encode(negative), expected)


def test_mulaw_differs_from_audioop_only_by_one_step_on_508_negative_inputs(
    audioop: ModuleType,
) -> None:
    ours = mulaw_encode(ALL_PCM16).astype(np.int32)
    theirs = _codes(audioop.lin2ulaw(ALL_PCM16.astype("<i2").tobytes(), 2)).astype(np.int32)
    differs = ours != theirs
    assert np.count_nonzero(differs) == 508
    assert ALL_PCM16[differs].max() < 0
    np.testing.assert_array_equal(ours[differs] - theirs[differs], 1)


def test_decoders_match_audioop_for_every_code(audioop: ModuleType) -> None:
    codes = ALL_CODES.tobytes()
    np.testing.assert_array_equal(mulaw_decode(ALL_CODES), _pcm(audioop.ulaw2lin(codes, 2)))
    np.testing.assert_array_equal(alaw_decode(ALL_CODES), _pcm(audioop.alaw2lin(codes, 2)))


def test_hand_worked_codes() -> None:
    # 1000 >> 2 = 250, +33 = 283: segment 3, step (283 >> 4) & 15 = 1 -> ~0x31 | sign = 0xCE.
    # 1000 >> 4 = 62: segment 2, step (62 >> 1) & 15 = 15 -> 0xAF ^ 0x55 = 0xFA.
    pcm = np.array([0, -1, 1000, 32767, -32768], dtype=np.int16)
    assert mulaw_encode(pcm).tolist() == [0xFF, 0x7F, 0xCE, 0x80, 0x00]
    assert alaw_encode(pcm).tolist() == [0xD5, 0x55, 0xFA, 0xAA, 0x2A]
    codes = np.array([0xFF, 0xCE, 0x80, 0x00], dtype=np.uint8)
    assert mulaw_decode(codes).tolist() == [0, 988, 32124, -32124]
    codes = np.array([0xD5, 0x55, 0xFA, 0xAA, 0x2A], dtype=np.uint8)
    assert alaw_decode(codes).tolist() == [8, -8, 1008, 32256, -32256]


def test_decoded_levels_encode_back_to_their_code() -> None:
    mulaw = ALL_CODES[ALL_CODES != 0x7F]  # "negative zero" decodes to 0, which encodes as 0xFF
    np.testing.assert_array_equal(mulaw_encode(mulaw_decode(mulaw)), mulaw)
    np.testing.assert_array_equal(alaw_encode(alaw_decode(ALL_CODES)), ALL_CODES)


def test_round_trip_error_is_within_half_a_step() -> None:
    # Below saturation, decoding returns the middle of the input's quantisation interval, so the
    # error is at most half a step: 4 << segment for µ-law, 8 << max(segment - 1, 0) for A-law.
    unsaturated = ALL_PCM16[np.abs(ALL_PCM16.astype(np.int32)) <= 32000]
    linear = unsaturated.astype(np.int32)
    mulaw = mulaw_encode(unsaturated)
    mulaw_half_step = 4 << ((~mulaw.astype(np.int32) >> 4) & 7)
    assert np.all(np.abs(mulaw_decode(mulaw) - linear) <= mulaw_half_step)
    alaw = alaw_encode(unsaturated)
    alaw_segment = ((alaw.astype(np.int32) ^ 0x55) >> 4) & 7
    alaw_half_step = 8 << np.maximum(alaw_segment - 1, 0)
    assert np.all(np.abs(alaw_decode(alaw) - linear) <= alaw_half_step)
    loud = np.abs(linear) > 200  # logarithmic region: error within about 4 % of the level
    assert np.all(np.abs(mulaw_decode(mulaw) - linear)[loud] <= 0.045 * np.abs(linear[loud]))


def test_speech_survives_companding_with_telephone_quality_snr(speech_16k: Audio) -> None:
    pcm = float_to_pcm16(speech_16k.samples)
    for decoded in (mulaw_decode(mulaw_encode(pcm)), alaw_decode(alaw_encode(pcm))):
        error = pcm16_to_float(decoded) - pcm16_to_float(pcm)
        snr_db = 10 * np.log10(np.sum(speech_16k.samples**2) / np.sum(error**2))
        assert 30.0 < snr_db < 45.0  # G.711 gives about 38 dB on speech at normal levels


def test_codecs_refuse_the_wrong_dtype() -> None:
    with pytest.raises(AudioFormatError, match="16-bit linear PCM: got float32"):
        mulaw_encode(np.zeros(4, dtype=np.float32))
    with pytest.raises(AudioFormatError, match="expected uint8 codes, got int16"):
        alaw_decode(np.zeros(4, dtype=np.int16))
