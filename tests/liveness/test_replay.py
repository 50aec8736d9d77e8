"""Simulated replay: the loudspeaker, room and re-recording change the spectrum as intended."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import welch

from voiceauth.audio.io import Audio, load_audio
from voiceauth.liveness.replay import (
    Loudspeaker,
    Replay,
    Room,
    loudspeaker_response,
    random_replay,
    replay,
    room_impulse_response,
)

RATE = 16000


def level_db(samples: np.ndarray, rate: int, low: float, high: float) -> float:
    """Mean power spectral density (dB) between low and high Hz."""
    freqs, psd = welch(samples, fs=rate, nperseg=1024)
    band = (freqs >= low) & (freqs <= high)
    return float(10 * np.log10(psd[band].mean()))


@pytest.fixture(scope="module")
def speech(shared_data: Path) -> Audio:
    return load_audio(shared_data / "autovc_vctk_samples" / "p225" / "p225_003.wav")


def test_loudspeaker_cuts_the_bass_and_boosts_its_resonance() -> None:
    noise = np.random.default_rng(0).normal(0, 0.05, 4 * RATE).astype(np.float32)
    speaker = Loudspeaker(low_cut_hz=400.0, resonance_hz=2000.0, resonance_db=9.0, drive=0.1)
    out = loudspeaker_response(noise, RATE, speaker)

    def gain(low: float, high: float) -> float:
        return level_db(out, RATE, low, high) - level_db(noise, RATE, low, high)

    assert gain(50, 120) < gain(900, 1100) - 15.0  # 2nd order: ~12 dB per octave below 400 Hz
    assert gain(1900, 2100) - gain(900, 1100) == pytest.approx(9.0, abs=2.5)


def test_room_response_decays_by_60_db_in_rt60() -> None:
    rir = room_impulse_response(Room(rt60_s=0.5), RATE, np.random.default_rng(1))
    assert rir[0] == 1.0 and len(rir) == RATE // 2
    tail = rir[int(0.03 * RATE) :] ** 2
    early = tail[: int(0.05 * RATE)].mean()
    late = tail[-int(0.05 * RATE) :].mean()
    assert 10 * np.log10(early / late) == pytest.approx(60 * 0.42 / 0.5, abs=5.0)  # 0.42 s apart


def test_replayed_speech_loses_bass_and_gains_a_noise_floor(speech: Audio) -> None:
    setup = Replay(Loudspeaker(low_cut_hz=500.0), Room(rt60_s=0.6), snr_db=20.0)
    out = replay(speech, setup, np.random.default_rng(2))
    assert out.sample_rate == speech.sample_rate and len(out.samples) == len(speech.samples)
    assert np.max(np.abs(out.samples)) == pytest.approx(np.max(np.abs(speech.samples)), rel=1e-5)
    before, after = speech.samples, out.samples
    tilt_before = level_db(before, RATE, 80, 250) - level_db(before, RATE, 1000, 3000)
    tilt_after = level_db(after, RATE, 80, 250) - level_db(after, RATE, 1000, 3000)
    assert tilt_after < tilt_before - 8.0
    quiet = np.sort(np.abs(before))[: len(before) // 10].mean()
    assert np.sort(np.abs(after))[: len(after) // 10].mean() > 3 * quiet


def test_random_setups_differ_and_stay_in_range() -> None:
    rng = np.random.default_rng(3)
    setups = [random_replay(rng) for _ in range(20)]
    assert len({s.loudspeaker.low_cut_hz for s in setups}) == 20
    assert all(0.15 <= s.room.rt60_s <= 0.9 and 15 <= s.snr_db <= 40 for s in setups)
