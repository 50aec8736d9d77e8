from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.pcm import float_to_pcm16, pcm16_to_float
from voiceauth.errors import AudioFormatError


def test_float_to_pcm16_clips_and_rounds_to_nearest() -> None:
    x = np.array([-2.0, -1.0, -0.5, 0.0, 0.4 / 32768, 0.6 / 32768, 1.0, 3.0], dtype=np.float32)
    expected = np.array([-32768, -32768, -16384, 0, 0, 1, 32767, 32767], dtype=np.int16)
    result = float_to_pcm16(x)
    assert result.dtype == np.int16
    np.testing.assert_array_equal(result, expected)


def test_every_int16_round_trips_exactly_through_float() -> None:
    pcm = np.arange(-32768, 32768).astype(np.int16)
    samples = pcm16_to_float(pcm)
    assert samples.dtype == np.float32
    assert samples.min() == -1.0
    assert samples.max() < 1.0
    np.testing.assert_array_equal(float_to_pcm16(samples), pcm)


def test_float_to_pcm16_refuses_nan() -> None:
    with pytest.raises(AudioFormatError, match="non-finite"):
        float_to_pcm16(np.array([0.1, np.nan], dtype=np.float32))


def test_conversions_refuse_the_wrong_dtype() -> None:
    with pytest.raises(AudioFormatError, match="expects float samples, got int16"):
        float_to_pcm16(np.zeros(3, dtype=np.int16))
    with pytest.raises(AudioFormatError, match="expects int16 samples, got float32"):
        pcm16_to_float(np.zeros(3, dtype=np.float32))
