"""Griffin-Lim copy-synthesis keeps the magnitude spectrogram and replaces the waveform."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy.signal import stft

from voiceauth.audio.io import Audio, load_audio
from voiceauth.liveness.copysynth import GriffinLim, copy_synthesise


@pytest.fixture(scope="module")
def speech(shared_data: Path) -> Audio:
    audio = load_audio(shared_data / "autovc_vctk_samples" / "p226" / "p226_003.wav")
    return Audio(audio.samples[: 3 * audio.sample_rate], audio.sample_rate)


def spectral_distance(a: np.ndarray, b: np.ndarray, rate: int) -> float:
    """Spectral convergence: ||S_a| - |S_b|| / ||S_a|| over a 512-point STFT."""
    sa = np.abs(stft(a, fs=rate, nperseg=512)[2])
    sb = np.abs(stft(b, fs=rate, nperseg=512)[2])
    return float(np.linalg.norm(sa - sb) / np.linalg.norm(sa))


@pytest.mark.parametrize("vocoder", [GriffinLim(), GriffinLim(n_mels=None, iterations=8)])
def test_copy_keeps_the_spectrogram_not_the_waveform(speech: Audio, vocoder: GriffinLim) -> None:
    copy = copy_synthesise(speech, vocoder, seed=0)
    assert copy.sample_rate == speech.sample_rate and len(copy.samples) == len(speech.samples)
    assert spectral_distance(speech.samples, copy.samples, speech.sample_rate) < 0.6
    assert abs(np.corrcoef(speech.samples, copy.samples)[0, 1]) < 0.5
    noise = np.random.default_rng(0).permutation(speech.samples)
    assert spectral_distance(speech.samples, noise, speech.sample_rate) > 0.9


def test_attack_ids_name_the_vocoder() -> None:
    assert GriffinLim().attack == "griffinlim_mel80_32it_copysynth"
    assert GriffinLim(n_mels=None, iterations=8).attack == "griffinlim_linear_8it_copysynth"
