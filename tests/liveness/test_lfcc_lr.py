"""LFCC-LR model files and the countermeasure built on them."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from voiceauth.errors import ConfigError, InsufficientSpeech, ModelNotFound
from voiceauth.liveness.base import Countermeasure, create_countermeasure
from voiceauth.liveness.lfcc import LfccConfig, utterance_stats
from voiceauth.liveness.lfcc_lr import LfccLrCountermeasure, LfccLrModel


def model(bias: float = 0.5) -> LfccLrModel:
    size = LfccConfig().dimension
    weights = tuple(0.01 * i for i in range(size))
    return LfccLrModel(LfccConfig(), (0.0,) * size, (2.0,) * size, weights, bias, "test", "2026")


def test_model_round_trips_through_json(tmp_path: Path) -> None:
    path = tmp_path / "lfcc-lr.json"
    model().save(path)
    assert LfccLrModel.load(path) == model()
    cm = create_countermeasure("lfcc-lr", weights_dir=tmp_path)
    assert isinstance(cm, Countermeasure) and (cm.cm_id, cm.sample_rate) == ("lfcc-lr", 8000)


def test_score_is_the_standardised_linear_log_odds() -> None:
    cm = LfccLrCountermeasure(model(), version="x")
    samples = np.random.default_rng(1).normal(0, 0.1, 16_000).astype(np.float32)
    stats = utterance_stats(samples, LfccConfig())
    expected = float(stats / 2.0 @ np.array(model().weights) + 0.5)
    assert cm.score(samples) == pytest.approx(expected)
    assert cm.score_batch([samples, samples]) == pytest.approx([expected] * 2)
    with pytest.raises(InsufficientSpeech):
        cm.score(samples[:3000])


def test_bad_model_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="train one with `voiceauth train-cm`"):
        LfccLrModel.load(tmp_path / "none.json")
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"lfcc": {}, "mean": [0.0]}))
    with pytest.raises(ConfigError, match="is not a lfcc-lr model"):
        LfccLrModel.load(broken)
    with pytest.raises(ConfigError, match="needs 120 means"):
        replace(model(), weights=(1.0,))
