"""The LCNN shipped in models/liveness/lcnn: loads strictly, is calibrated, and tells real
callers from clones of speakers it never met."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.audio.channel import telephone_channel
from voiceauth.audio.io import load_audio
from voiceauth.data.manifest import read_manifest
from voiceauth.errors import EmbedderMismatch, ModelNotFound
from voiceauth.liveness.base import (
    CALIBRATION_FILE,
    Countermeasure,
    create_countermeasure,
    default_countermeasure_dir,
    load_countermeasure_calibration,
)
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.liveness.lcnn import WEIGHTS_FILE, load_lcnn, save_lcnn
from voiceauth.scoring.metrics import eer

MAX_SECONDS = 6.0


@pytest.fixture(scope="module")
def shipped(one_thread: None) -> Countermeasure:
    return create_countermeasure("lcnn", weights_dir=default_countermeasure_dir(name="lcnn"))


def test_the_default_folder_is_the_repository_model(shipped: Countermeasure) -> None:
    folder = default_countermeasure_dir(name="lcnn")
    assert folder == Path(__file__).resolve().parents[2] / "models" / "liveness" / "lcnn"
    digest = hashlib.sha256((folder / WEIGHTS_FILE).read_bytes()).hexdigest()
    assert shipped.version == digest[:12]
    assert (folder / WEIGHTS_FILE).stat().st_size < 1_000_000
    with pytest.raises(ModelNotFound, match="no shipped countermeasure"):
        default_countermeasure_dir(folder, name="lcnn")


def test_the_calibration_belongs_to_these_weights(shipped: Countermeasure, tmp_path: Path) -> None:
    folder = default_countermeasure_dir(name="lcnn")
    calibration = load_countermeasure_calibration(shipped, folder)
    assert calibration.features == (CM_SCORE_FEATURE,) and calibration.weights[0] > 0
    retrained = load_lcnn(folder)
    with torch.no_grad():
        retrained.out.bias += 0.1
    save_lcnn(retrained, tmp_path)
    (tmp_path / CALIBRATION_FILE).write_bytes((folder / CALIBRATION_FILE).read_bytes())
    other = create_countermeasure("lcnn", weights_dir=tmp_path)
    assert other.version != shipped.version
    with pytest.raises(EmbedderMismatch):
        load_countermeasure_calibration(other, tmp_path)


def test_genuine_callers_score_above_clones_of_unseen_speakers(
    shipped: Countermeasure, shared_data: Path
) -> None:
    rows = read_manifest(default_countermeasure_dir(name="lcnn") / "heldout.csv")
    assert {r.label for r in rows} == {"bonafide", "spoof"} and len(rows) >= 10
    scores: dict[str, list[float]] = {"bonafide": [], "spoof": []}
    for row in rows:
        assert row.path.resolve().is_relative_to(shared_data)
        call = telephone_channel(load_audio(row.path)).samples[: round(MAX_SECONDS * 8000)]
        scores[row.label].append(shipped.score(call))
    assert np.median(scores["bonafide"]) > np.median(scores["spoof"])
    assert eer(scores["bonafide"], scores["spoof"]) < 0.35
