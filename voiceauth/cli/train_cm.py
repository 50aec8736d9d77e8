"""`voiceauth cm-data`, `train-cm` and `combine-cm`: the countermeasure recipes, figures as JSON.

    voiceauth train-cm --cm lcnn --manifest ../shared/data/manifest.csv \\
        --attack-data runs/cm-data --out models/liveness/lcnn --json runs/cm/lcnn.json

builds the attack set when runs/cm-data has none (`liveness.attackset`), trains the held-out
folds and the shipped model, and writes the weights, their calibration and the report
(`--cm whisper-lr` likewise); `combine-cm` weighs trained detectors into an ensemble on the
held-out scores those runs wrote.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import numpy as np
import typer
from tqdm import tqdm

from voiceauth.audio.transcode import LEG_CODECS
from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.eval_cm import write_scores
from voiceauth.data.manifest import ManifestRow, read_manifest, write_manifest
from voiceauth.errors import VoiceauthError
from voiceauth.liveness.train import TrainCmConfig, train_countermeasure

if TYPE_CHECKING:
    from voiceauth.liveness.cmtrain import Clips, LcnnTrainConfig
    from voiceauth.liveness.evaluate import ScoredFile
    from voiceauth.liveness.whisper_train import WhisperTrainConfig

TRAINABLE = ("lfcc-lr", "lcnn", "whisper-lr")
HELDOUT_FILE = "heldout.csv"
SKIPPED_DATASETS = ("fsdd",)
"""Single spoken digits (under 1 s): `cm-data` joins them into sequences instead."""


@app.command("cm-data")
def cm_data_command(
    manifest: Annotated[Path, typer.Option(help="genuine sources (../shared/data/manifest.csv)")],
    out: Annotated[Path, typer.Option(help="cache folder for the attack set (runs/cm-data)")],
    tts_per_engine: Annotated[int, typer.Option(help="clips per TTS engine")] = 160,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Generate the attack set (TTS, simulated replay, copy-synthesis) and its manifest."""
    from voiceauth.liveness.attackset import AttackSetConfig

    written = _build_attack_set(
        manifest, out, AttackSetConfig(tts_per_engine=tts_per_engine, seed=seed)
    )
    typer.echo(f"attack set -> {written}")


def _build_attack_set(manifest: Path, out: Path, config: Any) -> Path:
    from voiceauth.liveness.attackset import build_attack_set

    try:
        rows = read_manifest(manifest)
        with tqdm(desc="attack set", unit="file") as bar:
            return build_attack_set(rows, out, config, progress=bar.update)
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))


@app.command("train-cm")
def train_cm_command(
    manifest: Annotated[
        list[Path], typer.Option(help="CSV with path, dataset, label, attack (repeatable)")
    ],
    out: Annotated[Path, typer.Option(help="lfcc-lr: model file; lcnn: model folder")],
    json_out: Annotated[Path, typer.Option("--json", help="held-out report")],
    cm: Annotated[str, typer.Option(help=" | ".join(TRAINABLE))] = "lfcc-lr",
    attack_data: Annotated[
        Path | None, typer.Option(help="attack-set folder, built first when it has no manifest")
    ] = None,
    folds: Annotated[int, typer.Option(help="folds of whole datasets held out")] = 5,
    fold_by: Annotated[
        str, typer.Option(help="lcnn, whisper-lr: folds hold out whole pages, speakers or families")
    ] = "page",
    regularisation: Annotated[
        float, typer.Option(help="lfcc-lr, whisper-lr: inverse L2 strength C")
    ] = 0.1,
    max_seconds: Annotated[float | None, typer.Option(help="first S s of each clip")] = 8.0,
    packet_loss: Annotated[float, typer.Option(help="telephony packet loss rate")] = 0.0,
    steps: Annotated[int, typer.Option(help="lcnn: training batches per model")] = 800,
    threads: Annotated[int, typer.Option(help="lcnn, whisper-lr: torch CPU threads")] = 2,
    holdout_speaker: Annotated[
        list[str] | None,
        typer.Option(help="lcnn, whisper-lr: speaker never trained on, in <out>/heldout.csv"),
    ] = None,
    layer: Annotated[int, typer.Option(help="whisper-lr: encoder block pooled, 0 = first")] = 0,
    net_speech: Annotated[
        bool,
        typer.Option(help="lcnn, whisper-lr: learn from each file's VAD net speech, as a call"),
    ] = False,
    channels: Annotated[
        bool,
        typer.Option(help="lcnn, whisper-lr: also score the held-out folds through other channels"),
    ] = True,
    leg_codec: Annotated[
        list[str] | None,
        typer.Option(help="lcnn: also learn each file through one of these legs (repeatable)"),
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train a countermeasure on telephone-channel audio; report EERs on datasets held out."""
    if cm not in TRAINABLE:
        fail(f"train-cm trains {' or '.join(TRAINABLE)}, not {cm!r}")
    if net_speech and cm == "lfcc-lr":
        fail("--net-speech trains lcnn or whisper-lr")
    if leg_codec and cm != "lcnn":
        fail("--leg-codec trains lcnn")
    if fold_by != "page" and cm == "lfcc-lr":
        fail("--fold-by trains lcnn or whisper-lr")
    _check_fold_by(fold_by)
    if unknown := set(leg_codec or ()) - set(LEG_CODECS):
        fail(f"unknown --leg-codec {', '.join(sorted(unknown))}; known: {', '.join(LEG_CODECS)}")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        rows = [r for path in manifest for r in read_manifest(path)]
        if attack_data is not None:
            made = attack_data / "manifest.csv"
            if not made.is_file():
                from voiceauth.liveness.attackset import AttackSetConfig

                _build_attack_set(manifest[0], attack_data, AttackSetConfig(seed=seed))
            rows += read_manifest(made)
        if cm in ("lcnn", "whisper-lr"):
            from voiceauth.liveness.cmtrain import LcnnTrainConfig
            from voiceauth.liveness.whisper_train import WhisperTrainConfig

            folder_config: LcnnTrainConfig | WhisperTrainConfig = (
                LcnnTrainConfig(
                    folds=folds,
                    fold_by=fold_by,
                    steps=steps,
                    max_seconds=max_seconds or LcnnTrainConfig().max_seconds,
                    threads=threads,
                    net_speech=net_speech,
                    channels=channels,
                    leg_codecs=tuple(leg_codec or ()),
                    seed=seed,
                )
                if cm == "lcnn"
                else WhisperTrainConfig(
                    folds=folds,
                    fold_by=fold_by,
                    layer=layer,
                    regularisation=regularisation,
                    max_seconds=max_seconds or WhisperTrainConfig().max_seconds,
                    net_speech=net_speech,
                    channels=channels,
                    seed=seed,
                    threads=threads,
                )
            )
            _train_folder_model(
                rows, out, json_out, created, folder_config, set(holdout_speaker or ())
            )
            return
        config = TrainCmConfig(
            folds=folds,
            regularisation=regularisation,
            max_seconds=max_seconds,
            packet_loss=packet_loss,
            seed=seed,
        )
        with tqdm(total=len(rows), desc="features", unit="file") as bar:
            result = train_countermeasure(rows, config, created=created, progress=bar.update)
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(out)
    result.report["model"] = str(out)
    _write_report(json_out, result.report, result.heldout)
    typer.echo(
        f"lfcc-lr -> {out}: held-out EER {result.report['cm_eer']} % on "
        f"{result.report['n_bonafide']} bona fide, {result.report['n_spoof']} spoof "
        f"({result.report['evaluation']})"
    )


def _check_fold_by(fold_by: str) -> None:
    """Refuse an unknown fold unit before minutes of loading audio."""
    from voiceauth.liveness.cmtrain import FOLD_UNITS

    if fold_by not in FOLD_UNITS:
        fail(f"--fold-by is {' or '.join(FOLD_UNITS)}, not {fold_by!r}")


def _train_folder_model(
    rows: list[ManifestRow],
    out: Path,
    json_out: Path,
    created: str,
    config: LcnnTrainConfig | WhisperTrainConfig,
    holdout: set[str],
) -> None:
    """Held-out folds, the final model in `out`, and its calibration fitted on the held-out
    scores (lcnn or whisper-lr, by the type of `config`).

    Files of the `holdout` speakers take no part at all; they are listed in heldout.csv
    beside the model, so a test can check the shipped model on speakers it never met."""
    from voiceauth.liveness.base import CALIBRATION_FILE, create_countermeasure
    from voiceauth.liveness.cmtrain import LcnnTrainConfig, load_clips
    from voiceauth.liveness.gate import CM_SCORE_FEATURE
    from voiceauth.liveness.whisper_lr import INPUT_RATE
    from voiceauth.scoring.calibration import fit_calibration

    usable = [r for r in rows if r.dataset not in SKIPPED_DATASETS and r.speaker not in holdout]

    def clips_at(rate: int) -> Clips:
        with tqdm(total=len(usable), desc="telephone channel", unit="file") as bar:
            return load_clips(
                usable,
                sample_rate=rate,
                max_seconds=config.max_seconds,
                seed=config.seed,
                net_speech=config.net_speech,
                leg_codecs=config.leg_codecs if isinstance(config, LcnnTrainConfig) else (),
                progress=bar.update,
            )

    if isinstance(config, LcnnTrainConfig):
        cm = "lcnn"
        report, heldout, channels = _fit_lcnn(
            clips_at(config.model.sample_rate), config, out, created
        )
    else:
        cm = "whisper-lr"
        report, heldout, channels = _fit_whisper_lr(clips_at(INPUT_RATE), config, out, created)
    write_manifest(out / HELDOUT_FILE, [r for r in rows if r.speaker in holdout])
    detector = create_countermeasure(cm, weights_dir=out)
    calibration = fit_calibration(
        {CM_SCORE_FEATURE: [f.score for f in heldout]},
        [f.row.label == "bonafide" for f in heldout],
        model=f"{detector.cm_id}@{detector.version}",
        fitted_on=f"held-out fold scores of {len(heldout)} files: {report['evaluation']}",
        created=created,
        feature_names=(CM_SCORE_FEATURE,),
    )
    calibration.save(out / CALIBRATION_FILE)
    report.update(model=str(out), version=detector.version, holdout_speakers=sorted(holdout))
    _write_report(json_out, report, heldout, channels)
    typer.echo(
        f"{cm}@{detector.version} -> {out}: held-out EER {report['cm_eer']} % on "
        f"{report['n_bonafide']} bona fide, {report['n_spoof']} spoof; spoofs "
        f"accepted at 90 % bona fide: {report['spoof_accept_at_90_bonafide']} % "
        f"({report['evaluation']})"
    )


Fitted = tuple[dict[str, Any], list["ScoredFile"], dict[str, np.ndarray]]
"""A recipe's report, held-out scores, and their scores through the other channels."""


def _fit_lcnn(clips: Clips, config: LcnnTrainConfig, out: Path, created: str) -> Fitted:
    from voiceauth.liveness.cmtrain import train_and_evaluate
    from voiceauth.liveness.lcnn import save_lcnn

    with tqdm(total=(config.folds + 1) * config.steps, desc="training", unit="step") as bar:
        result = train_and_evaluate(
            clips, config, created=created, progress=lambda name, i, loss: bar.update(1)
        )
    save_lcnn(result.net, out)
    return result.report, result.heldout, result.channels


def _fit_whisper_lr(clips: Clips, config: WhisperTrainConfig, out: Path, created: str) -> Fitted:
    from voiceauth.liveness.whisper_lr import MODEL_FILE
    from voiceauth.liveness.whisper_train import train_whisper_lr
    from voiceauth.liveness.whisper_weights import load_whisper

    with tqdm(total=len(clips.rows), desc="whisper statistics", unit="file") as bar:
        result = train_whisper_lr(
            clips, load_whisper(config.layer + 1), config, created=created, progress=bar.update
        )
    out.mkdir(parents=True, exist_ok=True)
    result.model.save(out / MODEL_FILE)
    return result.report, result.heldout, result.channels


def _write_report(
    json_out: Path,
    report: dict[str, Any],
    heldout: list[Any],
    channels: dict[str, np.ndarray] | None = None,
) -> None:
    scores_path = json_out.with_suffix(".scores.csv")
    report["scores_csv"] = str(scores_path)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_scores(scores_path, heldout, channels)


@app.command("combine-cm")
def combine_cm_command(
    member: Annotated[list[Path], typer.Option(help="a countermeasure folder (repeatable)")],
    scores: Annotated[
        list[Path], typer.Option(help="its held-out scores CSV from train-cm, in member order")
    ],
    out: Annotated[Path, typer.Option(help="the ensemble's folder")],
    json_out: Annotated[Path, typer.Option("--json", help="held-out report")],
    folds: Annotated[int, typer.Option(help="folds (as the members were trained)")] = 4,
    fold_by: Annotated[str, typer.Option(help="page, speaker or family (as the members)")] = "page",
) -> None:
    """Weigh trained countermeasures into one, on their held-out scores; report it held out."""
    from voiceauth.evaluation.cm import read_score_columns, score_channels, variant_column
    from voiceauth.liveness.base import CALIBRATION_FILE, MODEL_FILES, file_version
    from voiceauth.liveness.cmtrain import channel_report, fold_evaluation, purged_folds
    from voiceauth.liveness.ensemble import (
        MODEL_FILE,
        EnsembleModel,
        Member,
        fit_weights,
        heldout_ensemble,
    )
    from voiceauth.liveness.evaluate import ScoredFile
    from voiceauth.liveness.gate import CM_SCORE_FEATURE
    from voiceauth.scoring.calibration import fit_calibration

    _check_fold_by(fold_by)
    created = datetime.now(UTC).isoformat(timespec="seconds")
    if len(member) != len(scores) or len(member) < 2:
        fail("give two or more --member folders, each with its --scores CSV")
    try:
        rows = read_manifest(scores[0])
        channels = sorted(set.intersection(*(set(score_channels(path)) for path in scores)))
        wanted = ["score", *(variant_column(name) for name in channels)]
        members, read = [], []
        for folder, csv_path in zip(member, scores, strict=True):
            names = [n for n, f in MODEL_FILES.items() if (folder / f).is_file()]
            if len(names) != 1:
                fail(f"{folder}: not one countermeasure's folder ({names or 'no model file'})")
            fitted_for = file_version(folder / MODEL_FILES[names[0]])
            read.append(read_score_columns(csv_path, rows, wanted))
            relative = os.path.relpath(folder.resolve(), out.resolve())
            members.append(Member(names[0], relative, fitted_for))
        matrix = np.array([r["score"] for r in read]).T
        labels = np.array([r.label == "bonafide" for r in rows], dtype=np.int64)
        tests = [test for _, test in purged_folds(rows, folds, fold_by)]
        heldout = heldout_ensemble(matrix, labels, tests)
        heard = {
            name: heldout_ensemble(
                matrix, labels, tests, heard=np.array([r[variant_column(name)] for r in read]).T
            )
            for name in channels
        }
        weights, bias = fit_weights(matrix, labels)
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    trained_on = f"held-out fold scores of {len(rows)} files ({int(labels.sum())} bona fide)"
    out.mkdir(parents=True, exist_ok=True)
    model = EnsembleModel(tuple(members), weights, bias, trained_on, created)
    model.save(out / MODEL_FILE)
    version = file_version(out / MODEL_FILE)
    fit_calibration(
        {CM_SCORE_FEATURE: heldout},
        labels.astype(bool),
        model=f"ensemble@{version}",
        fitted_on=f"{trained_on}, weights fitted on the other {folds - 1} {fold_by} folds",
        created=created,
        feature_names=(CM_SCORE_FEATURE,),
    ).save(out / CALIBRATION_FILE)
    scored = [ScoredFile(r, float(s), 0.0) for r, s in zip(rows, heldout, strict=True)]
    report = channel_report(scored, heard)
    report.update(
        cm="ensemble",
        version=version,
        members=[f"{m.cm}@{m.version}" for m in members],
        weights=list(weights),
        evaluation=(
            f"{fold_evaluation(folds, fold_by)}; each fold weighted by the other folds' "
            "held-out scores"
        ),
        created=created,
    )
    _write_report(json_out, report, scored, heard)
    typer.echo(
        f"ensemble@{version} -> {out}: held-out EER {report['cm_eer']} %; spoofs "
        f"accepted at 90 % bona fide: {report['spoof_accept_at_90_bonafide']} %"
    )
