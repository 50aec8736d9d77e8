"""`voiceauth eval`: speaker-verification figures for a manifest, printed and written as JSON."""

from __future__ import annotations

import json
import math
import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from tqdm import tqdm

from voiceauth.cli.app import app
from voiceauth.cli.common import (
    EcapaDirOption,
    EmbedderOption,
    build_embedder,
    check_channel,
    fail,
)
from voiceauth.data.manifest import read_manifest
from voiceauth.errors import VoiceauthError
from voiceauth.evaluation.run import EvalConfig, evaluate

FIGURES = ("eer", "min_dcf", "cllr", "fnmr_at_fmr_1", "fnmr_at_fmr_0_1")


@app.command("eval")
def eval_command(
    manifest: Annotated[Path, typer.Option(help="CSV with path, speaker, label columns")],
    json_out: Annotated[Path, typer.Option("--json", help="where to write the report")],
    embedder: EmbedderOption = "auto",
    ecapa_dir: EcapaDirOption = None,
    channel: Annotated[str, typer.Option(help="wideband | telephony (8 kHz G.711)")] = "wideband",
    test_seconds: Annotated[float | None, typer.Option(help="cut tests to S s of speech")] = None,
    enrol_seconds: Annotated[float, typer.Option(help="net speech per enrolment")] = 30.0,
    min_speech: Annotated[float, typer.Option(help="files with less speech are skipped")] = 1.0,
    max_nontarget: Annotated[int | None, typer.Option(help="sample N non-targets per test")] = None,
    folds: Annotated[int, typer.Option(help="speaker folds for cohort and calibration")] = 2,
    asnorm: Annotated[bool, typer.Option(help="adaptive score normalisation")] = True,
    packet_loss: Annotated[float, typer.Option(help="telephony packet loss rate")] = 0.0,
    seed: Annotated[int, typer.Option()] = 0,
    scores: Annotated[Path | None, typer.Option(help="trial scores CSV")] = None,
    det: Annotated[Path | None, typer.Option(help="DET curve PNG")] = None,
    threads: Annotated[int, typer.Option(help="torch CPU threads")] = 1,
) -> None:
    """Evaluate speaker verification on held-out speakers of a manifest."""
    import torch

    from voiceauth.audio.vad import SileroVad
    from voiceauth.scoring.det_plot import plot_det
    from voiceauth.scoring.trials import write_trials_csv

    config = EvalConfig(
        channel=check_channel(channel),
        test_seconds=test_seconds,
        enrol_seconds=enrol_seconds,
        min_speech_s=min_speech,
        max_nontarget=max_nontarget,
        n_folds=folds,
        asnorm=asnorm,
        packet_loss=packet_loss,
        seed=seed,
    )
    # One thread: the VAD and GE2E are small sequential models that oversubscribed threads
    # slow down many times on a busy machine; throughput comes from batching instead.
    torch.set_num_threads(threads)
    try:
        rows = read_manifest(manifest)
        model = build_embedder(embedder, ecapa_dir)
        vad = SileroVad()
        bonafide = sum(r.label == "bonafide" for r in rows)
        with tqdm(total=bonafide, desc="embedding", unit="file") as bar:
            result = evaluate(
                rows,
                model,
                vad,
                config,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                progress=bar.update,
            )
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    scores_path = scores or json_out.with_suffix(".scores.csv")
    det_path = det or json_out.with_suffix(".det.png")
    # Paths relative to the report, so a run folder can be moved or shared whole.
    result.report["scores_csv"] = os.path.relpath(scores_path, json_out.parent)
    result.report["det_png"] = os.path.relpath(det_path, json_out.parent)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result.report, indent=2, allow_nan=False) + "\n")
    write_trials_csv(scores_path, result.trials)
    plot_det(result.det, det_path, title=f"{result.report['embedder']}, {channel}")
    typer.echo(summary(result.report))


def summary(report: dict[str, Any]) -> str:
    """Human-readable lines: one per stage, then the trial counts."""
    lines = [f"embedder {report['embedder']}  channel {report['config']['channel']}"]
    for stage, figures in report["stages"].items():
        shown = "  ".join(f"{k} {_fmt(figures.get(k))}" for k in FIGURES if k in figures)
        lines.append(f"  {stage:<11} {shown}")
    lines.append(
        f"  trials: {report['n_target']} target, {report['n_nontarget']} non-target; "
        f"{report['n_files']} files of {report['n_speakers']} speakers, "
        f"{report['n_skipped']} skipped {report['skipped_reasons'] or ''}"
    )
    return "\n".join(lines)


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}"
