"""Scoring through `WindowedCountermeasure` and the factory: policy, batching, named errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from voiceauth.audio.io import load_audio
from voiceauth.audio.resample import resample
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import AudioFormatError, ConfigError, InsufficientSpeech, ModelNotFound
from voiceauth.liveness.base import Countermeasure, create_countermeasure
from voiceauth.liveness.windowed import WindowedCountermeasure
from voiceauth.liveness.windows import repeat_to


class MeanNet(nn.Module):
    """Logits (0, mean of the window): the score of a window is its mean sample."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.zeros(len(x)), x.mean(dim=1)], dim=1)


def mean_cm(window: int = 100, min_samples: int = 10) -> WindowedCountermeasure:
    return WindowedCountermeasure(
        MeanNet(),
        cm_id="mean",
        version="0",
        sample_rate=8000,
        window=window,
        min_samples=min_samples,
        batch_size=2,
    )


def test_long_input_scores_the_mean_of_its_windows() -> None:
    samples = np.linspace(0, 1, 250, dtype=np.float32)
    expected = np.mean([samples[:100].mean(), samples[100:200].mean(), samples[150:].mean()])
    assert mean_cm().score(samples) == pytest.approx(expected, rel=1e-6)


def test_short_input_is_scored_on_its_repetition() -> None:
    samples = np.linspace(0, 1, 30, dtype=np.float32)
    assert mean_cm().score(samples) == pytest.approx(repeat_to(samples, 100).mean(), rel=1e-6)


def test_batch_equals_one_by_one_whatever_the_window_counts() -> None:
    cm = mean_cm()
    inputs = [
        np.random.default_rng(i).uniform(-1, 1, n).astype(np.float32)
        for i, n in enumerate((30, 250, 100, 401))
    ]
    assert cm.score_batch(inputs) == pytest.approx([cm.score(x) for x in inputs], rel=1e-6)
    assert cm.score_batch([]) == []


@pytest.mark.parametrize(
    ("samples", "error", "message"),
    [
        (np.zeros(0, dtype=np.float32), AudioFormatError, "empty audio"),
        (np.array([0.1, np.nan] * 20, dtype=np.float32), AudioFormatError, "non-finite audio"),
        (np.zeros((2, 50), dtype=np.float32), AudioFormatError, "expected mono"),
        (np.zeros(50, dtype=np.int16), AudioFormatError, "expected float"),
        (np.zeros(9, dtype=np.float32), InsufficientSpeech, "insufficient net speech"),
    ],
)
def test_bad_input_raises_a_named_error(
    samples: np.ndarray, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        mean_cm().score(samples)


def test_factory_refuses_unknown_names_and_missing_weights(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="choose one of aasist, aasist-l, lfcc-lr"):
        create_countermeasure("rawnet2", weights_dir=tmp_path)
    with pytest.raises(ModelNotFound, match="no weights directory given"):
        create_countermeasure("aasist")
    with pytest.raises(ModelNotFound, match="AASIST-L.pth"):
        create_countermeasure("aasist-l", weights_dir=tmp_path)


def test_aasist_l_scores_real_speech_deterministically(
    aasist_l: Countermeasure, shared_rows: list[ManifestRow]
) -> None:
    """A 2-4 s clip: one repeated window; the same score twice and through score_batch."""
    assert isinstance(aasist_l, Countermeasure)
    assert (aasist_l.cm_id, aasist_l.sample_rate) == ("aasist-l", 16_000)
    assert len(aasist_l.version) == 12 and aasist_l.min_samples == 8000
    row = next(r for r in shared_rows if r.dataset == "autovc_vctk_samples")
    audio = load_audio(row.path)
    samples = resample(audio.samples, audio.sample_rate, 16_000)[: 16_000 * 3]
    first = aasist_l.score(samples)
    assert isinstance(first, float) and np.isfinite(first)
    assert aasist_l.score(samples) == first
    assert aasist_l.score_batch([samples, samples]) == pytest.approx([first, first], abs=1e-4)
    with pytest.raises(InsufficientSpeech, match=r"0\.2 s < 0\.5 s"):
        aasist_l.score(samples[:3200])
