from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from voiceauth.audio.io import Audio
from voiceauth.audio.resample import resample
from voiceauth.audio.vad import SileroVad, net_speech, speech_seconds
from voiceauth.errors import AudioFormatError, ConfigError


def _check_sorted_within(segments: list[tuple[int, int]], length: int) -> None:
    bounds = [edge for segment in segments for edge in segment]
    assert bounds == sorted(bounds)
    assert all(0 <= start < end <= length for start, end in segments)


def test_finds_speech_in_read_speech_at_16k(vad: SileroVad, speech_16k: Audio) -> None:
    segments = vad.segments(speech_16k.samples, 16000)
    _check_sorted_within(segments, len(speech_16k.samples))
    seconds = speech_seconds(segments, 16000)
    assert 0.6 * speech_16k.duration_s < seconds < 0.97 * speech_16k.duration_s


def test_finds_the_same_speech_at_8k(vad: SileroVad, speech_16k: Audio) -> None:
    wide = speech_seconds(vad.segments(speech_16k.samples, 16000), 16000)
    narrow_samples = resample(speech_16k.samples, 16000, 8000)
    segments = vad.segments(narrow_samples, 8000)
    _check_sorted_within(segments, len(narrow_samples))
    assert speech_seconds(segments, 8000) == pytest.approx(wide, rel=0.1)


def test_finds_a_spoken_digit_at_8k(vad: SileroVad, digit_8k: Audio) -> None:
    assert speech_seconds(vad.segments(digit_8k.samples, 8000), 8000) > 0.15


@pytest.mark.parametrize("rate", [8000, 16000])
def test_no_speech_in_digital_silence(vad: SileroVad, rate: int) -> None:
    assert vad.segments(np.zeros(3 * rate, dtype=np.float32), rate) == []


@pytest.mark.parametrize("rate", [8000, 16000])
def test_no_speech_in_low_white_noise(vad: SileroVad, rate: int) -> None:
    noise = 0.01 * np.random.default_rng(7).standard_normal(3 * rate)  # -40 dBFS
    assert vad.segments(noise.astype(np.float32), rate) == []


def test_empty_input_has_no_segments(vad: SileroVad) -> None:
    assert vad.segments(np.zeros(0, dtype=np.float32), 16000) == []


def test_other_rates_must_be_resampled_first(vad: SileroVad) -> None:
    with pytest.raises(AudioFormatError, match="8000 or 16000 Hz, got 44100 Hz: resample first"):
        vad.segments(np.zeros(44100, dtype=np.float32), 44100)


def test_options_are_validated() -> None:
    with pytest.raises(ConfigError, match=r"threshold must be in \(0, 1\), got 1.5"):
        SileroVad(threshold=1.5)
    with pytest.raises(ConfigError, match="min_silence_ms must be >= 0, got -1"):
        SileroVad(min_silence_ms=-1)


def test_stricter_options_keep_less_speech(vad: SileroVad, speech_16k: Audio) -> None:
    strict = SileroVad(threshold=0.9, speech_pad_ms=0)
    default_s = speech_seconds(vad.segments(speech_16k.samples, 16000), 16000)
    strict_s = speech_seconds(strict.segments(speech_16k.samples, 16000), 16000)
    assert strict_s < default_s


def test_building_a_vad_leaves_torch_threads_alone() -> None:
    # Importing silero_vad sets torch's process-wide thread count to 1; SileroVad restores it.
    # A fresh interpreter is needed: the package only does this on its first import.
    code = (
        "import torch; torch.set_num_threads(2); "
        "from voiceauth.audio.vad import SileroVad; SileroVad(); print(torch.get_num_threads())"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert result.stdout.strip() == "2"


def test_net_speech_concatenates_segments() -> None:
    samples = np.arange(10, dtype=np.float32)
    speech = net_speech(samples, [(1, 3), (6, 9)])
    assert speech.dtype == np.float32
    assert speech.tolist() == [1.0, 2.0, 6.0, 7.0, 8.0]
    assert net_speech(samples, []).shape == (0,)


def test_net_speech_refuses_segments_beyond_the_samples() -> None:
    with pytest.raises(ValueError, match=r"segment \[8, 12\) lies outside 10 samples"):
        net_speech(np.zeros(10, dtype=np.float32), [(8, 12)])


def test_speech_seconds() -> None:
    assert speech_seconds([(0, 8000), (16000, 20000)], 8000) == 1.5
    assert speech_seconds([], 16000) == 0.0
