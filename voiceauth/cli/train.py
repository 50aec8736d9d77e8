"""`voiceauth train`: train or fine-tune an ECAPA-TDNN embedder on a manifest's speakers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from voiceauth.cli.app import app
from voiceauth.cli.common import fail
from voiceauth.errors import VoiceauthError


def parse_channels(text: str) -> tuple[int, ...]:
    """`256,256,256,256,768` -> (256, 256, 256, 256, 768)."""
    try:
        return tuple(int(part) for part in text.split(",") if part.strip())
    except ValueError:
        fail(f"--channels must be comma-separated integers, got {text!r}")


@app.command("train")
def train_command(
    manifest: Annotated[Path, typer.Option(help="CSV with path, speaker, label columns")],
    out: Annotated[Path, typer.Option(help="new model directory to write")],
    epochs: Annotated[int, typer.Option(help="epochs (reporting and schedule units)")] = 12,
    steps: Annotated[int, typer.Option(help="optimiser steps per epoch")] = 40,
    channels: Annotated[str, typer.Option(help="5 ECAPA layer widths")] = "128,128,128,128,384",
    crop_seconds: Annotated[float, typer.Option(help="training crop length")] = 2.0,
    batch_size: Annotated[int, typer.Option(help="crops per step")] = 32,
    learning_rate: Annotated[float, typer.Option(help="peak Adam learning rate")] = 2e-3,
    seed: Annotated[int, typer.Option()] = 0,
    init: Annotated[Path | None, typer.Option(help="fine-tune this model directory")] = None,
    max_speakers: Annotated[int | None, typer.Option(help="train on at most N speakers")] = None,
    exclude_speakers: Annotated[
        Path | None, typer.Option(help="file of speaker ids to hold out, one per line")
    ] = None,
    val_fraction: Annotated[float, typer.Option(help="share of speakers held out")] = 0.0,
    telephony_prob: Annotated[float, typer.Option(help="P(G.711 channel) per crop")] = 0.7,
    noise_prob: Annotated[float, typer.Option(help="P(white/pink noise) per crop")] = 0.5,
    speed_prob: Annotated[float, typer.Option(help="P(speed 0.9/1.1) per crop")] = 0.3,
    threads: Annotated[int | None, typer.Option(help="torch CPU threads")] = None,
) -> None:
    """Train an ECAPA-TDNN speaker embedder (AAM-softmax) and write a model directory."""
    import torch

    from voiceauth.training.config import AugmentConfig, TrainConfig
    from voiceauth.training.ecapa_recipe import EpochReport, train_ecapa

    if threads is not None:
        torch.set_num_threads(threads)

    def on_epoch(report: EpochReport) -> None:
        typer.echo(
            f"epoch {report.epoch:>3}/{report.epochs}  loss {report.loss:7.3f}  "
            f"acc {report.accuracy:6.3f}  lr {report.learning_rate:.1e}  "
            f"margin {report.margin:.2f}  {report.elapsed_s:6.0f} s"
        )

    try:
        config = TrainConfig(
            manifest=manifest,
            out=out,
            epochs=epochs,
            steps=steps,
            batch_size=batch_size,
            crop_seconds=crop_seconds,
            channels=parse_channels(channels),
            learning_rate=learning_rate,
            final_lr=min(5e-5, learning_rate),
            seed=seed,
            init=init,
            max_speakers=max_speakers,
            exclude_speakers=exclude_speakers,
            val_fraction=val_fraction,
            augment=AugmentConfig(
                telephony_prob=telephony_prob, noise_prob=noise_prob, speed_prob=speed_prob
            ),
        )
        result = train_ecapa(config, on_epoch=on_epoch, on_stage=typer.echo)
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    typer.echo(
        f"wrote {result.out} (ecapa@{result.version}, {result.speakers} speakers; "
        f"{len(result.held_out)} held out)"
    )
