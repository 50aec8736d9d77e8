"""`voiceauth eval-cm`: countermeasure EER of a manifest (bona fide vs spoof), as JSON."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import numpy.typing as npt
import typer
from tqdm import tqdm

from voiceauth.audio.transcode import LEG_CODECS
from voiceauth.cli.app import app
from voiceauth.cli.common import check_channel, fail
from voiceauth.data.manifest import read_manifest
from voiceauth.errors import VoiceauthError
from voiceauth.evaluation.cm import variant_column
from voiceauth.liveness.base import COUNTERMEASURES
from voiceauth.liveness.evaluate import CmEvalConfig, ScoredFile, evaluate_countermeasure

SHOWN_ATTACKS = 5
"""Best and worst attacks printed in the summary (all of them are in the JSON)."""
MIN_SPOOFS_SHOWN = 3
"""Attacks with fewer scored spoofs are left out of the best/worst lines: too noisy to rank."""


@app.command("eval-cm")
def eval_cm_command(
    manifest: Annotated[Path, typer.Option(help="CSV with path, speaker, label, attack columns")],
    json_out: Annotated[Path, typer.Option("--json", help="where to write the report")],
    cm: Annotated[str, typer.Option(help=" | ".join(COUNTERMEASURES))] = "aasist-l",
    weights_dir: Annotated[
        Path | None,
        typer.Option(
            help="folder with AASIST.pth / AASIST-L.pth / lfcc-lr.json "
            "(lcnn: default models/liveness/lcnn)"
        ),
    ] = None,
    channel: Annotated[str, typer.Option(help="wideband | telephony (8 kHz G.711)")] = "telephony",
    packet_loss: Annotated[float, typer.Option(help="telephony packet loss rate")] = 0.0,
    leg_codec: Annotated[
        str | None,
        typer.Option(
            help="telephony: a mobile or VoIP leg before G.711: " + " | ".join(LEG_CODECS)
        ),
    ] = None,
    max_files: Annotated[
        int | None, typer.Option(help="score a seeded sample, balanced over attacks")
    ] = None,
    max_seconds: Annotated[
        float | None, typer.Option(help="score only each file's first S seconds")
    ] = None,
    net_speech: Annotated[
        bool,
        typer.Option(help="score only the VAD's net speech of each file, as a call feeds it"),
    ] = False,
    seed: Annotated[int, typer.Option()] = 0,
    scores: Annotated[Path | None, typer.Option(help="per-file scores CSV")] = None,
    threads: Annotated[int, typer.Option(help="torch CPU threads")] = 1,
) -> None:
    """Evaluate a spoofing countermeasure on the bona fide and spoof rows of a manifest."""
    import torch

    from voiceauth.liveness.base import SHIPPED, create_countermeasure, default_countermeasure_dir

    config = CmEvalConfig(
        channel=check_channel(channel),
        packet_loss=packet_loss,
        leg_codec=leg_codec,
        max_files=max_files,
        max_seconds=max_seconds,
        net_speech=net_speech,
        seed=seed,
    )
    torch.set_num_threads(threads)
    try:
        rows = read_manifest(manifest)
        if weights_dir is None and cm in SHIPPED:
            weights_dir = default_countermeasure_dir(name=cm)
        detector = create_countermeasure(cm, weights_dir=weights_dir)
        total = len(rows) if max_files is None else min(max_files, len(rows))
        with tqdm(total=total, desc="scoring", unit="file") as bar:
            result = evaluate_countermeasure(
                rows,
                detector,
                config,
                created=datetime.now(UTC).isoformat(timespec="seconds"),
                progress=bar.update,
            )
    except (VoiceauthError, ValueError) as exc:
        fail(str(exc))
    scores_path = scores or json_out.with_suffix(".scores.csv")
    result.report["threads"] = threads
    result.report["scores_csv"] = str(scores_path)
    json_out.parent.mkdir(parents=True, exist_ok=True)
    json_out.write_text(json.dumps(result.report, indent=2, allow_nan=False) + "\n")
    write_scores(scores_path, result.scored)
    typer.echo(summary(result.report))


def write_scores(
    path: Path,
    scored: list[ScoredFile],
    channels: Mapping[str, npt.NDArray[np.float64]] | None = None,
) -> None:
    """One row per scored file: path, dataset, speaker, label, attack, duration_s, score, and
    a `score: <channel>` column for each of `channels` (the same files heard through it)."""
    channels = channels or {}
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["path", "dataset", "speaker", "label", "attack", "duration_s", "score"]
            + [variant_column(name) for name in channels]
        )
        for index, f in enumerate(scored):
            row = f.row
            writer.writerow(
                [
                    row.key,
                    row.dataset,
                    row.speaker,
                    row.label,
                    row.attack,
                    f"{f.duration_s:.3f}",
                    f"{f.score:.6f}",
                ]
                + [f"{scores[index]:.6f}" for scores in channels.values()]
            )


def summary(report: dict[str, Any]) -> str:
    """Human-readable lines: overall EER, speed, then the best and worst attacks."""
    speed = report["speed"]
    lines = [
        f"{report['cm']}@{report['version']}  channel {report['config']['channel']}: "
        f"EER {_pct(report['cm_eer'])} on {report['n_bonafide']} bona fide, "
        f"{report['n_spoof']} spoof ({report['n_skipped']} skipped)",
        f"  speed: {speed['cpu_ms_per_audio_s']} CPU ms / audio s, "
        f"{speed['wall_ms_per_audio_s']} wall ms / audio s at {report['threads']} thread(s)",
    ]
    ranked = sorted(
        (eer, attack)
        for attack, eer in report["per_attack"].items()
        if eer is not None and report["per_attack_n"][attack] >= MIN_SPOOFS_SHOWN
    )
    if ranked:
        best = ", ".join(f"{a} {_pct(e)}" for e, a in ranked[:SHOWN_ATTACKS])
        worst = ", ".join(f"{a} {_pct(e)}" for e, a in reversed(ranked[-SHOWN_ATTACKS:]))
        lines += [f"  best attacks (lowest EER): {best}", f"  worst attacks: {worst}"]
    return "\n".join(lines)


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.1f} %"
