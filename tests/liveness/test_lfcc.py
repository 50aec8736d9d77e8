"""LFCC front end: linear triangles, frame counts, a tone lands in its filter."""

from __future__ import annotations

import numpy as np
import pytest

from voiceauth.errors import AudioFormatError
from voiceauth.liveness.lfcc import LfccConfig, lfcc, linear_filterbank, utterance_stats


def test_filterbank_triangles_are_linear_and_cover_the_band() -> None:
    config = LfccConfig()
    bank = linear_filterbank(config)
    assert bank.shape == (20, 129)
    peaks = bank.argmax(axis=1)
    assert np.allclose(np.diff(peaks), np.diff(peaks)[0], atol=1)  # equal spacing
    inner = bank.sum(axis=0)[peaks[0] : peaks[-1] + 1]
    assert np.allclose(inner, 1.0, atol=0.05)  # neighbouring triangles sum to one


def test_frames_and_dimensions() -> None:
    config = LfccConfig()
    samples = np.random.default_rng(0).normal(0, 0.1, 8000).astype(np.float32)
    features = lfcc(samples, config)
    assert features.shape == (1 + (8000 - 160) // 80, 60)
    assert utterance_stats(samples, config).shape == (config.dimension,)


def test_a_tone_raises_the_energy_of_its_filter() -> None:
    config = LfccConfig(pre_emphasis=0.0)
    t = np.arange(8000) / 8000
    low = np.sin(2 * np.pi * 500 * t).astype(np.float32)
    high = np.sin(2 * np.pi * 3000 * t).astype(np.float32)
    # c1 (the spectral tilt) is positive when energy sits low and negative when it sits high
    assert lfcc(low, config)[:, 1].mean() > 0 > lfcc(high, config)[:, 1].mean()


def test_too_short_audio_is_named() -> None:
    with pytest.raises(AudioFormatError, match="too short for LFCC: 100 samples"):
        lfcc(np.zeros(100, dtype=np.float32), LfccConfig())
