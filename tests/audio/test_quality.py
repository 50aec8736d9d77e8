from __future__ import annotations

import numpy as np
import pytest

from voiceauth.audio.io import Audio
from voiceauth.audio.pcm import pcm16_to_float
from voiceauth.audio.quality import SNR_RANGE_DB, measure_quality
from voiceauth.audio.vad import SileroVad, speech_seconds


def _with_noise(samples: np.ndarray, snr_db: float, seed: int = 3) -> np.ndarray:
    """Add white noise at snr_db relative to the recording's mean power."""
    noise = np.random.default_rng(seed).standard_normal(len(samples))
    noise *= np.sqrt(np.mean(samples.astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    return (samples + noise).astype(np.float32)


def test_clean_speech_has_higher_snr_than_speech_in_noise(
    vad: SileroVad, speech_16k: Audio
) -> None:
    segments = vad.segments(speech_16k.samples, 16000)
    clean = measure_quality(speech_16k.samples, 16000, segments)
    noisy = measure_quality(_with_noise(speech_16k.samples, 0.0), 16000, segments)
    assert clean.snr_db > 20.0  # a LibriSpeech "clean" recording
    assert -5.0 < noisy.snr_db < 8.0  # 0 dB over the file: speech frames a little above
    assert clean.net_speech_s == noisy.net_speech_s == speech_seconds(segments, 16000)
    assert clean.clipping_ratio == 0.0


def test_snr_falls_back_to_a_noise_floor_without_pauses(speech_16k: Audio) -> None:
    everything = [(0, len(speech_16k.samples))]  # no non-speech frame at all
    clean = measure_quality(speech_16k.samples, 16000, everything)
    noisy = measure_quality(_with_noise(speech_16k.samples, 0.0), 16000, everything)
    assert clean.snr_db > noisy.snr_db + 15.0
    assert SNR_RANGE_DB[0] <= noisy.snr_db <= SNR_RANGE_DB[1]


def test_digital_silence_between_words_gives_the_upper_clamp() -> None:
    rate = 8000
    samples = np.zeros(2 * rate, dtype=np.float32)
    t = np.arange(rate // 2) / rate
    samples[rate // 2 : rate] = 0.3 * np.sin(2 * np.pi * 200 * t)
    quality = measure_quality(samples, rate, [(rate // 2, rate)])
    assert quality.snr_db == SNR_RANGE_DB[1]
    assert quality.net_speech_s == 0.5


def test_no_speech_gives_the_lower_clamp() -> None:
    noise = 0.1 * np.random.default_rng(0).standard_normal(16000).astype(np.float32)
    quality = measure_quality(noise, 16000, [])
    assert quality.snr_db == SNR_RANGE_DB[0]
    assert quality.net_speech_s == 0.0


def test_clipping_ratio_of_an_overdriven_sine() -> None:
    rate = 16000
    t = np.arange(rate) / rate
    clipped = np.clip(2.0 * np.sin(2 * np.pi * 100 * t), -1.0, 1.0).astype(np.float32)
    # |2 sin| >= 0.999 for all but the part of each cycle where |sin| < 0.4995:
    expected = 1 - (2 / np.pi) * np.arcsin(0.999 / 2)
    quality = measure_quality(clipped, rate, [(0, rate)])
    assert quality.clipping_ratio == pytest.approx(expected, abs=0.005)


def test_int16_full_scale_counts_as_clipped_and_just_below_does_not() -> None:
    full = pcm16_to_float(np.array([32767, -32768, 32700, 0], dtype=np.int16))
    assert measure_quality(full, 8000, []).clipping_ratio == 0.5
