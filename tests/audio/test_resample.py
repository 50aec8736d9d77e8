from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.io import Audio
from voiceauth.audio.resample import resample, to_rate
from voiceauth.errors import AudioFormatError


def _tone(frequency: float, rate: int, seconds: float = 1.0) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.5 * np.sin(2 * np.pi * frequency * t)).astype(np.float32)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


@pytest.mark.parametrize(
    ("from_rate", "to_rate_hz"), [(16000, 8000), (8000, 16000), (44100, 16000), (48000, 8000)]
)
def test_tone_keeps_frequency_length_and_level(from_rate: int, to_rate_hz: int) -> None:
    tone = _tone(1000.0, from_rate)
    result = resample(tone, from_rate, to_rate_hz)
    assert result.dtype == np.float32
    assert len(result) == to_rate_hz  # one second stays one second
    assert _peak_hz(result, to_rate_hz) == pytest.approx(1000.0, abs=1.0)
    middle = result[len(result) // 4 : -len(result) // 4]  # away from the filter's edges
    assert np.sqrt(np.mean(middle**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)


def test_downsampling_removes_what_the_new_rate_cannot_hold() -> None:
    result = resample(_tone(6000.0, 16000), 16000, 8000)  # above the 4 kHz Nyquist limit
    assert np.sqrt(np.mean(result**2)) < 0.01


def test_equal_rates_are_the_identity() -> None:
    tone = _tone(440.0, 16000)
    assert resample(tone, 16000, 16000) is tone
    np.testing.assert_array_equal(resample(tone.astype(np.float64), 16000, 16000), tone)


def test_to_rate() -> None:
    audio = Audio(_tone(440.0, 16000, 0.5), 16000)
    assert to_rate(audio, 16000) is audio
    narrow = to_rate(audio, 8000)
    assert narrow.sample_rate == 8000
    assert narrow.duration_s == pytest.approx(0.5)


def test_rates_must_be_positive() -> None:
    with pytest.raises(AudioFormatError, match="sample rates must be positive, got 0 -> 8000 Hz"):
        resample(np.zeros(8, dtype=np.float32), 0, 8000)
