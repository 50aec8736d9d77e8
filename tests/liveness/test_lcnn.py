"""The LCNN countermeasure: strict loading, the factory, and training that learns."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from voiceauth.audio.channel import telephone_channel
from voiceauth.audio.io import load_audio
from voiceauth.data.manifest import ManifestRow
from voiceauth.errors import ConfigError, ModelIntegrityError, ModelNotFound
from voiceauth.liveness.base import Countermeasure, create_countermeasure
from voiceauth.liveness.cmtrain import LcnnTrainConfig, train_lcnn
from voiceauth.liveness.lcnn import (
    CONFIG_FILE,
    WEIGHTS_FILE,
    Lcnn,
    LcnnConfig,
    load_lcnn,
    save_lcnn,
)


def test_weights_round_trip_and_load_strictly(tmp_path: Path, one_thread: None) -> None:
    torch.manual_seed(0)
    net = Lcnn(LcnnConfig(channels=(8, 8, 16, 16)))
    save_lcnn(net, tmp_path)
    again = load_lcnn(tmp_path)
    x = torch.randn(2, 8000) * 0.1
    with torch.inference_mode():
        assert torch.equal(net.eval()(x), again(x))
    cm = create_countermeasure("lcnn", weights_dir=tmp_path)
    assert isinstance(cm, Countermeasure)
    assert (cm.cm_id, cm.sample_rate, len(cm.version)) == ("lcnn", 8000, 12)
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    config["channels"] = [8, 8, 16, 32]
    (tmp_path / CONFIG_FILE).write_text(json.dumps(config))
    with pytest.raises(ModelIntegrityError, match="wrong shapes"):
        load_lcnn(tmp_path)


def test_missing_or_foreign_files_are_named(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="LCNN config not found"):
        load_lcnn(tmp_path)
    (tmp_path / CONFIG_FILE).write_text(json.dumps({"kind": "other"}))
    with pytest.raises(ConfigError, match="is not a voiceauth.lcnn config"):
        load_lcnn(tmp_path)
    LcnnConfig().save(tmp_path / CONFIG_FILE)
    with pytest.raises(ModelNotFound, match=WEIGHTS_FILE):
        load_lcnn(tmp_path)


def test_a_few_training_steps_lower_the_loss_on_real_speech(
    shared_rows: list[ManifestRow], one_thread: None
) -> None:
    page = [r for r in shared_rows if r.dataset == "styletts2_demo"]
    rows = [r for r in page if r.label == "bonafide"][:6]
    rows += [r for r in page if r.label == "spoof"][:6]
    audio = [telephone_channel(load_audio(r.path)).samples[:16000] for r in rows]
    model = LcnnConfig(channels=(8, 16, 16, 32), dropout=0.0)
    config = LcnnTrainConfig(
        steps=40, batch=12, crop_s=2.0, learning_rate=3e-3, max_packet_loss=0.0, model=model
    )
    x = torch.from_numpy(np.stack(audio))
    y = torch.tensor([r.label == "bonafide" for r in rows], dtype=torch.long)

    def loss(net: Lcnn) -> float:
        with torch.inference_mode():
            return float(torch.nn.functional.cross_entropy(net.eval()(x), y))

    torch.manual_seed(0)
    before = loss(Lcnn(model))
    steps: list[float] = []
    after = loss(train_lcnn(rows, audio, config, seed=0, on_step=lambda i, v: steps.append(v)))
    assert len(steps) == 40
    assert after < 0.5 * before
