"""Streaming 16 kHz -> 8 kHz decimation: chunking-invariant, band-limited, close to scipy's."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import resample_poly

from voiceauth.audio.io import load_audio
from voiceauth.audio.pcm import float_to_pcm16
from voiceauth.errors import AudioFormatError
from voiceauth.transports.ws.decimate import TAPS, Decimator

SPEECH = "autovc_vctk_samples/p225/p225_003.wav"


def tone(hz: float, seconds: float = 0.5, rate: int = 16000) -> npt.NDArray[np.int16]:
    t = np.arange(int(seconds * rate)) / rate
    samples: npt.NDArray[np.int16] = np.rint(8000 * np.sin(2 * np.pi * hz * t)).astype(np.int16)
    return samples


def test_any_chunking_gives_the_same_samples() -> None:
    pcm = tone(440) + tone(3000) // 2
    whole = Decimator(2)(pcm)
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, len(pcm)), size=40, replace=False))
    decimator = Decimator(2)
    chunked = np.concatenate([decimator(chunk) for chunk in np.split(pcm, cuts)])
    np.testing.assert_array_equal(chunked, whole)
    assert len(whole) == len(pcm) // 2


def test_speech_band_passes_and_aliases_are_stopped() -> None:
    def level(pcm: np.ndarray) -> float:
        return float(np.sqrt(np.mean(pcm[TAPS:].astype(np.float64) ** 2)))

    passed, stopped = Decimator(2)(tone(1000)), Decimator(2)(tone(6000))
    assert level(passed) == pytest.approx(level(tone(1000)), rel=0.02)
    assert 20 * np.log10(level(stopped) / level(tone(6000))) < -50  # would alias to 2 kHz


def test_real_speech_matches_an_offline_resampler(shared_data: Path) -> None:
    speech = float_to_pcm16(load_audio(shared_data / SPEECH).samples)
    ours = Decimator(2)(speech).astype(np.float64)
    reference = resample_poly(speech.astype(np.float64), 1, 2)
    delay = (TAPS - 1) // 2 // 2  # the causal FIR's group delay, in output samples
    ours, reference = ours[delay:], reference[: len(ours) - delay]
    correlation = np.corrcoef(ours, reference)[0, 1]
    assert correlation > 0.99


def test_factor_one_is_the_identity_and_zero_is_refused() -> None:
    pcm = tone(440, rate=8000)
    assert Decimator(1)(pcm) is pcm
    with pytest.raises(AudioFormatError, match="positive integer, got 0"):
        Decimator(0)
