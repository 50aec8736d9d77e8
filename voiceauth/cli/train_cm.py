"""`voiceauth train-cm`: train the LFCC-LR countermeasure, with held-out figures as JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from tqdm import tqdm

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.cli.eval_cm import write_scores
from voiceauth.data.manifest import read_manifest
from voiceauth.errors import VoiceauthError
from voiceauth.liveness.train import TrainCmConfig, train_countermeasure


@app.command("train-cm")
def train_cm_command(
    manifest: Annotated[Path, typer.Option(help="CSV with path, dataset, label, attack columns")],
    out: Annotated[Path, typer.Option(help="model file to write (lfcc-lr.json)")],
    json_out: Annotated[Path, typer.Option("--json", help="held-out report")],
    folds: Annotated[int, typer.Option(help="folds of whole datasets held out")] = 5,
    regularisation: Annotated[float, typer.Option(help="inverse L2 strength C")] = 0.1,
    max_seconds: Annotated[float | None, typer.Option(help="first S s of each clip")] = 8.0,
    packet_loss: Annotated[float, typer.Option(help="telephony packet loss rate")] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
) -> None:
    """Train LFCC-LR on telephone-channel audio; report EERs on datasets held out."""
    config = TrainCmConfig(
        folds=folds,
        regularisation=regularisation,
        max_seconds=max_seconds,
        packet_loss=packet_loss,
        seed=seed,
    )
    try:
        rows = read_manifest(manifest)
        with tqdm(total=len(rows), desc="features", unit="file") as bar:
            result = train_countermeasure(
                rows,
                config,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                progress=bar.update,
            )
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    out.parent.mkdir(parents=True, exist_ok=True)
    result.model.save(out)
    scores_path = json_out.with_suffix(".scores.csv")
    result.report["model"] = str(out)
    result.report["scores_csv"] = str(scores_path)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result.report, indent=2, allow_nan=False) + "\n")
    write_scores(scores_path, result.heldout)
    typer.echo(
        f"lfcc-lr -> {out}: held-out EER {result.report['cm_eer']} % on "
        f"{result.report['n_bonafide']} bona fide, {result.report['n_spoof']} spoof "
        f"({result.report['evaluation']})"
    )
