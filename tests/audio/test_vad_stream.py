"""Batched streaming VAD: the same speech as Silero's offline segmentation, call by call."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from voiceauth.audio.io import load_audio
from voiceauth.audio.resample import resample
from voiceauth.audio.vad import SileroVad, speech_seconds
from voiceauth.audio.vad_stream import WINDOW, BatchedVad
from voiceauth.errors import AudioFormatError, ConfigError


@pytest.fixture(scope="module")
def batched() -> BatchedVad:
    return BatchedVad()


@pytest.fixture(scope="module")
def speech_8k(shared_data: Path) -> np.ndarray:
    audio = load_audio(shared_data / "autovc_vctk_samples" / "p225" / "p225_003.wav")
    narrow = resample(audio.samples, audio.sample_rate, 8000)
    pause = np.zeros(8000, np.float32)
    return np.concatenate([pause, narrow, pause])


def stream_through(vad: BatchedVad, signals: list[np.ndarray], frame: int) -> list[float]:
    streams = [vad.new_stream() for _ in signals]
    found = [0] * len(signals)
    for start in range(0, max(map(len, signals)), frame):
        for stream, signal in zip(streams, signals, strict=True):
            stream.push(signal[start : start + frame])
        for i, speech in enumerate(vad.step(streams)):
            found[i] += len(speech)
    return [n / 8000 for n in found]


def test_finds_as_much_speech_as_offline_silero(
    batched: BatchedVad, speech_8k: np.ndarray, vad: SileroVad
) -> None:
    offline = speech_seconds(vad.segments(speech_8k, 8000), 8000)
    (online,) = stream_through(batched, [speech_8k], frame=800)
    assert online == pytest.approx(offline, abs=0.5)
    assert online < len(speech_8k) / 8000 - 1.5  # the pauses are not speech


def test_calls_in_one_batch_do_not_disturb_each_other(
    batched: BatchedVad, speech_8k: np.ndarray
) -> None:
    silence = np.zeros_like(speech_8k)
    alone = stream_through(batched, [speech_8k], frame=480)
    together = stream_through(batched, [speech_8k, silence, speech_8k[: len(speech_8k) // 2]], 480)
    assert together[0] == pytest.approx(alone[0], abs=2 * WINDOW / 8000)
    assert together[1] == 0.0
    assert 0 < together[2] < together[0]


def test_partial_windows_wait_and_bad_input_is_refused(batched: BatchedVad) -> None:
    stream = batched.new_stream()
    stream.push(np.zeros(WINDOW + 10, np.float32))
    batched.step([stream])
    assert len(stream.pending) == 10 and stream.windows == 1
    stream.push(np.full(WINDOW, np.nan, np.float32))
    with pytest.raises(AudioFormatError, match="NaN"):
        batched.step([stream])
    with pytest.raises(ConfigError):
        BatchedVad(threshold=0.1)
