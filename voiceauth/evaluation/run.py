"""`voiceauth eval`: the yardstick for every accuracy claim, from a manifest to figures.

Stages: embed every usable bona fide file once, build the trial protocol, score (cosine, then
AS-norm against the other folds' cohort), calibrate to LLRs on the other folds' trials, and
measure each stage. The report's top-level figures are those of the final stage; `stages`
keeps every stage so the effect of AS-norm and calibration is visible in one run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from voiceauth.audio.channel import Channel
from voiceauth.audio.vad import SileroVad
from voiceauth.data.manifest import ManifestRow
from voiceauth.embeddings.base import Embedder
from voiceauth.evaluation.embed import embed_files
from voiceauth.evaluation.protocol import FileInfo, build_trials
from voiceauth.evaluation.score import Columns, calibrate_by_fold, score_trials
from voiceauth.scoring.metrics import cllr, det_curve, eer, fnmr_at_fmr, min_cllr, min_dcf
from voiceauth.scoring.threshold import min_non_targets, threshold_at_fmr

P_TARGET = 0.01
FMR_POINTS = {"fnmr_at_fmr_1": 0.01, "fnmr_at_fmr_0_1": 0.001}


@dataclass(frozen=True, slots=True)
class EvalConfig:
    """Every option of an evaluation; written into its report."""

    channel: Channel = "wideband"
    test_seconds: float | None = None
    enrol_seconds: float = 30.0
    min_speech_s: float = 1.0
    max_nontarget: int | None = None
    n_folds: int = 2
    asnorm: bool = True
    asnorm_top_n: int = 300
    packet_loss: float = 0.0
    seed: int = 0
    batch_size: int = 16


@dataclass
class EvalResult:
    report: dict[str, Any]
    trials: Columns
    det: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)


def stage_metrics(scores: np.ndarray, target: np.ndarray) -> dict[str, float | None]:
    """EER and FNMR at fixed FMRs in %, minDCF at P_target 0.01; None where unresolvable."""
    tar, non = scores[target], scores[~target]
    figures: dict[str, float | None] = {
        "eer": 100.0 * eer(tar, non),
        "min_dcf": min_dcf(tar, non, p_target=P_TARGET),
    }
    for key, fmr in FMR_POINTS.items():
        resolvable = non.size >= min_non_targets(fmr)
        figures[key] = 100.0 * fnmr_at_fmr(tar, non, fmr) if resolvable else None
    return figures


def evaluate(
    rows: Sequence[ManifestRow],
    embedder: Embedder,
    vad: SileroVad,
    config: EvalConfig,
    *,
    created: str,
    progress: Callable[[int], None] | None = None,
) -> EvalResult:
    """Run the whole evaluation on the bona fide rows (spoof rows are counted and ignored)."""
    bonafide = [r for r in rows if r.label == "bonafide"]
    files, skipped = embed_files(
        bonafide,
        embedder,
        vad,
        channel=config.channel,
        test_seconds=config.test_seconds,
        min_speech_s=config.min_speech_s,
        packet_loss=config.packet_loss,
        seed=config.seed,
        batch_size=config.batch_size,
        progress=progress,
    )
    infos = [FileInfo(f.row.key, f.row.speaker, f.full.net_speech_s) for f in files]
    trials = build_trials(
        infos,
        enrol_seconds=config.enrol_seconds,
        n_folds=config.n_folds,
        max_nontarget=config.max_nontarget,
        seed=config.seed,
    )
    columns = score_trials(files, trials, use_asnorm=config.asnorm, top_n=config.asnorm_top_n)
    model = files[0].full.model
    score_column = "score_asnorm" if config.asnorm else "score"
    columns["llr"] = calibrate_by_fold(
        columns, score_column=score_column, model=model, created=created
    )
    target = columns["target"].astype(bool)
    stages = {"cosine": stage_metrics(columns["score"], target)}
    if config.asnorm:
        stages["asnorm"] = stage_metrics(columns["score_asnorm"], target)
    llr = columns["llr"]
    calibrated: dict[str, float | None] = dict(stage_metrics(llr, target))
    calibrated["cllr"] = cllr(llr[target], llr[~target])
    calibrated["min_cllr"] = min_cllr(llr[target], llr[~target])
    stages["calibrated"] = calibrated
    non = llr[~target]
    report: dict[str, Any] = {
        "embedder": model,
        **calibrated,
        "n_target": int(target.sum()),
        "n_nontarget": int((~target).sum()),
        "threshold_llr_at_fmr_0_1": (
            threshold_at_fmr(non, 0.001) if non.size >= min_non_targets(0.001) else None
        ),
        "stages": stages,
        "n_files": len(files),
        "n_speakers": len({f.row.speaker for f in files}),
        "n_test_files": int(np.unique(trials.test).size),
        "n_skipped": len(skipped),
        "skipped_reasons": dict(Counter(s.reason for s in skipped)),
        "n_spoof_ignored": len(rows) - len(bonafide),
        "config": asdict(config),
        "created": created,
    }
    det = {name: _det(columns[col], target) for name, col in _stage_columns(config)}
    return EvalResult(report=report, trials=columns, det=det)


def _stage_columns(config: EvalConfig) -> list[tuple[str, str]]:
    stages = [("cosine", "score")]
    if config.asnorm:
        stages.append(("asnorm", "score_asnorm"))
    stages.append(("calibrated", "llr"))
    return stages


def _det(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fmr, fnmr, _ = det_curve(scores[target], scores[~target])
    return fmr, fnmr
