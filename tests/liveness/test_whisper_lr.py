"""Whisper-LR: its model file, its refusals, the recipe end to end, and the shipped model on
speakers it never met."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from voiceauth.audio.channel import telephone_channel
from voiceauth.audio.io import load_audio
from voiceauth.cli import app
from voiceauth.data.manifest import ManifestRow, read_manifest, write_manifest
from voiceauth.errors import AudioFormatError, ConfigError, InsufficientSpeech, ModelIntegrityError
from voiceauth.evaluation.cm import score_channels, variant_column
from voiceauth.liveness.base import create_countermeasure, load_countermeasure_calibration
from voiceauth.liveness.logistic import Linear
from voiceauth.liveness.whisper_lr import (
    MODEL_FILE,
    WhisperLrCountermeasure,
    WhisperLrModel,
    encoder_id,
)
from voiceauth.liveness.whisper_weights import load_whisper
from voiceauth.scoring.metrics import eer

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "liveness" / "whisper-lr"
WIDTH = 512


def model(**changes: object) -> WhisperLrModel:
    base = WhisperLrModel(
        encoder=encoder_id(),
        layer=0,
        linear=Linear((0.0,) * (2 * WIDTH), (1.0,) * (2 * WIDTH), (0.01,) * (2 * WIDTH), 0.5),
        trained_on="test",
        created="2026-12-07",
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def test_the_model_file_round_trips_and_bad_ones_are_refused(tmp_path: Path) -> None:
    path = tmp_path / MODEL_FILE
    model().save(path)
    assert WhisperLrModel.load(path) == model()
    with pytest.raises(ConfigError, match="means, scales and weights"):
        model(linear=replace(model().linear, weights=(0.0,)))
    with pytest.raises(ConfigError, match="positive"):
        model(linear=replace(model().linear, scale=(0.0,) * (2 * WIDTH)))
    data = json.loads(path.read_text())
    del data["linear"]["bias"]
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="not a whisper-lr model"):
        WhisperLrModel.load(path)


def test_scores_speech_and_refuses_what_it_cannot_judge(one_thread: None) -> None:
    encoder = load_whisper()
    cm = WhisperLrCountermeasure(model(), encoder, version="test")
    rng = np.random.default_rng(0)
    speech = (0.1 * rng.standard_normal(16_000)).astype(np.float32)
    scores = cm.score_batch([speech, speech[:8_000]])
    assert len(scores) == 2 and all(np.isfinite(scores))
    assert cm.score(speech) == pytest.approx(scores[0], abs=1e-6)
    with pytest.raises(InsufficientSpeech):
        cm.score(speech[:100])
    with pytest.raises(AudioFormatError):
        cm.score(np.full(8_000, np.nan, dtype=np.float32))
    with pytest.raises(ModelIntegrityError, match="fitted on whisper-small"):
        WhisperLrCountermeasure(model(encoder="whisper-small@0"), encoder, version="x")
    with pytest.raises(ConfigError, match="the encoder has 6"):
        WhisperLrCountermeasure(model(layer=6), encoder, version="x")


def test_the_shipped_model_tells_genuine_callers_from_clones_of_unseen_speakers(
    shared_data: Path, one_thread: None
) -> None:
    cm = create_countermeasure("whisper-lr", weights_dir=SHIPPED)
    calibration = load_countermeasure_calibration(cm, SHIPPED)
    assert calibration.weights[0] > 0
    rows = read_manifest(SHIPPED / "heldout.csv")
    assert {r.label for r in rows} == {"bonafide", "spoof"} and len(rows) >= 10
    scores: dict[str, list[float]] = {"bonafide": [], "spoof": []}
    for row in rows:
        assert row.path.resolve().is_relative_to(shared_data)
        call = telephone_channel(load_audio(row.path)).samples[: 6 * 8000]
        scores[row.label].append(cm.score(call))
    assert np.median(scores["bonafide"]) > np.median(scores["spoof"])
    assert eer(scores["bonafide"], scores["spoof"]) < 0.35


def test_train_cm_whisper_lr_writes_model_calibration_and_report(
    shared_rows: list[ManifestRow], tmp_path: Path
) -> None:
    chosen = []
    for page in ("adainvc", "vqmivc", "yourtts_zeroshot_clones"):
        for label in ("bonafide", "spoof"):
            chosen += [r for r in shared_rows if r.dataset == page and r.label == label][:3]
    manifest = tmp_path / "manifest.csv"
    write_manifest(manifest, chosen)
    out, report = tmp_path / "whisper-lr", tmp_path / "whisper-lr.json"
    args = ["train-cm", "--cm", "whisper-lr", "--manifest", str(manifest), "--out", str(out)]
    args += ["--json", str(report), "--folds", "3", "--max-seconds", "2", "--threads", "1"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())
    assert figures["cm"] == "whisper-lr" and figures["config"]["layer"] == 0
    assert "telephony mu-law after a GSM full-rate mobile leg" in figures["per_channel"]
    assert "telephony mu-law, VAD net speech" in figures["per_channel"]
    gsm = variant_column("telephony mu-law after a GSM full-rate mobile leg")
    with Path(figures["scores_csv"]).open() as handle:
        written = list(csv.DictReader(handle))
    assert len(written) == figures["n_bonafide"] + figures["n_spoof"]
    assert all(np.isfinite(float(row[gsm])) for row in written)
    assert figures["n_bonafide"] + figures["n_spoof"] + figures["n_skipped"] == len(chosen)
    # speaker folds, without the other channels: the held-out files as trained only
    quick = [*args[:6], str(tmp_path / "by-speaker"), "--json", str(tmp_path / "by-speaker.json")]
    quick += [*args[9:], "--fold-by", "speaker", "--no-channels"]
    assert CliRunner().invoke(app, quick).exit_code == 0
    by_speaker = json.loads((tmp_path / "by-speaker.json").read_text())
    assert "GroupKFold over speakers" in by_speaker["evaluation"]
    assert list(by_speaker["per_channel"]) == ["telephony mu-law (as trained)"]
    assert score_channels(Path(by_speaker["scores_csv"])) == []
    cm = create_countermeasure("whisper-lr", weights_dir=out)
    assert load_countermeasure_calibration(cm, out).model == f"whisper-lr@{cm.version}"
    assert WhisperLrModel.load(out / MODEL_FILE).trained_on.startswith(
        f"{figures['n_bonafide'] + figures['n_spoof']} files"
    )
