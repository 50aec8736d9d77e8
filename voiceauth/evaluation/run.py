"""`voiceauth eval`: the yardstick for every accuracy claim, from a manifest to figures.

Stages: embed every usable bona fide file once, build the trial protocol, score (cosine, then
AS-norm against the other folds' cohort), calibrate to LLRs on the other folds' trials, and
measure each stage. The report's top-level figures are those of the final stage; `stages`
keeps every stage so the effect of AS-norm and calibration is visible in one run.

Spoofed rows of speakers with a usable bona fide file become spoof trials (`protocol`), scored
and calibrated like the others, and graded by the spoofing-aware figures (`sasv`) at the
operating threshold. With a countermeasure, every file is also scored for liveness (or its
scores are given, `evaluation.cm.CmScores`), its LLRs and the spoof-aware fusion are fitted by
fold (`evaluation.cm`), and the same figures are given after fusion; the fusion and
countermeasure calibration fitted on every trial come back for shipping. With a fixed
countermeasure calibration (the one a live service maps scores with), the LLRs come from it
instead, so the fusion is fitted on the very inputs it will see in calls.
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
from voiceauth.evaluation.cm import (
    CmScorer,
    CmScores,
    cm_llr_by_fold,
    fit_cm_calibration,
    fuse_by_fold,
    outcome_shares,
)
from voiceauth.evaluation.embed import EmbeddedFile, SkippedFile, embed_files
from voiceauth.evaluation.protocol import FileInfo, build_trials, speaker_fold
from voiceauth.evaluation.sasv import spoof_figures
from voiceauth.evaluation.score import Columns, calibrate_by_fold, score_trials
from voiceauth.fusion.fit import fit_fusion
from voiceauth.fusion.model import OperatingPoints, SpoofAwareFusion
from voiceauth.liveness.base import Countermeasure
from voiceauth.liveness.gate import CM_SCORE_FEATURE
from voiceauth.scoring.calibration import Calibration, calibration_features
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
    operating_fmr: float = 0.01
    operating_llr: float | None = None
    cm_seconds: float = 6.0
    fusion: OperatingPoints = field(default_factory=OperatingPoints)


@dataclass
class EvalResult:
    """trials: bona fide trials only (the voice figures); spoof_trials: the spoof trials;
    fusion / cm_calibration: fitted on every trial, when a countermeasure ran."""

    report: dict[str, Any]
    trials: Columns
    det: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    spoof_trials: Columns | None = None
    fusion: SpoofAwareFusion | None = None
    cm_calibration: Calibration | None = None


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
    cm: Countermeasure | CmScores | None = None,
    cm_calibration: Calibration | None = None,
    voice_calibration: Calibration | None = None,
) -> EvalResult:
    """Run the whole evaluation: bona fide trials, spoof trials, and the countermeasure's.

    cm: a countermeasure to score every file with, or every file's scores; cm_calibration:
    its scores' LLR map, applied as is (else one is fitted by fold); voice_calibration: the
    same for the voice scores (of the kind `config.asnorm` picks), so that a fusion is fitted
    on the voice LLRs a live call computes with that file."""
    scorer = (
        CmScorer(cm, max_seconds=config.cm_seconds)
        if cm is not None and not isinstance(cm, CmScores)
        else None
    )
    bonafide = [r for r in rows if r.label == "bonafide"]
    files, skipped = _embed(bonafide, embedder, vad, config, progress, scorer)
    speakers = {f.row.speaker for f in files}
    attacks = [r for r in rows if r.label == "spoof" and r.speaker in speakers]
    spoofs, _ = _embed(attacks, embedder, vad, config, progress, scorer)
    trials = build_trials(
        [FileInfo(f.row.key, f.row.speaker, f.full.net_speech_s) for f in files],
        spoofs=[FileInfo(f.row.key, f.row.speaker, f.full.net_speech_s) for f in spoofs],
        enrol_seconds=config.enrol_seconds,
        n_folds=config.n_folds,
        max_nontarget=config.max_nontarget,
        seed=config.seed,
    )
    everything = files + spoofs
    all_columns = score_trials(
        everything, trials, use_asnorm=config.asnorm, top_n=config.asnorm_top_n
    )
    model = files[0].full.model
    score_column = "score_asnorm" if config.asnorm else "score"
    if voice_calibration is None:
        all_columns["llr"] = calibrate_by_fold(
            all_columns, score_column=score_column, model=model, created=created
        )
    else:
        voice_calibration.check_model(model)
        all_columns["llr"] = voice_calibration.llr(
            calibration_features(
                all_columns[score_column], all_columns["test_speech_s"], all_columns["test_snr_db"]
            )
        )
    is_spoof = all_columns.pop("spoof").astype(bool)
    columns = {k: v[~is_spoof] for k, v in all_columns.items()}
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
        "n_test_files": int(np.unique(trials.test[~trials.spoof]).size),
        "n_skipped": len(skipped),
        "skipped_reasons": dict(Counter(s.reason for s in skipped)),
        "n_spoof_ignored": len(rows) - len(bonafide) - int(is_spoof.sum()),
        "voice_calibration": (
            "by fold" if voice_calibration is None else f"fixed: {voice_calibration.fitted_on}"
        ),
        "config": asdict(config),
        "created": created,
    }
    result = EvalResult(
        report=report,
        trials=columns,
        det={name: _det(columns[col], target) for name, col in _stage_columns(config)},
    )
    if is_spoof.any():
        result.spoof_trials = {k: v[is_spoof] for k, v in all_columns.items()}
        report.update(_spoofing(all_columns, is_spoof, config))
    cm_scores = scorer.collected() if scorer is not None else cm
    if isinstance(cm_scores, CmScores):
        _with_countermeasure(
            result, all_columns, is_spoof, everything, cm_scores, config, created, cm_calibration
        )
    return result


def _embed(
    rows: list[ManifestRow],
    embedder: Embedder,
    vad: SileroVad,
    config: EvalConfig,
    progress: Callable[[int], None] | None,
    scorer: CmScorer | None,
) -> tuple[list[EmbeddedFile], list[SkippedFile]]:
    return embed_files(
        rows,
        embedder,
        vad,
        channel=config.channel,
        test_seconds=config.test_seconds,
        min_speech_s=config.min_speech_s,
        packet_loss=config.packet_loss,
        seed=config.seed,
        batch_size=config.batch_size,
        progress=progress,
        on_speech=scorer,
    )


def _operating_point(
    non_scores: np.ndarray, fmr: float, configured: float | None = None
) -> dict[str, Any]:
    """The accept threshold the spoof figures are read at, and where it came from."""
    if configured is not None:
        return {"threshold": configured, "source": "configured LLR (--operating-llr)"}
    if non_scores.size < min_non_targets(fmr):
        raise ValueError(
            f"{non_scores.size} non-target trials cannot resolve the operating FMR {fmr:g}; "
            "sample more non-targets or give --operating-llr"
        )
    return {
        "threshold": threshold_at_fmr(non_scores, fmr),
        "source": f"FMR {fmr:g} on this run's non-target trials",
    }


def _spoofing(columns: Columns, is_spoof: np.ndarray, config: EvalConfig) -> dict[str, Any]:
    """spf_eer, sasv_eer and spoof_accept_rate on the calibrated voice LLR alone."""
    target = columns["target"].astype(bool)
    non = columns["llr"][~target & ~is_spoof]
    point = _operating_point(non, config.operating_fmr, config.operating_llr)
    figures = spoof_figures(
        columns["llr"], target, is_spoof, columns["enrol"], threshold=point["threshold"]
    )
    return {**figures, "operating_point": point}


def _with_countermeasure(
    result: EvalResult,
    columns: Columns,
    is_spoof: np.ndarray,
    files: list[EmbeddedFile],
    cm: CmScores,
    config: EvalConfig,
    created: str,
    calibration: Calibration | None,
) -> None:
    """CM LLRs and fused figures by fold into `report["with_cm"]`; shipped fits into result."""
    keys = [f.row.key for f in files]
    scores = np.array([cm.scores[k] for k in keys])
    bonafide = np.array([f.row.label == "bonafide" for f in files])
    if calibration is None:
        fold = np.array([speaker_fold(f.row.speaker, config.n_folds, config.seed) for f in files])
        file_llr = cm_llr_by_fold(scores, bonafide, fold, model=cm.model, created=created)
        result.cm_calibration = fit_cm_calibration(
            scores,
            bonafide,
            model=cm.model,
            fitted_on=f"voiceauth eval {config.channel}: {bonafide.sum()} bona fide, "
            f"{(~bonafide).sum()} spoofed files",
            created=created,
        )
    else:
        calibration.check_model(cm.model)
        file_llr = calibration.llr({CM_SCORE_FEATURE: scores})
    figures: dict[str, Any] = {
        "cm": cm.model,
        "cm_calibration": "by fold" if calibration is None else f"fixed: {calibration.fitted_on}",
        "cm_eer": 100.0 * eer(file_llr[bonafide], file_llr[~bonafide]),
        "cm_cllr": cllr(file_llr[bonafide], file_llr[~bonafide]),
        "n_cm_bonafide": int(bonafide.sum()),
        "n_cm_spoof": int((~bonafide).sum()),
        "fusion_operating_points": asdict(config.fusion),
    }
    if not is_spoof.any():
        result.report["with_cm"] = figures
        return
    trial_cm = dict(zip(keys, file_llr, strict=True))
    cm_llr = np.array([trial_cm[k] for k in columns["test"]])
    target = columns["target"].astype(bool)
    voice_llr = columns["llr"]
    fused, outcomes, folds = fuse_by_fold(
        voice_llr,
        cm_llr,
        target,
        is_spoof,
        columns["fold"],
        voice_model=result.report["embedder"],
        cm_model=cm.model,
        points=config.fusion,
        created=created,
    )
    point = _operating_point(fused[~target & ~is_spoof], config.operating_fmr)
    figures.update(
        spoof_figures(fused, target, is_spoof, columns["enrol"], threshold=point["threshold"])
    )
    figures.update(
        operating_point=point,
        outcomes=outcome_shares(outcomes, target, is_spoof),
        folds={k: {name: asdict(v) for name, v in fit.items()} for k, fit in folds.items()},
    )
    result.report["with_cm"] = figures
    heard = f"; countermeasure scores heard as {cm.heard}" if cm.heard else ""
    result.fusion = fit_fusion(
        voice_llr,
        cm_llr,
        target,
        is_spoof,
        voice_model=result.report["embedder"],
        cm_model=cm.model,
        fitted_on=(
            f"voiceauth eval {config.channel}: {target.sum()} target, "
            f"{(~target & ~is_spoof).sum()} non-target, {is_spoof.sum()} spoof trials "
            f"(held-out voice and countermeasure LLRs{heard})"
        ),
        created=created,
        points=config.fusion,
    )


def _stage_columns(config: EvalConfig) -> list[tuple[str, str]]:
    stages = [("cosine", "score")]
    if config.asnorm:
        stages.append(("asnorm", "score_asnorm"))
    stages.append(("calibrated", "llr"))
    return stages


def _det(scores: np.ndarray, target: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    fmr, fnmr, _ = det_curve(scores[target], scores[~target])
    return fmr, fnmr
