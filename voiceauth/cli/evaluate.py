"""`voiceauth eval`: speaker-verification figures for a manifest, printed and written as JSON.

With spoof rows, the spoofing-aware figures too; with `--cm`, the same after spoof-aware fusion,
and `--fusion-out` / `--cm-calibration-out` write the fusion and the countermeasure calibration
fitted on every trial (the one-command refit of models/fusion/). `--cm-scores` takes each
file's countermeasure score from a CSV instead (held-out fold scores of a detector trained on
these files), and `--cm-calibration` maps scores with a fixed calibration (the shipped one the
live service uses) instead of fitting one by fold; `--voice-calibration` does the same for the
voice scores, so a fusion is fitted on the voice LLRs a call computes.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import replace
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
    operating_fmr: Annotated[
        float, typer.Option(help="spoof figures at the LLR threshold of this FMR")
    ] = 0.01,
    operating_llr: Annotated[
        float | None, typer.Option(help="... or at this configured voice LLR threshold")
    ] = None,
    cm: Annotated[str | None, typer.Option(help="countermeasure: lfcc-lr | aasist-l | ...")] = None,
    cm_weights: Annotated[Path | None, typer.Option(help="folder of the CM's weights")] = None,
    cm_scores: Annotated[
        Path | None, typer.Option(help="... or each file's CM score from a CSV (path, score)")
    ] = None,
    cm_model: Annotated[
        str | None, typer.Option(help="with --cm-scores: the CM's ID@VERSION")
    ] = None,
    cm_channel: Annotated[
        str | None,
        typer.Option(
            help="with --cm-scores: the scores heard through this channel (its `score: NAME` "
            "column), e.g. 'telephony mu-law, VAD net speech', what a call feeds the detector"
        ),
    ] = None,
    cm_calibration: Annotated[
        Path | None, typer.Option(help="map CM scores with this calibration, not one by fold")
    ] = None,
    cm_seconds: Annotated[float, typer.Option(help="CM scores the first S s of speech")] = 6.0,
    voice_calibration: Annotated[
        Path | None,
        typer.Option(
            help="map voice scores with this calibration (fitted on the same kind of score: "
            "a cosine one with --no-asnorm), not one by fold"
        ),
    ] = None,
    accept_fmr: Annotated[float, typer.Option(help="fusion: non-targets accepted")] = 0.01,
    accept_spoof_rate: Annotated[float, typer.Option(help="fusion: spoofs accepted")] = 0.01,
    reject_fnmr: Annotated[float, typer.Option(help="fusion: targets rejected")] = 0.02,
    spoof_bonafide_rate: Annotated[
        float, typer.Option(help="fusion: live callers called spoof")
    ] = 0.01,
    fusion_out: Annotated[Path | None, typer.Option(help="write the fitted fusion JSON")] = None,
    cm_calibration_out: Annotated[
        Path | None, typer.Option(help="write the CM score-to-LLR calibration JSON")
    ] = None,
) -> None:
    """Evaluate speaker verification on held-out speakers of a manifest."""
    import torch

    from voiceauth.audio.vad import SileroVad
    from voiceauth.evaluation.cm import read_cm_scores, variant_column
    from voiceauth.fusion.model import OperatingPoints
    from voiceauth.liveness.base import create_countermeasure
    from voiceauth.scoring.calibration import Calibration
    from voiceauth.scoring.det_plot import plot_det
    from voiceauth.scoring.trials import write_trials_csv

    if cm is not None and cm_scores is not None:
        fail("give --cm or --cm-scores, not both")
    if (cm_scores is None) != (cm_model is None):
        fail("--cm-scores needs --cm-model ID@VERSION (and --cm-model is only for --cm-scores)")
    if cm_model is not None and "@" not in cm_model:
        fail(f"--cm-model {cm_model!r} is not ID@VERSION (e.g. lcnn@21578c8fe6bd)")
    if cm_channel is not None and cm_scores is None:
        fail("--cm-channel picks a column of --cm-scores")
    if (fusion_out or cm_calibration_out or cm_calibration) and cm is None and cm_scores is None:
        fail("--fusion-out and --cm-calibration[-out] need --cm and --cm-weights, or --cm-scores")
    if cm_calibration is not None and cm_calibration_out is not None:
        fail("--cm-calibration is applied as given: no calibration is fitted to write out")

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
        operating_fmr=operating_fmr,
        operating_llr=operating_llr,
        cm_seconds=cm_seconds,
    )
    # One thread: the VAD and GE2E are small sequential models that oversubscribed threads
    # slow down many times on a busy machine; throughput comes from batching instead.
    torch.set_num_threads(threads)
    try:
        config = replace(
            config,
            fusion=OperatingPoints(
                accept_fmr=accept_fmr,
                accept_spoof_rate=accept_spoof_rate,
                reject_fnmr=reject_fnmr,
                spoof_bonafide_rate=spoof_bonafide_rate,
            ),
        )
        rows = read_manifest(manifest)
        column = "score" if cm_channel is None else variant_column(cm_channel)
        given = (
            None
            if cm_scores is None
            else read_cm_scores(cm_scores, rows, model=str(cm_model), column=column)
        )
        calibration = None if cm_calibration is None else Calibration.load(cm_calibration)
        voice_map = None if voice_calibration is None else Calibration.load(voice_calibration)
        model = build_embedder(embedder, ecapa_dir)
        detector = None if cm is None else create_countermeasure(cm, weights_dir=cm_weights)
        vad = SileroVad()
        with tqdm(total=len(rows), desc="embedding", unit="file") as bar:
            result = evaluate(
                rows,
                model,
                vad,
                config,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                progress=bar.update,
                cm=given or detector,
                cm_calibration=calibration,
                voice_calibration=voice_map,
            )
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    if fusion_out is not None:
        if result.fusion is None:
            fail("no fusion fitted: the manifest has no spoof trials")
        fusion_out.parent.mkdir(parents=True, exist_ok=True)
        result.fusion.save(fusion_out)
    if cm_calibration_out is not None and result.cm_calibration is not None:
        cm_calibration_out.parent.mkdir(parents=True, exist_ok=True)
        result.cm_calibration.save(cm_calibration_out)
    scores_path = scores or json_out.with_suffix(".scores.csv")
    det_path = det or json_out.with_suffix(".det.png")
    # Paths relative to the report, so a run folder can be moved or shared whole.
    result.report["scores_csv"] = os.path.relpath(scores_path, json_out.parent)
    result.report["det_png"] = os.path.relpath(det_path, json_out.parent)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    if result.spoof_trials is not None:
        spoof_path = json_out.with_suffix(".spoof-scores.csv")
        result.report["spoof_scores_csv"] = os.path.relpath(spoof_path, json_out.parent)
        write_trials_csv(spoof_path, result.spoof_trials)
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
    if "spf_eer" in report:
        lines.append(_spoof_line("voice only", report))
    if "spf_eer" in report.get("with_cm", {}):
        lines.append(_spoof_line(f"+ {report['with_cm']['cm']}", report["with_cm"]))
    lines.append(
        f"  trials: {report['n_target']} target, {report['n_nontarget']} non-target; "
        f"{report['n_files']} files of {report['n_speakers']} speakers, "
        f"{report['n_skipped']} skipped {report['skipped_reasons'] or ''}"
    )
    return "\n".join(lines)


def _spoof_line(name: str, figures: dict[str, Any]) -> str:
    return (
        f"  {name:<11} spf_eer {_fmt(figures['spf_eer'])}  sasv_eer {_fmt(figures['sasv_eer'])}"
        f"  spoofs accepted {_fmt(figures['spoof_accept_rate'])} % "
        f"({figures['n_spoof']} spoofs, {figures['operating_point']['source']})"
    )


def _fmt(value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return f"{value:.3f}"
