"""train-cm: leave-datasets-out figures and a loadable model, on a few real clips."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from voiceauth.cli import app
from voiceauth.data.manifest import ManifestRow, read_manifest
from voiceauth.errors import ConfigError
from voiceauth.liveness.base import create_countermeasure
from voiceauth.liveness.train import TrainCmConfig, train_countermeasure

PAGES = ("adainvc", "assemvc", "melgan", "hierspeechpp_demo", "speechsplit", "vqmivc")


@pytest.fixture(scope="module")
def small_cm_manifest(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 genuine and 3 generated clips (1-5 s) from each of six demo pages."""
    with (shared_data / "manifest.csv").open(newline="", encoding="utf-8") as handle:
        rows = [r for r in csv.DictReader(handle) if 1.0 <= float(r["duration_s"]) <= 5.0]
    chosen = []
    for page in PAGES:
        for label in ("bonafide", "spoof"):
            chosen += [r for r in rows if r["dataset"] == page and r["label"] == label][:3]
    manifest = tmp_path_factory.mktemp("train_cm") / "manifest.csv"
    with manifest.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "dataset", "speaker", "label", "attack"])
        for r in chosen:
            writer.writerow(
                [shared_data / r["path"], r["dataset"], r["speaker"], r["label"], r["attack"]]
            )
    return manifest


def test_every_file_is_scored_by_a_model_that_did_not_see_its_page(
    small_cm_manifest: Path,
) -> None:
    rows = read_manifest(small_cm_manifest)
    result = train_countermeasure(rows, TrainCmConfig(folds=3, max_seconds=3.0), created="2026")
    assert len(result.heldout) == 36 and result.report["n_bonafide"] == 18
    assert set(result.report["per_dataset"]) == set(PAGES)
    assert 0.0 <= result.report["cm_eer"] <= 100.0
    assert result.model.trained_on.startswith("36 files (18 bona fide) of 6 datasets")
    assert result.report["evaluation"] == "held out: 3-fold GroupKFold over datasets"


def test_too_few_datasets_to_hold_out_is_refused(small_cm_manifest: Path) -> None:
    rows: list[ManifestRow] = read_manifest(small_cm_manifest)
    with pytest.raises(ConfigError, match="at least 7 datasets"):
        train_countermeasure(rows, TrainCmConfig(folds=7, max_seconds=1.0), created="2026")


def test_train_cm_cli_writes_a_model_eval_cm_can_load(
    small_cm_manifest: Path, tmp_path: Path
) -> None:
    model = tmp_path / "models" / "lfcc-lr.json"
    report = tmp_path / "train.json"
    result = CliRunner().invoke(
        app,
        [
            "train-cm",
            "--manifest",
            str(small_cm_manifest),
            "--out",
            str(model),
            "--json",
            str(report),
            "--folds",
            "3",
            "--max-seconds",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "held-out EER" in result.output
    figures = json.loads(report.read_text())
    assert {"cm_eer", "per_attack", "per_dataset", "evaluation"} <= set(figures)
    cm = create_countermeasure("lfcc-lr", weights_dir=model.parent)
    assert cm.version and cm.sample_rate == 8000
