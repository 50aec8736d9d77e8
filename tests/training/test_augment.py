"""Training augmentations: exact output length, band limit, SNR, speed, noise colour."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import welch

from voiceauth.training.augment import (
    Augmenter,
    add_noise,
    change_speed,
    pink_noise,
    through_telephone,
)
from voiceauth.training.config import AugmentConfig

RATE = 16000


def tone_mix(seconds: float = 1.0) -> np.ndarray:
    """A 500 Hz plus 6 kHz tone: one inside the telephone band, one far above it."""
    t = np.arange(int(seconds * RATE)) / RATE
    return (0.3 * np.sin(2 * np.pi * 500 * t) + 0.3 * np.sin(2 * np.pi * 6000 * t)).astype(
        np.float32
    )


def band_power(samples: np.ndarray, low: float, high: float) -> float:
    freqs, power = welch(samples, fs=RATE, nperseg=1024)
    return float(power[(freqs >= low) & (freqs < high)].sum())


def test_every_augmentation_returns_exactly_one_crop() -> None:
    config = AugmentConfig(telephony_prob=1.0, noise_prob=1.0, speed_prob=1.0)
    rng = np.random.default_rng(0)
    augmenter = Augmenter(config, sample_rate=RATE, crop_samples=RATE, rng=rng)
    assert augmenter.source_samples == int(np.ceil(RATE * 1.1))
    for _ in range(6):
        out = augmenter(rng.standard_normal(augmenter.source_samples).astype(np.float32) * 0.1)
        assert out.shape == (RATE,)
        assert out.dtype == np.float32
        assert np.isfinite(out).all()


def test_no_augmentation_is_a_plain_cut() -> None:
    config = AugmentConfig(telephony_prob=0.0, noise_prob=0.0, speed_prob=0.0)
    augmenter = Augmenter(config, sample_rate=RATE, crop_samples=100, rng=np.random.default_rng(0))
    source = np.arange(augmenter.source_samples, dtype=np.float32)
    np.testing.assert_array_equal(augmenter(source), source[:100])


def test_telephone_removes_the_wideband_half() -> None:
    clean = tone_mix()
    line = through_telephone(
        clean, RATE, codec="alaw", packet_loss=0.0, rng=np.random.default_rng(0)
    )
    assert len(line) == len(clean)
    assert band_power(line, 4500, 8000) < 1e-4 * band_power(clean, 4500, 8000)
    assert band_power(line, 300, 1000) > 0.5 * band_power(clean, 300, 1000)


@pytest.mark.parametrize("colour", ["white", "pink"])
def test_noise_is_added_at_the_requested_snr(colour: str) -> None:
    clean = tone_mix(2.0)
    noisy = add_noise(clean, snr_db=10.0, colour=colour, rng=np.random.default_rng(1))
    noise = noisy - clean
    snr = 10 * np.log10(np.mean(clean**2) / np.mean(noise**2))
    assert snr == pytest.approx(10.0, abs=0.01)


def test_pink_noise_falls_3_db_per_octave() -> None:
    noise = pink_noise(RATE * 8, np.random.default_rng(2))
    ratio_db = 10 * np.log10(band_power(noise, 500, 1000) / band_power(noise, 1000, 2000))
    assert ratio_db == pytest.approx(0.0, abs=0.5)  # equal power per octave: 1/f
    white = np.random.default_rng(3).standard_normal(RATE * 8)
    white_db = 10 * np.log10(band_power(white, 500, 1000) / band_power(white, 1000, 2000))
    assert white_db == pytest.approx(-3.0, abs=0.5)  # white: twice the power per octave up


def test_speed_changes_duration_and_pitch() -> None:
    t = np.arange(RATE) / RATE
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    faster = change_speed(tone, 1.1, RATE)
    assert len(faster) == pytest.approx(RATE / 1.1, abs=2)
    freqs, power = welch(faster, fs=RATE, nperseg=4096)
    assert freqs[np.argmax(power)] == pytest.approx(1100, abs=10)
    assert change_speed(tone, 1.0, RATE) is tone
