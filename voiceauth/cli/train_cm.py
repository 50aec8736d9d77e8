"""`voiceauth cm-data` and `voiceauth train-cm`: the countermeasure recipe, figures as JSON.

    voiceauth train-cm --cm lcnn --manifest ../shared/data/manifest.csv \\
        --attack-data runs/cm-data --out models/liveness/lcnn --json runs/cm/lcnn.json

builds the attack set when runs/cm-data has none (`liveness.attackset`), trains the held-out
folds and the shipped model, and writes the weights, their calibration and the report.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from tqdm import tqdm

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.eval_cm import write_scores
from voiceauth.data.manifest import ManifestRow, read_manifest, write_manifest
from voiceauth.errors import VoiceauthError
from voiceauth.liveness.train import TrainCmConfig, train_countermeasure

if TYPE_CHECKING:
    from voiceauth.liveness.cmtrain import LcnnTrainConfig

TRAINABLE = ("lfcc-lr", "lcnn")
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
    regularisation: Annotated[float, typer.Option(help="lfcc-lr: inverse L2 strength C")] = 0.1,
    max_seconds: Annotated[float | None, typer.Option(help="first S s of each clip")] = 8.0,
    packet_loss: Annotated[float, typer.Option(help="telephony packet loss rate")] = 0.0,
    steps: Annotated[int, typer.Option(help="lcnn: training batches per model")] = 800,
    threads: Annotated[int, typer.Option(help="lcnn: torch CPU threads")] = 2,
    holdout_speaker: Annotated[
        list[str] | None,
        typer.Option(help="lcnn: speaker never trained on, listed in <out>/heldout.csv"),
    ] = None,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train a countermeasure on telephone-channel audio; report EERs on datasets held out."""
    if cm not in TRAINABLE:
        fail(f"train-cm trains {' or '.join(TRAINABLE)}, not {cm!r}")
    created = datetime.now(UTC).isoformat(timespec="seconds")
    try:
        rows = [r for path in manifest for r in read_manifest(path)]
        if attack_data is not None:
            made = attack_data / "manifest.csv"
            if not made.is_file():
                from voiceauth.liveness.attackset import AttackSetConfig

                _build_attack_set(manifest[0], attack_data, AttackSetConfig(seed=seed))
            rows += read_manifest(made)
        if cm == "lcnn":
            from voiceauth.liveness.cmtrain import LcnnTrainConfig

            lcnn_config = LcnnTrainConfig(
                folds=folds,
                steps=steps,
                max_seconds=max_seconds or LcnnTrainConfig().max_seconds,
                threads=threads,
                seed=seed,
            )
            _train_lcnn(rows, out, json_out, created, lcnn_config, set(holdout_speaker or ()))
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


def _train_lcnn(
    rows: list[ManifestRow],
    out: Path,
    json_out: Path,
    created: str,
    config: LcnnTrainConfig,
    holdout: set[str],
) -> None:
    """Held-out folds, the final model, and its calibration fitted on the held-out scores.

    Files of the `holdout` speakers take no part at all; they are listed in heldout.csv
    beside the weights, so a test can check the shipped model on speakers it never met."""
    from voiceauth.liveness.base import CALIBRATION_FILE, create_countermeasure
    from voiceauth.liveness.cmtrain import load_clips, train_and_evaluate
    from voiceauth.liveness.gate import CM_SCORE_FEATURE
    from voiceauth.liveness.lcnn import save_lcnn
    from voiceauth.scoring.calibration import fit_calibration

    usable = [r for r in rows if r.dataset not in SKIPPED_DATASETS and r.speaker not in holdout]
    with tqdm(total=len(usable), desc="telephone channel", unit="file") as bar:
        clips = load_clips(usable, config, progress=bar.update)
    with tqdm(total=(config.folds + 1) * config.steps, desc="training", unit="step") as bar:
        result = train_and_evaluate(
            clips, config, created=created, progress=lambda name, i, loss: bar.update(1)
        )
    save_lcnn(result.net, out)
    write_manifest(out / HELDOUT_FILE, [r for r in rows if r.speaker in holdout])
    detector = create_countermeasure("lcnn", weights_dir=out)
    calibration = fit_calibration(
        {CM_SCORE_FEATURE: [f.score for f in result.heldout]},
        [f.row.label == "bonafide" for f in result.heldout],
        model=f"{detector.cm_id}@{detector.version}",
        fitted_on=(
            f"held-out fold scores of {len(result.heldout)} files: {result.report['evaluation']}"
        ),
        created=created,
        feature_names=(CM_SCORE_FEATURE,),
    )
    calibration.save(out / CALIBRATION_FILE)
    result.report.update(model=str(out), version=detector.version, holdout_speakers=sorted(holdout))
    _write_report(json_out, result.report, result.heldout)
    typer.echo(
        f"lcnn@{detector.version} -> {out}: held-out EER {result.report['cm_eer']} % on "
        f"{result.report['n_bonafide']} bona fide, {result.report['n_spoof']} spoof; spoofs "
        f"accepted at 90 % bona fide: {result.report['spoof_accept_at_90_bonafide']} % "
        f"({result.report['evaluation']})"
    )


def _write_report(json_out: Path, report: dict[str, Any], heldout: list[Any]) -> None:
    scores_path = json_out.with_suffix(".scores.csv")
    report["scores_csv"] = str(scores_path)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(report, indent=2, allow_nan=False) + "\n")
    write_scores(scores_path, heldout)
