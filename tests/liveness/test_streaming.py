"""StreamingLiveness: schedule, bounded window, calibration, against a recording detector."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pytest

from voiceauth.errors import ConfigError, EmbedderMismatch
from voiceauth.liveness.base import Countermeasure
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.liveness.streaming import StreamingLiveness
from voiceauth.scoring.calibration import Calibration

RATE = 8000


class RecordingCm:
    """A detector whose score is the mean sample value; it keeps every input it was given."""

    cm_id = "recording"
    version = "1"
    sample_rate = RATE
    min_samples = RATE // 2

    def __init__(self) -> None:
        self.inputs: list[npt.NDArray[np.float32]] = []

    def score(self, samples: npt.NDArray[np.float32]) -> float:
        self.inputs.append(samples.copy())
        return float(samples.mean())

    def score_batch(self, batch: Sequence[npt.NDArray[np.float32]]) -> list[float]:
        return [self.score(s) for s in batch]


def calibration(model: str = "recording@1") -> Calibration:
    return Calibration(
        model=model,
        features=(CM_SCORE_FEATURE,),
        weights=(2.0,),
        bias=-1.0,
        fitted_on="test",
        created="2026-11-23",
    )


def chunks(seconds: float, chunk_s: float = 0.25) -> list[npt.NDArray[np.float32]]:
    """Speech whose every sample holds its own time in seconds, in chunks."""
    n = round(seconds * RATE)
    ramp = (np.arange(n, dtype=np.float64) / RATE).astype(np.float32) / 100
    step = round(chunk_s * RATE)
    return [ramp[i : i + step] for i in range(0, n, step)]


def test_first_llr_at_3_s_then_every_2_s() -> None:
    cm = RecordingCm()
    assert isinstance(cm, Countermeasure)
    stream = StreamingLiveness(cm, calibration())
    emitted = []
    for chunk in chunks(10.0):
        llr = stream.add(chunk)
        if llr is not None:
            emitted.append((stream.net_speech_s, llr))
    assert [t for t, _ in emitted] == [3.0, 5.0, 7.0, 9.0]
    assert stream.net_speech_s == 10.0
    # calibrated: llr = 2 * score - 1, score = mean of the samples scored
    assert emitted[0][1] == pytest.approx(2 * cm.inputs[0].mean() - 1)
    assert stream.llr == emitted[-1][1]


def test_nothing_before_the_first_score() -> None:
    stream = StreamingLiveness(RecordingCm(), calibration())
    assert all(stream.add(c) is None for c in chunks(2.75))
    assert stream.llr is None
    assert stream.add(np.zeros(0, dtype=np.float32)) is None


def test_window_is_the_most_recent_speech_and_bounded() -> None:
    cm = RecordingCm()
    stream = StreamingLiveness(cm, calibration(), window_s=4.0)
    pieces = chunks(12.0, chunk_s=0.3)
    speech = np.concatenate(pieces)
    ends = []
    for chunk in pieces:
        if stream.add(chunk) is not None:
            ends.append(round(stream.net_speech_s * RATE))
    assert len(ends) == len(cm.inputs) >= 4
    for end, scored in zip(ends, cm.inputs, strict=True):
        np.testing.assert_array_equal(scored, speech[max(0, end - 4 * RATE) : end])
    assert len(cm.inputs[0]) == ends[0] < 4 * RATE  # the first score: all speech so far
    assert len(cm.inputs[-1]) == 4 * RATE


def test_one_long_chunk_gives_one_score_of_its_last_window() -> None:
    cm = RecordingCm()
    stream = StreamingLiveness(cm, calibration(), window_s=6.0)
    speech = np.concatenate(chunks(20.0))
    assert stream.add(speech) is not None
    assert len(cm.inputs) == 1
    np.testing.assert_array_equal(cm.inputs[0], speech[-6 * RATE :])
    assert stream.add(speech[:RATE]) is None  # 1 s of new speech: not yet due


def test_refuses_another_models_calibration_and_bad_schedules() -> None:
    with pytest.raises(EmbedderMismatch, match="other@2"):
        StreamingLiveness(RecordingCm(), calibration("other@2"))
    with pytest.raises(ConfigError, match="first_s <= window_s"):
        StreamingLiveness(RecordingCm(), calibration(), first_s=8.0, window_s=6.0)
    with pytest.raises(ConfigError, match="below what recording scores"):
        StreamingLiveness(RecordingCm(), calibration(), first_s=0.2)
