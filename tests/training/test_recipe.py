"""A quick training run on a handful of real speakers: the loss falls and the model loads."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml
from speechbrain.dataio.encoder import CategoricalEncoder

from voiceauth.audio.io import load_audio
from voiceauth.audio.resample import resample
from voiceauth.data.manifest import read_manifest, write_manifest
from voiceauth.embeddings.ecapa import EcapaEmbedder
from voiceauth.embeddings.ecapa_hparams import EcapaHparams
from voiceauth.errors import ConfigError
from voiceauth.training.config import AugmentConfig, TrainConfig
from voiceauth.training.ecapa_recipe import TrainResult, learning_rate, train_ecapa

SPEAKERS = ("VCTKp225", "VCTKp226", "VCTKp227", "VCTKp228", "FSDDgeorge", "FSDDjackson")
HELD_OUT = "VCTKp228"


@pytest.fixture(scope="module")
def trained(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> TrainResult:
    """24 steps of a small ECAPA on 5 real speakers (16 kHz VCTK and 8 kHz digits), ~15 s."""
    root = tmp_path_factory.mktemp("recipe")
    rows = [
        row
        for row in read_manifest(shared_data / "manifest.csv")
        if row.speaker in SPEAKERS and row.dataset in ("autovc_vctk_samples", "fsdd")
    ]
    rows = [row for row in rows if not row.speaker.startswith("FSDD") or row.path.stem[:1] in "01"]
    write_manifest(root / "manifest.csv", rows)
    (root / "held.txt").write_text(f"# evaluation speaker\n{HELD_OUT}\n")
    config = TrainConfig(
        manifest=root / "manifest.csv",
        out=root / "model",
        epochs=4,
        steps=6,
        batch_size=8,
        crop_seconds=1.0,
        channels=(64, 64, 64, 64, 192),
        learning_rate=3e-3,
        margin_ramp_fraction=0.0,  # full margin throughout, so losses compare across epochs
        exclude_speakers=root / "held.txt",
        seed=1,
        augment=AugmentConfig(telephony_prob=0.3, noise_prob=0.3, speed_prob=0.3),
    )
    stages: list[str] = []
    # One thread: on a shared, loaded CI machine two threads made these small steps 20x slower.
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = train_ecapa(config, on_stage=stages.append)
    finally:
        torch.set_num_threads(threads)
    assert any("5 speakers" in stage for stage in stages)
    return result


def test_loss_falls(trained: TrainResult) -> None:
    losses = [report.loss for report in trained.history]
    assert len(losses) == 4
    assert losses[-1] < losses[0]
    assert trained.history[-1].accuracy >= trained.history[0].accuracy


def test_output_loads_and_embeds_real_speech(trained: TrainResult, shared_data: Path) -> None:
    embedder = EcapaEmbedder(trained.out)
    assert embedder.version == trained.version
    assert embedder.hparams.channels == (64, 64, 64, 64, 192)
    assert embedder.hparams.out_neurons == 5
    audio = load_audio(shared_data / "autovc_vctk_samples" / "p228" / "p228_003.wav")
    vector = embedder.embed(audio.samples).vector
    assert vector.shape == (192,)
    assert np.isfinite(vector).all()
    digits = load_audio(shared_data / "fsdd" / "5_george_3.wav")
    vector = embedder.embed(resample(digits.samples, 8000, 16000)).vector
    assert np.isfinite(vector).all()


def test_output_is_speechbrain_layout(trained: TrainResult) -> None:
    out = trained.out
    encoder = CategoricalEncoder()
    encoder.load(out / "label_encoder.txt")
    assert len(encoder) == 5
    assert encoder.decode_ndim(0) == "FSDDgeorge"
    classifier = torch.load(out / "classifier.ckpt", weights_only=True)
    assert tuple(classifier["weight"].shape) == (5, 192)
    stats = torch.load(out / "mean_var_norm_emb.ckpt", weights_only=True)
    assert tuple(stats["glob_mean"].shape) == (192,)
    assert stats["count"] == 5 * 4
    assert EcapaHparams.load(out / "hyperparams.yaml").out_neurons == 5


def test_run_files_record_config_split_and_curve(trained: TrainResult) -> None:
    out = trained.out
    assert trained.held_out == (HELD_OUT,)
    assert (out / "held_out_speakers.txt").read_text() == f"{HELD_OUT}\n"
    config = yaml.safe_load((out / "train_config.yaml").read_text())
    assert config["channels"] == [64, 64, 64, 64, 192]
    assert config["augment"]["telephony_prob"] == 0.3
    card = (out / "MODEL_CARD.md").read_text()
    assert f"ecapa@{trained.version}" in card
    assert "| 4 |" in card
    assert "5 training speakers" in card


def test_a_used_output_directory_is_refused_before_training(trained: TrainResult) -> None:
    config = TrainConfig(manifest=Path("unused.csv"), out=trained.out)
    with pytest.raises(ConfigError, match="exists and is not empty"):
        train_ecapa(config)


def test_learning_rate_warms_up_then_decays() -> None:
    config = TrainConfig(manifest=Path("m.csv"), out=Path("o"), epochs=10, steps=10)
    rates = [learning_rate(config, step) for step in range(config.total_steps)]
    assert rates[0] == pytest.approx(config.learning_rate / 5)
    assert max(rates) == pytest.approx(config.learning_rate)
    assert rates[-1] == pytest.approx(config.final_lr, rel=0.01)
    assert all(a >= b for a, b in zip(rates[5:], rates[6:], strict=False))


def test_config_refuses_nonsense() -> None:
    base = TrainConfig(manifest=Path("m.csv"), out=Path("o"))
    with pytest.raises(ConfigError, match="channels must be 5 layer widths"):
        replace(base, channels=(256, 768))
    with pytest.raises(ConfigError, match="val_fraction"):
        replace(base, val_fraction=1.0)
    with pytest.raises(ConfigError, match="telephony_prob must be in"):
        AugmentConfig(telephony_prob=1.5)
