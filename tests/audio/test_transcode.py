"""Real codecs (ffmpeg) keep speech recognisable as speech and change its waveform."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from voiceauth.audio.io import Audio
from voiceauth.audio.resample import resample
from voiceauth.audio.transcode import LEG_CODECS, RATE, transcode
from voiceauth.errors import ConfigError


def log_spectrum(samples: np.ndarray) -> np.ndarray:
    """Long-term average spectrum in dB over 300-3400 Hz."""
    freqs, power = welch(samples, fs=RATE, nperseg=256)
    band = (freqs >= 300) & (freqs <= 3400)
    return np.asarray(10 * np.log10(power[band] + 1e-12))


@pytest.mark.parametrize("codec", sorted(LEG_CODECS))
def test_a_codec_keeps_the_spectrum_not_the_samples(speech_16k: Audio, codec: str) -> None:
    speech = resample(speech_16k.samples[: 3 * speech_16k.sample_rate], 16_000, RATE)
    coded = transcode(speech, codec)
    assert coded.dtype == np.float32 and coded.shape == speech.shape
    assert np.isfinite(coded).all() and np.abs(coded).max() > 0.05
    assert np.corrcoef(log_spectrum(speech), log_spectrum(coded))[0, 1] > 0.9
    noise = np.sum((coded - speech) ** 2)
    assert 10 * np.log10(np.sum(speech**2) / noise) < 20  # lossy: not the input back


def test_an_unknown_codec_is_named() -> None:
    with pytest.raises(ConfigError, match="unknown leg codec 'amr'.*gsm"):
        transcode(np.zeros(RATE, dtype=np.float32), "amr")
