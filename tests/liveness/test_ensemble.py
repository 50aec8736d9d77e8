"""Ensembles of countermeasures: the shipped one is its members weighed, a retrained member is
refused, and `combine-cm` fits one from held-out score files."""

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
from voiceauth.data.manifest import ManifestRow, read_manifest
from voiceauth.errors import ConfigError, ModelIntegrityError
from voiceauth.evaluation.cm import score_channels, variant_column
from voiceauth.liveness.base import (
    Countermeasure,
    create_countermeasure,
    default_countermeasure_dir,
    load_countermeasure_calibration,
)
from voiceauth.liveness.ensemble import MODEL_FILE, EnsembleModel, Member

LIVENESS = Path(__file__).resolve().parents[2] / "models" / "liveness"


@pytest.fixture(scope="module")
def ensemble(one_thread: None) -> Countermeasure:
    return create_countermeasure("ensemble", weights_dir=LIVENESS / "ensemble")


def test_the_default_countermeasure_is_the_shipped_ensemble() -> None:
    assert default_countermeasure_dir() == LIVENESS / "ensemble"


def test_the_shipped_ensemble_is_its_members_weighed(
    ensemble: Countermeasure, shared_data: Path
) -> None:
    model = EnsembleModel.load(LIVENESS / "ensemble" / MODEL_FILE)
    members = [
        create_countermeasure(m.cm, weights_dir=LIVENESS / "ensemble" / m.folder)
        for m in model.members
    ]
    assert [m.cm for m in model.members] == ["lcnn", "whisper-lr"]
    assert all(w > 0 for w in model.weights)
    clip = shared_data / "autovc_vctk_samples" / "p225" / "p225_003.wav"
    call = telephone_channel(load_audio(clip)).samples
    expected = sum(w * m.score(call) for w, m in zip(model.weights, members, strict=True))
    assert ensemble.score(call) == pytest.approx(expected + model.bias, abs=1e-4)
    calibration = load_countermeasure_calibration(ensemble, LIVENESS / "ensemble")
    assert calibration.model == f"ensemble@{ensemble.version}"


def test_a_retrained_member_or_a_bad_file_is_refused(tmp_path: Path) -> None:
    model = EnsembleModel.load(LIVENESS / "ensemble" / MODEL_FILE)
    moved = tuple(
        replace(m, folder=str((LIVENESS / "ensemble" / m.folder).resolve())) for m in model.members
    )
    stale = replace(model, members=(replace(moved[0], version="000000000000"), moved[1]))
    stale.save(tmp_path / MODEL_FILE)
    with pytest.raises(ModelIntegrityError, match="refit"):
        create_countermeasure("ensemble", weights_dir=tmp_path)
    with pytest.raises(ConfigError, match="two or more"):
        replace(model, members=moved[:1], weights=model.weights[:1])
    with pytest.raises(ConfigError, match="member of another"):
        replace(model, members=(moved[0], Member("ensemble", ".", "x")))
    (tmp_path / MODEL_FILE).write_text(json.dumps({"members": []}))
    with pytest.raises(ConfigError, match="not an ensemble model"):
        create_countermeasure("ensemble", weights_dir=tmp_path)


def test_combine_cm_fits_an_ensemble_from_held_out_scores(
    shared_rows: list[ManifestRow], tmp_path: Path, one_thread: None
) -> None:
    chosen = []
    for page in ("adainvc", "vqmivc", "yourtts_zeroshot_clones"):
        for label in ("bonafide", "spoof"):
            chosen += [r for r in shared_rows if r.dataset == page and r.label == label][:4]
    folders = [LIVENESS / "lcnn", LIVENESS / "whisper-lr"]
    score_files = []
    alaw = variant_column("a-law")
    for folder in folders:
        cm = create_countermeasure(folder.name, weights_dir=folder)
        path = tmp_path / f"{folder.name}.scores.csv"
        with path.open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["path", "dataset", "speaker", "label", "attack", "score", alaw])
            for r in chosen:
                calls = [
                    telephone_channel(load_audio(r.path), codec=codec).samples[: 4 * 8000]
                    for codec in ("mulaw", "alaw")
                ]
                writer.writerow(
                    [r.key, r.dataset, r.speaker, r.label, r.attack, *cm.score_batch(calls)]
                )
        score_files.append(path)
    out, report = tmp_path / "ensemble", tmp_path / "ensemble.json"
    args = ["combine-cm", "--out", str(out), "--json", str(report), "--folds", "3"]
    for folder, scores in zip(folders, score_files, strict=True):
        args += ["--member", str(folder), "--scores", str(scores)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    figures = json.loads(report.read_text())
    assert figures["n_bonafide"] + figures["n_spoof"] == len(chosen)
    assert [m.split("@")[0] for m in figures["members"]] == ["lcnn", "whisper-lr"]
    assert len(read_manifest(Path(figures["scores_csv"]))) == len(chosen)
    # the members' a-law scores, weighed by the same held-out weights, are figures of their own
    assert set(figures["per_channel"]) == {"telephony mu-law (as trained)", "a-law"}
    assert figures["per_channel"]["a-law"]["cm_eer"] >= 0
    assert score_channels(Path(figures["scores_csv"])) == ["a-law"]
    with Path(figures["scores_csv"]).open() as handle:
        written = list(csv.DictReader(handle))
    assert any(row["score"] != row[alaw] for row in written)
    cm = create_countermeasure("ensemble", weights_dir=out)
    assert load_countermeasure_calibration(cm, out).model == f"ensemble@{cm.version}"
    call = telephone_channel(load_audio(chosen[0].path)).samples[: 4 * 8000]
    assert np.isfinite(cm.score(call))
    # the same scores weighed by speaker folds (as members trained with --fold-by speaker)
    by_speaker = ["combine-cm", "--out", str(tmp_path / "by-speaker")]
    by_speaker += ["--json", str(tmp_path / "by-speaker.json"), *args[5:], "--fold-by", "speaker"]
    assert CliRunner().invoke(app, by_speaker).exit_code == 0
    evaluation = json.loads((tmp_path / "by-speaker.json").read_text())["evaluation"]
    assert "GroupKFold over speakers" in evaluation
    assert "over pages" in figures["evaluation"]
    unpaired = [*args[:7], "--member", str(folders[0]), "--member", str(folders[1])]
    missing = CliRunner().invoke(app, [*unpaired, "--scores", str(score_files[0])])
    assert missing.exit_code != 0 and "each with its --scores" in missing.output
